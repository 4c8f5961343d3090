package emulator

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Webhooks (docs/checkbox-rest.md §8): one URL per cash register, set with its licence key. Checkbox POSTs
// {"receipt": ...} when a receipt is fiscalised and {"shift": ...} when a shift opens or closes,
// signed with x-request-signature = base64(HMAC-SHA256(key, raw body)), and retries with exponential
// back-off while the answer is a status >= 400, late or missing.

type webhook struct {
	url, key             string
	createdAt, updatedAt time.Time
	lastErrorDate        time.Time
	lastErrorMessage     string
}

// Delivery is one attempt to deliver a webhook event.
type Delivery struct {
	URL     string
	Event   string // "receipt" or "shift"
	ID      string // the receipt's or the shift's id
	Attempt int    // 1 for the first try
	Status  int    // the receiver's status; 0 when it gave none
	Err     string // transport error or timeout
	At      time.Time
}

// Deliveries returns every delivery attempt so far, in order.
func (e *Emulator) Deliveries() []Delivery {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Delivery(nil), e.sent...)
}

// webhookInfoJSON is WebhookInfoSchema; with Key it is WebhookInfoResponseSchema.
type webhookInfoJSON struct {
	URL              string   `json:"url"`
	LastErrorDate    *isoTime `json:"last_error_date"`
	LastErrorMessage *string  `json:"last_error_message"`
	CreatedAt        isoTime  `json:"created_at"`
	UpdatedAt        *isoTime `json:"updated_at"`
	Key              string   `json:"key,omitempty"`
}

func (w *webhook) info(withKey bool) webhookInfoJSON {
	out := webhookInfoJSON{URL: w.url, LastErrorDate: at(w.lastErrorDate), LastErrorMessage: opt(w.lastErrorMessage),
		CreatedAt: isoTime{w.createdAt}, UpdatedAt: at(w.updatedAt)}
	if withKey {
		out.Key = w.key
	}
	return out
}

// getWebhook is GET /api/v1/webhook: the register's webhook without its key.
func (e *Emulator) getWebhook(c *call) reply {
	w := e.webhooks[c.reg.ID]
	if w == nil {
		return notFound("Вебхук для цієї каси не налаштовано")
	}
	return jsonReply(http.StatusOK, w.info(false))
}

// setWebhook is POST /api/v1/webhook {"url": ...}: sets (or replaces) the register's webhook with a new
// secret key, returned once here.
func (e *Emulator) setWebhook(c *call) reply {
	var v checker
	var raw string
	if o, ok := v.body(c.body); ok {
		var ok bool
		if raw, ok = o.str("url", true, 1, 2083); ok {
			if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				v.add(loc(o.loc, "url"), "url_parsing", "Input should be a valid URL, relative URL without a base")
			}
		}
	}
	if len(v.errs) > 0 {
		return invalid(v.errs)
	}
	now := e.now()
	w := &webhook{url: raw, key: hex.EncodeToString(e.randBytes(24)), createdAt: now, updatedAt: now}
	e.webhooks[c.reg.ID] = w
	return jsonReply(http.StatusOK, w.info(true))
}

// deleteWebhook is DELETE /api/v1/webhook: {"ok": true} when there was one.
func (e *Emulator) deleteWebhook(c *call) reply {
	_, ok := e.webhooks[c.reg.ID]
	delete(e.webhooks, c.reg.ID)
	return jsonReply(http.StatusOK, struct {
		OK bool `json:"ok"`
	}{ok})
}

func (e *Emulator) notifyReceipt(r *receipt) {
	e.notify(r.reg, "receipt", r.id, func() any {
		return struct {
			Receipt webhookReceiptJSON `json:"receipt"`
		}{e.webhookReceiptJSON(r)}
	})
}

func (e *Emulator) notifyShift(s *shift) {
	e.notify(s.reg, "shift", s.id, func() any {
		return struct {
			Shift shiftJSON `json:"shift"`
		}{shiftWire(s, true, true)}
	})
}

// notify queues an event for the register's webhook, if it has one. Called with e.mu held.
func (e *Emulator) notify(reg *register, event, id string, payload func() any) {
	w := e.webhooks[reg.ID]
	if w == nil || e.closed {
		return
	}
	body, err := json.Marshal(payload())
	if err != nil {
		panic(fmt.Sprintf("emulator: encode %s webhook: %v", event, err))
	}
	m := hmac.New(sha256.New, []byte(w.key))
	m.Write(body)
	sig := base64.StdEncoding.EncodeToString(m.Sum(nil))
	e.deliveries.Add(1)
	if e.pending == 0 {
		e.drained = make(chan struct{})
	}
	e.pending++
	go func() {
		defer e.deliveries.Done()
		e.deliver(reg.ID, w, event, id, body, sig)
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.pending--; e.pending == 0 {
			close(e.drained)
		}
	}()
}

// WaitWebhooks waits until every webhook event queued so far was delivered or given up, or ctx ends.
func (e *Emulator) WaitWebhooks(ctx context.Context) error {
	e.mu.Lock()
	ch := e.drained
	idle := e.pending == 0
	e.mu.Unlock()
	if idle {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("emulator: waiting for webhook deliveries: %w", ctx.Err())
	}
}

// deliver POSTs one event until the receiver takes it, the policy gives up or Close is called. The
// back-off runs on real time: the Clock may be frozen in tests.
func (e *Emulator) deliver(regID string, w *webhook, event, id string, body []byte, sig string) {
	pol := e.cfg.Webhook
	ctx := e.deliveryCtx
	start := time.Now()
	wait := pol.FirstRetry
	for attempt := 1; ; attempt++ {
		d := Delivery{URL: w.url, Event: event, ID: id, Attempt: attempt}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("x-request-signature", sig)
			var resp *http.Response
			if resp, err = e.webhookClient.Do(req); err == nil {
				d.Status = resp.StatusCode
				_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
			}
		}
		if err != nil {
			d.Err = err.Error()
		}
		ok := err == nil && d.Status < 400
		e.mu.Lock()
		d.At = e.now()
		e.sent = append(e.sent, d)
		if !ok && e.webhooks[regID] == w {
			w.lastErrorDate = d.At
			w.lastErrorMessage = fmt.Sprintf("attempt %d: status %d %s", attempt, d.Status, d.Err)
		}
		e.mu.Unlock()
		if ok || ctx.Err() != nil || time.Since(start)+wait > pol.GiveUpAfter {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, pol.MaxRetry)
	}
}
