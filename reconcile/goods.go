package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"obmin/checkbox"
	"obmin/store"
)

// Kinds of differences in goods.
const (
	GoodMissing = "missing" // BAS exported it and Checkbox received it once; Checkbox has no good with its code now
	GoodExtra   = "extra"   // Checkbox has a good with a code obmin never sent
	GoodPrice   = "price"
	GoodName    = "name"
	GoodBarcode = "barcode"
	GoodVAT     = "vat"
	GoodStock   = "stock"
)

// seenBatch is how many codes of Checkbox's list go to the state at once.
const seenBatch = 1000

// goods compares Checkbox's goods with the ledger: every good obmin sent must be there as sent, every good
// there must be one obmin knows. The list is read once; a good's record is looked up as it comes.
func (r *Reconciler) goods(ctx context.Context, rep *Report) error {
	var sold map[string]int64
	if r.Stock {
		var err error
		if sold, err = r.Ledger.NetSoldSinceStock(ctx); err != nil {
			return err
		}
	}
	if err := r.Ledger.ForgetSeenGoods(ctx); err != nil {
		return err
	}
	g := &rep.Goods
	var batch []string
	flush := func() error {
		err := r.Ledger.SeeGoods(ctx, batch)
		batch = batch[:0]
		return err
	}
	err := r.Checkbox.AllGoods(ctx, func(cg checkbox.Good) error {
		g.InCheckbox++
		rec, known, err := r.Ledger.Good(ctx, cg.Code)
		if err != nil {
			return err
		}
		if known {
			// An old code of a good (renamed in place) counts as the good: it is compared under its code now.
			batch = append(batch, rec.Code)
			if len(batch) >= seenBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		switch {
		case !known:
			r.addGood(rep, Difference{Kind: GoodExtra, Code: cg.Code, Name: cg.Name, Got: money(cg.Price),
				Note: "Цей товар є лише в Checkbox: obmin його не надсилав. Якщо він має продаватися, заведіть його в BAS з цим артикулом і вивантажте; інакше видаліть його в Checkbox."})
		case rec.PushedHash == "" || rec.CheckboxID == "" || rec.Deleted:
			// Never sent (no price, refused), or marked deleted in BAS and left in Checkbox on purpose.
		default:
			g.Compared++
			r.compareGood(rep, rec, cg, sold)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read Checkbox's goods: %w", err)
	}
	if err := flush(); err != nil {
		return err
	}
	return r.Ledger.PushedGoodsNotSeen(ctx, func(rec store.GoodRecord) error {
		g.Compared++
		rc := rec
		p := expected(rec)
		d := Difference{Kind: GoodMissing, Code: rec.Code, Name: rec.Name, Want: money(p.Price), Fixable: true, rec: &rc,
			Note: "Товару немає в Checkbox (видалено вручну?): obmin може створити його знову (виправлення)."}
		if r.Stock && rec.PushedStock != nil {
			want := *rec.PushedStock - sold[rec.Code]
			d.stock = &want
		}
		r.addGood(rep, d)
		return nil
	})
}

// expected is what Checkbox should hold for a good: the payload it last received.
func expected(rec store.GoodRecord) checkbox.GoodPayload {
	var p checkbox.GoodPayload
	if len(rec.PushedPayload) > 0 && json.Unmarshal(rec.PushedPayload, &p) == nil {
		return p
	}
	return checkbox.GoodPayload{Code: rec.Code, Name: rec.Name, Price: rec.PushedPrice}
}

// compareGood compares one good Checkbox holds with what it last received.
func (r *Reconciler) compareGood(rep *Report, rec store.GoodRecord, cg checkbox.Good, sold map[string]int64) {
	p := expected(rec)
	rc := rec
	base := Difference{Code: rec.Code, Name: rec.Name, Fixable: true, rec: &rc}
	fix := "obmin надішле в Checkbox те, що вивантажив BAS (виправлення)."
	if p.Price != cg.Price {
		d := base
		d.Kind, d.Want, d.Got, d.Note = GoodPrice, money(p.Price), money(cg.Price), "Ціну в Checkbox змінено не з BAS: "+fix
		r.addGood(rep, d)
	}
	if p.Name != "" && p.Name != cg.Name {
		d := base
		d.Kind, d.Want, d.Got, d.Note = GoodName, p.Name, cg.Name, "Назву в Checkbox змінено не з BAS: "+fix
		r.addGood(rep, d)
	}
	if want, got := barcodes(p.Barcode, p.Barcodes), barcodes(cg.Barcode, splitList(cg.RelatedBarcodes)); !slices.Equal(want, got) {
		d := base
		d.Kind, d.Want, d.Got, d.Note = GoodBarcode, strings.Join(want, ", "), strings.Join(got, ", "), "Штрихкоди в Checkbox інші, ніж у BAS: "+fix
		r.addGood(rep, d)
	}
	if want, got := taxCodes(p.TaxCodes), goodTaxCodes(cg); len(p.TaxCodes) > 0 && !slices.Equal(want, got) {
		d := base
		d.Kind, d.Want, d.Got, d.Note = GoodVAT, "коди "+codesText(want), "коди "+codesText(got), "Податки (ПДВ) товару в Checkbox інші, ніж за налаштуванням mapping.vat: "+fix
		r.addGood(rep, d)
	}
	if r.Stock && rec.PushedStock != nil && cg.Count != nil {
		want := *rec.PushedStock - sold[rec.Code]
		if !countIs(*cg.Count, want) {
			d := base
			d.Kind, d.Want, d.Got = GoodStock, quantity(want), quantity(*cg.Count)
			d.Note = "Залишок у Checkbox не збігається з BAS за вирахуванням продажів на касі відтоді: obmin поставить залишок, який має бути (виправлення)."
			d.stock = &want
			r.addGood(rep, d)
		}
	}
}

// countIs says whether Checkbox's count of a good is want (thousandths): the unit of GoodModel.count is
// not documented (docs/checkbox.md), so a count in pieces is taken as well.
func countIs(count, want int64) bool {
	return count == want || want%1000 == 0 && count == want/1000
}

func (r *Reconciler) addGood(rep *Report, d Difference) {
	d.Area = AreaGoods
	rep.add(&rep.Goods.Differences, d, r.maxListed())
}

func (r *Reconciler) maxListed() int {
	if r.MaxListed > 0 {
		return r.MaxListed
	}
	return 1000
}

// barcodes is a good's barcodes in a comparable form: the main one first, the others sorted.
func barcodes(main string, others []string) []string {
	var rest []string
	for _, b := range others {
		if b = strings.TrimSpace(b); b != "" && b != main && !slices.Contains(rest, b) {
			rest = append(rest, b)
		}
	}
	slices.Sort(rest)
	if main == "" {
		return rest
	}
	return append([]string{main}, rest...)
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' })
}

func taxCodes(codes []int) []int {
	out := slices.Clone(codes)
	slices.Sort(out)
	return slices.Compact(out)
}

func goodTaxCodes(g checkbox.Good) []int {
	codes := make([]int, 0, len(g.Taxes))
	for _, t := range g.Taxes {
		codes = append(codes, t.Code)
	}
	return taxCodes(codes)
}

func codesText(codes []int) string {
	if len(codes) == 0 {
		return "немає"
	}
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ", ")
}

// money is kopecks as staff read a sum: "420.00 грн".
func money(k int64) string {
	sign := ""
	if k < 0 {
		sign, k = "-", -k
	}
	return fmt.Sprintf("%s%d.%02d грн", sign, k/100, k%100)
}

// quantity is thousandths as staff read a quantity: "12", "5.25".
func quantity(t int64) string {
	sign := ""
	if t < 0 {
		sign, t = "-", -t
	}
	s := fmt.Sprintf("%d.%03d", t/1000, t%1000)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return sign + s
}
