package retail_test

import (
	"slices"
	"strings"
	"testing"

	"obmin/basodata"
	"obmin/checkbox"
	"obmin/retail"
)

func TestCompare(t *testing.T) {
	rs := []checkbox.Receipt{
		receipt("s1", checkbox.ReceiptSell, 9001, []checkbox.ReceiptLine{
			line("KN-0001", 3333, 1000, 3333, 8), line("ST-0101", 3333, 1000, 3333, 1), line("TS-XL", 3334, 1000, 3334, 1),
		}, checkbox.Payment{Type: "CASH", Value: 10000}),
		receipt("s2", checkbox.ReceiptSell, 8900, []checkbox.ReceiptLine{line("ST-0101", 8900, 1000, 8900, 1)},
			checkbox.Payment{Type: "CASHLESS", Value: 8900, CardMask: "5168********0001"}),
		receipt("r1", checkbox.ReceiptReturn, 3333, []checkbox.ReceiptLine{line("ST-0101", 3333, 1000, 3333, 1)},
			checkbox.Payment{Type: "CASH", Value: 3333}),
		receipt("x", "SERVICE_IN", 50000, nil, checkbox.Payment{Type: "CASH", Value: 50000}),
	}
	res, err := retail.Build(handShift, rs, mapping(), goods)
	if err != nil || len(res.Held) > 0 {
		t.Fatalf("build: %+v %v", res, err)
	}
	ids := func(code string) (string, string, bool) {
		g, ok := testGoods[code]
		return g.Item, g.Characteristic, ok
	}
	if d := retail.Compare(rs, res.Report, ids); len(d) > 0 {
		t.Fatalf("the built report differs from its receipts: %v", d)
	}
	for _, tt := range []struct {
		name   string
		change func(r *basodata.Report)
		want   string
	}{
		{"total", func(r *basodata.Report) { r.Total++ }, "total 145.69, the receipts took 145.68"},
		{"quantity", func(r *basodata.Report) { r.Stock[0].Quantity += 1000 }, "quantity 2, the receipts 1"},
		{"returned", func(r *basodata.Report) {
			for i := range r.Stock {
				r.Stock[i].Returned = 0
			}
		}, "returned 0, the receipts 1"},
		{"card", func(r *basodata.Report) { r.Cards = nil }, "card payments 0.00, the receipts were paid 89.00 by card"},
		{"row lost", func(r *basodata.Report) {
			r.Stock = slices.DeleteFunc(r.Stock, func(row basodata.StockRow) bool { return row.Good == itemBook })
		}, "good " + itemBook + ": quantity 0, the receipts 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := res.Report
			rep.Stock = append([]basodata.StockRow(nil), res.Report.Stock...)
			rep.Cards = append([]basodata.CardRow(nil), res.Report.Cards...)
			tt.change(&rep)
			d := retail.Compare(rs, rep, ids)
			if len(d) == 0 || !strings.Contains(strings.Join(d, "\n"), tt.want) {
				t.Errorf("differences %q, want one saying %q", d, tt.want)
			}
		})
	}
}
