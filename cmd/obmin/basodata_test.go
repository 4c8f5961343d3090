package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	basemu "obmin/basodata/emulator"
	"obmin/internal/app"
)

// retailConfig writes a configuration sending the retail sales reports to the BAS OData service root.
func writeRetailConfig(t *testing.T, root, till string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "var", "bas", "export"), 0o755); err != nil { // obmin never creates BAS's folders
		t.Fatal(err)
	}
	p := filepath.Join(dir, "obmin.yaml")
	body := fmt.Sprintf(`checkbox:
  emulator: true
mapping:
  vat: {"20": [1], "7": [2], "без ПДВ": [8]}
sales:
  to: retail-report
bas:
  odata:
    url: %q
    user: odata.user
    registers:
      - checkbox: TEST400001
        till: %q
        terminal: "0000000001"
`, root, till)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCheckRetail: `obmin check` prints the objects BAS must publish and checks the base with the OData
// user's password: every object there, the till resolved, the VAT rates mapped; a till BAS lacks is an
// error naming it.
func TestCheckRetail(t *testing.T) {
	bas := basemu.New(basemu.Config{User: "odata.user", Password: "odata-secret"})
	root, err := bas.Serve(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bas.Close)
	env := map[string]string{"OBMIN_BAS_ODATA_PASSWORD": "odata-secret"}
	out, _, err := runCmd(t, env, "check", "-config", writeRetailConfig(t, root, "00-000001"))
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	for _, want := range []string{app.ODataObjects(), "every object is published", "Checkbox register TEST400001 → till «Каса 1 (Checkbox)»",
		"Checkbox tax code 8 → BAS VAT rate «без ПДВ»", "card kind \"Visa\""} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "odata-secret") {
		t.Error("check printed the OData password")
	}
	if _, _, err := runCmd(t, env, "check", "-config", writeRetailConfig(t, root, "Каса 7")); err == nil || !strings.Contains(err.Error(), `till "Каса 7"`) {
		t.Errorf("an unknown till: %v", err)
	}
	if _, _, err := runCmd(t, nil, "check", "-config", writeRetailConfig(t, root, "00-000001")); err == nil || !strings.Contains(err.Error(), "OBMIN_BAS_ODATA_PASSWORD") {
		t.Errorf("no password: %v", err)
	}
}

// TestREADMEListsODataObjects: the README's BAS set-up lists exactly what `obmin check` prints.
func TestREADMEListsODataObjects(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The list sits in a code block inside a numbered step: compare without the indentation.
	var lines []string
	for _, l := range strings.Split(string(readme), "\n") {
		lines = append(lines, strings.TrimLeft(l, " "))
	}
	if !strings.Contains(strings.Join(lines, "\n"), app.ODataObjects()) {
		t.Errorf("README.md must list the objects as `obmin check` prints them:\n%s", app.ODataObjects())
	}
}

func TestBASEmulatorCommand(t *testing.T) {
	env := map[string]string{"OBMIN_BAS_EMULATOR_ADMIN_TOKEN": "secret-admin", "OBMIN_BAS_EMULATOR_PASSWORD": "pw"}
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"bas-emulator", "-listen", "127.0.0.1:0", "-demo"}, func(k string) string { return env[k] }, &out, io.Discard)
	}()
	var root string
	for deadline := time.Now().Add(5 * time.Second); root == ""; {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			root = line
		} else if time.Now().After(deadline) {
			t.Fatal("no service root on stdout")
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
	get := func(url string, auth func(*http.Request)) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		auth(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	basic := func(r *http.Request) { r.SetBasicAuth("odata.user", "pw") }
	if code, body := get(root+"/Catalog_Номенклатура?$format=json&$select=Артикул", basic); code != http.StatusOK || !strings.Contains(body, "KN-0001") {
		t.Errorf("the demo goods: %d %s", code, body)
	}
	if code, _ := get(root+"/$metadata", func(*http.Request) {}); code != http.StatusUnauthorized {
		t.Errorf("without the OData user: %d, want 401", code)
	}
	admin := &basemu.AdminClient{BaseURL: strings.TrimSuffix(root, "/bas/odata/standard.odata"), Token: "secret-admin"}
	stock, err := admin.Stock(ctx)
	if err != nil || len(stock) == 0 {
		t.Errorf("admin stock: %d %v", len(stock), err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("bas-emulator: %v", err)
	}
	if err := run(context.Background(), []string{"bas-emulator", "-listen", "0.0.0.0:0"}, func(string) string { return "" }, io.Discard, io.Discard); exitCode(err) != 2 {
		t.Errorf("a non-loopback address: %v", err)
	}
}
