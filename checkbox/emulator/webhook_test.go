package emulator

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// hook is a webhook receiver: it answers each receipt event with the next of its statuses (200 when
// they run out, -1 to hang until the sender gives up) and every other event with 200, and reports
// what it got.
type hook struct {
	srv      *httptest.Server
	got      chan delivered
	statuses chan int
}

type delivered struct {
	body   []byte
	sig    string
	status int
}

func newHook(t *testing.T, statuses ...int) *hook {
	h := &hook{got: make(chan delivered, 100), statuses: make(chan int, len(statuses))}
	for _, s := range statuses {
		h.statuses <- s
	}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		status := 200
		var event map[string]json.RawMessage
		json.Unmarshal(body, &event)
		if _, ok := event["receipt"]; ok {
			select {
			case status = <-h.statuses:
			default:
			}
		}
		if status == -1 {
			<-r.Context().Done() // the sender's timeout
		} else {
			w.WriteHeader(status)
			w.Write([]byte(`{"ok": true}`))
		}
		h.got <- delivered{body: body, sig: r.Header.Get("x-request-signature"), status: status}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// next waits for the next delivery of a receipt (skipping shift events).
func (h *hook) next(t *testing.T) (delivered, map[string]json.RawMessage) {
	t.Helper()
	for {
		select {
		case d := <-h.got:
			var env map[string]json.RawMessage
			if err := json.Unmarshal(d.body, &env); err != nil {
				t.Fatalf("webhook body %s: %v", d.body, err)
			}
			if _, ok := env["receipt"]; ok {
				return d, env
			}
			if _, ok := env["shift"]; !ok {
				t.Fatalf("webhook body of neither kind: %s", d.body)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no webhook delivery")
		}
	}
}

func signature(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

var fastHooks = WebhookPolicy{FirstRetry: time.Millisecond, MaxRetry: 4 * time.Millisecond, GiveUpAfter: time.Minute, Timeout: 200 * time.Millisecond}

func TestWebhookDelivery(t *testing.T) {
	en := signedIn(t, Config{Webhook: fastHooks})
	en.addGood("B-1", "Книга", 10000)
	h := newHook(t, 500) // the receipt fails once

	en.must(404, "GET", "/api/v1/webhook", nil, "X-License-Key", en.licence())
	var set webhookInfoJSON
	en.must(200, "POST", "/api/v1/webhook", map[string]string{"url": h.srv.URL + "/checkbox"}, "X-License-Key", en.licence()).decode(t, &set)
	if set.Key == "" || set.URL != h.srv.URL+"/checkbox" {
		t.Fatalf("set webhook answered %+v", set)
	}
	var info map[string]any
	en.must(200, "GET", "/api/v1/webhook", nil, "X-License-Key", en.licence()).decode(t, &info)
	if _, hasKey := info["key"]; hasKey || info["url"] != set.URL {
		t.Errorf("GET webhook %v", info)
	}

	sale, err := en.e.Sell(Sale{Lines: []SaleLine{{Code: "B-1", Quantity: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	first, env := h.next(t)
	second, _ := h.next(t)
	if first.status != 500 || second.status != 200 || string(first.body) != string(second.body) {
		t.Errorf("attempts answered %d then %d; same body: %v", first.status, second.status, string(first.body) == string(second.body))
	}
	for _, d := range []delivered{first, second} {
		if want := signature(set.Key, d.body); !hmac.Equal([]byte(d.sig), []byte(want)) {
			t.Errorf("x-request-signature %q, want %q", d.sig, want)
		}
	}
	var r webhookReceiptJSON
	if err := json.Unmarshal(env["receipt"], &r); err != nil {
		t.Fatal(err)
	}
	if r.ID != sale.ID || r.CashRegister == nil || r.CashRegister.ID != en.e.Registers()[0].ID || r.Shift.ID != sale.ShiftID {
		t.Errorf("webhook receipt %+v", r)
	}
	var raw map[string]json.RawMessage
	json.Unmarshal(env["receipt"], &raw)
	if _, ok := raw["shift_id"]; ok {
		t.Error("webhook receipt has shift_id, which WebhookReceiptModel lacks")
	}

	en.must(200, "GET", "/api/v1/webhook", nil, "X-License-Key", en.licence()).decode(t, &info)
	if info["last_error_date"] == nil {
		t.Errorf("failed attempt not recorded: %v", info)
	}
	var del struct{ OK bool }
	en.must(200, "DELETE", "/api/v1/webhook", nil, "X-License-Key", en.licence()).decode(t, &del)
	if !del.OK {
		t.Error("delete answered ok=false")
	}
	if _, err := en.e.Sell(Sale{Lines: []SaleLine{{Code: "B-1", Quantity: 1000}}}); err != nil {
		t.Fatal(err)
	}
	if err := en.e.WaitWebhooks(context.Background()); err != nil {
		t.Fatal(err)
	}
	var receipts []Delivery
	for _, d := range en.e.Deliveries() {
		if d.Event == "receipt" {
			receipts = append(receipts, d)
		}
	}
	if len(receipts) != 2 || receipts[0].Attempt != 1 || receipts[0].Status != 500 || receipts[1].Attempt != 2 || receipts[1].Status != 200 {
		t.Errorf("receipt deliveries %+v", receipts)
	}
}

func TestWebhookRetriesAfterTimeout(t *testing.T) {
	en := signedIn(t, Config{Webhook: fastHooks})
	en.addGood("B-1", "Книга", 10000)
	h := newHook(t, -1)
	en.must(200, "POST", "/api/v1/webhook", map[string]string{"url": h.srv.URL}, "X-License-Key", en.licence())
	if _, err := en.e.Sell(Sale{Lines: []SaleLine{{Code: "B-1", Quantity: 1000}}}); err != nil {
		t.Fatal(err)
	}
	if d, _ := h.next(t); d.status != -1 {
		t.Fatalf("first attempt %d", d.status)
	}
	if d, _ := h.next(t); d.status != 200 {
		t.Fatalf("second attempt %d", d.status)
	}
}

func TestWebhookGivesUp(t *testing.T) {
	pol := fastHooks
	pol.GiveUpAfter = 20 * time.Millisecond
	en := signedIn(t, Config{Webhook: pol})
	en.addGood("B-1", "Книга", 10000)
	h := newHook(t, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
	en.must(200, "POST", "/api/v1/webhook", map[string]string{"url": h.srv.URL}, "X-License-Key", en.licence())
	if _, err := en.e.Sell(Sale{Lines: []SaleLine{{Code: "B-1", Quantity: 1000}}}); err != nil {
		t.Fatal(err)
	}
	h.next(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := en.e.WaitWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range en.e.Deliveries() {
		if d.Event == "receipt" {
			n++
			if d.Status != 500 {
				t.Errorf("delivery %+v", d)
			}
		}
	}
	if n < 2 || n > 15 {
		t.Errorf("%d attempts in 20 ms of back-off from 1 ms to 4 ms", n)
	}
}

func TestWebhookConfigErrors(t *testing.T) {
	en := signedIn(t, Config{})
	tests := []struct {
		name string
		body any
		hdr  []string
		want int
	}{
		{"no licence key", map[string]string{"url": "https://example.com/h"}, nil, 422},
		{"unknown licence key", map[string]string{"url": "https://example.com/h"}, []string{"X-License-Key", "nope"}, 403},
		{"not a URL", map[string]string{"url": "example"}, []string{"X-License-Key", en.licence()}, 422},
		{"no url", map[string]string{}, []string{"X-License-Key", en.licence()}, 422},
		{"no token", map[string]string{"url": "https://example.com/h"}, []string{"X-License-Key", en.licence(), "Authorization", ""}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			en.must(tt.want, "POST", "/api/v1/webhook", tt.body, tt.hdr...)
		})
	}
}
