package checkbox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func goodRoute() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /api/v1/goods/g1": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, goodJSON("g1", "A1")) },
		"POST /api/v1/cashier/signout": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusResetContent)
		},
	}
}

func TestLazySignIn(t *testing.T) {
	tests := []struct {
		name       string
		mod        func(*Config)
		path       string
		wantBody   map[string]string
		wantLicKey string
	}{
		{
			name:     "login and password",
			path:     "/api/v1/cashier/signin",
			wantBody: map[string]string{"login": testLogin, "password": testPassword},
		},
		{
			name:       "PIN and licence key",
			mod:        func(c *Config) { c.Login, c.Password, c.PINCode, c.LicenseKey = "", "", testPIN, testLicense },
			path:       "/api/v1/cashier/signinPinCode",
			wantBody:   map[string]string{"pin_code": testPIN},
			wantLicKey: testLicense,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(t, goodRoute())
			c, _ := newTestClient(t, api.URL, tt.mod)
			if n := len(api.requests()); n != 0 {
				t.Fatalf("New made %d requests", n)
			}
			for range 3 {
				if _, err := c.Good(context.Background(), "g1"); err != nil {
					t.Fatal(err)
				}
			}
			reqs := api.requests()
			if len(reqs) != 4 || reqs[0].Path != tt.path {
				t.Fatalf("requests %v, want a sign-in at %s then 3 calls", paths(reqs), tt.path)
			}
			var body map[string]string
			if err := json.Unmarshal(reqs[0].Body, &body); err != nil {
				t.Fatal(err)
			}
			if len(body) != len(tt.wantBody) {
				t.Errorf("sign-in body %v, want %v", body, tt.wantBody)
			}
			for k, v := range tt.wantBody {
				if body[k] != v {
					t.Errorf("sign-in body %v, want %v", body, tt.wantBody)
				}
			}
			if got := reqs[0].Header.Get("X-License-Key"); got != tt.wantLicKey {
				t.Errorf("sign-in X-License-Key %q, want %q", got, tt.wantLicKey)
			}
			for _, r := range reqs[1:] {
				if r.Header.Get("X-License-Key") != "" {
					t.Errorf("%s %s carries the licence key", r.Method, r.Path)
				}
			}
		})
	}
}

func paths(reqs []seen) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func TestReauthOnce(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			api := newFakeAPI(t, goodRoute())
			api.refuse = status
			c, sl := newTestClient(t, api.URL, nil)
			ctx := context.Background()
			if _, err := c.Good(ctx, "g1"); err != nil {
				t.Fatal(err)
			}
			api.revoke() // the session ends on the server's side
			if _, err := c.Good(ctx, "g1"); err != nil {
				t.Fatalf("after revoke: %v", err)
			}
			if n := api.signInCount(); n != 2 {
				t.Errorf("sign-ins = %d, want 2", n)
			}
			if n := api.count("GET /api/v1/goods/g1"); n != 3 {
				t.Errorf("calls = %d, want 3 (ok, refused, repeated)", n)
			}
			if len(sl.all()) != 0 {
				t.Errorf("slept %v; a refused token needs no back-off", sl.all())
			}
		})
	}
}

func TestReauthOnlyOnce(t *testing.T) {
	api := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/goods/g1": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "Недостатньо прав"})
		},
	})
	c, _ := newTestClient(t, api.URL, nil)
	_, err := c.Good(context.Background(), "g1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden || !strings.Contains(err.Error(), "Недостатньо прав") {
		t.Fatalf("error %v, want the 403", err)
	}
	if n := api.signInCount(); n != 2 {
		t.Errorf("sign-ins = %d, want 2", n)
	}
	if n := api.count("GET /api/v1/goods/g1"); n != 2 {
		t.Errorf("calls = %d, want 2", n)
	}
}

func TestSignInRefused(t *testing.T) {
	tests := []struct {
		name string
		call func(c *Client) error
	}{
		{"lazy", func(c *Client) error { _, err := c.Good(context.Background(), "g1"); return err }},
		{"explicit", func(c *Client) error { return c.SignIn(context.Background()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(t, goodRoute())
			api.signIn = func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusForbidden, map[string]string{"message": "Невірні дані"})
			}
			c, sl := newTestClient(t, api.URL, nil)
			err := tt.call(c)
			if err == nil || !strings.Contains(err.Error(), "Невірні дані") || !strings.Contains(err.Error(), "sign in") {
				t.Fatalf("error %v, want the sign-in refusal", err)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden || IsRetryable(err) {
				t.Fatalf("error %v: want a final 403 APIError", err)
			}
			if n := len(api.requests()); n != 1 {
				t.Errorf("requests %v, want the one sign-in", paths(api.requests()))
			}
			if len(sl.all()) != 0 {
				t.Errorf("slept %v", sl.all())
			}
		})
	}
}

func TestSignInRetriedWhenCheckboxIsDown(t *testing.T) {
	api := newFakeAPI(t, goodRoute())
	var mu sync.Mutex
	fails := 2
	api.signIn = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			writeJSON(w, http.StatusBadGateway, map[string]string{"message": "upstream"})
			return
		}
		api.mu.Lock()
		api.token = testJWT(t, "x", time.Now(), time.Hour)
		tok := api.token
		api.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]string{"access_token": tok})
	}
	c, sl := newTestClient(t, api.URL, nil)
	if _, err := c.Good(context.Background(), "g1"); err != nil {
		t.Fatal(err)
	}
	if got := len(sl.all()); got != 2 {
		t.Errorf("sleeps %v, want 2", sl.all())
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	api := newFakeAPI(t, goodRoute())
	api.tokenTTL = 10 * time.Minute
	// The client's clock is years off the server's: the token's lifetime (exp−iat) still counts.
	var mu sync.Mutex
	now := time.Date(2031, 1, 1, 12, 0, 0, 0, time.UTC)
	c, _ := newTestClient(t, api.URL, func(cfg *Config) {
		cfg.Clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	steps := []struct {
		advance     time.Duration
		wantSignIns int
	}{
		{0, 1},
		{8 * time.Minute, 1},
		{50 * time.Second, 1}, // 8m50s: more than a minute left
		{20 * time.Second, 2}, // 9m10s: within the last minute
		{5 * time.Minute, 2},
		{4 * time.Minute, 3},
	}
	for i, s := range steps {
		advance(s.advance)
		if _, err := c.Good(context.Background(), "g1"); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if n := api.signInCount(); n != s.wantSignIns {
			t.Fatalf("step %d: sign-ins = %d, want %d", i, n, s.wantSignIns)
		}
	}
}

func TestTokenExpiry(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	enc := base64.RawURLEncoding.EncodeToString
	jwt := func(payload string) string {
		return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(payload)) + ".sig"
	}
	tests := []struct {
		name string
		tok  string
		want time.Time
	}{
		{"exp and iat: lifetime from now", jwt(`{"iat":1000,"exp":4600}`), now.Add(time.Hour)},
		{"exp only", jwt(`{"exp":1900000000}`), time.Unix(1900000000, 0)},
		{"fractional exp", jwt(`{"exp":1900000000.5}`), time.Unix(1900000000, 0)},
		{"padded payload", enc([]byte(`{}`)) + "." + base64.URLEncoding.EncodeToString([]byte(`{"exp":1900000000}`)) + ".sig", time.Unix(1900000000, 0)},
		{"no exp", jwt(`{"sub":"x"}`), time.Time{}},
		{"iat after exp", jwt(`{"iat":5000,"exp":4600}`), time.Unix(4600, 0)},
		{"not a JWT", "opaque-token", time.Time{}},
		{"bad base64", "a.!!!.c", time.Time{}},
		{"payload not JSON", jwt(`nope`), time.Time{}},
	}
	for _, tt := range tests {
		if got := tokenExpiry(tt.tok, now); !got.Equal(tt.want) {
			t.Errorf("%s: tokenExpiry = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTokenWithoutExpKeptUntilRefused(t *testing.T) {
	api := newFakeAPI(t, goodRoute())
	api.tokenTTL = 0
	c, _ := newTestClient(t, api.URL, nil)
	for range 5 {
		if _, err := c.Good(context.Background(), "g1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := api.signInCount(); n != 1 {
		t.Fatalf("sign-ins = %d, want 1", n)
	}
}

func TestConcurrentCallersShareOneToken(t *testing.T) {
	api := newFakeAPI(t, goodRoute())
	c, _ := newTestClient(t, api.URL, nil)
	run := func() {
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			wg.Go(func() {
				if _, err := c.Good(context.Background(), "g1"); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	run()
	if n := api.signInCount(); n != 1 {
		t.Fatalf("sign-ins = %d, want 1", n)
	}
	api.revoke()
	run()
	if n := api.signInCount(); n != 2 {
		t.Fatalf("after revoke: sign-ins = %d, want 2", n)
	}
}

func TestSignOut(t *testing.T) {
	api := newFakeAPI(t, goodRoute())
	c, _ := newTestClient(t, api.URL, nil)
	ctx := context.Background()
	if err := c.SignOut(ctx); err != nil || len(api.requests()) != 0 {
		t.Fatalf("SignOut without a token: %v, requests %v", err, paths(api.requests()))
	}
	if err := c.SignIn(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.SignOut(ctx); err != nil {
		t.Fatal(err)
	}
	if n := api.count("POST /api/v1/cashier/signout"); n != 1 {
		t.Fatalf("sign-outs = %d, want 1", n)
	}
	if _, err := c.Good(ctx, "g1"); err != nil {
		t.Fatal(err)
	}
	if n := api.signInCount(); n != 2 {
		t.Fatalf("sign-ins = %d, want 2: a call after sign-out signs in again", n)
	}
	api.revoke()
	if err := c.SignOut(ctx); err != nil {
		t.Fatalf("SignOut of a dead session: %v", err)
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	for _, pin := range []bool{false, true} {
		name := "login"
		if pin {
			name = "pin"
		}
		t.Run(name, func(t *testing.T) {
			var calls int
			var mu sync.Mutex
			routes := goodRoute()
			routes["GET /api/v1/goods/g2"] = func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				calls++
				n := calls
				mu.Unlock()
				if n == 1 {
					writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "oops"})
					return
				}
				writeJSON(w, http.StatusOK, goodJSON("g2", "A2"))
			}
			api := newFakeAPI(t, routes)
			log, buf := logBuffer()
			c, _ := newTestClient(t, api.URL, func(cfg *Config) {
				cfg.Logger = log
				if pin {
					cfg.Login, cfg.Password, cfg.PINCode, cfg.LicenseKey = "", "", testPIN, testLicense
				}
			})
			ctx := context.Background()
			var errs []error
			note := func(err error) {
				if err != nil {
					errs = append(errs, err)
				}
			}
			_, err := c.Good(ctx, "g1")
			note(err)
			api.revoke()
			_, err = c.Good(ctx, "g1") // 401, sign in again
			note(err)
			_, err = c.Good(ctx, "g2") // 500, retried
			note(err)
			note(c.SignOut(ctx))
			api.signIn = func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusForbidden, map[string]string{"message": "Невірні дані"})
			}
			signInErr := c.SignIn(ctx)
			if signInErr == nil {
				t.Fatal("SignIn succeeded against a refusing server")
			}
			errs = append(errs, signInErr)
			if len(errs) != 1 {
				t.Fatalf("unexpected errors: %v", errs)
			}

			out := buf.String()
			if !strings.Contains(out, "signing in again") || !strings.Contains(out, "retrying") {
				t.Fatalf("the log lacks the expected records:\n%s", out)
			}
			api.mu.Lock()
			issued := append([]string(nil), api.issued...)
			api.mu.Unlock()
			secrets := append([]string{testPassword, testPIN, testLicense, "Bearer"}, issued...)
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("the log contains secret %q:\n%s", s, out)
				}
				for _, err := range errs {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q contains secret %q", err, s)
					}
				}
			}
			// The JWT's parts, too, in case a token were logged cut up.
			for _, tok := range issued {
				for _, part := range strings.Split(tok, ".")[1:2] {
					if strings.Contains(out, part) {
						t.Errorf("the log contains part of a token")
					}
				}
			}
		})
	}
}
