package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"obmin/internal/testenv"
)

// testHTTP sends the tests' requests.
var testHTTP = http.DefaultClient

func newClock() *testenv.Clock {
	return testenv.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 123456000, time.UTC))
}

// env is an emulator behind an httptest server, spoken to with plain net/http.
type env struct {
	t     *testing.T
	e     *Emulator
	url   string
	clock *testenv.Clock
	token string
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	clk := newClock()
	if cfg.Clock == nil {
		cfg.Clock = clk.Now
	}
	e := New(cfg)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	t.Cleanup(e.Close)
	return &env{t: t, e: e, url: srv.URL, clock: clk}
}

// signedIn is newEnv with the API cashier signed in.
func signedIn(t *testing.T, cfg Config) *env {
	t.Helper()
	en := newEnv(t, cfg)
	en.signIn()
	return en
}

func (en *env) signIn() {
	en.t.Helper()
	r := en.call("POST", "/api/v1/cashier/signin", map[string]string{"login": "emulator", "password": "emulator"})
	if r.status != http.StatusOK {
		en.t.Fatalf("sign in: %d %s", r.status, r.body)
	}
	var tok tokenJSON
	r.decode(en.t, &tok)
	en.token = tok.AccessToken
}

func (en *env) licence() string { return en.e.Registers()[0].LicenseKey }

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r resp) message(t *testing.T) string {
	t.Helper()
	var m struct {
		Message *string `json:"message"`
	}
	r.decode(t, &m)
	if m.Message == nil {
		t.Fatalf("no message in %s", r.body)
	}
	return *m.Message
}

// detail returns the 422 body's detail entries as "loc.joined:type".
func (r resp) detail(t *testing.T) []string {
	t.Helper()
	var v struct {
		Message string `json:"message"`
		Detail  []struct {
			Loc  []any  `json:"loc"`
			Msg  string `json:"msg"`
			Type string `json:"type"`
		} `json:"detail"`
	}
	r.decode(t, &v)
	if v.Message == "" {
		t.Errorf("422 without message: %s", r.body)
	}
	var out []string
	for _, d := range v.Detail {
		parts := make([]string, len(d.Loc))
		for i, p := range d.Loc {
			switch p := p.(type) {
			case float64:
				parts[i] = strconv.Itoa(int(p))
			default:
				parts[i] = p.(string)
			}
		}
		if d.Msg == "" {
			t.Errorf("detail without msg: %s", r.body)
		}
		out = append(out, strings.Join(parts, ".")+":"+d.Type)
	}
	return out
}

// call sends a request. body is nil, []byte (sent as is) or a value sent as JSON. hdr holds name,
// value pairs that override the defaults (X-Client-Name and the env's token); an empty value removes
// the header.
func (en *env) call(method, path string, body any, hdr ...string) resp {
	en.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			en.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, en.url+path, rd)
	if err != nil {
		en.t.Fatal(err)
	}
	req.Header.Set("X-Client-Name", "obmin-test")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if en.token != "" {
		req.Header.Set("Authorization", "Bearer "+en.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := testHTTP.Do(req)
	if err != nil {
		en.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		en.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: data}
}

// must is call that fails the test unless the status is want.
func (en *env) must(want int, method, path string, body any, hdr ...string) resp {
	en.t.Helper()
	r := en.call(method, path, body, hdr...)
	if r.status != want {
		en.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	return r
}

// addGood creates a good through the API and returns its id.
func (en *env) addGood(code, name string, price int64, taxCodes ...int) string {
	en.t.Helper()
	p := map[string]any{"name": name, "type": "good", "code": code, "is_weight": false, "price": price}
	if len(taxCodes) > 0 {
		p["tax_codes"] = taxCodes
	}
	var g goodJSON
	en.must(200, "POST", "/api/v1/goods", p).decode(en.t, &g)
	return g.ID
}

// indent pretty-prints a JSON body for golden files.
func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// jwtExp reads the exp claim of a token.
func jwtExp(t *testing.T, tok string) time.Time {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(b, &claims); err != nil || claims.Exp == 0 {
		t.Fatalf("claims %s: no exp (%v)", b, err)
	}
	return time.Unix(claims.Exp, 0).UTC()
}
