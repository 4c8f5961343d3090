package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"obmin/checkbox/emulator"
	"obmin/commerceml"
	"obmin/exchange"
	"obmin/internal/app"
	"obmin/internal/demo"
)

// TestServeExchangeEndToEnd runs obmin as `obmin run` does (agent, emulator, HTTP server on loopback) and
// plays BAS's catalogue and sale exchanges against it over real HTTP.
func TestServeExchangeEndToEnd(t *testing.T) {
	root := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	yaml := "spool_dir: spool\nstate_file: state.db\ncheckbox:\n  emulator: true\nbas:\n  export_dir: bas/export\n  orders_file: bas/orders.xml\n" +
		"sales:\n  first_pull: 48h\nschedule:\n  retention_keep: 0s\n  pull_receipts: \"off\"\n" +
		"http:\n  listen: " + addr + "\n  user: bas\n  zip: false\n  file_limit: 65536\n  import_wait: 100ms\n"
	p := filepath.Join(root, "obmin.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "bas", "export"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string { return map[string]string{"OBMIN_HTTP_PASSWORD": "bas-password"}[k] }
	cfg, err := app.LoadConfig(p, env)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log, _ := app.NewLogger(cfg.Log, io.Discard)
	a, err := app.Build(ctx, cfg, log, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	stop, err := app.StartHTTP(ctx, cfg, a, log)
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- a.Agent.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-ran; err != nil {
			t.Error(err)
		}
		sctx, c2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer c2()
		if err := stop(sctx); err != nil {
			t.Error(err)
		}
	}()

	base := "http://" + addr + "/1c/exchange"
	var cookie string
	call := func(method, query string, body []byte) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+"?"+query, bytes.NewReader(body))
		if strings.Contains(query, "checkauth") {
			req.SetBasicAuth("bas", "bas-password")
		}
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	login := func(typ string) {
		t.Helper()
		cookie = ""
		st, body := call("GET", "type="+typ+"&mode=checkauth", nil)
		lines := strings.Split(body, "\n")
		if st != 200 || lines[0] != "success" || len(lines) < 4 {
			t.Fatalf("checkauth: %d %q", st, body)
		}
		cookie = lines[1] + "=" + lines[2]
	}

	// Catalogue: checkauth → init → file (two chunks each) → import until success.
	login("catalog")
	if _, body := call("GET", "type=catalog&mode=init", nil); body != "zip=no\nfile_limit=65536" {
		t.Fatalf("init: %q", body)
	}
	now := time.Now()
	for name, data := range map[string][]byte{"import.xml": demo.Catalog(demo.Books, now), "offers.xml": demo.Offers(demo.Books, now)} {
		h := len(data) / 2
		for _, chunk := range [][]byte{data[:h], data[h:]} {
			if _, body := call("POST", "type=catalog&mode=file&filename="+name, chunk); body != "success" {
				t.Fatalf("file %s: %q", name, body)
			}
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, name := range []string{"import.xml", "offers.xml"} {
		for {
			_, body := call("GET", "type=catalog&mode=import&filename="+name, nil)
			if strings.HasPrefix(body, "success") {
				break
			}
			if !strings.HasPrefix(body, "progress") || time.Now().After(deadline) {
				t.Fatalf("import %s: %q", name, body)
			}
		}
	}
	if n := len(a.Emulator.Goods()); n != len(demo.Books)-1 {
		t.Fatalf("the emulator holds %d goods, want %d", n, len(demo.Books)-1)
	}

	// Sales: receipts pulled, then checkauth → init → query → success.
	for _, code := range []string{"KN-0001", "ST-0102"} {
		if _, err := a.Emulator.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: code, Quantity: 1000}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Agent.PullReceipts(ctx); err != nil {
		t.Fatal(err)
	}
	login("sale")
	call("GET", "type=sale&mode=init&version=2.08", nil)
	_, body := call("GET", "type=sale&mode=query", nil)
	var numbers []string
	if _, err := commerceml.Read(strings.NewReader(body), "query", commerceml.Handler{Document: func(d commerceml.Document) error {
		numbers = append(numbers, d.Number)
		return nil
	}}); err != nil || len(numbers) != 2 {
		t.Fatalf("query: %v %v", numbers, err)
	}
	if _, body := call("GET", "type=sale&mode=success", nil); body != "success" {
		t.Fatalf("success: %q", body)
	}
	st, err := a.Agent.Snapshot(ctx)
	if err != nil || st.Receipts[exchange.StateConfirmed] != 2 || st.Receipts[exchange.StatePending] != 0 {
		t.Fatalf("receipts after success: %v %v", st.Receipts, err)
	}

	// Health is open; status needs credentials.
	if resp, err := http.Get("http://" + addr + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	if resp, err := http.Get("http://" + addr + "/status?" + url.Values{}.Encode()); err != nil || resp.StatusCode != 401 {
		t.Fatalf("status without credentials: %v %v", resp, err)
	}

	// Metrics need credentials too, and count the Checkbox calls the wired client made.
	if resp, err := http.Get("http://" + addr + "/metrics"); err != nil || resp.StatusCode != 401 {
		t.Fatalf("metrics without credentials: %v %v", resp, err)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	req.SetBasicAuth("bas", "bas-password")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`obmin_receipts{state="confirmed"} 2`, `obmin_checkbox_emulated 1`, `obmin_checkbox_requests_total{code="200",method="get"}`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s:\n%s", want, metrics)
		}
	}
}
