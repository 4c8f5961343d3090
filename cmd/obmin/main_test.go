package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"obmin/internal/basloader"
	"obmin/internal/config"
	"obmin/internal/demo"
	"obmin/internal/testenv"
)

func runCmd(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, args, func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestUsageAndVersion(t *testing.T) {
	if _, _, err := runCmd(t, nil); exitCode(err) != 2 {
		t.Fatalf("no command: exit %d, want 2", exitCode(err))
	}
	if _, _, err := runCmd(t, nil, "frobnicate"); exitCode(err) != 2 {
		t.Fatalf("unknown command: want a usage error, got %v", err)
	}
	out, _, err := runCmd(t, nil, "version")
	if err != nil || !strings.HasPrefix(out, "obmin ") {
		t.Fatalf("version: %q, %v", out, err)
	}
}

// basFolders makes the default BAS folders (var/bas/export, var/bas) under dir: obmin never creates them.
func basFolders(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "var", "bas", "export"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestCheckRefusesMissingCredentials(t *testing.T) {
	dir := t.TempDir()
	basFolders(t, dir)
	p := filepath.Join(dir, "obmin.yaml")
	if err := os.WriteFile(p, []byte("checkbox:\n  login: cashier\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, nil, "check", "-config", p); err == nil || !strings.Contains(err.Error(), "checkbox.login") {
		t.Fatalf("a production config without a password must be refused naming the key, got %v", err)
	}
	out, _, err := runCmd(t, map[string]string{"OBMIN_CHECKBOX_PASSWORD": "top-secret-pass"}, "check", "-config", p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "top-secret-pass") {
		t.Fatal("check printed the password")
	}
}

// TestCheckWarnsAboutLayouts: an orders file in BAS's export folder is allowed but warned about; one in
// BAS's «webdata - …» folder, which BAS empties before it loads orders, is refused.
func TestCheckWarnsAboutLayouts(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "obmin.yaml")
	for _, d := range []string{"bas/export/webdata - 1", "bas/orders"} { // obmin never creates BAS's folders
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(orders string) {
		t.Helper()
		body := "checkbox:\n  emulator: true\nbas:\n  export_dir: bas/export\n  orders_file: " + orders + "\n"
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("bas/export/orders.xml")
	out, _, err := runCmd(t, nil, "check", "-config", p)
	if err != nil || !strings.Contains(out, "# WARNING: bas.orders_file lies in BAS's export folder") {
		t.Errorf("check: %v\n%s", err, out)
	}
	write("'bas/export/webdata - 1/orders.xml'")
	if _, _, err := runCmd(t, nil, "check", "-config", p); err == nil || !strings.Contains(err.Error(), "empties at the start of every exchange") {
		t.Errorf("an orders file in webdata: %v", err)
	}
	write("bas/orders/orders.xml")
	if out, _, err := runCmd(t, nil, "check", "-config", p); err != nil || strings.Contains(out, "WARNING") {
		t.Errorf("a safe layout: %v\n%s", err, out)
	}
}

func TestInspectDemoDrop(t *testing.T) {
	dir, err := demo.WriteDrop(t.TempDir(), demo.Books, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := runCmd(t, nil, "inspect", dir)
	if err != nil {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	for _, want := range []string{"kind catalog", "kind offers", "goods 10", "offers 10", "urn:1C.ru:commerceml_210"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runCmd(t, nil, "inspect", "-json", filepath.Join(dir, "offers.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files []struct {
			Records []struct {
				Type   string          `json:"type"`
				Record json.RawMessage `json:"record"`
			} `json:"records"`
			Error *string `json:"error"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("inspect -json is not JSON: %v\n%s", err, out)
	}
	var offers int
	for _, r := range doc.Files[0].Records {
		if r.Type == "offer" {
			offers++
			if !strings.Contains(string(r.Record), `"per_unit":"`) {
				t.Fatalf("prices must be decimal strings: %s", r.Record)
			}
		}
	}
	if offers != 10 {
		t.Fatalf("offers in JSON = %d, want 10", offers)
	}
}

func TestInspectReadsEverySharedSample(t *testing.T) {
	root := testenv.Shared(t, "samples/commerceml")
	for _, sub := range []string{"ArgentCrusade__commerceml", "carono__yii2-1c-exchange", "dobromyslov__commerceml-parser", "gillbeits__commerceml", "irpsv__commerceml/tests/assets/off-doc-1c", "irpsv__commerceml/tests/assets/cs-cart", "irpsv__commerceml/tests/assets/ready-script"} {
		out, _, err := runCmd(t, nil, "inspect", filepath.Join(root, sub))
		if err != nil {
			t.Errorf("inspect %s: %v\n%s", sub, err, out)
		}
	}
	// CommerceML 3.1 (the 1C-Bitrix module's format) is refused loudly, not misread.
	out, _, err := runCmd(t, nil, "inspect", filepath.Join(root, "irpsv__commerceml/tests/assets/bitrix-module-6"))
	if err == nil || !strings.Contains(out, "ERROR") {
		t.Errorf("3.1 files must be reported as errors:\n%s", out)
	}
}

func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo runs the whole product")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	out, errOut, err := runCmd(t, nil, "demo", "-dir", dir)
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out, errOut)
	}
	for _, want := range []string{"EMULATOR", "created 14 goods", "KN-0100-000A23EA", "Where to look", "Звіт про роздрібні продажі №00000000001", "проведено",
		"before → after", "Held back"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	// The orders file the demo leaves must load in BAS as meant (internal/basloader: BAS's loader's rules).
	data, err := os.ReadFile(filepath.Join(dir, "bas", "orders.xml"))
	if err != nil {
		t.Fatalf("the demo must leave BAS's orders file: %v", err)
	}
	opts := basloader.DefaultOptions()
	opts.Goods, opts.StatusMap = map[string]bool{}, map[string]basloader.State{config.Default().Sales.OrderStatus: basloader.StateCompleted}
	for _, b := range append(slices.Clone(demo.Books), demo.Editions...) {
		opts.Goods[b.ID] = true
	}
	res, err := basloader.New(opts).Load(data)
	if err != nil || len(res.Problems) > 0 || len(res.Created) == 0 {
		t.Errorf("BAS's loader on the demo's orders file: %v %v, created %v", err, res.Problems, res.Created)
	}
	if list, err := os.ReadFile(filepath.Join(dir, "bas", "returns.txt")); err != nil || !strings.Contains(string(list), "Разом повернуто покупцеві") {
		t.Errorf("the demo's returns list for staff: %v\n%s", err, list)
	}
	// A second run starts clean in the same folder.
	if _, _, err := runCmd(t, nil, "demo", "-dir", dir); err != nil {
		t.Fatalf("second demo run: %v", err)
	}
}

// TestRunServiceTakesDropsAndStops runs the service as an administrator would, on the emulator: it must
// take a BAS drop as soon as it is complete, and stop cleanly when told to.
func TestRunServiceTakesDropsAndStops(t *testing.T) {
	dir := t.TempDir()
	basFolders(t, dir)
	cfgPath := filepath.Join(dir, "obmin.yaml")
	cfg := "checkbox:\n  emulator: true\nbas:\n  poll_interval: 100ms\n  min_age: 100ms\nschedule:\n  pull_receipts: \"@every 1s\"\n  retry_drops: 1s\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"run", "-config", cfgPath}, func(string) string { return "" }, &out, &errOut)
	}()

	if _, err := demo.WriteDrop(filepath.Join(dir, "var", "bas", "export"), demo.Books, time.Now()); err != nil {
		t.Fatal(err)
	}
	status := filepath.Join(dir, "var", "spool", "status.txt")
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(status)
		if strings.Contains(string(b), "у Checkbox 9") {
			if !strings.Contains(string(b), "ЕМУЛЯТОР") {
				t.Errorf("status must say Checkbox is emulated:\n%s", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service did not apply the drop in 30s; status:\n%s\nlog:\n%s", b, errOut.String())
		}
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v\n%s", err, errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop within 20s of cancellation")
	}
	if !strings.Contains(errOut.String(), "obmin stopped") || !strings.Contains(errOut.String(), "EMULATOR") {
		t.Errorf("log should say it used the emulator and stopped:\n%s", errOut.String())
	}
}

// TestMissingFoldersFailNamingTheKey: a mistyped export folder or orders folder fails check, once and run,
// naming the key, instead of looking like "no exports yet" for ever.
func TestMissingFoldersFailNamingTheKey(t *testing.T) {
	dir := t.TempDir()
	basFolders(t, dir)
	for _, tc := range []struct{ yaml, key string }{
		{"checkbox:\n  emulator: true\nbas:\n  export_dir: var/bas/exprot\n", "bas.export_dir"},
		{"checkbox:\n  emulator: true\nbas:\n  orders_file: var/bsa/orders.xml\n", "bas.orders_file"},
	} {
		p := filepath.Join(dir, "obmin.yaml")
		if err := os.WriteFile(p, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"check", "once", "run"} {
			_, _, err := runCmd(t, nil, cmd, "-config", p)
			if err == nil || !strings.Contains(err.Error(), tc.key) || exitCode(err) != 1 {
				t.Errorf("%s with a missing folder: %v (exit %d), want an error naming %s", cmd, err, exitCode(err), tc.key)
			}
		}
	}
}
