package config

import (
	"strings"
	"testing"
)

const emu = "checkbox:\n  emulator: true\n"

func TestEveryScheduleDurationAndPathIsChecked(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string // all in the error
	}{
		{"six-field cron", "schedule:\n  pull_receipts: \"0 */5 * * * *\"\n", []string{"schedule.pull_receipts", "five fields"}},
		{"words for cron", "schedule:\n  retention: every night\n", []string{"schedule.retention"}},
		{"out of range cron", "schedule:\n  retention: \"61 2 * * *\"\n", []string{"schedule.retention"}},
		{"negative retry", "schedule:\n  retry_drops: -5s\n", []string{"schedule.retry_drops", "negative"}},
		{"negative timeout", "http:\n  idle_timeout: -1s\n", []string{"http.idle_timeout", "negative"}},
		{"negative notify duration", "notify:\n  held_after: -1h\n", []string{"notify.held_after", "negative"}},
		{"negative sftp keepalive", "bas:\n  sftp:\n    address: h\n    user: u\n    insecure_ignore_host_key: true\n    keepalive: -1s\n",
			[]string{"bas.sftp.keepalive", "negative"}},
		{"tab in a path", "spool_dir: \"C:\\temp\\new\"\n", []string{"spool_dir", "U+0009", "single quotes"}},
		{"backspace in a path", "bas:\n  export_dir: \"D:\\bas\\export\"\n", []string{"bas.export_dir", "U+0008"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, emu+tt.body), env(nil))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// A key another rule reports is reported once.
	_, err := Load(writeConfig(t, emu+"bas:\n  min_age: -1s\n"), env(nil))
	if err == nil || strings.Count(err.Error(), "bas.min_age") != 1 {
		t.Errorf("bas.min_age once: %v", err)
	}
	for _, spec := range []string{"off", "", "@every 90s", "*/5 * * * *", "CRON_TZ=UTC 30 2 * * *"} {
		if _, err := Load(writeConfig(t, emu+"schedule:\n  retention: \""+spec+"\"\n"), env(nil)); err != nil {
			t.Errorf("%q: %v", spec, err)
		}
	}
}

func TestDoubleQuotedWindowsPaths(t *testing.T) {
	// Fails to parse: yaml's message names no line; obmin's names the line and the way out.
	for body, line := range map[string]string{
		"spool_dir: \"C:\\obmin\\spool\"\n":                "line 3 (spool_dir)",
		"bas:\n  export_dir: \"\\\\server\\share\\bas\"\n": "line 4 (export_dir)",
		"state_file: \"D:\\Users\\obmin\\state.db\"\n":     "line 3 (state_file)",
	} {
		_, err := Load(writeConfig(t, emu+body), env(nil))
		if err == nil {
			t.Fatalf("%q parsed", body)
		}
		for _, w := range []string{line, "single quotes", "forward slashes"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q lacks %q", body, err, w)
			}
		}
	}
	// Parses (every backslash happens to be a valid escape) into a path with no control character: a warning.
	cfg, err := Load(writeConfig(t, emu+"bas:\n  orders_file: \"\\\\\\\\srv\\\\bas\\\\orders.xml\"\n  export_dir: 'C:\\bas\\export'\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(cfg.BAS.OrdersFile, `\\srv\bas\orders.xml`) {
		t.Fatalf("orders_file = %q", cfg.BAS.OrdersFile)
	}
	w := cfg.QuoteWarnings()
	if len(w) != 1 || !strings.Contains(w[0], "bas.orders_file (line 4)") || !strings.Contains(w[0], "single quotes") {
		t.Fatalf("warnings %q: want one, for bas.orders_file; single quotes are fine", w)
	}
}

func TestLoadWithoutCredentials(t *testing.T) {
	p := writeConfig(t, "checkbox:\n  login: cashier\nnotify:\n  remind_every: 5s\n")
	if _, err := Load(p, env(nil)); err == nil || !strings.Contains(err.Error(), "checkbox.login") {
		t.Fatalf("Load: %v", err)
	}
	_, err := LoadWithoutCredentials(p, env(nil))
	if err == nil || strings.Contains(err.Error(), "checkbox.login") || !strings.Contains(err.Error(), "notify.remind_every") {
		t.Fatalf("LoadWithoutCredentials must check all but the credentials: %v", err)
	}
	noSecrets := "checkbox:\n  login: cashier\nhttp:\n  listen: 127.0.0.1:8780\n  user: bas\n" +
		"bas:\n  sftp:\n    address: bas.local\n    user: obmin\n    insecure_ignore_host_key: true\n    export_dir: /bas/export\n    orders_dir: /bas\nnotify:\n  telegram:\n    chat_id: \"42\"\n"
	if _, err := LoadWithoutCredentials(writeConfig(t, noSecrets), env(nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(writeConfig(t, noSecrets), env(nil)); err == nil || !strings.Contains(err.Error(), "http.password_file") ||
		!strings.Contains(err.Error(), "bas.sftp.password_file") || !strings.Contains(err.Error(), "notify.telegram.token_file") {
		t.Fatalf("Load asks for every credential: %v", err)
	}
}

func TestNotifySection(t *testing.T) {
	body := emu + `notify:
  name: Книгарня
  webhook:
    url: https://hooks.example.com/services/T0/B0/secretpath
    auth: hmac
  telegram:
    chat_id: "-1001234567890"
`
	if _, err := Load(writeConfig(t, body), env(nil)); err == nil || !strings.Contains(err.Error(), "notify.telegram.token_file") {
		t.Fatalf("a chat without a token: %v", err)
	}
	cfg, err := Load(writeConfig(t, body), env(map[string]string{"OBMIN_NOTIFY_TELEGRAM_TOKEN": "123:tok", "OBMIN_NOTIFY_WEBHOOK_SECRET": "whsec"}))
	if err != nil {
		t.Fatal(err)
	}
	n := cfg.Notify
	if !n.On() || n.Telegram.Token != "123:tok" || n.Webhook.Secret != "whsec" || n.CheckboxAfter == 0 || n.Telegram.APIURL != "https://api.telegram.org" {
		t.Fatalf("%+v", n)
	}
	r := cfg.Redacted().Notify
	if r.Webhook.URL != "https://hooks.example.com/***" || r.Telegram.Token != "***" || r.Webhook.Secret != "***" {
		t.Errorf("redacted: %+v", r)
	}
	for _, tc := range []struct{ body, key string }{
		{"notify:\n  webhook:\n    url: ftp://x\n", "notify.webhook.url"},
		{"notify:\n  webhook:\n    url: https://x\n    auth: basic\n", "notify.webhook.auth"},
		{"notify:\n  webhook:\n    url: https://x\n    retries: 50\n", "notify.webhook.retries"},
		{"notify:\n  webhook:\n    url: https://x\n    secret: s\n", "notify.webhook.secret"},
		{"notify:\n  telegram:\n    chat_id: x\n    token: t\n", "notify.telegram.token"},
		{"notify:\n  check_every: 10ms\n", "notify.check_every"},
	} {
		if _, err := Load(writeConfig(t, emu+tc.body), env(nil)); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%q: %v, want %s", tc.body, err, tc.key)
		}
	}
	if off, err := Load(writeConfig(t, emu), env(nil)); err != nil || off.Notify.On() {
		t.Errorf("no channel, no notifications: %v %+v", err, off.Notify)
	}
}
