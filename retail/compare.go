package retail

import (
	"fmt"
	"slices"
	"strings"

	"obmin/basodata"
	"obmin/checkbox"
)

// Compare says how a report BAS holds differs from the receipts of its shift, in what BAS accounts
// for: the total (the money taken), the quantity of each good and characteristic sold less returned,
// the quantity returned, and the card payments. goods gives BAS's item and characteristic of a
// Checkbox good code. No difference is an empty list. It reads the report as BAS answers it, so the
// torture harness and the end-to-end tests use it to check BAS's side, not obmin's intent.
func Compare(receipts []checkbox.Receipt, rep basodata.Report, goods func(code string) (item, char string, ok bool)) []string {
	type key struct{ item, char string }
	var diffs []string
	wantQty, wantRet := map[key]int64{}, map[key]int64{}
	var total, cards int64
	for _, r := range receipts {
		if r.Status != checkbox.StatusDone || (r.Type != checkbox.ReceiptSell && r.Type != checkbox.ReceiptReturn) {
			continue
		}
		sign := int64(1)
		if r.Type == checkbox.ReceiptReturn {
			sign = -1
		}
		total += sign * abs(r.TotalSum)
		for _, p := range r.Payments {
			if p.Type != "CASH" {
				cards += sign * abs(p.Value)
			}
		}
		for _, l := range r.Goods {
			item, char, ok := goods(l.Good.Code)
			if !ok {
				diffs = append(diffs, fmt.Sprintf("receipt %s: good %s unknown to BAS", r.ID, l.Good.Code))
				continue
			}
			k := key{strings.ToLower(item), strings.ToLower(char)}
			wantQty[k] += sign * abs(l.Quantity)
			if sign < 0 {
				wantRet[k] += abs(l.Quantity)
			}
		}
	}
	gotQty, gotRet := map[key]int64{}, map[key]int64{}
	for _, row := range rep.Stock {
		k := key{strings.ToLower(row.Good), strings.ToLower(row.Characteristic)}
		if basodata.IsEmptyRef(k.char) {
			k.char = ""
		}
		gotQty[k] += int64(row.Quantity)
		gotRet[k] += int64(row.Returned)
	}
	if int64(rep.Total) != total {
		diffs = append(diffs, fmt.Sprintf("total %s, the receipts took %s", rep.Total, basodata.Amount(total)))
	}
	var gotCards int64
	for _, c := range rep.Cards {
		gotCards += int64(c.Sum)
	}
	if gotCards != cards {
		diffs = append(diffs, fmt.Sprintf("card payments %s, the receipts were paid %s by card", basodata.Amount(gotCards), basodata.Amount(cards)))
	}
	keys := map[key]bool{}
	for _, m := range []map[key]int64{wantQty, gotQty, wantRet, gotRet} {
		for k := range m {
			keys[k] = true
		}
	}
	for k := range keys {
		name := k.item
		if k.char != "" {
			name += "#" + k.char
		}
		if wantQty[k] != gotQty[k] {
			diffs = append(diffs, fmt.Sprintf("good %s: quantity %s, the receipts %s", name, basodata.Quantity(gotQty[k]), basodata.Quantity(wantQty[k])))
		}
		if wantRet[k] != gotRet[k] {
			diffs = append(diffs, fmt.Sprintf("good %s: returned %s, the receipts %s", name, basodata.Quantity(gotRet[k]), basodata.Quantity(wantRet[k])))
		}
	}
	slices.Sort(diffs)
	return diffs
}
