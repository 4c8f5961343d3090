package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Notify is who is told when a person is needed, and when: a drop in failed/, Checkbox or BAS
// unreachable for longer than a threshold, held receipts older than a threshold, reconciliation
// differences; and when each clears. Off while neither channel is set. configs/example.yaml explains
// every key.
type Notify struct {
	// Name says which obmin speaks, in every message (a shop, a till); default: the computer's name.
	Name string `yaml:"name"`
	// CheckEvery is how often the conditions that need time (outages, held receipts) are looked at and
	// undelivered messages retried.
	CheckEvery time.Duration `yaml:"check_every"`
	// RemindEvery repeats a message about a condition that has not cleared, at most this often; 0 = never.
	RemindEvery time.Duration `yaml:"remind_every"`
	// CheckboxAfter, BASAfter: how long Checkbox, BAS's folder, may stay unreachable before anyone is told.
	CheckboxAfter time.Duration `yaml:"checkbox_down_after"`
	BASAfter      time.Duration `yaml:"bas_down_after"`
	// HeldAfter: how old the oldest held receipt (or held or refused shift report, from its shift's
	// close) may grow before anyone is told.
	HeldAfter time.Duration `yaml:"held_after"`

	Webhook  NotifyWebhook  `yaml:"webhook"`
	Telegram NotifyTelegram `yaml:"telegram"`
}

// NotifyWebhook posts each message as JSON to a URL of the shop's choosing.
type NotifyWebhook struct {
	URL string `yaml:"url"` // empty = off
	// Auth says how the secret (OBMIN_NOTIFY_WEBHOOK_SECRET or secret_file) is sent: bearer (an
	// Authorization header) or hmac (X-Obmin-Signature: sha256=<HMAC of the body>). No secret, no header.
	Auth       string        `yaml:"auth"`
	SecretFile string        `yaml:"secret_file"`
	Timeout    time.Duration `yaml:"timeout"` // one attempt
	Retries    int           `yaml:"retries"` // attempts after the first, with growing pauses

	Secret      string `yaml:"-"`
	PlainSecret string `yaml:"secret,omitempty"` // only to refuse it with a clear message
}

// NotifyTelegram sends each message through a Telegram bot to a chat.
type NotifyTelegram struct {
	ChatID    string        `yaml:"chat_id"` // a user, group or channel id (-100…), or @channel; empty = off
	TokenFile string        `yaml:"token_file"`
	APIURL    string        `yaml:"api_url"` // Telegram's Bot API; another only for a proxy or tests
	Timeout   time.Duration `yaml:"timeout"`
	Retries   int           `yaml:"retries"`

	Token      string `yaml:"-"` // OBMIN_NOTIFY_TELEGRAM_TOKEN or token_file
	PlainToken string `yaml:"token,omitempty"`
}

func defaultNotify() Notify {
	return Notify{
		CheckEvery: time.Minute, RemindEvery: 24 * time.Hour,
		CheckboxAfter: 15 * time.Minute, BASAfter: 15 * time.Minute, HeldAfter: 4 * time.Hour,
		Webhook:  NotifyWebhook{Auth: "bearer", Timeout: 10 * time.Second, Retries: 3},
		Telegram: NotifyTelegram{APIURL: "https://api.telegram.org", Timeout: 10 * time.Second, Retries: 3},
	}
}

// On says whether any channel is set.
func (n Notify) On() bool { return n.Webhook.URL != "" || n.Telegram.ChatID != "" }

// resolveNotify makes the secret files' paths absolute and reads the secrets.
func (c *Config) resolveNotify(getenv func(string) string) error {
	n := &c.Notify
	for _, p := range []*string{&n.Webhook.SecretFile, &n.Telegram.TokenFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(c.Dir, *p)
		}
	}
	var err error
	if n.Webhook.Secret, err = readSecret(getenv, "notify.webhook.secret", "OBMIN_NOTIFY_WEBHOOK_SECRET", n.Webhook.SecretFile); err != nil {
		return err
	}
	if n.Telegram.Token, err = readSecret(getenv, "notify.telegram.token", "OBMIN_NOTIFY_TELEGRAM_TOKEN", n.Telegram.TokenFile); err != nil {
		return err
	}
	return nil
}

func (c *Config) validateNotify(bad func(key, format string, a ...any)) {
	n := c.Notify
	if n.Webhook.PlainSecret != "" {
		bad("notify.webhook.secret", "secrets are not kept in the config file; set OBMIN_NOTIFY_WEBHOOK_SECRET or notify.webhook.secret_file")
	}
	if n.Telegram.PlainToken != "" {
		bad("notify.telegram.token", "secrets are not kept in the config file; set OBMIN_NOTIFY_TELEGRAM_TOKEN or notify.telegram.token_file")
	}
	if n.CheckEvery < time.Second {
		bad("notify.check_every", "%s: want 1s or more", n.CheckEvery)
	}
	if n.RemindEvery != 0 && n.RemindEvery < time.Minute {
		bad("notify.remind_every", "%s: want 0 (never) or 1m or more", n.RemindEvery)
	}
	if w := n.Webhook; w.URL != "" {
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("notify.webhook.url", "want an https:// address")
		}
		switch w.Auth {
		case "bearer", "hmac":
		default:
			bad("notify.webhook.auth", "%q: want bearer or hmac", w.Auth)
		}
		checkAttempts(bad, "notify.webhook", w.Timeout, w.Retries)
	}
	if t := n.Telegram; t.ChatID != "" {
		if t.Token == "" {
			bad("notify.telegram.token_file", "the bot's token is missing: set OBMIN_NOTIFY_TELEGRAM_TOKEN or notify.telegram.token_file")
		}
		if strings.ContainsAny(t.ChatID, " /\t") {
			bad("notify.telegram.chat_id", "%q: want a chat id (123456789, -100…) or @channel", t.ChatID)
		}
		if u, err := url.Parse(t.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("notify.telegram.api_url", "%q: want https://api.telegram.org", t.APIURL)
		}
		checkAttempts(bad, "notify.telegram", t.Timeout, t.Retries)
	}
}

func checkAttempts(bad func(key, format string, a ...any), key string, timeout time.Duration, retries int) {
	if timeout <= 0 || timeout > 5*time.Minute {
		bad(key+".timeout", "%s: want more than 0 and at most 5m", timeout)
	}
	if retries < 0 || retries > 10 {
		bad(key+".retries", "%d: want 0 to 10", retries)
	}
}

// redacted is the section as it may be printed: secrets masked, and the webhook URL's path and query,
// which often carry a token of their own (chat services' incoming webhooks), cut.
func (n Notify) redacted() Notify {
	if n.Webhook.Secret != "" {
		n.Webhook.Secret = "***"
	}
	if n.Telegram.Token != "" {
		n.Telegram.Token = "***"
	}
	n.Webhook.URL = RedactURL(n.Webhook.URL)
	return n
}

// RedactURL keeps a URL's scheme and host and masks the rest, for logs and printed configurations.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if raw == "" {
			return ""
		}
		return "***"
	}
	if u.Path == "" && u.RawQuery == "" && u.User == nil {
		return u.Scheme + "://" + u.Host
	}
	return fmt.Sprintf("%s://%s/***", u.Scheme, u.Host)
}
