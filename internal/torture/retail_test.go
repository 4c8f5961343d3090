package torture

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/shopspring/decimal"

	"obmin/basodata"
	basemu "obmin/basodata/emulator"
	"obmin/checkbox"
	cbemu "obmin/checkbox/emulator"
	"obmin/internal/demo"
	"obmin/retail"
	"obmin/store"
)

// The retail sales reports channel under torture: BAS's OData interface is the BAS emulator in a
// process of its own (obmin bas-emulator), which outlives obmin's kills, fails on command, and is
// checked at every checkpoint: each closed shift has exactly one report, posted, equal to its receipts;
// BAS's stock moved once by each.

const (
	basPassword = "torture-odata"
	basToken    = "torture-bas-admin"
)

// startBAS starts the BAS emulator process, seeded with the demo catalogue BAS exports.
func (h *harness) startBAS() {
	t := h.t
	cmd := exec.Command(h.bin, "bas-emulator", "-listen", "127.0.0.1:0", "-demo")
	cmd.Env = append(os.Environ(), "OBMIN_BAS_EMULATOR_PASSWORD="+basPassword, "OBMIN_BAS_EMULATOR_ADMIN_TOKEN="+basToken)
	cmd.Stderr = h.logFile("bas-emulator.log")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.basProc = start(t, cmd)
	t.Cleanup(func() { h.basProc.stop(syscall.SIGTERM) })
	h.basRoot = strings.TrimSpace(firstLine(t, out))
	if !strings.HasPrefix(h.basRoot, "http://127.0.0.1:") {
		t.Fatalf("BAS emulator service root %q", h.basRoot)
	}
	h.bas = &basemu.AdminClient{BaseURL: strings.TrimSuffix(h.basRoot, "/bas/odata/standard.odata"), Token: basToken}
	stock, err := h.bas.Stock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h.basStock0 = map[string]decimal.Decimal{}
	for _, b := range stock {
		h.basStock0[strings.ToLower(b.Good)] = h.basStock0[strings.ToLower(b.Good)].Add(b.Quantity)
	}
}

// firstLine reads a process's first line from its stdout, then keeps the pipe drained.
func firstLine(t interface{ Fatalf(string, ...any) }, out io.Reader) string {
	line := make([]byte, 0, 64)
	b := make([]byte, 1)
	for len(line) < 300 {
		if _, err := out.Read(b); err != nil {
			t.Fatalf("the process printed no address: %v", err)
		}
		if b[0] == '\n' {
			break
		}
		line = append(line, b[0])
	}
	go io.Copy(io.Discard, out) //nolint:errcheck // keeps the pipe drained
	return string(line)
}

// basFault makes BAS's side fail: 5xx from the proxy or 1C's lock conflicts, a create or a posting
// whose answer is lost, an answer that comes after the client gave up, slow answers.
func (h *harness) basFault() {
	ctx := context.Background()
	doc := basodata.SetReport
	var f basemu.Fault
	switch h.r.IntN(6) {
	case 0:
		f = basemu.Fault{Status: []int{502, 503, 504}[h.r.IntN(3)], Times: 1 + h.r.IntN(4)}
	case 1:
		f = basemu.Fault{Path: doc, Status: 500, Body: "lock", Times: 1 + h.r.IntN(3)}
	case 2: // the report is created (or posted), its answer lost
		f = basemu.Fault{Method: "POST", Path: doc, AfterHandling: true, DropConnection: true}
	case 3: // the report is written, its answer comes after obmin's timeout
		f = basemu.Fault{Method: []string{"POST", "PATCH"}[h.r.IntN(2)], Path: doc, AfterHandling: true, Latency: 5 * time.Second}
	case 4: // posted, the answer lost
		f = basemu.Fault{Method: "POST", Path: doc + "(", AfterHandling: true, Status: 502}
	case 5:
		f = basemu.Fault{Latency: time.Duration(200+h.r.IntN(1300)) * time.Millisecond, Times: 2 + h.r.IntN(5)}
	}
	if err := h.bas.InjectFault(ctx, f); err != nil {
		h.t.Fatalf("BAS emulator fault: %v", err)
	}
	h.counter.basFaults++
}

// basOutage makes BAS answer every request with 503 until basRecover.
func (h *harness) basOutage() {
	if err := h.bas.InjectFault(context.Background(), basemu.Fault{Status: 503, Times: -1}); err != nil {
		h.t.Fatalf("BAS emulator outage: %v", err)
	}
	h.counter.basFaults++
}

func (h *harness) basRecover() {
	if err := h.bas.ClearFaults(context.Background()); err != nil {
		h.t.Fatalf("BAS emulator: clear faults: %v", err)
	}
}

// closeShifts ends the till's shifts, as Checkbox's automatic closing does; the next sale opens another.
func (h *harness) closeShifts() {
	h.must(h.admin().CloseShifts(context.Background()))
	h.counter.closes++
}

// lateReceipt makes an offline receipt of a shift that closed already: a register that worked offline
// sends it after its shift's report may have gone to BAS.
func (h *harness) lateReceipt(goods []checkbox.Good) {
	var closed []checkbox.ShiftDetail
	for _, s := range h.shifts() {
		if s.Status == checkbox.ShiftClosed && s.ClosedAt != nil {
			closed = append(closed, s)
		}
	}
	if len(closed) == 0 || len(goods) == 0 {
		return
	}
	s := closed[h.r.IntN(len(closed))]
	h.must(errOf(h.admin().Sell(context.Background(), cbemu.Sale{Offline: true, ShiftID: s.ID, At: s.ClosedAt.Add(-time.Second),
		Payment: []string{"CASH", "CASHLESS"}[h.r.IntN(2)], Lines: []cbemu.SaleLine{{Code: goods[h.r.IntN(len(goods))].Code, Quantity: 1000}}})))
	h.counter.late++
}

func (h *harness) shifts() []checkbox.ShiftDetail {
	out, err := h.admin().Shifts(context.Background())
	h.must(err)
	return out
}

// shiftReceipts groups the emulator's receipts by shift.
func (h *harness) shiftReceipts() map[string][]checkbox.Receipt {
	all, err := h.admin().Receipts(context.Background())
	h.must(err)
	out := map[string][]checkbox.Receipt{}
	for _, r := range all {
		out[strings.ToLower(r.ShiftID)] = append(out[strings.ToLower(r.ShiftID)], r)
	}
	return out
}

// basItem is BAS's item of a Checkbox code: the Ид of the demo good with that article, which BAS
// exported; false for a good BAS never exported.
func basItem(code string) (string, string, bool) {
	for _, b := range demo.Books {
		if b.Article == code {
			return b.ID, "", true
		}
	}
	return "", "", false
}

// heldShift reports whether a shift sold a good BAS never exported: its report must wait.
func heldShift(receipts []checkbox.Receipt) bool {
	for _, r := range receipts {
		for _, l := range r.Goods {
			if _, _, ok := basItem(l.Good.Code); !ok && r.Status == checkbox.StatusDone {
				return true
			}
		}
	}
	return false
}

// hasSales reports whether a shift has a finished sale or return: only such a shift has a report.
func hasSales(receipts []checkbox.Receipt) bool {
	for _, r := range receipts {
		if r.Status == checkbox.StatusDone && (r.Type == checkbox.ReceiptSell || r.Type == checkbox.ReceiptReturn) {
			return true
		}
	}
	return false
}

// reportsComplete reports whether every closed shift that must have a report has one equal to its
// receipts and posted: obmin has caught up.
func (h *harness) reportsComplete() bool {
	reports, err := h.bas.Reports(context.Background())
	if err != nil {
		return false
	}
	receipts := h.shiftReceipts()
	for _, s := range h.shifts() {
		rs := receipts[strings.ToLower(s.ID)]
		if s.Status != checkbox.ShiftClosed || !hasSales(rs) || heldShift(rs) {
			continue
		}
		mine := reportsOf(reports, s.ID)
		if len(mine) != 1 || !mine[0].Posted || len(retail.Compare(rs, mine[0], basItem)) > 0 {
			return false
		}
	}
	return true
}

func reportsOf(reports []basodata.Report, shiftID string) []basodata.Report {
	var out []basodata.Report
	for _, r := range reports {
		if strings.Contains(r.Comment, retail.Marker(shiftID)) {
			out = append(out, r)
		}
	}
	return out
}

// checkReports: every closed shift with sales has exactly one report in BAS, posted, equal to its
// receipts, and obmin's state says so; a shift with a good BAS never exported has none and is held,
// described for staff; no other report is in BAS; BAS's stock moved by each posted report once.
func (h *harness) checkReports() {
	ctx := context.Background()
	reports, err := h.bas.Reports(ctx)
	if err != nil {
		h.violate("BAS reports: %v", err)
		return
	}
	st, err := store.Open(ctx, h.stateFile)
	if err != nil {
		h.violate("open the state: %v", err)
		return
	}
	defer st.Close()
	receipts := h.shiftReceipts()
	known := map[string]bool{}
	sold := map[string]decimal.Decimal{} // by BAS item: sold less returned in posted reports
	posted, held := 0, 0
	for _, s := range h.shifts() {
		rs := receipts[strings.ToLower(s.ID)]
		mine := reportsOf(reports, s.ID)
		for _, r := range mine {
			known[r.Ref] = true
		}
		name := fmt.Sprintf("shift %d (%s)", s.Serial, s.ID)
		switch {
		case s.Status != checkbox.ShiftClosed || !hasSales(rs):
			if len(mine) > 0 {
				h.violate("%s (%s, %d receipts) has %d reports in BAS, want none", name, s.Status, len(rs), len(mine))
			}
			continue
		case heldShift(rs):
			held++
			if len(mine) > 0 {
				h.violate("%s sold a good BAS never exported, yet has %d reports in BAS", name, len(mine))
			}
			if rec, ok, err := st.Report(ctx, s.ID); err != nil || !ok || rec.State != store.ReportStateHeld {
				h.violate("%s must be held in obmin's state: %+v %v", name, rec.State, err)
			}
			if m, _ := filepath.Glob(filepath.Join(h.spoolDir, "held-shifts", fmt.Sprintf("*-%d-*.txt", s.Serial))); len(m) == 0 {
				h.violate("%s is held but not described in spool/held-shifts/", name)
			}
			continue
		case len(mine) != 1:
			h.violate("%s has %d reports in BAS, want exactly 1", name, len(mine))
			continue
		}
		rep := mine[0]
		if !rep.Posted {
			h.violate("%s: report №%s is not posted", name, rep.Number)
		}
		for _, d := range retail.Compare(rs, rep, basItem) {
			h.violate("%s: report №%s differs from its receipts: %s", name, rep.Number, d)
		}
		if rec, ok, err := st.Report(ctx, s.ID); err != nil || !ok || rec.State != store.ReportStatePosted || !strings.EqualFold(rec.Ref, rep.Ref) {
			h.violate("%s: obmin's state says %+v (%v), BAS holds report %s", name, rec, err, rep.Ref)
		}
		posted++
		for _, row := range rep.Stock {
			k := strings.ToLower(row.Good)
			sold[k] = sold[k].Add(decimal.New(int64(row.Quantity), -3))
		}
	}
	for _, r := range reports {
		if !known[r.Ref] {
			h.violate("BAS holds report №%s (%s) of no closed shift: %q", r.Number, r.Ref, r.Comment)
		}
	}
	stock, err := h.bas.Stock(ctx)
	if err != nil {
		h.violate("BAS stock: %v", err)
		return
	}
	now := map[string]decimal.Decimal{}
	for _, b := range stock {
		now[strings.ToLower(b.Good)] = now[strings.ToLower(b.Good)].Add(b.Quantity)
	}
	for _, b := range demo.Books {
		k := strings.ToLower(b.ID)
		if want := h.basStock0[k].Sub(sold[k]); !now[k].Equal(want) {
			h.violate("BAS stock of %s: %s, want %s (opening %s less %s sold in posted reports)", b.Article, now[k], want, h.basStock0[k], sold[k])
		}
	}
	h.counter.reports, h.counter.heldShifts = posted, held
	h.t.Logf("reports: %d posted in BAS, %d shifts held", posted, held)
}
