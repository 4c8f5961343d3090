package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/checkbox"
)

// WebhookPath is where obmin receives Checkbox's webhook.
const WebhookPath = "/checkbox/webhook"

// SignatureHeader carries base64(HMAC-SHA256(key, raw body)) on every Checkbox webhook delivery
// (docs/checkbox-rest.md §8).
const SignatureHeader = "x-request-signature"

// Webhook limits, the defaults of Config's fields. A delivery is one receipt as JSON: a few KiB, tens for
// a receipt of hundreds of lines.
const (
	DefaultWebhookMaxBody       = 256 << 10
	DefaultWebhookReadTimeout   = 15 * time.Second
	DefaultMaxUnauthenticated   = 16
	unauthenticatedRetryAfter   = "5"
	webhookSignatureEncodedSize = 44 // base64 of a SHA-256 sum
)

// Sign is the signature Checkbox puts on body with key.
func Sign(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// verify checks sig against every configured key (one per cash register), in constant time per key.
func (s *Server) verify(sig []byte, body []byte) bool {
	ok := false
	for _, k := range s.cfg.WebhookKeys {
		m := hmac.New(sha256.New, []byte(k))
		m.Write(body)
		if hmac.Equal(sig, m.Sum(nil)) {
			ok = true
		}
	}
	return ok
}

// decodeSignature is the raw HMAC an x-request-signature header carries, or nil when it cannot be one.
func decodeSignature(h string) []byte {
	if len(h) != webhookSignatureEncodedSize {
		return nil
	}
	got, err := base64.StdEncoding.DecodeString(h)
	if err != nil || len(got) != sha256.Size {
		return nil
	}
	return got
}

// webhook receives Checkbox's deliveries. Nobody is signed in until the signature over the whole body
// checks, so everything before that is bounded: a request without a well-formed signature header is
// refused before its body is read; a declared body above WebhookMaxBody is refused unread; at most
// MaxUnauthenticated bodies are read at once (others get 503 and Checkbox retries), each for at most
// WebhookReadTimeout and WebhookMaxBody bytes. A receipt goes through the same exactly-once gate as the
// pull, so one that arrives both ways reaches BAS once. Shifts, service receipts and orders are
// acknowledged and ignored. The answer is {"ok": true} (docs/checkbox-rest.md §8); anything else makes
// Checkbox retry.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	log := s.log.WithField("part", "webhook")
	if len(s.cfg.WebhookKeys) == 0 {
		http.Error(w, "webhook not configured on this obmin", http.StatusServiceUnavailable)
		return
	}
	sig := decodeSignature(r.Header.Get(SignatureHeader))
	if sig == nil {
		s.refusals.note("webhook", "bad or missing signature header", s.peer(r))
		http.Error(w, "bad or missing signature", http.StatusUnauthorized)
		return
	}
	if r.ContentLength > s.cfg.WebhookMaxBody {
		s.refusals.note("webhook", "declared body too large", s.peer(r))
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	select {
	case s.unauth <- struct{}{}:
		defer func() { <-s.unauth }()
	default:
		s.refusals.note("webhook", "too many unauthenticated requests at once", s.peer(r))
		w.Header().Set("Retry-After", unauthenticatedRetryAfter)
		http.Error(w, "busy, try again", http.StatusServiceUnavailable)
		return
	}
	// The server's read timeout is minutes long for 1C's big chunks; a delivery must come quickly.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.WebhookReadTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.WebhookMaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.refusals.note("webhook", "body too large", s.peer(r))
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		s.refusals.note("webhook", "body not read in time", s.peer(r))
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	if !s.verify(sig, body) {
		s.refusals.note("webhook", "wrong signature", s.peer(r))
		http.Error(w, "bad or missing signature", http.StatusUnauthorized)
		return
	}
	var ev struct {
		Receipt *checkbox.Receipt `json:"receipt"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		log.WithError(err).Warn("webhook delivery is not JSON")
		http.Error(w, "body is not a JSON event", http.StatusBadRequest)
		return
	}
	if ev.Receipt != nil && ev.Receipt.ID != "" {
		rc := *ev.Receipt
		if !s.agent.TakesRegister(rc.RegisterID()) {
			log.WithField("register", rc.RegisterID()).Info("webhook receipt of a cash register obmin does not pull; ignored")
		} else {
			added, state, err := s.agent.AcceptReceipt(r.Context(), rc)
			if err != nil {
				log.WithError(err).WithField("receipt", rc.ID).Error("webhook receipt not recorded; Checkbox will deliver it again")
				http.Error(w, "not recorded, try again", http.StatusInternalServerError)
				return
			}
			log.WithFields(logrus.Fields{"receipt": rc.ID, "new": added, "state": state}).Info("webhook receipt")
		}
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"ok":true}`)
}
