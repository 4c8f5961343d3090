package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Attempts bounds one delivery: Retries more tries after the first, each within Timeout, with pauses
// from Pause (default 1s) doubling up to 30s, or as long as the receiver asks (Retry-After, Telegram's
// retry_after), up to a minute.
type Attempts struct {
	Timeout time.Duration // one try; default 10s
	Retries int
	Pause   time.Duration
}

// errPermanent marks an answer that trying again will not change (a bad token, a chat that does not
// exist): the delivery stops at once.
type errPermanent struct{ error }

func (e errPermanent) Unwrap() error { return e.error }

// retryAfter is an error that names how long the receiver asked to wait.
type retryAfter struct {
	error
	wait time.Duration
}

func (e retryAfter) Unwrap() error { return e.error }

// do runs try until it succeeds, fails for good or runs out of attempts.
func (a Attempts) do(ctx context.Context, try func(ctx context.Context) error) error {
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	pause := a.Pause
	if pause <= 0 {
		pause = time.Second
	}
	var err error
	for i := 0; ; i++ {
		tctx, cancel := context.WithTimeout(ctx, timeout)
		err = try(tctx)
		cancel()
		var perm errPermanent
		if err == nil || errors.As(err, &perm) || ctx.Err() != nil || i >= a.Retries {
			return err
		}
		wait := pause
		var ra retryAfter
		if errors.As(err, &ra) && ra.wait > wait {
			wait = min(ra.wait, time.Minute)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, 30*time.Second)
	}
}

// answerError classifies an HTTP answer that is not a success: 408, 425, 429 and 5xx are worth another
// try (after Retry-After, when given); any other is permanent.
func answerError(resp *http.Response, what string) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	err := fmt.Errorf("%s answered %s: %s", what, resp.Status, clip(string(body), 200, true))
	switch c := resp.StatusCode; {
	case c == http.StatusTooManyRequests || c >= 500 || c == http.StatusRequestTimeout || c == http.StatusTooEarly:
		if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
			return retryAfter{err, time.Duration(s) * time.Second}
		}
		return err
	}
	return errPermanent{err}
}

// WebhookConfig sets up the webhook channel.
type WebhookConfig struct {
	URL    string
	Auth   string // bearer | hmac; used when Secret is set
	Secret string
	Attempts
	Client *http.Client // default: a client without a timeout of its own (Attempts bounds each try)
}

// Webhook posts each message as JSON.
type Webhook struct {
	cfg     WebhookConfig
	safeURL string
}

// NewWebhook returns the webhook channel.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("notify: the webhook needs an http(s) URL")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	return &Webhook{cfg: cfg, safeURL: u.Scheme + "://" + u.Host}, nil
}

// Name implements Channel.
func (w *Webhook) Name() string { return "webhook" }

// webhookBody is what the webhook posts.
type webhookBody struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"` // always "obmin"
	Instance   string          `json:"instance"`
	Event      Kind            `json:"event"`
	Status     Phase           `json:"status"`
	Title      string          `json:"title"`
	Text       string          `json:"text"`
	At         string          `json:"at"`
	Conditions []webhookDetail `json:"conditions"`
}

type webhookDetail struct {
	Key    string `json:"key,omitempty"`
	Since  string `json:"since"`
	Reason string `json:"reason,omitempty"`
	Count  int    `json:"count,omitempty"`
	Where  string `json:"where,omitempty"`
}

// rfc3339 is a time for machines: RFC 3339 with Kyiv's offset.
func rfc3339(t time.Time) string { return t.In(kyiv).Format(time.RFC3339) }

// Send implements Channel.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	b := webhookBody{ID: m.ID, Source: "obmin", Instance: m.Instance, Event: m.Kind, Status: m.Phase, Title: m.Title, Text: m.Text, At: rfc3339(m.At)}
	for _, e := range m.Events {
		b.Conditions = append(b.Conditions, webhookDetail{Key: e.Key, Since: rfc3339(e.Since), Reason: e.Reason, Count: e.Count, Where: e.Where})
	}
	body, err := json.Marshal(b)
	if err != nil {
		return err
	}
	err = w.cfg.do(ctx, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
		if err != nil {
			return errPermanent{err}
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "obmin")
		req.Header.Set("X-Obmin-Delivery", m.ID)
		req.Header.Set("X-Obmin-Event", string(m.Kind))
		if w.cfg.Secret != "" {
			if w.cfg.Auth == "hmac" {
				mac := hmac.New(sha256.New, []byte(w.cfg.Secret))
				mac.Write(body)
				req.Header.Set("X-Obmin-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
			} else {
				req.Header.Set("Authorization", "Bearer "+w.cfg.Secret)
			}
		}
		resp, err := w.cfg.Client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			return nil
		}
		return answerError(resp, "webhook")
	})
	return w.scrub(err)
}

// scrub keeps the secret, and the URL's path and query (which often hold a token), out of errors.
func (w *Webhook) scrub(err error) error {
	if err == nil {
		return nil
	}
	secrets := []string{w.cfg.Secret, w.cfg.URL}
	if u, perr := url.Parse(w.cfg.URL); perr == nil {
		secrets = append(secrets, u.String(), u.Redacted())
		if u.Path != "" && u.Path != "/" {
			secrets = append(secrets, u.Path)
		}
		if u.RawQuery != "" {
			secrets = append(secrets, u.RawQuery)
		}
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, w.safeURL+"/***")
		}
	}
	return errors.New(msg)
}

// TelegramConfig sets up the Telegram channel.
type TelegramConfig struct {
	APIURL string // default https://api.telegram.org
	Token  string
	ChatID string
	Attempts
	Client *http.Client
}

// Telegram sends each message through a bot (the Bot API's sendMessage) to one chat.
type Telegram struct {
	cfg TelegramConfig
}

// NewTelegram returns the Telegram channel.
func NewTelegram(cfg TelegramConfig) (*Telegram, error) {
	if cfg.Token == "" || cfg.ChatID == "" {
		return nil, errors.New("notify: Telegram needs a bot token and a chat id")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = "https://api.telegram.org"
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	return &Telegram{cfg: cfg}, nil
}

// Name implements Channel.
func (t *Telegram) Name() string { return "telegram" }

// telegramLimit is the longest text sendMessage takes (4096 characters), less room for the ellipsis.
const telegramLimit = 4000

// Send implements Channel. The text goes as plain text: nothing in it is read as markup.
func (t *Telegram) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(map[string]any{
		"chat_id":                  t.cfg.ChatID,
		"text":                     clip(m.Text, telegramLimit, false),
		"disable_web_page_preview": true,
	})
	if err != nil {
		return err
	}
	endpoint := t.cfg.APIURL + "/bot" + t.cfg.Token + "/sendMessage"
	err = t.cfg.do(ctx, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return errPermanent{err}
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := t.cfg.Client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var ans struct {
			OK          bool   `json:"ok"`
			ErrorCode   int    `json:"error_code"`
			Description string `json:"description"`
			Parameters  struct {
				RetryAfter int `json:"retry_after"`
			} `json:"parameters"`
		}
		if resp.StatusCode/100 == 2 {
			if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&ans); err == nil && ans.OK {
				return nil
			}
			return fmt.Errorf("telegram answered %s without ok", resp.Status)
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		if json.Unmarshal(raw, &ans) != nil || ans.Description == "" {
			resp.Body = io.NopCloser(bytes.NewReader(raw))
			return answerError(resp, "telegram")
		}
		err = fmt.Errorf("telegram answered %d: %s", resp.StatusCode, ans.Description)
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			return retryAfter{err, time.Duration(ans.Parameters.RetryAfter) * time.Second}
		case resp.StatusCode >= 500:
			return err
		}
		return errPermanent{err} // 400 chat not found, 401 bad token, 403 bot removed from the chat
	})
	return scrub(err, t.cfg.Token)
}
