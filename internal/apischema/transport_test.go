package apischema

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeCheckbox is a deliberately sloppy stand-in for the emulator: some answers conform, some do not.
func fakeCheckbox(t *testing.T, seen chan<- string) http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
	record := func(r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("server read body: %v", err)
		}
		if seen != nil {
			seen <- r.Method + " " + r.URL.Path + " " + string(body)
		}
	}
	mux.HandleFunc("POST /api/v1/cashier/signin", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		reply(w, 200, `{"type":"bearer","token_type":"bearer","access_token":"eyJ.x.y"}`)
	})
	mux.HandleFunc("POST /api/v1/goods", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		reply(w, 200, goodModel)
	})
	mux.HandleFunc("GET /api/v1/goods/{id}", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		reply(w, 200, `{"id":"`+r.PathValue("id")+`","code":"A-1","name":"x","price":1,"type":"good","created_at":"2024-03-22T16:20:09Z"}`)
	})
	mux.HandleFunc("GET /api/v1/receipts/search", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		reply(w, 200, `{"meta":{"limit":25,"offset":0},"results":[]}`)
	})
	mux.HandleFunc("POST /api/v1/cashier/signout", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		w.WriteHeader(http.StatusResetContent)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		http.NotFound(w, r)
	})
	return mux
}

type call struct {
	method, path, body string
	wantReply          string // a fragment of the body the client must read back
}

func do(t *testing.T, client *http.Client, base string, c call) {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(context.Background(), c.method, base+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Client-Name", "obmin")
	if c.path != "/api/v1/cashier/signin" {
		req.Header.Set("Authorization", "Bearer eyJ.x.y")
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), c.wantReply) {
		t.Errorf("%s %s: client read %q, want it to contain %q", c.method, c.path, got, c.wantReply)
	}
}

func TestTransportCollectsFailures(t *testing.T) {
	d := checkboxDoc(t)
	seen := make(chan string, 16)
	srv := httptest.NewServer(fakeCheckbox(t, seen))
	defer srv.Close()
	tr := &Transport{Base: srv.Client().Transport, Doc: d}
	client := &http.Client{Transport: tr}

	calls := []call{
		{"POST", "/api/v1/cashier/signin", `{"login":"cashier","password":"secret"}`, "access_token"},
		{"POST", "/api/v1/goods", `{"name":"x","type":"good","code":"A-1","is_weight":false,"price":0}`, "Кобзар"},
		{"GET", "/api/v1/goods/" + goodID, "", `"code":"A-1"`},
		{"GET", "/api/v1/receipts/search?limit=101&self_receipts=false", "", `"results":[]`},
		{"GET", "/api/v1/receipts/search?limit=100", "", `"results":[]`},
		{"GET", "/api/v1/nowhere", "", "404 page not found"},
		{"POST", "/api/v1/cashier/signout", "", ""},
	}
	for _, c := range calls {
		do(t, client, srv.URL, c)
		// The server must get the body the client sent, byte for byte.
		want := c.method + " " + strings.SplitN(c.path, "?", 2)[0] + " " + c.body
		if got := <-seen; got != want {
			t.Errorf("server saw %q, want %q", got, want)
		}
	}

	wantFailures := []string{
		"POST /api/v1/goods request: body.price: must be > 0",
		"GET /api/v1/goods/{good_id} response 200: body: missing property 'taxes'",
		"GET /api/v1/receipts/search request: query.limit: must be <= 100",
		"GET /api/v1/nowhere request: no operation in document 2.105.1+62034299 matches path /api/v1/nowhere",
	}
	if got := tr.Failures(); strings.Join(got, "\n") != strings.Join(wantFailures, "\n") {
		t.Errorf("Failures:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantFailures, "\n"))
	}
	wantOps := []string{
		"GET /api/v1/goods/{good_id}",
		"GET /api/v1/receipts/search",
		"POST /api/v1/cashier/signin",
		"POST /api/v1/cashier/signout",
		"POST /api/v1/goods",
	}
	if got := tr.Operations(); strings.Join(got, "\n") != strings.Join(wantOps, "\n") {
		t.Errorf("Operations = %q, want %q", got, wantOps)
	}
}

func TestTransportConcurrent(t *testing.T) {
	d := checkboxDoc(t)
	srv := httptest.NewServer(fakeCheckbox(t, nil))
	defer srv.Close()
	tr := &Transport{Base: srv.Client().Transport, Doc: d}
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			do(t, client, srv.URL, call{"POST", "/api/v1/cashier/signin", `{"login":"c","password":"p"}`, "access_token"})
			do(t, client, srv.URL, call{"GET", "/api/v1/goods/" + goodID, "", "A-1"})
		}()
	}
	wg.Wait()
	if got := len(tr.Failures()); got != 8 {
		t.Errorf("%d failures, want 8 (one per GoodModel without taxes):\n%s", got, strings.Join(tr.Failures(), "\n"))
	}
	if got := len(tr.Operations()); got != 2 {
		t.Errorf("Operations = %q, want 2", tr.Operations())
	}
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTransportEdges(t *testing.T) {
	d := tinyDoc(t)
	t.Run("nil doc", func(t *testing.T) {
		tr := &Transport{}
		req := httptest.NewRequest("GET", "http://x/search", strings.NewReader("x"))
		if _, err := tr.RoundTrip(req); err == nil {
			t.Error("no error with a nil Doc")
		}
	})
	t.Run("base error passes through unjudged", func(t *testing.T) {
		boom := io.ErrUnexpectedEOF
		tr := &Transport{Doc: d, Base: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, boom })}
		req := httptest.NewRequest("GET", "http://x/items/special", nil)
		if _, err := tr.RoundTrip(req); err != boom {
			t.Errorf("err = %v, want %v", err, boom)
		}
		if f := tr.Failures(); len(f) != 0 {
			t.Errorf("Failures = %q, want none", f)
		}
	})
	t.Run("caller's request is left alone and the body can be re-read", func(t *testing.T) {
		body := `{"id":"` + itemID + `","name":"x"}`
		var sent string
		tr := &Transport{Doc: d, Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			b, _ := io.ReadAll(r.Body)
			again, err := r.GetBody()
			if err != nil {
				t.Fatal(err)
			}
			b2, _ := io.ReadAll(again)
			if !bytes.Equal(b, b2) {
				t.Errorf("GetBody gave %q, body %q", b2, b)
			}
			sent = string(b)
			return &http.Response{StatusCode: 200, Header: hdr("Content-Type", "application/json"), Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
		})}
		req := httptest.NewRequest("PUT", "http://x/items/"+itemID, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer t")
		orig := req.Header.Clone()
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		if sent != body || string(got) != body {
			t.Errorf("sent %q, read back %q, want %q both", sent, got, body)
		}
		if req.Header.Get("Authorization") != orig.Get("Authorization") || len(req.Header) != len(orig) {
			t.Errorf("request headers changed: %v", req.Header)
		}
		if f := tr.Failures(); len(f) != 0 {
			t.Errorf("Failures = %q, want none", f)
		}
	})
}
