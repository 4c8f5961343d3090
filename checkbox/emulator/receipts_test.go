package emulator

import (
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"obmin/checkbox"
	"obmin/internal/golden"
	"obmin/internal/testenv"
)

// TestSellCheckboxFixture posts the sell body of Checkbox's SDK tests and checks the sums against the
// same receipt as the SDK computed it (external_receipt.json): lines 5500 + 15200, a VALUE discount
// of 2500 written as sum -2500, total and payment 18200.
func TestSellCheckboxFixture(t *testing.T) {
	dir := testenv.Shared(t, "checkbox/examples/dismine__checkbox-sdk/tests/test_data")
	body, err := os.ReadFile(filepath.Join(dir, "receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantRaw, err := os.ReadFile(filepath.Join(dir, "external_receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want receiptJSON
	if err := json.Unmarshal(wantRaw, &want); err != nil {
		t.Fatal(err)
	}
	en := signedIn(t, Config{})
	var got receiptJSON
	en.must(201, "POST", "/api/v1/receipts/sell", body).decode(t, &got)
	if got.TotalSum != want.TotalSum || got.TotalPayment != want.TotalPayment || got.TotalRest != want.TotalRest {
		t.Errorf("totals %d/%d/%d, want %d/%d/%d", got.TotalSum, got.TotalPayment, got.TotalRest, want.TotalSum, want.TotalPayment, want.TotalRest)
	}
	for i := range want.Goods {
		if got.Goods[i].Sum != want.Goods[i].Sum || got.Goods[i].Quantity != want.Goods[i].Quantity || got.Goods[i].Good.Code != want.Goods[i].Good.Code {
			t.Errorf("line %d: %+v, want %+v", i, got.Goods[i], want.Goods[i])
		}
	}
	if len(got.Discounts) != 1 || got.Discounts[0].Sum != want.Discounts[0].Sum {
		t.Errorf("discounts %+v, want %+v", got.Discounts, want.Discounts)
	}
	if got.Type != "SELL" || got.Status != "DONE" || got.Serial != 1 || !strings.HasPrefix(*got.FiscalCode, "TEST") ||
		got.Shift.Status != "OPENED" || got.ShiftID != got.Shift.ID || got.Payments[0].Type != "CASHLESS" || got.Payments[0].Label != "Картка" {
		t.Errorf("receipt %+v", got)
	}
}

func sellBody(mod func(m map[string]any)) map[string]any {
	m := map[string]any{
		"goods": []any{
			map[string]any{"good": map[string]any{"code": "B-1", "name": "Книга", "price": 12345}, "quantity": 1500},
		},
		"payments": []any{map[string]any{"type": "CASH", "value": 20000}},
	}
	if mod != nil {
		mod(m)
	}
	return m
}

func line0(m map[string]any) map[string]any { return m["goods"].([]any)[0].(map[string]any) }

func TestSellValidation(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(m map[string]any)
		status int    // 0: refused by a rule, a 422 with a value_error entry
		want   string // 422 detail entry, or a piece of the refusal's message
	}{
		{"no goods", func(m map[string]any) { delete(m, "goods") }, 422, "body.goods:missing"},
		{"empty goods", func(m map[string]any) { m["goods"] = []any{} }, 422, "body.goods:too_short"},
		{"zero quantity", func(m map[string]any) { line0(m)["quantity"] = 0 }, 422, "body.goods.0.quantity:greater_than"},
		{"fractional quantity", func(m map[string]any) { line0(m)["quantity"] = 1.5 }, 422, "body.goods.0.quantity:int_from_float"},
		{"no price", func(m map[string]any) { delete(line0(m)["good"].(map[string]any), "price") }, 422, "body.goods.0.good.price:missing"},
		{"empty code", func(m map[string]any) { line0(m)["good"].(map[string]any)["code"] = "" }, 422, "body.goods.0.good.code:string_too_short"},
		{"bad id", func(m map[string]any) { m["id"] = "42" }, 422, "body.id:uuid_parsing"},
		{"bad payment type", func(m map[string]any) { m["payments"] = []any{map[string]any{"type": "CRYPTO", "value": 1}} }, 422, "body.payments.0.type:enum"},
		{"bad discount mode", func(m map[string]any) {
			m["discounts"] = []any{map[string]any{"type": "DISCOUNT", "mode": "HALF", "value": 1}}
		}, 422, "body.discounts.0.mode:enum"},
		{"negative discount", func(m map[string]any) {
			m["discounts"] = []any{map[string]any{"type": "DISCOUNT", "mode": "VALUE", "value": -1}}
		}, 422, "body.discounts.0.value:greater_than_equal"},
		{"bad phone", func(m map[string]any) { m["delivery"] = map[string]any{"phone": "0501234567"} }, 422, "body.delivery.phone:string_pattern_mismatch"},
		{"unknown tax", func(m map[string]any) { line0(m)["good"].(map[string]any)["tax"] = []int{5} }, 422, "body.goods.0.good.tax:value_error"},
		{"underpaid", func(m map[string]any) { m["payments"] = []any{map[string]any{"value": 100}} }, 0, "менша"},
		{"card over total", func(m map[string]any) { m["payments"] = []any{map[string]any{"type": "CASHLESS", "value": 20000}} }, 0, "Безготівкова"},
		{"no payment", func(m map[string]any) { delete(m, "payments") }, 0, "оплат"},
		{"discount over line", func(m map[string]any) {
			line0(m)["discounts"] = []any{map[string]any{"type": "DISCOUNT", "mode": "PERCENT", "value": 150}}
		}, 0, "перевищує"},
		{"unknown sale returned", func(m map[string]any) {
			line0(m)["is_return"] = true
			m["related_receipt_id"] = "00000000-0000-4000-8000-000000000000"
		}, 0, "не знайдено"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			en := signedIn(t, Config{})
			r := en.must(422, "POST", "/api/v1/receipts/sell", sellBody(tt.mod))
			d := r.detail(t)
			if tt.status == 422 && !contains(d, tt.want) {
				t.Errorf("detail %v, want %s", d, tt.want)
			}
			if tt.status == 0 && (len(d) != 1 || !strings.HasSuffix(d[0], ":value_error") || !strings.Contains(r.message(t), tt.want)) {
				t.Errorf("refusal %s, want a value_error mentioning %q", r.body, tt.want)
			}
			if len(en.e.Receipts()) != 0 {
				t.Error("a refused receipt was stored")
			}
		})
	}
}

func TestSellSums(t *testing.T) {
	en := signedIn(t, Config{})
	en.addGood("B-1", "Книга", 12345, 2) // ПДВ 7 %
	body := sellBody(func(m map[string]any) {
		l := line0(m)
		l["discounts"] = []any{map[string]any{"type": "DISCOUNT", "mode": "PERCENT", "value": 10}}
		m["id"] = "6F1C2A64-9A0B-4C5D-8E7F-001122334455"
		m["context"] = map[string]any{"order": "BAS-17"}
	})
	var r receiptJSON
	en.must(201, "POST", "/api/v1/receipts/sell", body).decode(t, &r)
	// 12345 × 1.5 = 18517.5 → 18518; 10 % = 1851.8 → 1852; sum 16666; VAT 7 % inside: 16666×7/107 = 1090.3 → 1090.
	l := r.Goods[0]
	if l.Sum != 16666 || l.Discounts[0].Sum != -1852 || l.Taxes[0].Value != 1090 || l.Taxes[0].Code != 2 || l.GoodID == nil {
		t.Errorf("line %+v", l)
	}
	if r.ID != "6f1c2a64-9a0b-4c5d-8e7f-001122334455" || r.TotalSum != 16666 || r.TotalPayment != 20000 || r.TotalRest != 3334 || r.Taxes[0].Value != 1090 {
		t.Errorf("receipt id %s totals %d/%d/%d taxes %+v", r.ID, r.TotalSum, r.TotalPayment, r.TotalRest, r.Taxes)
	}
	if r.Context["order"] != "BAS-17" || *r.CashierID != en.e.apiUser.id {
		t.Errorf("context %v cashier %v", r.Context, r.CashierID)
	}
	if m := en.must(422, "POST", "/api/v1/receipts/sell", body).message(t); !strings.Contains(m, "вже існує") {
		t.Errorf("duplicate id: %q", m)
	}
	var got receiptJSON
	en.must(200, "GET", "/api/v1/receipts/"+r.ID, nil).decode(t, &got)
	if got.ID != r.ID || got.TotalSum != r.TotalSum {
		t.Errorf("GET answered %+v", got)
	}
	en.must(404, "GET", "/api/v1/receipts/00000000-0000-4000-8000-000000000000", nil)
	en.must(404, "GET", "/api/v1/receipts/abcdefghijk", nil)
	en.must(422, "GET", "/api/v1/receipts/short", nil)
}

func TestShifts(t *testing.T) {
	en := signedIn(t, Config{})
	if r := en.must(200, "GET", "/api/v1/cashier/shift", nil); string(r.body) != "null" {
		t.Fatalf("shift before any sale: %s", r.body)
	}
	// A sale opens a shift; the next one uses it.
	var a, b receiptJSON
	en.must(201, "POST", "/api/v1/receipts/sell", sellBody(nil)).decode(t, &a)
	en.must(201, "POST", "/api/v1/receipts/sell", sellBody(nil)).decode(t, &b)
	if a.ShiftID != b.ShiftID || a.Serial != 1 || b.Serial != 2 || a.Shift.Serial != 1 || *a.FiscalCode == *b.FiscalCode {
		t.Errorf("serials %d %d shifts %s %s", a.Serial, b.Serial, a.ShiftID, b.ShiftID)
	}
	var s shiftJSON
	en.must(200, "GET", "/api/v1/cashier/shift", nil).decode(t, &s)
	if s.ID != a.ShiftID || s.Status != "OPENED" || s.CashRegister == nil || s.Balance.CashSales != 2*18518 {
		t.Errorf("open shift %+v", s)
	}
	// Opening a second one is refused; after the day's closing a new one opens.
	en.must(422, "POST", "/api/v1/shifts", nil, "X-License-Key", en.licence())
	en.e.CloseShifts()
	en.must(200, "GET", "/api/v1/cashier/shift", nil)
	var opened shiftJSON
	en.must(202, "POST", "/api/v1/shifts", map[string]string{"id": "0d2f5b7e-1111-4222-8333-444455556666"}, "X-License-Key", en.licence()).decode(t, &opened)
	if opened.Status != "OPENING" || opened.Serial != 2 || opened.Cashier == nil {
		t.Errorf("POST /shifts %+v", opened)
	}
	en.must(200, "GET", "/api/v1/shifts/"+opened.ID, nil).decode(t, &s)
	if s.Status != "OPENED" {
		t.Errorf("shift after opening: %s", s.Status)
	}
	var list pageJSON[shiftJSON]
	en.must(200, "GET", "/api/v1/shifts?statuses=CLOSED&desc=true", nil).decode(t, &list)
	if len(list.Results) != 1 || list.Results[0].ID != a.ShiftID || list.Results[0].ClosedAt == nil {
		t.Errorf("closed shifts %+v", list.Results)
	}
	en.must(422, "GET", "/api/v1/shifts?statuses=DONE", nil)

	var regs pageJSON[detailedRegisterJSON]
	en.must(200, "GET", "/api/v1/cash-registers?in_use=true", nil).decode(t, &regs)
	if len(regs.Results) != 1 || regs.Results[0].Shift == nil || regs.Results[0].Shift.ID != opened.ID || !regs.Results[0].IsTest {
		t.Errorf("registers in use %+v", regs.Results)
	}
	en.must(200, "GET", "/api/v1/cash-registers?in_use=false", nil).decode(t, &regs)
	if len(regs.Results) != 0 {
		t.Errorf("free registers %+v", regs.Results)
	}
}

// searchEnv has two registers and receipts of both cashiers at known times.
func searchEnv(t *testing.T, cfg Config) (*env, []checkbox.Receipt) {
	t.Helper()
	cfg.Registers = []Register{{BranchID: "aaaaaaaa-0000-4000-8000-000000000001"}, {}}
	en := signedIn(t, cfg)
	en.addGood("B-1", "Книга", 10000)
	regs := en.e.Registers()
	t0 := en.clock.Now().Truncate(time.Second) // fiscal dates are whole seconds
	var out []checkbox.Receipt
	for i, s := range []Sale{
		{At: t0.Add(1 * time.Minute)},
		{At: t0.Add(2 * time.Minute), RegisterID: regs[1].ID},
		{At: t0.Add(3 * time.Minute), ByAPICashier: true},
		{At: t0.Add(4 * time.Minute), RegisterID: regs[1].ID, Payment: "CASHLESS"},
	} {
		s.Lines = []SaleLine{{Code: "B-1", Quantity: int64(1000 * (i + 1))}}
		r, err := en.e.Sell(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return en, out
}

func TestSearchReceipts(t *testing.T) {
	en, rs := searchEnv(t, Config{})
	t0 := en.clock.Now().Truncate(time.Second)
	ts := func(d time.Duration) string { return url.QueryEscape(t0.Add(d).Format(time.RFC3339Nano)) }
	kyiv := url.QueryEscape(t0.Add(2 * time.Minute).In(time.FixedZone("EET", 2*3600)).Format("2006-01-02T15:04:05-07:00"))
	regs := en.e.Registers()
	tests := []struct {
		name  string
		query string
		want  []int // indexes into rs, in order
	}{
		{"self receipts by default", "", []int{2}},
		{"everyone's", "self_receipts=false", []int{0, 1, 2, 3}},
		{"desc", "self_receipts=false&desc=true", []int{3, 2, 1, 0}},
		{"from inclusive", "self_receipts=false&from_date=" + ts(2*time.Minute), []int{1, 2, 3}},
		{"to exclusive", "self_receipts=false&to_date=" + ts(2*time.Minute), []int{0}},
		{"window with an offset", "self_receipts=false&from_date=" + kyiv + "&to_date=" + ts(4*time.Minute), []int{1, 2}},
		{"one register", "self_receipts=false&cash_register_id=" + regs[1].ID, []int{1, 3}},
		{"repeated keys", "self_receipts=false&cash_register_id=" + regs[1].ID + "&cash_register_id=" + regs[0].ID, []int{0, 1, 2, 3}},
		{"branch", "self_receipts=false&branch_id=" + regs[0].BranchID, []int{0, 2}},
		{"shift", "self_receipts=false&shift_id=" + rs[0].ShiftID, []int{0}},
		{"fiscal code", "self_receipts=false&fiscal_code=" + rs[3].FiscalCode, []int{3}},
		{"page", "self_receipts=false&limit=2&offset=1", []int{1, 2}},
		{"past the end", "self_receipts=false&offset=4", nil},
		{"limit 100", "self_receipts=false&limit=100", []int{0, 1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p pageJSON[receiptJSON]
			en.must(200, "GET", "/api/v1/receipts/search?"+tt.query, nil).decode(t, &p)
			var got []int
			for _, r := range p.Results {
				for i, x := range rs {
					if x.ID == r.ID {
						got = append(got, i)
					}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got receipts %v, want %v", got, tt.want)
			}
		})
	}
	bad := []struct{ query, want string }{
		{"limit=101", "query.limit:less_than_equal"},
		{"limit=0", "query.limit:greater_than"},
		{"offset=-5", "query.offset:greater_than_equal"},
		{"from_date=yesterday", "query.from_date:datetime_from_date_parsing"},
		{"from_date=2026-03-02T09:00:00 02:00", "query.from_date:datetime_from_date_parsing"}, // an unescaped "+"
		{"self_receipts=maybe", "query.self_receipts:bool_parsing"},
		{"cash_register_id=1", "query.cash_register_id.0:uuid_parsing"},
	}
	for _, tt := range bad {
		t.Run(tt.query, func(t *testing.T) {
			if d := en.must(422, "GET", "/api/v1/receipts/search?"+strings.ReplaceAll(tt.query, " ", "%20"), nil).detail(t); !contains(d, tt.want) {
				t.Errorf("detail %v, want %s", d, tt.want)
			}
		})
	}
	var p pageJSON[receiptJSON]
	en.must(200, "GET", "/api/v1/receipts/search?self_receipts=false", nil).decode(t, &p)
	if p.Meta != (metaJSON{25, 0}) {
		t.Errorf("default meta %+v", p.Meta)
	}
}

func TestListReceipts(t *testing.T) {
	en, rs := searchEnv(t, Config{})
	tests := []struct {
		name, query string
		want        []int
	}{
		{"the cashier's open shift", "", []int{2}},
		{"by serial, every register", "serial=1", []int{0, 1}},
		{"by fiscal code", "fiscal_code=" + rs[3].FiscalCode, []int{3}},
		{"desc", "serial=1&desc=true", []int{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p pageJSON[receiptJSON]
			en.must(200, "GET", "/api/v1/receipts?"+tt.query, nil).decode(t, &p)
			var got []int
			for _, r := range p.Results {
				for i, x := range rs {
					if x.ID == r.ID {
						got = append(got, i)
					}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got receipts %v, want %v", got, tt.want)
			}
		})
	}
	en.must(422, "GET", "/api/v1/receipts?serial=1&fiscal_code=X", nil)
	en.must(422, "GET", "/api/v1/receipts?limit=101", nil)
}

func TestShortSearch(t *testing.T) {
	en, rs := searchEnv(t, Config{ShortSearch: true})
	var p struct {
		Results []map[string]json.RawMessage `json:"results"`
	}
	en.must(200, "GET", "/api/v1/receipts/search?self_receipts=false", nil).decode(t, &p)
	if len(p.Results) != len(rs) {
		t.Fatalf("%d results", len(p.Results))
	}
	for _, r := range p.Results {
		if _, ok := r["created_at"]; ok || string(r["goods"]) != "[]" || r["organization_id"] == nil || r["cash_register"] == nil {
			t.Errorf("not the short form: %v", r)
		}
	}
	// The full receipt is still there by id.
	var full receiptJSON
	en.must(200, "GET", "/api/v1/receipts/"+rs[0].ID, nil).decode(t, &full)
	if len(full.Goods) != 1 {
		t.Errorf("full receipt %+v", full)
	}
}

// TestOfflineReceiptVisibleLate: a receipt made offline at 10:10 reaches Checkbox at 11:30. A poll of
// [10:00, 11:00) made at 11:00 cannot see it; by fiscal_date it appears in that same window later, by
// created_at it appears only in a later window.
func TestOfflineReceiptVisibleLate(t *testing.T) {
	tests := []struct {
		searchBy         string
		inOldWindow      bool
		inCurrentWindow  bool
		wantCreatedAfter bool
	}{
		{SearchByFiscalDate, true, false, true},
		{SearchByCreatedAt, false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.searchBy, func(t *testing.T) {
			en := signedIn(t, Config{SearchBy: tt.searchBy})
			en.addGood("B-1", "Книга", 10000)
			t0 := en.clock.Now().Truncate(time.Hour) // 09:00
			window := func(from, to time.Time) int {
				var p pageJSON[receiptJSON]
				q := url.Values{"self_receipts": {"false"}, "from_date": {from.Format(time.RFC3339)}, "to_date": {to.Format(time.RFC3339)}}
				en.must(200, "GET", "/api/v1/receipts/search?"+q.Encode(), nil).decode(t, &p)
				return len(p.Results)
			}
			en.clock.Add(time.Hour) // 10:00
			if n := window(t0, t0.Add(time.Hour)); n != 0 {
				t.Fatalf("%d receipts before the sale", n)
			}
			en.clock.Add(90 * time.Minute) // 11:30: the register comes back online
			r, err := en.e.Sell(Sale{Lines: []SaleLine{{Code: "B-1", Quantity: 1000}}, At: t0.Add(70 * time.Minute), Offline: true})
			if err != nil {
				t.Fatal(err)
			}
			if !r.IsCreatedOffline || !r.FiscalDate.Equal(t0.Add(70*time.Minute)) || !r.CreatedAt.After(*r.FiscalDate) {
				t.Errorf("offline receipt %+v", r)
			}
			if got := window(t0.Add(time.Hour), t0.Add(2*time.Hour)) == 1; got != tt.inOldWindow {
				t.Errorf("in the window of its fiscal date: %v", got)
			}
			if got := window(t0.Add(2*time.Hour), t0.Add(3*time.Hour)) == 1; got != tt.inCurrentWindow {
				t.Errorf("in the window of its arrival: %v", got)
			}
		})
	}
}

func TestReturn(t *testing.T) {
	en := signedIn(t, Config{})
	importGoods(t, en, "auto_supply=true", `{"goods":[{"good_name":"Книга","code":"B-1","price":"100.00","taxes":"Б","leftovers":10},{"good_name":"Сир","code":"W-1","price":"300.00","is_weight":true,"leftovers":5}]}`)
	sale, err := en.e.Sell(Sale{Payment: "CASHLESS", Lines: []SaleLine{
		{Code: "B-1", Quantity: 3000, DiscountPercent: 10}, // 30000 − 3000 = 27000
		{Code: "W-1", Quantity: 1250},                      // 37500
	}})
	if err != nil {
		t.Fatal(err)
	}
	if sale.TotalSum != 64500 || sale.Type != checkbox.ReceiptSell {
		t.Fatalf("sale %+v", sale)
	}
	if n, _ := en.e.Stock("B-1"); n != 7000 {
		t.Errorf("stock after sale %d", n)
	}

	ret, err := en.e.Return(sale.ID, []SaleLine{{Code: "B-1", Quantity: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	l := ret.Goods[0]
	if ret.Type != checkbox.ReceiptReturn || ret.RelatedReceiptID != sale.ID || !l.IsReturn || l.Quantity != 1000 || l.Sum != 9000 ||
		ret.TotalSum != 9000 || ret.Payments[0].Type != "CASHLESS" || ret.Payments[0].Value != 9000 || ret.Serial != sale.Serial+1 ||
		len(l.Taxes) != 1 || l.Taxes[0].Code != 2 {
		t.Errorf("return %+v", ret)
	}
	if n, _ := en.e.Stock("B-1"); n != 8000 {
		t.Errorf("stock after return %d", n)
	}
	if _, err := en.e.Return(sale.ID, []SaleLine{{Code: "B-1", Quantity: 3000}}); err == nil {
		t.Error("returned more than was sold")
	}
	if _, err := en.e.Return(ret.ID, nil); err == nil {
		t.Error("returned a return")
	}
	rest, err := en.e.Return(sale.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rest.TotalSum != 64500-9000 || len(rest.Goods) != 2 {
		t.Errorf("rest returned %+v", rest)
	}
	if _, err := en.e.Return(sale.ID, nil); err == nil {
		t.Error("returned twice")
	}

	// The same return through the API: positive quantities with is_return and the related sale.
	sale2, _ := en.e.Sell(Sale{Lines: []SaleLine{{Code: "B-1", Quantity: 1000}}})
	var r receiptJSON
	en.must(201, "POST", "/api/v1/receipts/sell", map[string]any{
		"related_receipt_id": sale2.ID,
		"goods":              []any{map[string]any{"good": map[string]any{"code": "B-1", "name": "Книга", "price": 10000}, "quantity": 1000, "is_return": true}},
		"payments":           []any{map[string]any{"type": "CASH", "value": 10000}},
	}).decode(t, &r)
	if r.Type != "RETURN" || *r.RelatedReceiptID != sale2.ID || r.TotalSum != 10000 {
		t.Errorf("API return %+v", r)
	}
	en.must(422, "POST", "/api/v1/receipts/sell", map[string]any{
		"goods": []any{
			map[string]any{"good": map[string]any{"code": "B-1", "name": "Книга", "price": 10000}, "quantity": 1000, "is_return": true},
			map[string]any{"good": map[string]any{"code": "B-1", "name": "Книга", "price": 10000}, "quantity": 1000},
		},
		"payments": []any{map[string]any{"value": 10000}},
	})
}

func TestSellErrors(t *testing.T) {
	en := signedIn(t, Config{})
	en.addGood("B-1", "Книга", 10000)
	tests := []Sale{
		{},
		{Lines: []SaleLine{{Code: "NOPE", Quantity: 1000}}},
		{Lines: []SaleLine{{Code: "B-1", Quantity: 0}}},
		{Lines: []SaleLine{{Code: "B-1", Quantity: 1000}}, Payment: "BARTER"},
		{Lines: []SaleLine{{Code: "B-1", Quantity: 1000}}, RegisterID: "nope"},
		{Lines: []SaleLine{{Code: "B-1", Quantity: 1000}}, Offline: true},
	}
	for i, s := range tests {
		if _, err := en.e.Sell(s); err == nil {
			t.Errorf("sale %d accepted: %+v", i, s)
		}
	}
	// A good typed in at the till needs a name and a price, and then sells.
	r, err := en.e.Sell(Sale{Lines: []SaleLine{{Code: "HAND-1", Name: "Листівка", Price: 2500, Quantity: 2000}}, Tendered: 10000})
	if err != nil || r.Goods[0].GoodID != "" || r.TotalSum != 5000 || r.TotalRest != 5000 {
		t.Errorf("hand-made good: %+v %v", r, err)
	}
}

func TestGenerateSales(t *testing.T) {
	run := func() []checkbox.Receipt {
		en := signedIn(t, Config{Seed: 7})
		importGoods(t, en, "auto_supply=true", `{"goods":[
			{"good_name":"Книга","code":"B-1","price":"100.00","taxes":"З","leftovers":100},
			{"good_name":"Зошит","code":"B-2","price":"25.50","taxes":"А"},
			{"good_name":"Кава","code":"W-1","price":"520.00","is_weight":true}]}`)
		rs, err := en.e.GenerateSales(rand.New(rand.NewPCG(1, 2)), 20, 4)
		if err != nil {
			t.Fatal(err)
		}
		if all := en.e.Receipts(); len(all) != len(rs) {
			t.Errorf("Receipts() has %d, GenerateSales returned %d", len(all), len(rs))
		}
		return rs
	}
	a, b := run(), run()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Error("same seed, clock and generator gave different receipts")
	}
	kinds := map[string]int{}
	for _, r := range a {
		kinds[r.Type]++
		kinds[r.Payments[0].Type]++
		if r.Type == checkbox.ReceiptReturn && r.RelatedReceiptID == "" {
			t.Errorf("return without its sale: %+v", r)
		}
	}
	if len(a) != 20 || kinds["RETURN"] != 5 || kinds["SELL"] != 15 || kinds["CASH"] == 0 || kinds["CASHLESS"] == 0 {
		t.Errorf("kinds %v of %d", kinds, len(a))
	}
	en := signedIn(t, Config{})
	if _, err := en.e.GenerateSales(rand.New(rand.NewPCG(1, 2)), 1, 0); err == nil {
		t.Error("sales from an empty catalogue")
	}
}

// TestReceiptGolden pins the JSON of a receipt as GET /receipts/{id} writes it.
func TestReceiptGolden(t *testing.T) {
	en := signedIn(t, Config{Seed: 1})
	en.addGood("B-1", "Кобзар", 35000, 8)
	en.addGood("W-1", "Кава мелена", 52000, 1)
	r, err := en.e.Sell(Sale{Payment: "CASHLESS", Lines: []SaleLine{{Code: "B-1", Quantity: 2000, DiscountValue: 1000}, {Code: "W-1", Quantity: 250}}})
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "receipt.golden.json"), indent(t, en.must(200, "GET", "/api/v1/receipts/"+r.ID, nil).body))
	golden.Assert(t, filepath.Join("testdata", "goods.golden.json"), indent(t, en.must(200, "GET", "/api/v1/goods", nil).body))
}
