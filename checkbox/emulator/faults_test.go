package emulator

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		calls []string // method path, in order
		want  []int    // statuses
	}{
		{"5xx twice then OK", Fault{Method: "GET", PathPrefix: "/api/v1/goods", Status: 503, Times: 2},
			[]string{"GET /api/v1/goods", "GET /api/v1/goods", "GET /api/v1/goods"}, []int{503, 503, 200}},
		{"only the matching method", Fault{Method: "POST", PathPrefix: "/api/v1/goods", Status: 500},
			[]string{"GET /api/v1/goods", "GET /api/v1/cashier/me"}, []int{200, 200}},
		{"only the matching path", Fault{PathPrefix: "/api/v1/receipts", Status: 500},
			[]string{"GET /api/v1/goods", "GET /api/v1/receipts/search", "GET /api/v1/receipts/search"}, []int{200, 500, 200}},
		{"until cleared", Fault{Status: 500, Times: -1},
			[]string{"GET /api/v1/goods", "GET /api/v1/cashier/me", "GET /status"}, []int{500, 500, 500}},
		{"before authentication", Fault{Status: 502},
			[]string{"GET /api/v1/nothing"}, []int{502}},
		{"latency alone", Fault{Latency: time.Millisecond},
			[]string{"GET /api/v1/goods"}, []int{200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			en := signedIn(t, Config{})
			en.e.InjectFault(tt.fault)
			for i, c := range tt.calls {
				method, path, _ := strings.Cut(c, " ")
				if r := en.call(method, path, nil); r.status != tt.want[i] {
					t.Errorf("call %d %s: %d, want %d", i, c, r.status, tt.want[i])
				}
			}
			en.e.ClearFaults()
			en.must(200, "GET", "/api/v1/goods", nil)
		})
	}
}

func TestFaultBodies(t *testing.T) {
	en := signedIn(t, Config{})
	en.e.InjectFault(Fault{Status: 429, RetryAfter: 2500 * time.Millisecond})
	r := en.must(429, "GET", "/api/v1/goods", nil)
	if r.header.Get("Retry-After") != "3" || r.message(t) == "" {
		t.Errorf("429: Retry-After %q, body %s", r.header.Get("Retry-After"), r.body)
	}
	en.e.InjectFault(Fault{Status: 502, GatewayHTML: true})
	r = en.must(502, "GET", "/api/v1/goods", nil)
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), "502 Bad Gateway") {
		t.Errorf("502: %s %s", r.header.Get("Content-Type"), r.body)
	}
	en.e.InjectFault(Fault{Status: 500})
	if r = en.must(500, "GET", "/api/v1/goods", nil); r.message(t) == "" {
		t.Error("500 without a message")
	}
	calls := en.e.Calls()
	last := calls[len(calls)-1]
	if last.Status != 500 || last.Path != "/api/v1/goods" || last.Method != "GET" || last.At.IsZero() {
		t.Errorf("last call %+v", last)
	}
}

func TestDropConnection(t *testing.T) {
	en := signedIn(t, Config{})
	en.e.InjectFault(Fault{PathPrefix: "/api/v1/goods", DropConnection: true})
	req, _ := http.NewRequest("GET", en.url+"/api/v1/goods", nil)
	req.Header.Set("Authorization", "Bearer "+en.token)
	req.Header.Set("X-Client-Name", "obmin-test")
	// A fresh connection: on a reused one net/http repeats a GET by itself when it is dropped.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if res, err := c.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("answered %d", res.StatusCode)
	}
	en.must(200, "GET", "/api/v1/goods", nil)
	if c := en.e.Calls(); c[len(c)-2].Status != 0 {
		t.Errorf("dropped call recorded as %+v", c[len(c)-2])
	}
}

// TestLostAnswer: the receipt is made, but the client sees a 502 and must look it up rather than sell
// again.
func TestLostAnswer(t *testing.T) {
	en := signedIn(t, Config{})
	en.e.InjectFault(Fault{Method: "POST", PathPrefix: "/api/v1/receipts/sell", Status: 502, AfterHandling: true})
	body := sellBody(func(m map[string]any) { m["id"] = "11111111-2222-4333-8444-555555555555" })
	en.must(502, "POST", "/api/v1/receipts/sell", body)
	if n := len(en.e.Receipts()); n != 1 {
		t.Fatalf("%d receipts after the lost answer", n)
	}
	en.must(200, "GET", "/api/v1/receipts/11111111-2222-4333-8444-555555555555", nil)
	en.must(422, "POST", "/api/v1/receipts/sell", body) // a blind repeat is refused
	if n := en.e.CountCalls("POST", "/api/v1/receipts/sell"); n != 2 {
		t.Errorf("CountCalls = %d", n)
	}
}

func TestLatencyHonoursClientTimeout(t *testing.T) {
	en := signedIn(t, Config{})
	en.e.InjectFault(Fault{Latency: time.Minute, Status: 500})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", en.url+"/status", nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatal("answered despite the latency")
	}
}

func TestRateLimit(t *testing.T) {
	en := signedIn(t, Config{})
	en.e.SetRateLimit(2, time.Minute)
	en.must(200, "GET", "/api/v1/goods", nil)
	en.clock.Add(15 * time.Second)
	en.must(200, "GET", "/api/v1/goods", nil)
	r := en.must(429, "GET", "/api/v1/goods", nil)
	if r.header.Get("Retry-After") != "45" {
		t.Errorf("Retry-After %q, want 45", r.header.Get("Retry-After"))
	}
	en.clock.Add(45 * time.Second)
	en.must(200, "GET", "/api/v1/goods", nil)
	en.e.SetRateLimit(0, 0)
	for range 5 {
		en.must(200, "GET", "/api/v1/goods", nil)
	}
}

func TestServe(t *testing.T) {
	e := New(Config{})
	defer e.Close()
	if _, _, err := e.Serve(context.Background(), "0.0.0.0:0"); err == nil {
		t.Error("served on every interface")
	}
	base, stop, err := e.Serve(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, "/") {
		t.Errorf("base URL %q", base)
	}
	res, err := http.Get(base + "/status")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("status %d", res.StatusCode)
	}
	if err := stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res, err := http.Get(base + "/status"); err == nil {
		res.Body.Close()
		t.Error("still serving after stop")
	}
}
