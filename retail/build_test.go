package retail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"obmin/basodata"
	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/internal/apischema"
	"obmin/internal/golden"
	"obmin/internal/testenv"
	"obmin/retail"
)

// BAS's side of the test catalogue: keys as the emulated base seeds them (basodata/emulator).
const (
	itemBook    = "6f1c2a10-0001-4c3e-9a01-000000000001"
	itemPad     = "6f1c2a10-0001-4c3e-9a01-000000000007"
	itemCoffee  = "6f1c2a10-0001-4c3e-9a01-000000000009"
	itemShirt   = "6f1c2a10-0001-4c3e-9a01-000000000020"
	charShirtXL = "6f1c2a10-0002-4c3e-9a01-0000000000c1"
	unitPiece   = "2a000000-0000-4000-8000-000000002009"
	unitKilo    = "2a000000-0000-4000-8000-000000000301"
)

var testGoods = map[string]retail.Good{
	"KN-0001": {Item: itemBook, Unit: unitPiece},
	"ST-0101": {Item: itemPad, Unit: unitPiece},
	"CF-0001": {Item: itemCoffee, Unit: unitKilo},
	"TS-XL":   {Item: itemShirt, Characteristic: charShirtXL, Unit: unitPiece},
}

func goods(code string) (retail.Good, bool) { g, ok := testGoods[code]; return g, ok }

func mapping() retail.Mapping {
	return retail.Mapping{
		Setup: basodata.TillSetup{
			Till:  basodata.Till{Item: basodata.Item{Ref: "10000000-0000-4000-8000-000000000001"}},
			Store: basodata.Store{Item: basodata.Item{Ref: "10000000-0000-4000-8000-000000000002"}}, Organization: "10000000-0000-4000-8000-000000000003",
			Department: "10000000-0000-4000-8000-000000000004", PriceKind: "10000000-0000-4000-8000-000000000005",
			Currency: "10000000-0000-4000-8000-000000000006", CashFlowItem: "10000000-0000-4000-8000-000000000007",
			Terminal: "10000000-0000-4000-8000-000000000008", CardKind: "Visa", ShiftStatus: basodata.ShiftClosed,
		},
		VAT: map[int]retail.VATRate{
			1: {Ref: "44444444-0000-4000-8000-000000000020", Percent: 20},
			2: {Ref: "44444444-0000-4000-8000-000000000007", Percent: 7},
			8: {Ref: "44444444-0000-4000-8000-0000000000ff", NoVAT: true},
		},
	}
}

// clock is the Checkbox emulator's clock, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// shop is the Checkbox emulator with the test catalogue, spoken to by obmin's client, every exchange
// checked against Checkbox's OpenAPI when the shared folder is there.
type shop struct {
	t      *testing.T
	emu    *emulator.Emulator
	c      *checkbox.Client
	clk    *clock
	schema *apischema.Transport
}

func newShop(t *testing.T) *shop {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)}
	emu := emulator.New(emulator.Config{Seed: 15, Clock: clk.Now})
	srv := httptest.NewServer(emu)
	t.Cleanup(func() { srv.Close(); emu.Close() })
	s := &shop{t: t, emu: emu, clk: clk}
	var rt http.RoundTripper = http.DefaultTransport
	if dir := sharedCheckbox(t); dir != "" {
		doc, _, err := apischema.LoadNewest(dir)
		if err != nil {
			t.Fatal(err)
		}
		s.schema = &apischema.Transport{Base: rt, Doc: doc}
		rt = s.schema
	}
	c, err := checkbox.New(checkbox.Config{BaseURL: srv.URL, Login: "emulator", Password: "emulator", Clock: clk.Now,
		HTTPClient: &http.Client{Transport: rt}, RequestsPerSecond: 10000, BaseBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.c = c
	ctx := context.Background()
	for _, g := range []checkbox.GoodPayload{
		{Name: "Тарас Шевченко. Кобзар", Type: "good", Code: "KN-0001", Price: 42000, TaxCodes: []int{8}},
		{Name: "Блокнот А5 у клітинку", Type: "good", Code: "ST-0101", Price: 8900, TaxCodes: []int{1}},
		{Name: "Кава в зернах, вагова", Type: "good", Code: "CF-0001", Price: 96000, TaxCodes: []int{1}, IsWeight: true},
		{Name: "Футболка «Тризуб» XL", Type: "good", Code: "TS-XL", Price: 55000, TaxCodes: []int{1}},
		{Name: "Листівка ручної роботи", Type: "good", Code: "PC-9999", Price: 3500, TaxCodes: []int{1}},
	} {
		if _, err := c.CreateGood(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// sharedCheckbox is the folder of Checkbox's OpenAPI documents, or "" without the shared folder.
func sharedCheckbox(t *testing.T) string {
	base := os.Getenv("OBMIN_SHARED")
	if base == "" {
		base = filepath.Join(testenv.Root(t), "..", "shared")
	}
	dir := filepath.Join(base, "checkbox")
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

func (s *shop) sell(sale emulator.Sale) checkbox.Receipt {
	s.t.Helper()
	s.clk.add(7 * time.Minute)
	r, err := s.emu.Sell(sale)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

func (s *shop) ret(saleID string, lines []emulator.SaleLine) {
	s.t.Helper()
	s.clk.add(5 * time.Minute)
	if _, err := s.emu.Return(saleID, lines); err != nil {
		s.t.Fatal(err)
	}
}

// closed closes the shift and reads it and its receipts back through the client, as obmin will.
func (s *shop) closed() (checkbox.Shift, []checkbox.Receipt) {
	s.t.Helper()
	s.clk.add(30 * time.Minute)
	s.emu.CloseShifts()
	ctx := context.Background()
	var rs []checkbox.Receipt
	err := s.c.SearchReceipts(ctx, checkbox.ReceiptQuery{}, func(r checkbox.Receipt) error { rs = append(rs, r); return nil })
	if err != nil || len(rs) == 0 {
		s.t.Fatalf("receipts: %d, %v", len(rs), err)
	}
	sh, err := s.c.Shift(ctx, rs[0].ShiftID)
	if err != nil {
		s.t.Fatal(err)
	}
	if sh.Status != checkbox.ShiftClosed || sh.ClosedAt == nil || sh.Balance == nil {
		s.t.Fatalf("shift %+v", sh)
	}
	if s.schema != nil {
		if f := s.schema.Failures(); len(f) > 0 {
			s.t.Fatalf("exchanges off the OpenAPI document:\n%v", f)
		}
	}
	return sh.Shift, rs
}

func goldenJSON(t *testing.T, name string, res retail.Result) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", name+".golden.json"), buf.Bytes())
}

// TestShift: sales in cash and by card, line discounts in percent and in hryvnia, a weighed good, a
// variant, returns in cash and to a card. The report's total is the shift's takings to the kopeck.
func TestShift(t *testing.T) {
	s := newShop(t)
	s1 := s.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 2000}}})
	s.sell(emulator.Sale{Payment: "CASHLESS", Lines: []emulator.SaleLine{{Code: "ST-0101", Quantity: 1000, DiscountPercent: 10}, {Code: "CF-0001", Quantity: 347}}})
	s3 := s.sell(emulator.Sale{Payment: "CASHLESS", Lines: []emulator.SaleLine{{Code: "ST-0101", Quantity: 3000, DiscountValue: 500}}})
	s.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "TS-XL", Quantity: 1000}, {Code: "KN-0001", Quantity: 1000}}, Tendered: 100000})
	s.ret(s1.ID, []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}})
	s.ret(s3.ID, []emulator.SaleLine{{Code: "ST-0101", Quantity: 1000}})
	sh, rs := s.closed()
	res, err := retail.Build(sh, rs, mapping(), goods)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Held) > 0 || res.Sales != 4 || res.Returns != 2 {
		t.Fatalf("result: %+v", res)
	}
	detail, _ := s.c.Shift(context.Background(), sh.ID)
	if int64(res.Report.Total) != detail.Balance.Takings() {
		t.Errorf("report total %d, shift takings %d", res.Report.Total, detail.Balance.Takings())
	}
	var cards int64
	for _, c := range res.Report.Cards {
		cards += int64(c.Sum)
	}
	if cards != detail.Balance.CardSales-detail.Balance.CardReturns {
		t.Errorf("card rows %d, shift card takings %d", cards, detail.Balance.CardSales-detail.Balance.CardReturns)
	}
	if res.Report.Ref != retail.RefKey(sh.CashRegister.ID, sh.ID) || res.Marker != retail.Marker(sh.ID) {
		t.Errorf("key %s marker %s", res.Report.Ref, res.Marker)
	}
	goldenJSON(t, "shift", res)
}

// TestHeld: a good BAS never exported holds the whole shift, named for staff.
func TestHeld(t *testing.T) {
	s := newShop(t)
	s.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}, {Code: "PC-9999", Quantity: 2000}}})
	sh, rs := s.closed()
	res, err := retail.Build(sh, rs, mapping(), goods)
	if err != nil {
		t.Fatal(err)
	}
	goldenJSON(t, "held", res)
}

// receipt makes a receipt by hand, for what the emulator cannot make: receipt-level discounts,
// rounding, service receipts, excise next to VAT, a card sale refunded in cash.
func receipt(id, typ string, total int64, lines []checkbox.ReceiptLine, pays ...checkbox.Payment) checkbox.Receipt {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	return checkbox.Receipt{ID: id, Type: typ, Status: checkbox.StatusDone, ShiftID: handShift.ID, Goods: lines, Payments: pays, TotalSum: total, CreatedAt: at}
}

var handShift = func() checkbox.Shift {
	open, end := time.Date(2026, 3, 2, 6, 55, 0, 0, time.UTC), time.Date(2026, 3, 2, 18, 5, 30, 0, time.UTC)
	return checkbox.Shift{ID: "5f0c7d5e-1111-4a2b-8c3d-000000000001", Serial: 41, Status: checkbox.ShiftClosed, OpenedAt: &open, ClosedAt: &end,
		CashRegister: checkbox.CashRegister{ID: "c0ffee00-2222-4a2b-8c3d-000000000001", FiscalNumber: "4000123456"}}
}()

func line(code string, price, qty, sum int64, taxes ...int) checkbox.ReceiptLine {
	l := checkbox.ReceiptLine{Good: checkbox.ReceiptGood{Code: code, Name: code, Price: price}, Quantity: qty, Sum: sum}
	for _, t := range taxes {
		l.Taxes = append(l.Taxes, checkbox.LineTax{Code: t})
	}
	return l
}

// TestReceiptDiscountRounding: a receipt-level discount of 10.00 over lines of 33.33, 33.33 and
// 33.34 is shared so the rows still add up to the receipt; excise (code 5) is not VAT; a service
// receipt and an unfinished one are left out.
func TestReceiptDiscountRounding(t *testing.T) {
	rs := []checkbox.Receipt{
		receipt("r1", checkbox.ReceiptSell, 9001, []checkbox.ReceiptLine{
			line("KN-0001", 3333, 1000, 3333, 8), line("ST-0101", 3333, 1000, 3333, 1, 5), line("CF-0001", 96000, 35, 3334, 1),
		}, checkbox.Payment{Type: "CASH", Value: 10000}),
		receipt("r2", "SERVICE_IN", 50000, nil, checkbox.Payment{Type: "CASH", Value: 50000}),
		{ID: "r3", Type: checkbox.ReceiptSell, Status: "CREATED", ShiftID: handShift.ID, TotalSum: 100},
		receipt("r4", checkbox.ReceiptSell, 8900, []checkbox.ReceiptLine{line("ST-0101", 8900, 1000, 8900, 1)},
			checkbox.Payment{Type: "CASHLESS", Label: "Mastercard", Value: 8900, CardMask: "5168********0001"}),
	}
	m := mapping()
	m.CardKinds = map[string]string{"Mastercard": "MasterCard"}
	res, err := retail.Build(handShift, rs, m, goods)
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Total != 9001+8900 || res.Skipped != 2 {
		t.Fatalf("total %d skipped %d", res.Report.Total, res.Skipped)
	}
	goldenJSON(t, "receipt-discount", res)
}

// TestCardsOverTotal: a card sale refunded in cash leaves card payments above the total; BAS would
// refuse the report, so it is held with the reason.
func TestCardsOverTotal(t *testing.T) {
	rs := []checkbox.Receipt{
		receipt("s", checkbox.ReceiptSell, 8900, []checkbox.ReceiptLine{line("ST-0101", 8900, 1000, 8900, 1)}, checkbox.Payment{Type: "CASHLESS", Value: 8900}),
		receipt("r", checkbox.ReceiptReturn, 8900, []checkbox.ReceiptLine{line("ST-0101", 8900, 1000, 8900, 1)}, checkbox.Payment{Type: "CASH", Value: 8900}),
	}
	res, err := retail.Build(handShift, rs, mapping(), goods)
	if err != nil || len(res.Held) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	m := mapping()
	delete(m.VAT, 1)
	if res, _ = retail.Build(handShift, rs[:1], m, goods); len(res.Held) != 1 {
		t.Fatalf("unmapped VAT not held: %+v", res)
	}
	open := handShift
	open.ClosedAt, open.Status = nil, checkbox.ShiftOpened
	if _, err := retail.Build(open, rs, mapping(), goods); !errors.Is(err, retail.ErrNotClosed) {
		t.Fatalf("open shift: %v", err)
	}
	if r1, r2 := retail.RefKey("A", "B"), retail.RefKey("a", "b"); r1 != r2 || r1 == retail.RefKey("A", "C") {
		t.Fatal("RefKey is not a stable function of register and shift")
	}
}
