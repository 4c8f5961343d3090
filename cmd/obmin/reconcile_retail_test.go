package main

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"obmin/basodata"
	basemu "obmin/basodata/emulator"
	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/internal/demo"
	"obmin/internal/voice"
	"obmin/retail"
)

// basSide is BAS's OData interface beside a shop: the BAS emulator as its own server, seeded with the
// catalogue BAS exports, and its admin API (what a person does in BAS's own forms).
type basSide struct {
	emu   *basemu.Emulator
	admin *basemu.AdminClient
}

// withBAS turns the shop's retail sales reports on (sales.to: to) against a BAS emulator holding books.
func (s *shop) withBAS(to string, books []demo.Book) *basSide {
	s.t.Helper()
	b := &basSide{emu: basemu.New(basemu.Config{User: "odata.user", Password: "odata-pass"})}
	at := time.Now()
	if _, err := b.emu.SeedExport(demo.Catalog(books, at), demo.Offers(books, at)); err != nil {
		s.t.Fatal(err)
	}
	b.emu.SetAdminToken(adminToken)
	root, err := b.emu.Serve(context.Background(), "127.0.0.1:0")
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(b.emu.Close)
	b.admin = &basemu.AdminClient{BaseURL: strings.TrimSuffix(root, b.emu.Root()), Token: adminToken}
	s.env["OBMIN_BAS_ODATA_PASSWORD"] = "odata-pass"
	cfg, err := os.ReadFile(s.cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	refs := b.emu.Refs()
	text := strings.Replace(string(cfg), "bas:\n", "bas:\n  odata:\n    url: "+root+"\n    user: odata.user\n    registers:\n"+
		"      - checkbox: "+emulator.FirstFiscalNumber+"\n        till: \""+refs.TillCode+"\"\n        terminal: \""+refs.TerminalCode+"\"\n", 1)
	text = strings.Replace(text, "sales:\n", "sales:\n  to: "+to+"\n", 1)
	writeFile(s.t, s.cfg, text)
	return b
}

// reportOf is the shift's report as BAS holds it.
func (b *basSide) reportOf(t *testing.T, shiftID string) basodata.Report {
	t.Helper()
	reps, err := b.admin.Reports(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var mine []basodata.Report
	for _, r := range reps {
		if strings.Contains(r.Comment, retail.Marker(shiftID)) {
			mine = append(mine, r)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("shift %s has %d reports in BAS, want 1", shiftID, len(mine))
	}
	return mine[0]
}

// TestReconcileFindsRetailDrift: with sales.to both, reconciliation also judges the retail sales reports,
// reading each of the day's reports back from BAS. Drift is planted as a person in BAS makes it — one
// report deleted, one unposted, one with a row's quantity changed, one marked for deletion — and in
// Checkbox: an offline receipt of a reported shift that no pull will see. Reconciliation finds each, and
// nothing else; repair rewrites and posts what obmin can, and the report marked for deletion is left to
// staff.
func TestReconcileFindsRetailDrift(t *testing.T) {
	ctx := context.Background()
	s := newShop(t, "")
	books := append(slices.Clone(demo.Books), demo.Editions...)
	bas := s.withBAS("both", books)
	if _, err := demo.WriteDrop(s.export, books, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.run("once"); err != nil {
		t.Fatalf("first pass: %v", err)
	}
	// Five shifts of one register, each closed after its sales.
	sales := []emulator.Sale{
		{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}}},
		{Payment: "CASHLESS", Lines: []emulator.SaleLine{{Code: "ST-0101", Quantity: 2000}}},
		{Lines: []emulator.SaleLine{{Code: "ST-0102", Quantity: 3000}, {Code: "KN-0002", Quantity: 1000}}},
		{Lines: []emulator.SaleLine{{Code: "KN-0003", Quantity: 1000}}},
		{Lines: []emulator.SaleLine{{Code: "CF-0001", Quantity: 250}}},
	}
	var shifts []checkbox.Receipt
	for _, sale := range sales {
		r, err := s.emu.Sell(sale)
		if err != nil {
			t.Fatal(err)
		}
		s.emu.CloseShifts()
		shifts = append(shifts, r)
	}
	// A sixth shift still open: its sale is on its way to BAS, no difference.
	if _, err := s.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0004", Quantity: 1000}}}); err != nil {
		t.Fatal(err)
	}
	date := voice.Date(shifts[0].When())
	if _, err := s.run("once"); err != nil {
		t.Fatalf("pull and reports: %v", err)
	}
	reports := make([]basodata.Report, len(shifts))
	for i, r := range shifts {
		if reports[i] = bas.reportOf(t, r.ShiftID); !reports[i].Posted {
			t.Fatalf("shift %d: report №%s not posted", i+1, reports[i].Number)
		}
	}
	// Before any drift BAS and Checkbox agree, the reports read back included: one look-up per shift.
	calls := bas.emu.CountCalls("", basodata.SetReport)
	rep, err := s.reconcile(date, false)
	if err != nil || rep.Found() != 0 {
		t.Fatalf("reconciliation before any drift: %v, found %v", err, found(rep.Differences()))
	}
	if n := bas.emu.CountCalls("", basodata.SetReport) - calls; n != len(shifts) {
		t.Errorf("reconciliation made %d calls about reports to BAS, want one per closed shift (%d)", n, len(shifts))
	}
	if ch := rep.Receipts.Channels; len(ch) != 3 || ch[2].Name != "retail-report" || ch[2].Documents != len(shifts) || ch[2].Expected != len(shifts)+1 {
		t.Fatalf("channels compared: %+v; want the orders file, BAS's orders export and the reports, %d read back", ch, len(shifts))
	}

	// Checkbox: an offline receipt of shift 4, dated before what the pulls read (and beyond their
	// overlap), after its report was posted.
	late, err := s.emu.Sell(emulator.Sale{Offline: true, ShiftID: shifts[3].ShiftID, At: shifts[3].When().Add(-5 * time.Minute),
		Lines: []emulator.SaleLine{{Code: "KN-0006", Quantity: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	if voice.Date(late.When()) != date || voice.Date(time.Now()) != date {
		t.Skip("the sales fell on two Kyiv days (the test ran around midnight)")
	}
	if _, err := s.run("once"); err != nil {
		t.Fatalf("pull: %v", err)
	}
	// BAS: what people do in BAS's forms.
	for what, err := range map[string]error{
		"delete":          bas.admin.DeleteReport(ctx, reports[0].Ref),
		"unpost":          bas.admin.UnpostReport(ctx, reports[1].Ref),
		"change a row":    bas.admin.ChangeReportRow(ctx, reports[2].Ref, basemu.RowChange{Line: 1, Quantity: decimal.NewFromInt(5)}),
		"mark as deleted": bas.admin.MarkReportDeleted(ctx, reports[4].Ref),
	} {
		if err != nil {
			t.Fatalf("%s in BAS: %v", what, err)
		}
	}
	docs := func(kind string, i int) string { return "receipts." + kind + " retail-report " + reports[i].Number }
	want := []string{
		"goods.stock KN-0006", // the receipt no pull saw took one from Checkbox's stock, unknown to obmin
		"receipts.missing orders-file " + late.FiscalCode,
		"receipts.missing retail-report " + late.FiscalCode,
		docs("document-missing", 0), docs("document-unposted", 1), docs("document-differs", 2), docs("document-missing", 4),
	}
	slices.Sort(want)
	rep, err = s.reconcile(date, false)
	if exitCode(err) != 3 {
		t.Fatalf("differences must exit 3, got %v", err)
	}
	if got := found(rep.Differences()); !slices.Equal(got, want) {
		t.Fatalf("reconciliation found\n  %s\nwant exactly\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	text, err := s.run("reconcile", "-date", date)
	if exitCode(err) != 3 {
		t.Fatalf("reconcile: %v", err)
	}
	for _, w := range []string{"Звіти про роздрібні продажі BAS", "документів BAS перевірено: 5", "Документа немає в BAS", "Документ у BAS не проведено",
		"Документ у BAS змінено", "позначено на вилучення", "звіт про роздрібні продажі, зміна №"} {
		if !strings.Contains(text, w) {
			t.Errorf("the report does not say %q:\n%s", w, text)
		}
	}

	// Repair: the receipt goes into its shift's report, the reports BAS lost, unposted or changed are
	// written and posted again; the one marked for deletion waits for staff.
	rep, err = s.reconcile(date, true)
	if exitCode(err) != 3 {
		t.Fatalf("differences left after repair must exit 3, got %v", err)
	}
	if got, left := found(rep.Repair.Left), []string{docs("document-missing", 4)}; !slices.Equal(got, left) {
		t.Fatalf("after repair\n  %s\nwant\n  %s\n%s\n%s", strings.Join(got, "\n  "), strings.Join(left, "\n  "), rep.Repair.Done, rep.Repair.Errors)
	}
	byShift := map[string][]checkbox.Receipt{}
	for _, r := range s.emu.Receipts() {
		byShift[r.ShiftID] = append(byShift[r.ShiftID], r)
	}
	for i := range 4 {
		r := bas.reportOf(t, shifts[i].ShiftID)
		if !r.Posted {
			t.Errorf("shift %d: report №%s not posted after repair", i+1, r.Number)
		}
		for _, d := range retail.Compare(byShift[shifts[i].ShiftID], r, bookCodes(books)) {
			t.Errorf("shift %d: report №%s after repair: %s", i+1, r.Number, d)
		}
	}
	if orders, _ := os.ReadFile(s.orders); !strings.Contains(string(orders), late.FiscalCode) {
		t.Error("the late receipt must be in the orders file after repair")
	}
}

// bookCodes maps Checkbox codes of plain goods to BAS's items, as BAS exported them.
func bookCodes(books []demo.Book) func(string) (string, string, bool) {
	return func(code string) (string, string, bool) {
		for _, b := range books {
			if b.Article == code && len(b.Variants) == 0 {
				return b.ID, "", true
			}
		}
		return "", "", false
	}
}

// TestReconcileRetailOnly: with sales.to retail-report, the orders file is no channel (nothing is written
// there) and neither is BAS's orders export: the reports alone are judged.
func TestReconcileRetailOnly(t *testing.T) {
	s := newShop(t, "")
	s.withBAS("retail-report", demo.Books)
	if _, err := demo.WriteDrop(s.export, demo.Books, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.run("once"); err != nil {
		t.Fatalf("first pass: %v", err)
	}
	sale, err := s.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	s.emu.CloseShifts()
	if _, err := s.run("once"); err != nil {
		t.Fatalf("pull and reports: %v", err)
	}
	rep, err := s.reconcile(voice.Date(sale.When()), false)
	if err != nil || rep.Found() != 0 {
		t.Fatalf("reconciliation: %v, found %v", err, found(rep.Differences()))
	}
	if ch := rep.Receipts.Channels; len(ch) != 1 || ch[0].Name != "retail-report" || ch[0].Expected != 1 || ch[0].Deliveries != 1 || ch[0].Documents != 1 {
		t.Fatalf("channels: %+v; want the retail sales reports alone", ch)
	}
}
