package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "obmin.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestExampleConfigIsValidWithCredentials(t *testing.T) {
	example := filepath.Join("..", "..", "configs", "example.yaml")
	cfg, err := Load(example, env(map[string]string{"OBMIN_CHECKBOX_LOGIN": "cashier", "OBMIN_CHECKBOX_PASSWORD": "s3cret"}))
	if err != nil {
		t.Fatalf("configs/example.yaml with credentials in the environment: %v", err)
	}
	if cfg.Checkbox.Password != "s3cret" || cfg.Checkbox.Emulator {
		t.Fatalf("password from env, emulator off: got %+v", cfg.Checkbox)
	}
	if !filepath.IsAbs(cfg.SpoolDir) || filepath.Dir(filepath.Dir(cfg.SpoolDir)) != cfg.Dir {
		t.Errorf("relative paths resolve against the config's folder: spool %s, dir %s", cfg.SpoolDir, cfg.Dir)
	}
	if r := cfg.Redacted(); r.Checkbox.Password != "***" {
		t.Error("Redacted must mask the password")
	}
}

func TestLoadErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name, body string
		env        map[string]string
		want       string
	}{
		{"missing credentials never fall back to the emulator", "checkbox:\n  login: x\n", nil, "checkbox.login"},
		{"password in the file", "checkbox:\n  login: x\n  password: p\n", nil, "checkbox.password"},
		{"unknown key", "bass:\n  export_dir: x\n", nil, "bass"},
		{"bad encoding", "checkbox:\n  emulator: true\nbas:\n  encoding: koi8-u\n", nil, "bas.encoding"},
		{"bad returns", "checkbox:\n  emulator: true\nsales:\n  returns: ignore\n", nil, "sales.returns"},
		{"bad code field", "checkbox:\n  emulator: true\nmapping:\n  code_field: name\n", nil, "mapping.code_field"},
		{"missing password file", "checkbox:\n  login: x\n  password_file: nope.txt\n", nil, "checkbox.password_file"},
		{"bad duration", "checkbox:\n  emulator: true\nbas:\n  poll_interval: soon\n", nil, "poll_interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tt.body), env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v should name %q", err, tt.want)
			}
		})
	}
}

func TestSecretsFromFilesAndPIN(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pin"), []byte("1234\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "obmin.yaml")
	if err := os.WriteFile(p, []byte("checkbox:\n  pin_code_file: pin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p, env(map[string]string{"OBMIN_CHECKBOX_LICENSE_KEY": "lic"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Checkbox.PINCode != "1234" || cfg.Checkbox.LicenseKey != "lic" {
		t.Fatalf("PIN from file (trimmed) and licence key from env: %+v", cfg.Checkbox)
	}
}

func TestEmptyFileIsRefusedDefaultsStillNeedCredentials(t *testing.T) {
	for _, body := range []string{"", "\ufeff\n", "# obmin\n\n   # nothing yet\n", "---\n"} {
		_, err := Load(writeConfig(t, body), env(map[string]string{"OBMIN_CHECKBOX_LOGIN": "c", "OBMIN_CHECKBOX_PASSWORD": "p"}))
		if err == nil || !strings.Contains(err.Error(), "empty") || !strings.Contains(err.Error(), "example.yaml") {
			t.Fatalf("%q: an empty config must be refused, pointing at the example, got %v", body, err)
		}
	}
	_, err := Load(writeConfig(t, "log:\n  level: info\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("a config without Checkbox must ask for credentials, got %v", err)
	}
	cfg, err := Load(writeConfig(t, "checkbox:\n  emulator: true\n"), env(nil))
	if err != nil || !cfg.Checkbox.Emulator || cfg.Sales.Returns != "negative-order" {
		t.Fatalf("defaults with the emulator: %v %+v", err, cfg.Sales)
	}
}
