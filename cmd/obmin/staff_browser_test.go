package main

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"obmin/checkbox/emulator"
	"obmin/exchange"
	"obmin/internal/app"
	"obmin/internal/voice"
	"obmin/reconcile"
)

// chromium finds Debian's Chromium (.ci/run installs it); the test skips, saying so, where it is absent.
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("OBMIN_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("OBMIN_CI") != "" { // .ci/run installed it: a skip there would hide a broken install
		t.Fatal("Chromium is not installed although OBMIN_CI is set (.ci/run installs it)")
	}
	t.Skip("Chromium is not installed (apt-get install chromium); .ci/run installs it, so CI runs this test")
	return ""
}

// TestStaffPageInBrowser runs obmin as the service does, with a failed drop, a held receipt, its shift's
// retail sales report held (sales.to: both, the built-in BAS emulator) and a reconciliation, and opens the
// staff page in headless Chromium: it reads what a person reads, in Ukrainian and in English, and puts the
// failed drop back, drops the held receipt and tries the held report again through the confirmation
// pages.
func TestStaffPageInBrowser(t *testing.T) {
	browser := chromium(t)
	root := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	yaml := "spool_dir: spool\nstate_file: state.db\ncheckbox:\n  emulator: true\nbas:\n  export_dir: bas/export\n  orders_file: bas/orders/orders.xml\n" +
		"  poll_interval: 100ms\n  min_age: 100ms\n  odata:\n    emulator: true\n    untaxed_rate: без ПДВ\n    registers:\n      - checkbox: " + emulator.FirstFiscalNumber +
		"\n        till: Каса 1 (Checkbox)\n" +
		"sales:\n  first_pull: 48h\n  to: both\nschedule:\n  retention_keep: 0s\n  pull_receipts: \"off\"\n" +
		"http:\n  listen: " + addr + "\n  user: staff\n"
	p := writeFile(t, filepath.Join(root, "obmin.yaml"), yaml)
	for _, d := range []string{"bas/export", "bas/orders"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := func(k string) string { return map[string]string{"OBMIN_HTTP_PASSWORD": "staff-password"}[k] }
	cfg, err := app.LoadConfig(p, env)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
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
	runCtx, stopRun := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- a.Agent.Run(runCtx) }()
	defer func() {
		stopRun()
		<-ran
		sctx, c2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer c2()
		stop(sctx)
	}()

	// A broken export lands in failed/; a sale of a good BAS never exported is held; a reconciliation.
	writeFile(t, filepath.Join(root, "bas", "export", "webdata - 1", "import.xml"), "<html><body>not an export</body></html>")
	deadline := time.Now().Add(30 * time.Second)
	var failed []string
	for len(failed) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		failed, _ = a.Agent.Spool.Failed()
	}
	if len(failed) != 1 {
		t.Fatalf("the broken export must land in failed/: %v", failed)
	}
	sale, err := a.Emulator.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "NOT-IN-BAS", Name: "Листівка з каси", Price: 4500, Quantity: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	a.Emulator.CloseShifts() // its shift's report waits for the good too
	if _, err := a.Agent.PullReceipts(ctx); err != nil {
		t.Fatal(err)
	}
	if held, err := a.Agent.HeldShifts(ctx); err != nil || len(held) != 1 {
		t.Fatalf("the shift's report must be held: %+v %v", held, err)
	}
	today := voice.Date(sale.When())
	if _, err := a.Agent.Reconcile(ctx, reconcile.Options{Date: today}); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	base := "http://" + addr
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("staff:staff-password"))
	if _, err := chromedp.Call(bctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	if _, err := chromedp.Call(bctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}}); err != nil {
		t.Fatal(err)
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	want := func(where, got string, words ...string) {
		t.Helper()
		for _, w := range words {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q is not there:\n%s", where, w, got)
			}
		}
	}
	click := func(sel string) {
		t.Helper()
		do("click "+sel, chromedp.Click(chromedp.CSS(sel)), chromedp.WaitReady(chromedp.CSS("body")))
	}

	// Reading: what a person sees, in Ukrainian by default.
	do("open the page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#failed")))
	title, err := chromedp.Run(bctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	want("title", title, "сторінка персоналу")
	want("header", text("header"), "ЕМУЛЯТОР", voice.Time(time.Now())[:10])
	want("failed drops", text("#failed"), failed[0], "Повернути в обробку", "Це не файл обміну")
	want("held receipts", text("#held"), sale.FiscalCode, "45.00", "NOT-IN-BAS", "Зняти")
	want("held reports", text("#held-reports"), "Затримані звіти про роздрібні продажі", "зміна №1 каси "+emulator.FirstFiscalNumber, "затримано",
		"NOT-IN-BAS", "вивантажте ці товари з BAS", "Спробувати знову")
	want("reconciliation", text("#reconcile"), today, "Чек затримано", "Звірити знову")
	want("connections", text("#links"), "Checkbox", "відповідає")
	want("next runs", text("#next"), "звірка")
	if shot := os.Getenv("OBMIN_STAFF_SCREENSHOT"); shot != "" { // to look at the page: a PNG of it
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(shot, png, 0o644)
		}
		if err != nil {
			t.Error(err)
		}
	}

	// English on request.
	click("#lang")
	want("English", text("#failed"), "Failed drops", "Put back")
	do("back to Ukrainian", chromedp.Navigate(base+"/staff/?lang=uk"), chromedp.WaitVisible(chromedp.CSS("#failed")))

	// Clicking: put the failed drop back, through its confirmation.
	click(`tr[data-drop="` + failed[0] + `"] a.button`)
	want("confirmation", text("#confirm"), failed[0], "Так, виконати", "Скасувати")
	click("#yes")
	want("after putting back", text("#flash"), "повернуто в обробку")
	want("staff actions", text("#actions"), "staff", "повернути пакет", failed[0])

	// Drop the held receipt: staff will enter it by hand.
	click(`tr[data-receipt="` + sale.ID + `"] a.button:last-child`)
	want("confirmation", text("#confirm"), "Зняти чек")
	click("#yes")
	want("after dropping", text("#flash"), "знято із затримки")
	rec, _, err := a.Agent.Store.Receipt(ctx, sale.ID)
	if err != nil || rec.State != exchange.StateSkipped || !strings.Contains(rec.Reason, "staff") {
		t.Errorf("the held receipt must be dropped by staff: %+v %v", rec, err)
	}
	if ids, _ := os.ReadDir(filepath.Join(root, "spool", "held")); len(ids) != 0 {
		t.Errorf("held/ must be empty after the drop: %v", ids)
	}
	// Try the held report again: it stays held while BAS has not exported the good, and says why.
	click(`tr[data-shift="` + sale.ShiftID + `"] a.button`)
	want("confirmation", text("#confirm"), "Спробувати знову передати звіт зміни", sale.ShiftID)
	click("#yes")
	want("after trying again", text("#flash"), "Звіт досі не передано", "NOT-IN-BAS")
	want("staff actions", text("#actions"), "звіт зміни знову", sale.ShiftID)
	// A post without the page's token is refused.
	status, err := chromedp.Run(bctx, chromedp.Evaluate[int](`fetch("/staff/do",{method:"POST",headers:{"Content-Type":"application/x-www-form-urlencoded"},body:"do=replay&id=x&csrf=forged"}).then(r=>r.status)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != 403 {
		t.Errorf("a forged post: %d, want 403", status)
	}
}
