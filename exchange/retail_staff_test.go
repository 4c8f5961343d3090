package exchange_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	basemu "obmin/basodata/emulator"
	"obmin/checkbox/emulator"
	"obmin/exchange"
	"obmin/internal/demo"
	"obmin/internal/voice"
	"obmin/notify"
	"obmin/reconcile"
	"obmin/store"
)

// private checks that every file of dir is private (0640): they name receipts and sums.
func private(t *testing.T, dir string, want int) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != want {
		t.Errorf("%s holds %d files, want %d", dir, len(entries), want)
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o640 {
			t.Errorf("%s is %v, want -rw-r----- (0640)", filepath.Join(dir, e.Name()), fi.Mode().Perm())
		}
	}
}

// TestHeldShiftsForStaff: a shift whose report is held back (a good BAS never exported) is described in
// held-shifts/ (privately, as its receipt is in held/), listed for the staff page with what to do, told
// about once older than notify.held_after, and shown by reconciliation as held with that advice, while a
// sale of a shift still open is no difference. Once BAS exports the good the report goes and its file
// with it; with the reports turned off, held-shifts/ is emptied.
func TestHeldShiftsForStaff(t *testing.T) {
	ctx := context.Background()
	r := newBASRig(t, true, basemu.Config{}, nil)
	r.drop(demo.Books, time.Now())
	r.pass()
	held, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: handMade.Article, Name: handMade.Name, Price: 500, Quantity: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	r.emu.CloseShifts()
	r.pass()
	private(t, r.cfg.HeldDir, 1)
	private(t, filepath.Join(r.dir, "spool", "held"), 1)

	shifts, err := r.agent.HeldShifts(ctx)
	if err != nil || len(shifts) != 1 {
		t.Fatalf("held shifts: %+v %v", shifts, err)
	}
	h := shifts[0]
	if h.ShiftID != held.ShiftID || h.Refused || !strings.Contains(h.Reason, handMade.Name) || !strings.Contains(h.Advice, "вивантажте") || h.Since.IsZero() {
		t.Errorf("held shift for staff: %+v", h)
	}
	alerts, err := r.agent.Alerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a := alerts[notify.HeldReports]; len(a) != 1 || a[0].Count != 1 || !a[0].Since.Equal(h.Since) || !strings.HasSuffix(a[0].Where, exchange.HeldShiftsDir) {
		t.Errorf("held reports condition: %+v", a)
	}

	// A sale in a shift still open is on its way.
	if _, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.agent.PullReceipts(ctx); err != nil {
		t.Fatal(err)
	}
	rc := &reconcile.Reconciler{Checkbox: r.cb, Ledger: r.store, Channels: []reconcile.Channel{r.agent.RetailChannel()}}
	rep, err := rc.Run(ctx, reconcile.Options{Date: voice.Date(held.When())})
	if err != nil {
		t.Fatal(err)
	}
	ds := rep.Differences()
	if len(ds) != 1 || ds[0].Kind != reconcile.ReceiptHeld || ds[0].Fiscal != held.FiscalCode || !strings.Contains(ds[0].Note, handMade.Name) ||
		!strings.Contains(ds[0].Note, "вивантажте ці товари з BAS") {
		t.Fatalf("reconciliation: %+v", ds)
	}

	// Trying again changes nothing while BAS has not exported the good.
	still, err := r.agent.RetryShift(ctx, held.ShiftID)
	if err != nil || !strings.Contains(still, handMade.Name) {
		t.Errorf("retry of a shift still held: %q %v", still, err)
	}
	if _, err := r.agent.RetryShift(ctx, "no-such-shift"); !errors.Is(err, exchange.ErrShiftNotHeld) {
		t.Errorf("retry of an unknown shift: %v", err)
	}
	// BAS exports the good: the report goes, and its description leaves held-shifts/.
	if err := r.bas.AddGood(basemu.Good{ID: handMade.ID, Article: handMade.Article, Name: handMade.Name, UnitCode: "796", VATRate: "20",
		Stock: decimal.NewFromInt(10)}); err != nil {
		t.Fatal(err)
	}
	r.drop(append(demo.Books[:len(demo.Books):len(demo.Books)], handMade), time.Now().Add(time.Minute))
	r.pass()
	private(t, r.cfg.HeldDir, 0)
	if rec, _, _ := r.store.Report(ctx, held.ShiftID); rec.State != store.ReportStatePosted {
		t.Errorf("the shift's report after the export: %s (%s)", rec.State, rec.Reason)
	}
	if alerts, _ = r.agent.Alerts(ctx); len(alerts[notify.HeldReports]) != 0 {
		t.Errorf("nothing is held now: %+v", alerts[notify.HeldReports])
	}

	// The reports turned off (sales.to: orders-file): what held-shifts/ still holds is held no more.
	stale := filepath.Join(r.cfg.HeldDir, "зміна-TEST400001-9-deadbeef.txt")
	if err := os.WriteFile(stale, []byte("held"), 0o640); err != nil {
		t.Fatal(err)
	}
	r.agent.Retail = nil
	r.pass()
	private(t, r.cfg.HeldDir, 0)
}

// TestRetryRefusedShift: staff try a report BAS refused again once BAS's problem is fixed, without waiting
// for its next try or BAS's next export.
func TestRetryRefusedShift(t *testing.T) {
	ctx := context.Background()
	r := newBASRig(t, false, basemu.Config{ControlNegativeStock: true}, nil)
	r.drop(demo.Books, time.Now())
	r.pass()
	kobzar := book("KN-0001")
	r.bas.SetStock(r.bas.Refs().Shop, kobzar.ID, "", decimal.NewFromInt(1))
	sale, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: kobzar.Article, Quantity: 3000}}})
	if err != nil {
		t.Fatal(err)
	}
	r.emu.CloseShifts()
	r.pass()
	shifts, err := r.agent.HeldShifts(ctx)
	if err != nil || len(shifts) != 1 || !shifts[0].Refused || !strings.Contains(shifts[0].Reason, "Недостатньо запасу") {
		t.Fatalf("refused shift for staff: %+v %v", shifts, err)
	}
	r.bas.SetStock(r.bas.Refs().Shop, kobzar.ID, "", decimal.NewFromInt(10))
	still, err := r.agent.RetryShift(ctx, sale.ShiftID)
	if err != nil || still != "" {
		t.Fatalf("retry: still %q, %v", still, err)
	}
	if reps := r.checkReports(); len(reps) != 1 {
		t.Fatalf("%d reports", len(reps))
	}
	if _, err := r.agent.RetryShift(ctx, sale.ShiftID); !errors.Is(err, exchange.ErrShiftNotHeld) {
		t.Errorf("retry of a posted report: %v", err)
	}
	if j, ok, _ := r.store.LastJob(ctx, "retail-reports"); !ok || j.Err != "" {
		t.Errorf("the retry ran the reports' job: %+v", j)
	}
}
