package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHTTPSection(t *testing.T) {
	tests := []struct {
		name    string
		h       HTTP
		wantBad string // substring of the problem; "" = valid
	}{
		{"off", HTTP{}, ""},
		{"minimal", HTTP{Listen: "127.0.0.1:8780", User: "bas", Password: "pw"}, ""},
		{"no password", HTTP{Listen: "127.0.0.1:8780", User: "bas"}, "http.password_file"},
		{"bad listen", HTTP{Listen: "8780", User: "bas"}, "http.listen"},
		{"no user", HTTP{Listen: ":8780"}, "http.user"},
		{"half TLS", HTTP{Listen: ":8780", User: "bas", TLSCertFile: "c.pem"}, "http.tls_cert_file"},
		{"password in yaml", HTTP{PlainPassword: "x"}, "http.password"},
		{"chunk above body limit", HTTP{Listen: ":8780", User: "bas", FileLimit: 2 << 20, MaxBody: 1 << 20}, "http.file_limit"},
		{"long import wait", HTTP{Listen: ":8780", User: "bas", ImportWait: time.Minute}, "http.import_wait"},
		{"public url", HTTP{Listen: ":8780", User: "bas", PublicURL: "obmin.example"}, "http.public_url"},
		{"trusted proxies", HTTP{Listen: ":8780", User: "bas", Password: "pw", TrustedProxies: []string{"127.0.0.1", "10.0.0.0/8", "::1"}}, ""},
		{"a proxy by name", HTTP{Listen: ":8780", User: "bas", Password: "pw", TrustedProxies: []string{"proxy.local"}}, "http.trusted_proxies"},
		{"negative webhook limit", HTTP{Listen: ":8780", User: "bas", Password: "pw", WebhookMaxBody: -1}, "http.webhook_max_body"},
	}
	for _, tc := range tests {
		var got []string
		c := Config{HTTP: tc.h}
		c.validateHTTP(func(key, format string, a ...any) { got = append(got, key) })
		joined := strings.Join(got, ",")
		if tc.wantBad == "" && len(got) > 0 || tc.wantBad != "" && !strings.Contains(joined, tc.wantBad) {
			t.Errorf("%s: problems %q, want %q", tc.name, joined, tc.wantBad)
		}
	}
}

func TestResolveHTTP(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keys.txt"), []byte("key-one\nkey-two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Config{Dir: dir, SpoolDir: filepath.Join(dir, "var", "spool"), HTTP: HTTP{Listen: ":8780", User: "bas", WebhookKeyFile: "keys.txt"}}
	if err := c.ResolveHTTP(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "OBMIN_HTTP_PASSWORD") {
		t.Fatalf("no password: %v", err)
	}
	c.HTTP.resolved = false
	c.HTTP.WebhookKeyFile = "keys.txt"
	env := map[string]string{"OBMIN_HTTP_PASSWORD": "pw", "OBMIN_HTTP_STATUS_TOKEN": "tok"}
	if err := c.ResolveHTTP(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	h := c.HTTP
	if h.Password != "pw" || h.StatusToken != "tok" || strings.Join(h.WebhookKeys, ",") != "key-one,key-two" {
		t.Fatalf("secrets: %+v", h)
	}
	if h.UploadDir != filepath.Join(dir, "var", "http") {
		t.Errorf("upload dir %q", h.UploadDir)
	}
	r := h.Redacted()
	if r.Password != "***" || r.StatusToken != "***" || r.WebhookKeys[0] != "***" {
		t.Errorf("redacted: %+v", r)
	}
	d := HTTP{}.WithDefaults()
	if !*d.Zip || d.FileLimit != DefaultFileLimit || d.ReadHeaderTimeout == 0 || d.ImportWait == 0 {
		t.Errorf("defaults: %+v", d)
	}
}
