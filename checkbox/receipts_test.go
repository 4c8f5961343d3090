package checkbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"obmin/internal/golden"
	"obmin/internal/testenv"
)

func receiptJSON(i int) map[string]any {
	return map[string]any{
		"id": fmt.Sprintf("r-%04d", i), "type": "SELL", "status": "DONE", "serial": i,
		"goods": []any{}, "payments": []any{}, "taxes": []any{},
		"total_sum": 100, "total_payment": 100, "total_rest": 0,
		"created_at": "2026-03-02T09:15:41.987654+00:00", "shift_id": "s1",
		"shift": map[string]any{"id": "s1", "serial": 1, "status": "OPENED", "cash_register": map[string]any{"id": "cr1"}},
	}
}

// receiptStore serves GET /api/v1/receipts/search over n receipts, checking the fixed parameters.
func receiptStore(t *testing.T, n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("self_receipts") != "false" || q.Get("limit") != "100" || q.Get("desc") != "false" {
			t.Errorf("search query %q: want self_receipts=false, limit=100, desc=false", r.URL.RawQuery)
		}
		offset, _ := strconv.Atoi(q.Get("offset"))
		results := []any{}
		for i := offset; i < min(offset+100, n); i++ {
			results = append(results, receiptJSON(i))
		}
		writeJSON(w, http.StatusOK, map[string]any{"meta": map[string]int{"limit": 100, "offset": offset}, "results": results})
	}
}

func TestSearchReceiptsWalksEveryPage(t *testing.T) {
	tests := []struct {
		n           int
		wantOffsets []string
	}{
		{250, []string{"0", "100", "200"}},
		{200, []string{"0", "100", "200"}},
		{99, []string{"0"}},
		{0, []string{"0"}},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.n), func(t *testing.T) {
			api := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/receipts/search": receiptStore(t, tt.n)})
			c, _ := newTestClient(t, api.URL, nil)
			var got []string
			err := c.SearchReceipts(context.Background(), ReceiptQuery{}, func(r Receipt) error {
				got = append(got, r.ID)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.n {
				t.Fatalf("got %d receipts, want %d", len(got), tt.n)
			}
			for i, id := range got {
				if id != fmt.Sprintf("r-%04d", i) {
					t.Fatalf("receipt %d is %s", i, id)
				}
			}
			var offsets []string
			for _, r := range api.requests() {
				if r.Path == "/api/v1/receipts/search" {
					offsets = append(offsets, parseQuery(t, r.RawQuery).Get("offset"))
				}
			}
			if fmt.Sprint(offsets) != fmt.Sprint(tt.wantOffsets) {
				t.Errorf("offsets %v, want %v", offsets, tt.wantOffsets)
			}
		})
	}
}

func TestSearchReceiptsQuery(t *testing.T) {
	kyiv := time.FixedZone("EET", 2*3600)
	tests := []struct {
		name     string
		q        ReceiptQuery
		want     map[string][]string
		wantRaw  []string // substrings of the raw query
		absent   []string
		wantDesc string
	}{
		{
			name: "window and two registers",
			q: ReceiptQuery{
				From:            time.Date(2026, 3, 1, 0, 0, 0, 0, kyiv),
				To:              time.Date(2026, 3, 2, 0, 0, 0, 123456789, time.UTC),
				CashRegisterIDs: []string{"cr-a", "cr-b"},
			},
			want: map[string][]string{
				"from_date":        {"2026-03-01T00:00:00+02:00"},
				"to_date":          {"2026-03-02T00:00:00.123456+00:00"},
				"cash_register_id": {"cr-a", "cr-b"},
				"self_receipts":    {"false"},
				"desc":             {"false"},
				"limit":            {"100"},
			},
			wantRaw: []string{"cash_register_id=cr-a&cash_register_id=cr-b", "from_date=2026-03-01T00%3A00%3A00%2B02%3A00"},
		},
		{
			name:   "open window, every register, newest first",
			q:      ReceiptQuery{Desc: true},
			want:   map[string][]string{"desc": {"true"}, "self_receipts": {"false"}},
			absent: []string{"from_date", "to_date", "cash_register_id"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(t, map[string]http.HandlerFunc{
				"GET /api/v1/receipts/search": func(w http.ResponseWriter, r *http.Request) {
					writeJSON(w, http.StatusOK, map[string]any{"meta": map[string]int{"limit": 100}, "results": []any{}})
				},
			})
			c, _ := newTestClient(t, api.URL, nil)
			if err := c.SearchReceipts(context.Background(), tt.q, func(Receipt) error { return nil }); err != nil {
				t.Fatal(err)
			}
			raw := api.requests()[1].RawQuery
			q := parseQuery(t, raw)
			for k, v := range tt.want {
				if fmt.Sprint(q[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %v, want %v (query %s)", k, q[k], v, raw)
				}
			}
			for _, s := range tt.wantRaw {
				if !strings.Contains(raw, s) {
					t.Errorf("raw query %s lacks %s", raw, s)
				}
			}
			for _, k := range tt.absent {
				if q.Has(k) {
					t.Errorf("query has %s: %s", k, raw)
				}
			}
		})
	}
}

func TestSearchReceiptsFetchesShortForms(t *testing.T) {
	short := map[string]any{ // ShortReceiptDTO: no created_at, untyped goods
		"id": "short-1", "fiscal_date": "2026-03-02T09:15:42+00:00", "organization_id": "o1", "status": "DONE", "type": "SELL",
		"serial": 7, "goods": []any{map[string]any{"name": "Кобзар"}}, "cash_register": map[string]any{"id": "cr1", "fiscal_number": "TEST511111"},
		"shift": map[string]any{"id": "s1", "serial": 1}, "payments": []any{}, "total_sum": 25000, "total_payment": 25000, "total_rest": 0, "round_sum": 0,
	}
	odd := receiptJSON(2) // a full-looking receipt whose goods are not GoodItemModel
	odd["id"] = "odd-2"
	odd["goods"] = []any{"Кобзар"}
	full := func(id string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			rec := receiptJSON(1)
			rec["id"] = id
			rec["goods"] = []any{map[string]any{"good": map[string]any{"code": "K", "name": "Кобзар", "price": 25000}, "sum": 25000, "quantity": 1000, "is_return": false, "taxes": []any{}}}
			writeJSON(w, http.StatusOK, rec)
		}
	}
	api := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/receipts/search": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"meta": map[string]int{"limit": 100}, "results": []any{short, receiptJSON(0), odd}})
		},
		"GET /api/v1/receipts/short-1": full("short-1"),
		"GET /api/v1/receipts/odd-2":   full("odd-2"),
	})
	c, _ := newTestClient(t, api.URL, nil)
	var got []Receipt
	if err := c.SearchReceipts(context.Background(), ReceiptQuery{}, func(r Receipt) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != "short-1" || got[1].ID != "r-0000" || got[2].ID != "odd-2" {
		t.Fatalf("receipts %+v", got)
	}
	if len(got[0].Goods) != 1 || got[0].Goods[0].Good.Code != "K" || len(got[2].Goods) != 1 {
		t.Fatalf("short forms were not replaced by whole receipts: %+v", got)
	}
	if api.count("GET /api/v1/receipts/short-1") != 1 || api.count("GET /api/v1/receipts/odd-2") != 1 || api.count("GET /api/v1/receipts/r-0000") != 0 {
		t.Fatalf("requests %v", paths(api.requests()))
	}
}

func TestSearchReceiptsStopsOnCallbackError(t *testing.T) {
	api := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/receipts/search": receiptStore(t, 250)})
	c, _ := newTestClient(t, api.URL, nil)
	stop := fmt.Errorf("disk full")
	n := 0
	err := c.SearchReceipts(context.Background(), ReceiptQuery{}, func(Receipt) error {
		n++
		if n == 150 {
			return stop
		}
		return nil
	})
	if err != stop || n != 150 || api.count("GET /api/v1/receipts/search") != 2 {
		t.Fatalf("error %v after %d receipts and %d pages", err, n, api.count("GET /api/v1/receipts/search"))
	}
}

func TestCashRegisters(t *testing.T) {
	var mu sync.Mutex
	var offsets []string
	api := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/cash-registers": func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			mu.Lock()
			offsets = append(offsets, q.Get("offset"))
			mu.Unlock()
			results := []any{}
			if q.Get("offset") == "0" {
				results = append(results,
					map[string]any{"id": "cr1", "fiscal_number": "4000000001", "active": true, "created_at": "2025-01-10T10:00:00+00:00", "is_test": false, "number": "1", "shift": nil, "branch": nil, "address": "Київ"},
					map[string]any{"id": "cr2", "fiscal_number": "TEST511111", "active": false, "created_at": "2025-01-10T10:00:00+00:00", "is_test": true, "offline_mode": true})
			}
			writeJSON(w, http.StatusOK, map[string]any{"meta": map[string]int{"limit": 2, "offset": 0}, "results": results})
		},
	})
	c, _ := newTestClient(t, api.URL, nil)
	regs, err := c.CashRegisters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []CashRegister{
		{ID: "cr1", FiscalNumber: "4000000001", Active: true, Number: "1"},
		{ID: "cr2", FiscalNumber: "TEST511111", IsTest: true, OfflineMode: true},
	}
	if fmt.Sprint(regs) != fmt.Sprint(want) {
		t.Fatalf("registers %+v, want %+v", regs, want)
	}
	mu.Lock()
	defer mu.Unlock()
	// The server reports limit 2, so a full page of 2 is not the last one.
	if fmt.Sprint(offsets) != "[0 2]" {
		t.Fatalf("offsets %v", offsets)
	}
}

func TestReceiptPageGolden(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "receipts_page.json"))
	if err != nil {
		t.Fatal(err)
	}
	var page Page[Receipt]
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatalf("decode: %v", err)
	}
	out, err := json.MarshalIndent(page, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "receipts_page.golden.json"), append(out, '\n'))

	sell, ret := page.Results[0], page.Results[1]
	checks := []struct {
		name      string
		got, want any
	}{
		{"sell total", sell.TotalSum, int64(45250)},
		{"sell line quantity", sell.Goods[0].Quantity, int64(2000)},
		{"sell line discount", sell.Goods[0].Discounts[0].Sum, int64(-5000)},
		{"tax rate 0.0", sell.Goods[0].Taxes[0].Rate, int64(0)},
		{"tax value 41.67 rounded", sell.Taxes[0].Value, int64(42)},
		{"fiscal date", sell.When(), time.Date(2026, 3, 2, 9, 15, 42, 123456000, time.UTC)},
		{"register", sell.RegisterID(), "3a9e0c1d-0000-4000-8000-000000000003"},
		{"cashier", sell.Shift.Cashier.FullName, "Олена Петренко"},
		{"return type", ret.Type, ReceiptReturn},
		{"return related", ret.RelatedReceiptID, sell.ID},
		{"offset-less fiscal date is UTC", ret.When(), time.Date(2026, 3, 2, 11, 40, 0, 0, time.UTC)},
		{"space-separated created_at", ret.CreatedAt.UTC(), time.Date(2026, 3, 2, 9, 40, 1, 500000000, time.UTC)},
		{"return register from the shift", ret.RegisterID(), "3a9e0c1d-0000-4000-8000-000000000003"},
		{"null cashier", ret.Shift.Cashier == nil, true},
		{"null closed_at", sell.Shift.ClosedAt == nil, true},
		{"null updated_at", sell.UpdatedAt == nil, true},
	}
	for _, c := range checks {
		if g, w := fmt.Sprint(c.got), fmt.Sprint(c.want); g != w {
			t.Errorf("%s = %s, want %s", c.name, g, w)
		}
	}
}

func TestLenientTimes(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{`"2022-07-26T19:54:09+00:00"`, time.Date(2022, 7, 26, 19, 54, 9, 0, time.UTC)},
		{`"2024-03-22T16:20:09.549268+00:00"`, time.Date(2024, 3, 22, 16, 20, 9, 549268000, time.UTC)},
		{`"2024-03-22T18:20:09.549268+02:00"`, time.Date(2024, 3, 22, 16, 20, 9, 549268000, time.UTC)},
		{`"2024-03-22T16:20:09Z"`, time.Date(2024, 3, 22, 16, 20, 9, 0, time.UTC)},
		{`"2024-03-22T18:20:09+0200"`, time.Date(2024, 3, 22, 16, 20, 9, 0, time.UTC)},
		{`"2024-03-22T16:20:09.549268"`, time.Date(2024, 3, 22, 16, 20, 9, 549268000, time.UTC)},
		{`"2024-03-22T16:20:09"`, time.Date(2024, 3, 22, 16, 20, 9, 0, time.UTC)},
		{`"2024-03-22 16:20:09"`, time.Date(2024, 3, 22, 16, 20, 9, 0, time.UTC)},
		{`"2024-03-22 18:20:09.5+02:00"`, time.Date(2024, 3, 22, 16, 20, 9, 500000000, time.UTC)},
		{`null`, time.Time{}},
		{`""`, time.Time{}},
	}
	for _, tt := range tests {
		var r Receipt
		in := fmt.Sprintf(`{"id":"r","created_at":%s,"fiscal_date":%s,"shift":{"opened_at":%s}}`, tt.in, tt.in, tt.in)
		if err := json.Unmarshal([]byte(in), &r); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if !r.CreatedAt.Equal(tt.want) {
			t.Errorf("%s: created_at %v, want %v", tt.in, r.CreatedAt, tt.want)
		}
		if tt.want.IsZero() {
			if r.FiscalDate != nil || r.Shift.OpenedAt != nil {
				t.Errorf("%s: optional times %v %v, want nil", tt.in, r.FiscalDate, r.Shift.OpenedAt)
			}
		} else if r.FiscalDate == nil || !r.FiscalDate.Equal(tt.want) || r.Shift.OpenedAt == nil || !r.Shift.OpenedAt.Equal(tt.want) {
			t.Errorf("%s: optional times %v %v", tt.in, r.FiscalDate, r.Shift.OpenedAt)
		}
	}
	for _, bad := range []string{`"yesterday"`, `"2024-13-01T00:00:00Z"`, `20240322`} {
		var r Receipt
		if err := json.Unmarshal([]byte(`{"created_at":`+bad+`}`), &r); err == nil {
			t.Errorf("%s accepted as %v", bad, r.CreatedAt)
		}
	}
}

func TestFlexInt(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{`20`, 20, false},
		{`0.0`, 0, false},
		{`20.0`, 20, false},
		{`"7"`, 7, false},
		{`41.67`, 42, false},
		{`-0.5`, -1, false},
		{`null`, 0, false},
		{`1e3`, 1000, false},
		{`"x"`, 0, true},
		{`1e30`, 0, true},
	}
	for _, tt := range tests {
		var n flexInt
		err := json.Unmarshal([]byte(tt.in), &n)
		if (err != nil) != tt.wantErr || (err == nil && int64(n) != tt.want) {
			t.Errorf("%s: %d, %v; want %d (error %v)", tt.in, n, err, tt.want, tt.wantErr)
		}
	}
}

// TestCheckboxFixtures decodes the Python SDK's receipt fixtures, which Checkbox's test service
// accepted, into Receipt.
func TestCheckboxFixtures(t *testing.T) {
	dir := testenv.Shared(t, "checkbox/examples/dismine__checkbox-sdk/tests/test_data")
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		file               string
		lines              int
		firstCode          string
		firstPrice, firstQ int64
		total              int64
		discountSum        int64
		payment            string
		paymentValue       int64
	}{
		{"receipt.json", 2, "T100", 5500, 1000, 0, 0, "CASHLESS", 18200},
		{"external_receipt.json", 2, "T100", 5500, 1000, 18200, -2500, "CASHLESS", 18200},
		{"prepayment_receipt.json", 1, "T100", 15500, 1000, 0, 0, "CASHLESS", 10000},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var r Receipt
			if err := json.Unmarshal(read(tt.file), &r); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if len(r.Goods) != tt.lines || r.Goods[0].Good.Code != tt.firstCode || r.Goods[0].Good.Price != tt.firstPrice || r.Goods[0].Quantity != tt.firstQ {
				t.Fatalf("goods %+v", r.Goods)
			}
			if r.TotalSum != tt.total || len(r.Payments) != 1 || r.Payments[0].Type != tt.payment || r.Payments[0].Value != tt.paymentValue {
				t.Fatalf("totals %d, payments %+v", r.TotalSum, r.Payments)
			}
			if tt.discountSum != 0 && (len(r.Discounts) != 1 || r.Discounts[0].Sum != tt.discountSum || r.Discounts[0].Mode != "VALUE") {
				t.Fatalf("discounts %+v", r.Discounts)
			}
		})
	}
	t.Run("external_report.json taxes", func(t *testing.T) {
		var report struct {
			Taxes []Tax `json:"taxes"`
		}
		if err := json.Unmarshal(read("external_report.json"), &report); err != nil {
			t.Fatalf("decode: %v", err)
		}
		want := Tax{ID: "ed43563c-19e7-4dd8-bc50-7801cabb2d96", Code: 8, Label: "Без ПДВ", Symbol: "З", Rate: 0, NoVAT: true}
		if len(report.Taxes) != 1 || report.Taxes[0] != want {
			t.Fatalf("taxes %+v, want %+v", report.Taxes, want)
		}
	})
}

// BenchmarkDecodeReceiptPage measures decoding a search page of 100 receipts like testdata's.
func BenchmarkDecodeReceiptPage(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "receipts_page.json"))
	if err != nil {
		b.Fatal(err)
	}
	var page struct {
		Results []json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		b.Fatal(err)
	}
	items := make([]string, 100)
	for i := range items {
		items[i] = string(page.Results[i%len(page.Results)])
	}
	body := []byte(`{"meta":{"limit":100,"offset":0},"results":[` + strings.Join(items, ",") + `]}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var p Page[Receipt]
		if err := json.Unmarshal(body, &p); err != nil {
			b.Fatal(err)
		}
	}
}
