package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/sirupsen/logrus"

	"obmin/checkbox"
)

// WebhookPath is where obmin receives Checkbox's webhook.
const WebhookPath = "/checkbox/webhook"

// SignatureHeader carries base64(HMAC-SHA256(key, raw body)) on every Checkbox webhook delivery
// (checkbox-api.md §8).
const SignatureHeader = "x-request-signature"

// Sign is the signature Checkbox puts on body with key.
func Sign(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// verify checks sig against every configured key (one per cash register), in constant time per key.
func (s *Server) verify(sig string, body []byte) bool {
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	ok := false
	for _, k := range s.cfg.WebhookKeys {
		m := hmac.New(sha256.New, []byte(k))
		m.Write(body)
		if hmac.Equal(got, m.Sum(nil)) {
			ok = true
		}
	}
	return ok
}

// webhook receives Checkbox's deliveries: the signature is checked on the raw body before anything is
// parsed; a receipt goes through the same exactly-once gate as the pull, so one that arrives both ways
// reaches BAS once. Shifts, service receipts and orders are acknowledged and ignored. The answer is
// {"ok": true} (checkbox-api.md §8); anything else makes Checkbox retry.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	log := s.log.WithField("part", "webhook")
	if len(s.cfg.WebhookKeys) == 0 {
		http.Error(w, "webhook not configured on this obmin", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	sig := r.Header.Get(SignatureHeader)
	if sig == "" || !s.verify(sig, body) {
		log.WithFields(logrus.Fields{"remote": r.RemoteAddr, "signed": sig != ""}).Warn("webhook delivery refused: bad or missing signature")
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
		if regs := s.agent.Sales.Cfg.Registers; len(regs) > 0 && !slices.Contains(regs, rc.RegisterID()) {
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
