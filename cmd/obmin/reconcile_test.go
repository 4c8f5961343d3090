package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/exchange"
	"obmin/internal/demo"
	"obmin/internal/voice"
	"obmin/reconcile"
)

// shop is obmin as an administrator runs it from the command line, against the Checkbox emulator running
// as its own server with its admin API (what staff change by hand in Checkbox's cabinet).
type shop struct {
	t                *testing.T
	dir, cfg, export string
	orders           string
	emu              *emulator.Emulator
	url              string
	env              map[string]string
}

const adminToken = "test-admin-token"

func newShop(t *testing.T, extra string) *shop {
	t.Helper()
	s := &shop{t: t, dir: t.TempDir(), env: map[string]string{"OBMIN_CHECKBOX_PASSWORD": "pass"}}
	s.export = filepath.Join(s.dir, "bas", "export")
	s.orders = filepath.Join(s.dir, "bas", "orders", "orders.xml")
	for _, d := range []string{s.export, filepath.Dir(s.orders)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.emu = emulator.New(emulator.Config{Login: "cashier", Password: "pass", Seed: 11})
	srv := httptest.NewServer(emulator.AdminHandler(s.emu, adminToken))
	t.Cleanup(func() { srv.Close(); s.emu.Close() })
	s.url = srv.URL
	s.cfg = writeFile(t, filepath.Join(s.dir, "obmin.yaml"), fmt.Sprintf(`spool_dir: spool
state_file: state/obmin.db
bas:
  export_dir: bas/export
  orders_file: bas/orders/orders.xml
  poll_interval: 100ms
  min_age: 100ms
checkbox:
  base_url: %s
  login: cashier
  requests_per_second: 1000
mapping:
  vat: {"20": [1], "0": [8]}
  stock: true
sales:
  first_pull: 72h
  overlap: 1m
%s`, srv.URL, extra))
	return s
}

// run runs an obmin command with this shop's configuration.
func (s *shop) run(args ...string) (string, error) {
	s.t.Helper()
	out, errOut, err := runCmd(s.t, s.env, append(args[:1:1], append([]string{"-config", s.cfg}, args[1:]...)...)...)
	if err != nil && testing.Verbose() {
		s.t.Logf("obmin %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out, err
}

// admin is the emulator's admin API, as a person changing Checkbox by hand uses it.
func (s *shop) admin() *emulator.AdminClient {
	return &emulator.AdminClient{BaseURL: s.url, Token: adminToken}
}

func (s *shop) sell(at time.Time, status string, lines ...emulator.SaleLine) checkbox.Receipt {
	s.t.Helper()
	r, err := s.emu.Sell(emulator.Sale{Lines: lines, At: at, Status: status})
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

func (s *shop) reconcile(date string, repair bool) (*reconcile.Report, error) {
	s.t.Helper()
	args := []string{"reconcile", "-json", "-date", date}
	if repair {
		args = append(args, "-repair")
	}
	out, err := s.run(args...)
	var rep reconcile.Report
	if jerr := json.Unmarshal([]byte(out), &rep); jerr != nil {
		s.t.Fatalf("reconcile -json: %v (%v)\n%s", jerr, err, out)
	}
	return &rep, err
}

// found lists a report's differences as "area.kind channel key", key being a good's code, a receipt's
// fiscal code, or the number of BAS's document.
func found(ds []reconcile.Difference) []string {
	var out []string
	for _, d := range ds {
		key := d.Code
		switch {
		case strings.HasPrefix(d.Kind, "document-"):
			key = d.Channel + " " + strings.Join(d.Refs, ",")
		case d.Area == reconcile.AreaReceipts:
			key = d.Channel + " " + d.Fiscal
		}
		out = append(out, d.Area+"."+d.Kind+" "+key)
	}
	slices.Sort(out)
	return out
}

// TestReconcileFindsPlantedDrift plants drift on both sides — goods changed, deleted and added by hand in
// Checkbox; a receipt that never reached BAS; BAS holding one order twice and another with a changed sum —
// and reconciliation must find each, and nothing else; repair must fix what obmin can.
func TestReconcileFindsPlantedDrift(t *testing.T) {
	s := newShop(t, "")
	if _, err := demo.WriteDrop(s.export, append(slices.Clone(demo.Books), demo.Editions...), time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.run("once"); err != nil {
		t.Fatalf("first pass: %v", err)
	}
	// Today's sales: stock moves in Checkbox as they are made, after the catalogue's stock was sent.
	a := s.sell(time.Time{}, "", emulator.SaleLine{Code: "ST-0102", Quantity: 2000})
	b := s.sell(time.Time{}, "", emulator.SaleLine{Code: "KN-0003", Quantity: 1000})
	s.sell(time.Time{}, "", emulator.SaleLine{Code: "KN-0001", Quantity: 1000}, emulator.SaleLine{Code: "CF-0001", Quantity: 250})
	date := voice.Date(a.When())
	if _, err := s.run("once"); err != nil {
		t.Fatalf("pull: %v", err)
	}
	// Before any drift BAS and Checkbox agree: the comparison itself finds nothing.
	if rep, err := s.reconcile(date, false); err != nil || rep.Found() != 0 {
		t.Fatalf("reconciliation before any drift: %v, found %v", err, found(rep.Differences()))
	}

	// An offline receipt that reached Checkbox late, dated before what obmin's pulls had read (and beyond
	// their overlap): no pull will ever see it.
	c, err := s.emu.Sell(emulator.Sale{Offline: true, At: a.When().Add(-5 * time.Minute), Lines: []emulator.SaleLine{{Code: "KN-0006", Quantity: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	if voice.Date(c.When()) != date {
		t.Skip("the sales fell on two Kyiv days (the test ran just after midnight)")
	}
	if _, err := s.run("once"); err != nil {
		t.Fatalf("pull: %v", err)
	}
	// BAS's own orders export: a's order twice (a copy under a number obmin never gave), b's with its sum
	// changed in BAS.
	sent, err := exchange.ReadBASOrders(s.orders)
	if err != nil {
		t.Fatal(err)
	}
	var bas []demo.Order
	for _, o := range sent {
		comment := "Checkbox: чек " + o.Fiscal + ", каса 1"
		sum := float64(*o.Total) / 100
		switch o.Fiscal {
		case a.FiscalCode:
			bas = append(bas, demo.Order{Number: o.Number, Sum: fmt.Sprintf("%.2f", sum), Comment: comment, At: o.When},
				demo.Order{Number: "ДУБЛЬ-000777", Sum: fmt.Sprintf("%.2f", sum), Comment: comment, At: o.When})
		case b.FiscalCode:
			bas = append(bas, demo.Order{Number: o.Number, Sum: fmt.Sprintf("%.2f", sum+10), Comment: comment, At: o.When})
		}
	}
	if len(bas) != 3 {
		t.Fatalf("the orders file lacks sales a and b: %+v", sent)
	}
	folder := filepath.Join(s.export, demo.FolderName)
	if err := os.RemoveAll(folder); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(folder, "orders-1.xml"), string(demo.OrdersExportOf(bas, time.Now())))
	if _, err := s.run("once"); err != nil {
		t.Fatalf("BAS's orders export: %v", err)
	}
	// Goods changed by hand in Checkbox.
	ctx, admin := context.Background(), s.admin()
	stock := int64(99000)
	for _, err := range []error{
		second(admin.EditGood(ctx, "KN-0001", json.RawMessage(`{"price": 43000}`), nil)),
		second(admin.EditGood(ctx, "KN-0002", json.RawMessage(`{"name": "Лісова пісня (назву змінено в Checkbox)"}`), nil)),
		second(admin.EditGood(ctx, "KN-0005", json.RawMessage(`{"barcode": "4820000099991"}`), nil)),
		second(admin.EditGood(ctx, "ST-0101", json.RawMessage(`{"tax_codes": [8]}`), nil)),
		second(admin.EditGood(ctx, "KN-0006", nil, &stock)),
		admin.RemoveGood(ctx, "KN-0004"),
		second(admin.AddGood(ctx, json.RawMessage(`{"name": "Листівка, заведена на касі", "type": "good", "code": "HAND-1", "is_weight": false, "price": 2500}`))),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}

	want := []string{
		"goods.barcode KN-0005", "goods.extra HAND-1", "goods.missing KN-0004", "goods.name KN-0002",
		"goods.price KN-0001", "goods.stock KN-0006", "goods.vat ST-0101",
		"receipts.duplicated bas-orders-export " + a.FiscalCode,
		"receipts.missing orders-file " + c.FiscalCode,
		"receipts.sum bas-orders-export " + b.FiscalCode,
	}
	slices.Sort(want)
	rep, err := s.reconcile(date, false)
	if exitCode(err) != 3 {
		t.Fatalf("differences must exit 3, got %v", err)
	}
	if got := found(rep.Differences()); !slices.Equal(got, want) {
		t.Fatalf("reconciliation found\n  %s\nwant exactly\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if txt, err := os.ReadFile(filepath.Join(s.dir, "spool", "reconcile", date, "report.txt")); err == nil {
		t.Logf("report.txt:\n%s", txt)
	}
	for _, name := range []string{"report.txt", "report.html", "report.json"} {
		b, err := os.ReadFile(filepath.Join(s.dir, "spool", "reconcile", date, name))
		if err != nil || !strings.Contains(string(b), "KN-0004") {
			t.Errorf("%s: %v, or it does not name the missing good", name, err)
		}
	}

	// Repair: goods sent again, the receipt offered to BAS again; BAS's own documents are for staff.
	rep, err = s.reconcile(date, true)
	if exitCode(err) != 3 {
		t.Fatalf("differences left after repair must exit 3, got %v", err)
	}
	left := []string{"goods.extra HAND-1", "receipts.duplicated bas-orders-export " + a.FiscalCode, "receipts.sum bas-orders-export " + b.FiscalCode}
	if got := found(rep.Repair.Left); !slices.Equal(got, left) {
		t.Fatalf("after repair\n  %s\nwant\n  %s\n%s", strings.Join(got, "\n  "), strings.Join(left, "\n  "), rep.Repair.Done)
	}
	if g, ok := s.emu.GoodByCode("KN-0004"); !ok || g.Price != 29500 {
		t.Errorf("the deleted good must be back: %+v", g)
	}
	if g, _ := s.emu.GoodByCode("KN-0001"); g.Price != 42000 {
		t.Errorf("the price must be BAS's again: %d", g.Price)
	}
	if orders, _ := os.ReadFile(s.orders); !strings.Contains(string(orders), c.FiscalCode) {
		t.Error("the receipt that never reached BAS must be in the orders file after repair")
	}
	status, err := s.run("status")
	if err != nil || !strings.Contains(status, "reconcile") && !strings.Contains(status, "звірка") {
		t.Errorf("status must show the reconciliation job: %v\n%s", err, status)
	}
}

// second is a call's error, its result dropped.
func second[T any](_ T, err error) error { return err }
