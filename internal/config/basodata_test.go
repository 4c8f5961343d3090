package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const retailBody = `checkbox:
  emulator: true
mapping:
  vat: {"20": [1], "без пдв": [8]}
sales:
  to: retail-report
bas:
  odata:
    url: https://bas.shop.local/shop/odata/standard.odata
    registers:
      - checkbox: "4000123456"
        till: "00-000001"
        terminal: "0000000001"
        card_kinds: {Картка: Visa}
`

func TestRetailReportsConfig(t *testing.T) {
	cfg, err := Load(writeConfig(t, retailBody), env(map[string]string{"OBMIN_BAS_ODATA_PASSWORD": "odata-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.BAS.OData
	if !cfg.RetailReports() || cfg.OrdersFile() || o.Password != "odata-secret" || o.User != "odata.user" || o.KeyMode != "ref-key" || !o.Post {
		t.Fatalf("retail config: %+v", o)
	}
	if r := o.Registers[0]; r.Till != "00-000001" || r.CardKinds["Картка"] != "Visa" {
		t.Fatalf("register: %+v", r)
	}
	if red := cfg.Redacted(); red.BAS.OData.Password != "***" {
		t.Error("Redacted must mask the OData password")
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "odata.pw"), []byte("\ufefffrom-file\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "obmin.yaml")
	body := strings.Replace(retailBody, "    registers:", "    password_file: odata.pw\n    registers:", 1)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err = Load(p, env(nil)); err != nil || cfg.BAS.OData.Password != "from-file" {
		t.Fatalf("password from the file: %q %v", cfg.BAS.OData.Password, err)
	}

	// The default sends no reports and needs nothing of BAS's OData.
	if cfg, err = Load(writeConfig(t, "checkbox:\n  emulator: true\n"), env(nil)); err != nil || cfg.RetailReports() || !cfg.OrdersFile() {
		t.Fatalf("default sales.to: %v %q", err, cfg.Sales.To)
	}
}

func TestRetailReportsConfigErrors(t *testing.T) {
	pw := map[string]string{"OBMIN_BAS_ODATA_PASSWORD": "x"}
	swap := func(old, new string) string { return strings.Replace(retailBody, old, new, 1) }
	for _, tt := range []struct {
		name, body string
		env        map[string]string
		want       string
	}{
		{"unknown sales.to", swap("to: retail-report", "to: odata"), pw, "sales.to"},
		{"no password", retailBody, nil, "OBMIN_BAS_ODATA_PASSWORD"},
		{"password in the file", swap("    registers:", "    password: p\n    registers:"), pw, "bas.odata.password"},
		{"no url", swap("url: https://bas.shop.local/shop/odata/standard.odata", "url: \"\""), pw, "bas.odata.url"},
		{"user in the url", swap("https://bas.shop.local", "https://u:p@bas.shop.local"), pw, "bas.odata.url"},
		{"no registers", swap(`      - checkbox: "4000123456"
        till: "00-000001"
        terminal: "0000000001"
        card_kinds: {Картка: Visa}
`, ""), pw, "bas.odata.registers"},
		{"register without till", swap(`till: "00-000001"`, `till: ""`), pw, "bas.odata.registers[0].till"},
		{"key mode", swap("    registers:", "    key_mode: number\n    registers:"), pw, "bas.odata.key_mode"},
		{"VAT taxation", swap("    registers:", "    vat_taxation: ПДВ\n    registers:"), pw, "bas.odata.vat_taxation"},
		{"untaxed rate", swap("    registers:", "    untaxed_rate: free\n    registers:"), pw, "bas.odata.untaxed_rate"},
		{"no VAT mapping", swap(`  vat: {"20": [1], "без пдв": [8]}`, "  vat: {}"), pw, "mapping.vat"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tt.body), env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v should name %q", err, tt.want)
			}
		})
	}
}
