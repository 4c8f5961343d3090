package checkbox

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// Credentials distinctive enough to grep logs and errors for.
const (
	testLogin    = "cashier-login"
	testPassword = "pa55-Secret-word"
	testPIN      = "97531"
	testLicense  = "licence-0a1b2c3d4e5f"
)

// seen is one request the fake server received.
type seen struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// fakeAPI is a minimal Checkbox written for these tests: it signs cashiers in, insists on the
// current token on every other call, records every request, and hands the rest to routes keyed by
// "METHOD escaped-path".
type fakeAPI struct {
	*httptest.Server
	t      *testing.T
	routes map[string]http.HandlerFunc

	mu       sync.Mutex
	reqs     []seen
	signIns  int
	token    string
	tokenTTL time.Duration    // 0: tokens without exp
	signIn   http.HandlerFunc // replaces the built-in sign-in when set
	refuse   int              // status for a wrong token, default 401
	issued   []string         // every token handed out
}

func newFakeAPI(t *testing.T, routes map[string]http.HandlerFunc) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, routes: routes, tokenTTL: time.Hour}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	f.mu.Lock()
	f.reqs = append(f.reqs, seen{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	f.mu.Unlock()

	if r.Method == http.MethodPost && (r.URL.Path == "/api/v1/cashier/signin" || r.URL.Path == "/api/v1/cashier/signinPinCode") {
		if f.signIn != nil {
			f.signIn(w, r)
			return
		}
		f.mu.Lock()
		f.signIns++
		f.token = testJWT(f.t, fmt.Sprintf("cashier-%d", f.signIns), time.Now(), f.tokenTTL)
		f.issued = append(f.issued, f.token)
		tok := f.token
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]string{"type": "bearer", "token_type": "bearer", "access_token": tok})
		return
	}
	f.mu.Lock()
	tok, refuse := f.token, f.refuse
	f.mu.Unlock()
	if tok == "" || r.Header.Get("Authorization") != "Bearer "+tok {
		if refuse == 0 {
			refuse = http.StatusUnauthorized
		}
		writeJSON(w, refuse, map[string]string{"message": "Not authenticated"})
		return
	}
	h, ok := f.routes[r.Method+" "+r.URL.EscapedPath()]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "no route " + r.Method + " " + r.URL.EscapedPath()})
		return
	}
	h(w, r)
}

// revoke makes the server forget the current token, as an expired session.
func (f *fakeAPI) revoke() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.token = "revoked"
}

func (f *fakeAPI) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fakeAPI) signInCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.signIns
}

// count is how many requests went to "METHOD escaped-path".
func (f *fakeAPI) count(route string) int {
	n := 0
	for _, r := range f.requests() {
		if r.Method+" "+r.Path == route {
			n++
		}
	}
	return n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// testJWT builds an unsigned-looking JWT with the given subject and lifetime (none when ttl is 0).
func testJWT(t testing.TB, sub string, iat time.Time, ttl time.Duration) string {
	t.Helper()
	claims := map[string]any{"sub": sub}
	if ttl > 0 {
		claims["iat"] = iat.Unix()
		claims["exp"] = iat.Add(ttl).Unix()
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString([]byte("signature"))
}

// sleeps records the waits a client asked for instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// newTestClient returns a client of url that never really sleeps and takes the largest back-off.
func newTestClient(t testing.TB, url string, mod func(*Config)) (*Client, *sleeps) {
	t.Helper()
	cfg := Config{
		BaseURL:           url,
		Login:             testLogin,
		Password:          testPassword,
		ClientName:        "obmin-test",
		ClientVersion:     "1.2.3",
		RequestsPerSecond: 10000,
		MaxAttempts:       3,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s := &sleeps{}
	c.sleep = s.sleep
	c.jitter = func(d time.Duration) time.Duration { return d }
	return c, s
}

func goodJSON(id, code string) map[string]any {
	return map[string]any{
		"id": id, "code": code, "name": "Кобзар", "price": 25000, "type": "good", "taxes": []any{},
		"created_at": "2024-03-22T16:20:09.549268+00:00", "is_weight": false,
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"login and password", Config{Login: "a", Password: "b"}, ""},
		{"pin and licence", Config{PINCode: "1", LicenseKey: "k"}, ""},
		{"nothing", Config{}, "credentials missing"},
		{"login without password", Config{Login: "a"}, "credentials missing"},
		{"pin without licence", Config{PINCode: "1"}, "credentials missing"},
		{"bad base URL", Config{Login: "a", Password: "b", BaseURL: "api.checkbox.ua"}, "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("New: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("New: error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestHeadersOnEveryCall(t *testing.T) {
	var applied atomic.Bool
	ok := func(v any) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, v) }
	}
	api := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/goods":                  ok(map[string]any{"meta": map[string]int{"limit": 1000}, "results": []any{goodJSON("g1", "A1")}, "use_leftovers": true}),
		"GET /api/v1/goods/g1":               ok(goodJSON("g1", "A1")),
		"GET /api/v1/goods/by-code/A1":       ok(goodJSON("g1", "A1")),
		"POST /api/v1/goods":                 ok(goodJSON("g2", "A2")),
		"PUT /api/v1/goods/g1":               ok(goodJSON("g1", "A1")),
		"DELETE /api/v1/goods/g1":            ok(map[string]bool{"ok": true}),
		"POST /api/v1/goods/leftovers-by-id": ok([]map[string]int{{"g1": 5000}}),
		"GET /api/v1/receipts/search":        ok(map[string]any{"meta": map[string]int{"limit": 100}, "results": []any{}}),
		"GET /api/v1/receipts/r1":            ok(map[string]any{"id": "r1", "created_at": "2024-03-22T16:20:09+00:00"}),
		"GET /api/v1/cash-registers":         ok(map[string]any{"meta": map[string]int{"limit": 1000}, "results": []any{map[string]any{"id": "cr1", "fiscal_number": "4000000001", "active": true}}}),
		"POST /api/v1/goods/import/upload":   ok(map[string]string{"task_id": "t1", "status": "pending"}),
		"GET /api/v1/goods/import/task_status/t1": func(w http.ResponseWriter, r *http.Request) {
			status := "completed"
			if applied.Load() {
				status = "done"
			}
			writeJSON(w, http.StatusOK, map[string]string{"task_id": "t1", "status": status})
		},
		"POST /api/v1/goods/import/apply_changes/t1": func(w http.ResponseWriter, r *http.Request) {
			applied.Store(true)
			writeJSON(w, http.StatusOK, map[string]string{"task_id": "t1", "status": "pending"})
		},
		"POST /api/v1/cashier/signout": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusResetContent) },
	})
	c, _ := newTestClient(t, api.URL, nil)
	ctx := context.Background()
	p := GoodPayload{Name: "Кобзар", Type: "good", Code: "A2", Price: 25000}
	calls := []struct {
		name string
		call func() error
	}{
		{"Goods", func() error { _, err := c.Goods(ctx, GoodsQuery{}); return err }},
		{"AllGoods", func() error { return c.AllGoods(ctx, func(Good) error { return nil }) }},
		{"Good", func() error { _, err := c.Good(ctx, "g1"); return err }},
		{"GoodByCode", func() error { _, err := c.GoodByCode(ctx, "A1"); return err }},
		{"CreateGood", func() error { _, err := c.CreateGood(ctx, p); return err }},
		{"UpdateGood", func() error { _, err := c.UpdateGood(ctx, "g1", p); return err }},
		{"DeleteGood", func() error { return c.DeleteGood(ctx, "g1") }},
		{"Leftovers", func() error { _, err := c.Leftovers(ctx, []string{"g1"}); return err }},
		{"SearchReceipts", func() error { return c.SearchReceipts(ctx, ReceiptQuery{}, func(Receipt) error { return nil }) }},
		{"Receipt", func() error { _, err := c.Receipt(ctx, "r1"); return err }},
		{"CashRegisters", func() error { _, err := c.CashRegisters(ctx); return err }},
		{"ImportGoods", func() error {
			_, err := c.ImportGoods(ctx, ImportFile{Goods: []ImportGood{{Name: "Кобзар", Code: "A1", Price: "250.00", Type: "good"}}}, ImportOptions{})
			return err
		}},
		{"SignOut", func() error { return c.SignOut(ctx) }},
	}
	for _, tt := range calls {
		if err := tt.call(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
	reqs := api.requests()
	if len(reqs) < len(calls)+1 {
		t.Fatalf("server saw %d requests, want at least %d", len(reqs), len(calls)+1)
	}
	for _, r := range reqs {
		if got := r.Header.Get("X-Client-Name"); got != "obmin-test" {
			t.Errorf("%s %s: X-Client-Name %q", r.Method, r.Path, got)
		}
		if got := r.Header.Get("X-Client-Version"); got != "1.2.3" {
			t.Errorf("%s %s: X-Client-Version %q", r.Method, r.Path, got)
		}
		isSignIn := r.Path == "/api/v1/cashier/signin"
		if got := r.Header.Get("Authorization"); isSignIn != (got == "") || (!isSignIn && !strings.HasPrefix(got, "Bearer ")) {
			t.Errorf("%s %s: Authorization %q", r.Method, r.Path, got)
		}
	}
}

func TestDefaultHeaders(t *testing.T) {
	api := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/goods/g1": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, goodJSON("g1", "A1")) },
	})
	c, _ := newTestClient(t, api.URL, func(cfg *Config) { cfg.ClientName, cfg.ClientVersion = "", "" })
	if _, err := c.Good(context.Background(), "g1"); err != nil {
		t.Fatal(err)
	}
	for _, r := range api.requests() {
		if r.Header.Get("X-Client-Name") != "obmin" || r.Header.Get("X-Client-Version") == "" {
			t.Errorf("%s %s: headers %v", r.Method, r.Path, r.Header)
		}
	}
}

func TestRetries(t *testing.T) {
	type reply struct {
		status int
		header map[string]string
		body   string
	}
	clock := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		replies     []reply // then 200
		maxAttempts int
		wantCalls   int
		wantSleeps  []time.Duration
		wantStatus  int // of the returned error; 0: success
		retryable   bool
	}{
		{
			name:       "429 with Retry-After seconds",
			replies:    []reply{{status: 429, header: map[string]string{"Retry-After": "7"}, body: `{"message":"slow down"}`}},
			wantCalls:  2,
			wantSleeps: []time.Duration{7 * time.Second},
		},
		{
			name:       "503 with Retry-After date",
			replies:    []reply{{status: 503, header: map[string]string{"Retry-After": clock.Add(9 * time.Second).Format(http.TimeFormat)}}},
			wantCalls:  2,
			wantSleeps: []time.Duration{9 * time.Second},
		},
		{
			name:       "Retry-After beyond the bound is cut",
			replies:    []reply{{status: 429, header: map[string]string{"Retry-After": "86400"}}},
			wantCalls:  2,
			wantSleeps: []time.Duration{maxRetryAfter},
		},
		{
			name:       "408 then success with back-off",
			replies:    []reply{{status: 408}, {status: 500}},
			wantCalls:  3,
			wantSleeps: []time.Duration{500 * time.Millisecond, time.Second},
		},
		{
			name:        "5xx until attempts run out",
			replies:     []reply{{status: 502}, {status: 502}, {status: 502}, {status: 502}, {status: 502}},
			maxAttempts: 4,
			wantCalls:   4,
			wantSleeps:  []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second},
			wantStatus:  502,
			retryable:   true,
		},
		{
			name:       "400 is final",
			replies:    []reply{{status: 400, body: `{"message":"bad"}`}},
			wantCalls:  1,
			wantStatus: 400,
		},
		{
			name:       "409 is final",
			replies:    []reply{{status: 409, body: `{"message":"conflict"}`}},
			wantCalls:  1,
			wantStatus: 409,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			api := newFakeAPI(t, map[string]http.HandlerFunc{
				"GET /api/v1/goods/g1": func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					n := calls
					calls++
					mu.Unlock()
					if n < len(tt.replies) {
						rp := tt.replies[n]
						for k, v := range rp.header {
							w.Header().Set(k, v)
						}
						w.WriteHeader(rp.status)
						io.WriteString(w, rp.body)
						return
					}
					writeJSON(w, http.StatusOK, goodJSON("g1", "A1"))
				},
			})
			c, sl := newTestClient(t, api.URL, func(cfg *Config) {
				cfg.Clock = func() time.Time { return clock }
				if tt.maxAttempts > 0 {
					cfg.MaxAttempts = tt.maxAttempts
				}
			})
			g, err := c.Good(context.Background(), "g1")
			if got := api.count("GET /api/v1/goods/g1"); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if got := sl.all(); fmt.Sprint(got) != fmt.Sprint(tt.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", got, tt.wantSleeps)
			}
			if tt.wantStatus == 0 {
				if err != nil || g.ID != "g1" {
					t.Fatalf("Good = %+v, %v", g, err)
				}
				return
			}
			var api2 *APIError
			if !errors.As(err, &api2) || api2.Status != tt.wantStatus {
				t.Fatalf("error %v, want an APIError with status %d", err, tt.wantStatus)
			}
			if IsRetryable(err) != tt.retryable {
				t.Errorf("IsRetryable = %v, want %v", !tt.retryable, tt.retryable)
			}
		})
	}
}

func TestNetworkErrorRetried(t *testing.T) {
	tests := []struct {
		name string
		fail func(w http.ResponseWriter)
	}{
		{"connection closed before an answer", func(w http.ResponseWriter) {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
		}},
		{"answer cut short", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, `{"id":"g1",`)
		}},
		{"no answer within the client's timeout", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			api := newFakeAPI(t, map[string]http.HandlerFunc{
				"GET /api/v1/goods/g1": func(w http.ResponseWriter, r *http.Request) {
					if calls.Add(1) == 1 {
						if tt.fail == nil {
							<-r.Context().Done() // until the client gives up
							return
						}
						tt.fail(w)
						return
					}
					writeJSON(w, http.StatusOK, goodJSON("g1", "A1"))
				},
			})
			// Fresh connections, so the transport cannot quietly repeat the GET on a reused one.
			hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 100 * time.Millisecond}
			c, sl := newTestClient(t, api.URL, func(cfg *Config) { cfg.HTTPClient = hc })
			if _, err := c.Good(context.Background(), "g1"); err != nil {
				t.Fatalf("Good: %v", err)
			}
			if calls.Load() != 2 || len(sl.all()) != 1 {
				t.Fatalf("calls %d, sleeps %v; want 2 calls and 1 sleep", calls.Load(), sl.all())
			}
		})
	}
}

func TestCancelledWhileWaitingToRetry(t *testing.T) {
	api := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/goods/g1": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "down"})
		},
	})
	c, _ := newTestClient(t, api.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	c.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleepCtx(ctx, d) // the real wait, which must end with ctx
	}
	_, err := c.Good(ctx, "g1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if n := api.count("GET /api/v1/goods/g1"); n != 1 {
		t.Fatalf("calls = %d, want 1", n)
	}
}

func TestAPIErrorText(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   []string
	}{
		{
			name:   "422 detail",
			status: 422,
			body:   `{"message":"Validation error","detail":[{"loc":["body","price"],"msg":"ensure this value is greater than 0","type":"value_error.number.not_gt"},{"loc":["body","goods",0,"code"],"msg":"field required","type":"value_error.missing"}]}`,
			want:   []string{"422", "POST /api/v1/goods", "Validation error", "body.price: ensure this value is greater than 0", "body.goods.0.code: field required"},
		},
		{
			name:   "message only",
			status: 400,
			body:   `{"message":"Товар з таким кодом вже існує"}`,
			want:   []string{"400 Bad Request", "Товар з таким кодом вже існує"},
		},
		{
			name:   "string detail",
			status: 400,
			body:   `{"detail":"Something odd"}`,
			want:   []string{"Something odd"},
		},
		{
			name:   "not JSON",
			status: 502,
			body:   "<html>\n<body>502 Bad Gateway</body>\n</html>",
			want:   []string{"502 Bad Gateway", "<html> <body>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(t, map[string]http.HandlerFunc{
				"POST /api/v1/goods": func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(tt.status)
					io.WriteString(w, tt.body)
				},
			})
			c, _ := newTestClient(t, api.URL, func(cfg *Config) { cfg.MaxAttempts = 1 })
			_, err := c.CreateGood(context.Background(), GoodPayload{Code: "A1"})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&APIError{Status: 500}, true},
		{&APIError{Status: 503}, true},
		{&APIError{Status: 429}, true},
		{&APIError{Status: 408}, true},
		{&APIError{Status: 400}, false},
		{&APIError{Status: 401}, false},
		{&APIError{Status: 404}, false},
		{&APIError{Status: 422}, false},
		{fmt.Errorf("wrapped: %w", &APIError{Status: 502}), true},
		{&transportError{errors.New("connection reset")}, true},
		{&transportError{context.Canceled}, false},
		{context.Canceled, false},
		{fmt.Errorf("checkbox: GET /x: %w", context.DeadlineExceeded), false},
		{&transportError{fmt.Errorf("Client.Timeout exceeded: %w", context.DeadlineExceeded)}, true},
		{&timeoutErr{}, true},
		{errors.New("decode answer"), false},
	}
	for _, tt := range tests {
		if got := IsRetryable(tt.err); got != tt.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-3", 0},
		{"12", 12 * time.Second},
		{" 3 ", 3 * time.Second},
		{"99999999999999999", maxRetryAfter},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	same := func(d time.Duration) time.Duration { return d }
	base, max := 500*time.Millisecond, 30*time.Second
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := backoff(i+1, base, max, same); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := backoff(1000, base, max, same); got != max {
		t.Errorf("backoff(1000) = %v, want %v", got, max)
	}
	for range 100 {
		if d := fullJitter(time.Second); d < 0 || d > time.Second {
			t.Fatalf("fullJitter = %v, outside [0, 1s]", d)
		}
	}
}

func TestResponseSizeCap(t *testing.T) {
	api := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/goods/g1": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, `{"id":"g1","name":"`)
			chunk := strings.Repeat("x", 1<<20)
			for range 2 {
				io.WriteString(w, chunk)
			}
			io.WriteString(w, `"}`)
		},
	})
	c, _ := newTestClient(t, api.URL, nil)
	c.maxBody = 1 << 20
	_, err := c.Good(context.Background(), "g1")
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("error %v, want a size error", err)
	}
}

func parseQuery(t testing.TB, raw string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("query %q: %v", raw, err)
	}
	return q
}

// logBuffer captures a client's log output at the most verbose level.
func logBuffer() (*logrus.Entry, *bytes.Buffer) {
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetLevel(logrus.TraceLevel)
	return logrus.NewEntry(l), &buf
}

// timeoutErr is a bare network timeout, as net.Error.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }
