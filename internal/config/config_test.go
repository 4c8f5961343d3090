package config

import (
	"fmt"
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
	if w := cfg.Warnings(); len(w) > 0 {
		t.Errorf("the example's layout draws warnings: %v", w)
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
		{"returns as negative orders, removed", "checkbox:\n  emulator: true\nsales:\n  returns: negative-order\n", nil, "want list (each return listed for staff"},
		{"returns to a separate file, removed", "checkbox:\n  emulator: true\nsales:\n  returns: separate-file\n", nil, "or amend"},
		{"resend window, replaced", "checkbox:\n  emulator: true\nsales:\n  resend_window: 72h\n", nil, "sales.keep_runs"},
		{"negative recent overlap", "checkbox:\n  emulator: true\nsales:\n  recent_overlap: -10m\n", nil, "sales.recent_overlap"},
		{"negative deep pull", "checkbox:\n  emulator: true\nsales:\n  deep_pull: -1h\n", nil, "sales.deep_pull"},
		{"digits in the number prefix", "checkbox:\n  emulator: true\nsales:\n  number_prefix: K1-\n", nil, "sales.number_prefix"},
		{"number range past 6 digits", "checkbox:\n  emulator: true\nsales:\n  number_last: 1000000\n", nil, "sales.number_first"},
		{"returns list as XML", "checkbox:\n  emulator: true\nsales:\n  returns_file: returns.xml\n", nil, "sales.returns_file"},
		{"orders file in BAS's webdata folder", "checkbox:\n  emulator: true\nbas:\n  export_dir: x\n  orders_file: x/webdata - 1/orders.xml\n", nil, "bas.orders_file"},
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
	if err != nil || !cfg.Checkbox.Emulator || cfg.Sales.Returns != "list" || cfg.Sales.KeepRuns != 3 || cfg.Sales.OrderStatus == "" || cfg.Sales.PaymentRequisites {
		t.Fatalf("defaults with the emulator: %v %+v", err, cfg.Sales)
	}
}

func TestLayoutWarnings(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // part of a warning; "" = none
		own        []string
	}{
		{"separate folders", "checkbox:\n  emulator: true\nbas:\n  export_dir: bas/export\n  orders_file: bas/orders/orders.xml\n", "", nil},
		{"orders file in the export folder", "checkbox:\n  emulator: true\nbas:\n  export_dir: bas/export\n  orders_file: bas/export/orders.xml\n",
			"lies in BAS's export folder", []string{"orders.xml", "returns.txt"}},
		{"SFTP, one folder", "checkbox:\n  emulator: true\nbas:\n  orders_file: orders.xml\n  sftp:\n    address: h:22\n    user: u\n    password_file: pw\n    insecure_ignore_host_key: true\n    export_dir: /bas/exchange\n    orders_dir: /bas/exchange/\n",
			"lies in BAS's export folder", []string{"orders.xml", "returns.txt"}},
		{"SFTP, separate folders", "checkbox:\n  emulator: true\nbas:\n  orders_file: orders.xml\n  sftp:\n    address: h:22\n    user: u\n    password_file: pw\n    insecure_ignore_host_key: true\n    export_dir: /bas/exchange/export\n    orders_dir: /bas/exchange/orders\n",
			"", nil},
		{"no order status", "checkbox:\n  emulator: true\nsales:\n  order_status: \"\"\n", "sales.order_status is empty", nil},
		{"amend", "checkbox:\n  emulator: true\nsales:\n  returns: amend\n", "unposts any posted one", nil},
		{"payment requisites", "checkbox:\n  emulator: true\nsales:\n  payment_requisites: true\n", "second fiscal receipt", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeConfig(t, tt.body)
			if err := os.WriteFile(filepath.Join(filepath.Dir(p), "pw"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(p, env(nil))
			if err != nil {
				t.Fatal(err)
			}
			w := strings.Join(cfg.Warnings(), "\n")
			if tt.want == "" && w != "" || !strings.Contains(w, tt.want) {
				t.Errorf("warnings %q, want %q", w, tt.want)
			}
			if got := strings.Join(cfg.OwnFilesInExportDir(), ","); got != strings.Join(tt.own, ",") {
				t.Errorf("own files %q, want %q", got, tt.own)
			}
		})
	}
}

// TestCheckFolders: a folder the configuration names that is missing or cannot be used is an error naming
// the key; obmin's own folders may be missing only beside the configuration.
func TestCheckFolders(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bas", "export"), 0o755); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "unmounted")
	check := func(export, orders, spool, state string) error {
		t.Helper()
		p := filepath.Join(dir, "obmin.yaml")
		yaml := fmt.Sprintf("spool_dir: %s\nstate_file: %s\ncheckbox:\n  emulator: true\nbas:\n  export_dir: %s\n  orders_file: %s\n", spool, state, export, orders)
		if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(p, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		return cfg.CheckFolders()
	}
	if err := check("bas/export", "bas/orders.xml", "var/spool", "var/state.db"); err != nil {
		t.Fatalf("good folders (spool and state made later, beside the config): %v", err)
	}
	for _, tc := range []struct {
		name, export, orders, spool, state, want string
	}{
		{"mistyped export folder", "bas/exprot", "bas/orders.xml", "var/spool", "var/state.db", "bas.export_dir: folder"},
		{"orders folder missing", "bas/export", "nowhere/orders.xml", "var/spool", "var/state.db", "bas.orders_file: folder"},
		{"spool on an unmounted disk", "bas/export", "bas/orders.xml", filepath.Join(outside, "spool"), "var/state.db", "spool_dir: folder"},
		{"state on an unmounted disk", "bas/export", "bas/orders.xml", "var/spool", filepath.Join(outside, "state.db"), "state_file: folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := check(tc.export, tc.orders, tc.spool, tc.state); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckFolders = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestMappingKeysOfVariantsAndFeeds(t *testing.T) {
	ok := "checkbox:\n  emulator: true\nmapping:\n  variant_code: id\n  feeds:\n    - files: \"prom*.xml\"\n      code_field: id\n    - files: rozetka.xml\n      name: rozetka\n"
	cfg, err := Load(writeConfig(t, ok), env(nil))
	if err != nil || cfg.Mapping.VariantCode != "id" || len(cfg.Mapping.Feeds) != 2 || cfg.Mapping.Feeds[0].CodeField != "id" {
		t.Fatalf("%v %+v", err, cfg.Mapping)
	}
	for body, want := range map[string]string{
		"checkbox:\n  emulator: true\nmapping:\n  variant_code: name\n":                                                   "mapping.variant_code",
		"checkbox:\n  emulator: true\nmapping:\n  feeds:\n    - files: \"[\"\n":                                           "mapping.feeds[0].files",
		"checkbox:\n  emulator: true\nmapping:\n  feeds:\n    - files: a.xml\n      code_field: sku\n":                    "mapping.feeds[0].code_field",
		"checkbox:\n  emulator: true\nmapping:\n  feeds:\n    - {files: a.xml, name: X}\n    - {files: b.xml, name: x}\n": "mapping.feeds[1].name",
		"checkbox:\n  emulator: true\nbas:\n  incomplete_timeout: 10s\n":                                                  "bas.incomplete_timeout",
	} {
		if _, err := Load(writeConfig(t, body), env(nil)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}
