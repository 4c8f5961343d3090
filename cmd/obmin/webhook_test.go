package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/internal/app"
)

// TestWebhookRegister: `obmin webhook register` sets obmin's URL as the cash register's webhook in
// Checkbox, appends the secret key Checkbox returned to http.webhook_key_file (never to the output), and
// a service loading the same config then holds that key.
func TestWebhookRegister(t *testing.T) {
	emu := emulator.New(emulator.Config{Login: "cashier", Password: "pass", Seed: 3})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "obmin.yaml")
	yaml := "checkbox:\n  base_url: " + srv.URL + "\n" +
		"http:\n  listen: 127.0.0.1:0\n  user: bas\n  public_url: https://obmin.example.com/\n  webhook_key_file: webhook.key\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OBMIN_CHECKBOX_LOGIN": "cashier", "OBMIN_CHECKBOX_PASSWORD": "pass",
		"OBMIN_CHECKBOX_LICENSE_KEY": emu.Registers()[0].LicenseKey, "OBMIN_HTTP_PASSWORD": "bas-password"}

	out, errOut, err := runCmd(t, env, "webhook", "-config", cfgPath, "register")
	if err != nil {
		t.Fatalf("register: %v\n%s\n%s", err, out, errOut)
	}
	key, err := os.ReadFile(filepath.Join(dir, "webhook.key"))
	if err != nil || len(strings.TrimSpace(string(key))) < 16 {
		t.Fatalf("key file: %q %v", key, err)
	}
	if strings.Contains(out+errOut, strings.TrimSpace(string(key))) {
		t.Error("the secret key was printed although it went to the key file")
	}
	if !strings.Contains(out, "https://obmin.example.com/checkbox/webhook") {
		t.Errorf("output does not name the URL:\n%s", out)
	}
	cb, err := checkbox.New(checkbox.Config{BaseURL: srv.URL, Login: "cashier", Password: "pass", LicenseKey: env["OBMIN_CHECKBOX_LICENSE_KEY"]})
	if err != nil {
		t.Fatal(err)
	}
	if hook, err := cb.Webhook(context.Background()); err != nil || hook.URL != "https://obmin.example.com/checkbox/webhook" {
		t.Fatalf("Checkbox's webhook setting: %+v %v", hook, err)
	}
	cfg, err := app.LoadConfig(cfgPath, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.HTTP.WebhookKeys) != 1 || cfg.HTTP.WebhookKeys[0] != strings.TrimSpace(string(key)) {
		t.Fatalf("the service would check deliveries with %d keys", len(cfg.HTTP.WebhookKeys))
	}

	// Without the licence key Checkbox cannot tell which cash register is meant: a clear refusal.
	delete(env, "OBMIN_CHECKBOX_LICENSE_KEY")
	if _, _, err := runCmd(t, env, "webhook", "-config", cfgPath, "register"); err == nil || !strings.Contains(err.Error(), "licence key") {
		t.Fatalf("no licence key: %v", err)
	}
}
