package emulator

import (
	"testing"
	"time"
)

func TestSignIn(t *testing.T) {
	tests := []struct {
		name       string
		body       any
		hdr        []string
		wantStatus int
		wantDetail string // one expected 422 entry
	}{
		{"ok", map[string]string{"login": "emulator", "password": "emulator"}, nil, 200, ""},
		{"bad password", map[string]string{"login": "emulator", "password": "nope"}, nil, 403, ""},
		{"unknown login", map[string]string{"login": "who", "password": "emulator"}, nil, 403, ""},
		{"missing password", map[string]string{"login": "emulator"}, nil, 422, "body.password:missing"},
		{"empty login", map[string]string{"login": "", "password": "x"}, nil, 422, "body.login:string_too_short"},
		{"login not a string", map[string]any{"login": 5, "password": "x"}, nil, 422, "body.login:string_type"},
		{"not JSON", []byte("{login"), nil, 422, "body.1:json_invalid"},
		{"no body", nil, nil, 422, "body:missing"},
		{"array body", []byte("[]"), nil, 422, "body:model_attributes_type"},
		{"no X-Client-Name", map[string]string{"login": "emulator", "password": "emulator"}, []string{"X-Client-Name", ""}, 422, "header.x-client-name:missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			en := newEnv(t, Config{})
			r := en.call("POST", "/api/v1/cashier/signin", tt.body, tt.hdr...)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			switch tt.wantStatus {
			case 200:
				var tok tokenJSON
				r.decode(t, &tok)
				if tok.Type != "bearer" || tok.TokenType != "bearer" || tok.AccessToken == "" {
					t.Errorf("token answer %s", r.body)
				}
				if exp, want := jwtExp(t, tok.AccessToken), en.clock.Now().Add(8*time.Hour).Truncate(time.Second); !exp.Equal(want) {
					t.Errorf("exp %v, want %v", exp, want)
				}
			case 403:
				if r.message(t) == "" {
					t.Errorf("empty message")
				}
			case 422:
				if d := r.detail(t); !contains(d, tt.wantDetail) {
					t.Errorf("detail %v, want %s", d, tt.wantDetail)
				}
			}
		})
	}
}

func TestSignInPIN(t *testing.T) {
	tests := []struct {
		name       string
		pin        string // configured
		sent       string
		licence    string // "ok" for the register's key
		wantStatus int
	}{
		{"ok", "1234", "1234", "ok", 200},
		{"wrong pin", "1234", "4321", "ok", 403},
		{"unknown licence", "1234", "1234", "not-a-key", 403},
		{"no licence", "1234", "1234", "", 422},
		{"PIN sign-in off", "", "", "ok", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			en := newEnv(t, Config{PINCode: tt.pin})
			key := tt.licence
			if key == "ok" {
				key = en.licence()
			}
			r := en.call("POST", "/api/v1/cashier/signinPinCode", map[string]string{"pin_code": tt.sent}, "X-License-Key", key)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantStatus == 422 && !contains(r.detail(t), "header.x-license-key:missing") {
				t.Errorf("detail %s", r.body)
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	other := signedIn(t, Config{Seed: 99}) // same credentials, another signing key
	tests := []struct {
		name  string
		token func(en *env) string
		prep  func(en *env)
		want  int
	}{
		{"valid", func(en *env) string { return en.token }, nil, 200},
		{"missing", func(*env) string { return "" }, nil, 401},
		{"garbage", func(*env) string { return "garbage" }, nil, 401},
		{"from another service", func(*env) string { return other.token }, nil, 401},
		{"expired by time", func(en *env) string { return en.token }, func(en *env) { en.clock.Add(8 * time.Hour) }, 401},
		{"just before expiry", func(en *env) string { return en.token }, func(en *env) { en.clock.Add(8*time.Hour - time.Second) }, 200},
		{"ExpireTokens", func(en *env) string { return en.token }, func(en *env) { en.e.ExpireTokens() }, 401},
		{"signed out", func(en *env) string { return en.token }, func(en *env) {
			r := en.must(205, "POST", "/api/v1/cashier/signout", nil)
			if len(r.body) != 0 {
				t.Errorf("205 with a body: %q", r.body)
			}
		}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			en := signedIn(t, Config{})
			if tt.prep != nil {
				tt.prep(en)
			}
			auth := "Bearer " + tt.token(en)
			if tt.token(en) == "" {
				auth = ""
			}
			r := en.call("GET", "/api/v1/cashier/me", nil, "Authorization", auth)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.status, tt.want, r.body)
			}
			if tt.want == 401 && r.message(t) == "" {
				t.Error("401 without a message")
			}
			if tt.want == 200 {
				var me meJSON
				r.decode(t, &me)
				if me.FullName != "Касир інтеграції" || me.Organization.ID == "" || !me.IsTest {
					t.Errorf("me: %s", r.body)
				}
			}
		})
	}
}

func TestSignInAgainAfterExpiry(t *testing.T) {
	en := signedIn(t, Config{TokenTTL: time.Hour})
	en.clock.Add(time.Hour)
	en.must(401, "GET", "/api/v1/goods", nil)
	en.signIn()
	en.must(200, "GET", "/api/v1/goods", nil)
}

func TestClientNameOptional(t *testing.T) {
	en := newEnv(t, Config{AllowNoClientName: true})
	en.must(200, "POST", "/api/v1/cashier/signin", map[string]string{"login": "emulator", "password": "emulator"}, "X-Client-Name", "")
}

func TestRouting(t *testing.T) {
	en := signedIn(t, Config{})
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/api/v1/nothing", 404},
		{"GET", "/api/v2/goods", 404},
		{"DELETE", "/api/v1/cashier/me", 405},
		{"PATCH", "/api/v1/goods", 405},
		{"GET", "/status", 200},
		{"GET", "/api/v1/goods/by-code/A-1", 404}, // a route, but no such good
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := en.call(tt.method, tt.path, nil)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.status, tt.want, r.body)
			}
			if tt.want != 200 && r.message(t) == "" {
				t.Error("empty message")
			}
		})
	}
}

func TestLicenceOnlyEndpoints(t *testing.T) {
	en := newEnv(t, Config{}) // no bearer token at all
	var info deviceJSON
	en.must(200, "GET", "/api/v1/cash-registers/info", nil, "X-License-Key", en.licence()).decode(t, &info)
	reg := en.e.Registers()[0]
	if info.ID != reg.ID || info.FiscalNumber != reg.FiscalNumber || !info.IsTest || info.HasShift {
		t.Errorf("info %+v", info)
	}
	en.must(403, "GET", "/api/v1/cash-registers/info", nil, "X-License-Key", "0000")
	en.must(422, "GET", "/api/v1/tax", nil)

	var taxes []struct {
		Code   int     `json:"code"`
		Symbol string  `json:"symbol"`
		Label  string  `json:"label"`
		Rate   float64 `json:"rate"`
		NoVAT  bool    `json:"no_vat"`
	}
	en.must(200, "GET", "/api/v1/tax", nil, "X-License-Key", en.licence()).decode(t, &taxes)
	byCode := map[int]string{}
	for _, tx := range taxes {
		byCode[tx.Code] = tx.Symbol
		if tx.Code == 8 && (tx.Label != "Без ПДВ" || !tx.NoVAT || tx.Rate != 0) {
			t.Errorf("code 8: %+v", tx)
		}
		if tx.Code == 1 && tx.Rate != 20 {
			t.Errorf("code 1: %+v", tx)
		}
	}
	if byCode[1] != "А" || byCode[2] != "Б" || byCode[8] != "З" {
		t.Errorf("tax table %v", byCode)
	}
}
