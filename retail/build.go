// Package retail turns one closed Checkbox shift into BAS's own retail sales report («Отчет о розничных
// продажах»), the document BAS itself makes when a till's shift closes: pure, deterministic, no I/O.
//
// It lives apart from basodata (the BAS wire client, which knows nothing of Checkbox) and from checkbox
// (which knows nothing of BAS), as the mapping between the two, so each side stays a leaf and this
// logic can be tested with golden files alone. The rules it follows are BAS's (docs/bas-odata.md §4):
// rows grouped by good, characteristic, unit, price and VAT rate; a return a negative row whose Возврат
// is the returned quantity; card payments, netted per card kind, at most the report's total; the
// report's total the money the shift took, to the kopeck.
//
// It imports the types of checkbox (the shift's receipts) and basodata (the report); it does no I/O.
package retail

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"obmin/basodata"
	"obmin/checkbox"
)

// Good is what BAS knows of a Checkbox good: the keys of its item and characteristic (the GUID parts
// of the Ид BAS exported for it) and of its base unit.
type Good struct {
	Item, Characteristic string
	Unit                 string // Catalog.КлассификаторЕдиницИзмерения Ref_Key
}

// Goods finds BAS's good for a Checkbox good code; false when BAS never exported it.
type Goods func(code string) (Good, bool)

// VATRate is a BAS VAT rate item with its rate in whole percent.
type VATRate struct {
	Ref     string
	Percent int64
	NoVAT   bool
}

// Mapping is a register's resolved configuration.
type Mapping struct {
	Setup basodata.TillSetup
	// VAT maps Checkbox tax codes to BAS rates; a line's first mapped code is its VAT. Codes not in the
	// map (excise, say) are not VAT.
	VAT map[int]VATRate
	// NoTax is the rate of a line without any mapped tax; nil holds the shift with a reason instead.
	NoTax *VATRate
	// VATTaxation is the report's НалогообложениеНДС, default ОблагаетсяНДС.
	VATTaxation string
	// CardKinds maps a Checkbox payment label to a ВидПлатежнойКарты; others take Setup.CardKind.
	CardKinds map[string]string
	Location  *time.Location // BAS's time zone, default Europe/Kyiv
}

// Result is a built report, or why the shift is held.
type Result struct {
	Report basodata.Report
	Marker string // the text in Комментарий that finds the report again
	// Held lists, in Ukrainian for staff, why the report cannot go out yet (a good BAS never exported,
	// an unmapped VAT code, card payments above the total); Report is then empty.
	Held []string
	// Empty is a shift without sales or returns: no report is needed.
	Empty                   bool
	Sales, Returns, Skipped int // receipts used and left out (service, unfinished, other shifts)
}

// refNS is the namespace of obmin's report keys (UUID v5).
var refNS = uuid.MustParse("8d2f4c61-53a7-4e0b-b1c9-6f0e2a7d9b35")

// RefKey is the deterministic Ref_Key of a shift's report: the same register and shift always give
// the same key, so a repeated create is recognised (docs/bas-odata.md §4, exactly once).
func RefKey(registerID, shiftID string) string {
	return uuid.NewSHA1(refNS, []byte(strings.ToLower(registerID)+"/"+strings.ToLower(shiftID))).String()
}

// Marker is the text the report's Комментарий carries for its shift.
func Marker(shiftID string) string { return "obmin-shift=" + strings.ToLower(shiftID) }

var kyiv = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Kyiv"); err == nil {
		return loc
	}
	return time.FixedZone("EET", 2*3600)
}()

// rowKey groups lines as BAS's own shift closing does, keeping returns apart (see Build).
type rowKey struct {
	item, char, unit string
	price            int64
	vat              string
	ret              bool
}

type row struct {
	rowKey
	vatPercent int64
	noVAT      bool
	qty, paid  int64 // thousandths; kopecks actually taken (after every discount)
}

// Build makes the report of one closed shift from its receipts. A shift not closed, or receipts of
// another shift, are errors; what stops the report until BAS or the configuration catches up is in
// Result.Held.
//
// Rows are grouped per (good, characteristic, unit, price, VAT rate) as ЗакрытьКассовуюСмену groups
// them, except that returns keep rows of their own: BAS's grouping nets a return against the sale, and
// a good sold and returned in one shift would then leave a row with Количество 0, which the posting
// check refuses (ObjectModule.ОбработкаПроверкиЗаполнения). Totals are the same either way.
func Build(shift checkbox.Shift, receipts []checkbox.Receipt, m Mapping, goods Goods) (Result, error) {
	var res Result
	if shift.ID == "" || shift.OpenedAt == nil || shift.ClosedAt == nil || (shift.Status != "" && shift.Status != checkbox.ShiftClosed) {
		return res, fmt.Errorf("shift %s: %w (status %s)", shift.ID, ErrNotClosed, shift.Status)
	}
	loc := m.Location
	if loc == nil {
		loc = kyiv
	}
	rs := slices.Clone(receipts)
	slices.SortStableFunc(rs, func(a, b checkbox.Receipt) int {
		return cmp.Or(a.When().Compare(b.When()), cmp.Compare(a.ID, b.ID))
	})
	var rows []*row
	index := map[rowKey]*row{}
	held := map[string]bool{}
	hold := func(s string) {
		if !held[s] {
			held[s] = true
			res.Held = append(res.Held, s)
		}
	}
	type card struct {
		kind  string
		sum   int64
		masks []string
	}
	var cards []*card
	var takings int64
	for _, r := range rs {
		if r.ShiftID != "" && !strings.EqualFold(r.ShiftID, shift.ID) || r.ShiftID == "" && !strings.EqualFold(r.Shift.ID, shift.ID) {
			return res, fmt.Errorf("receipt %s belongs to shift %s, not %s", r.ID, cmp.Or(r.ShiftID, r.Shift.ID), shift.ID)
		}
		if r.Status != checkbox.StatusDone || (r.Type != checkbox.ReceiptSell && r.Type != checkbox.ReceiptReturn) {
			res.Skipped++ // service receipts (cash in and out) and unfinished ones are not sales
			continue
		}
		ret := r.Type == checkbox.ReceiptReturn
		if ret {
			res.Returns++
			takings -= abs(r.TotalSum)
		} else {
			res.Sales++
			takings += abs(r.TotalSum)
		}
		paid := allocate(r)
		for i, l := range r.Goods {
			g, ok := goods(l.Good.Code)
			if !ok {
				hold(fmt.Sprintf("товар «%s» (код %s) не вивантажувався з BAS", l.Good.Name, l.Good.Code))
				continue
			}
			vat, ok := lineVAT(l, m)
			if !ok {
				var codes []string
				for _, t := range l.Taxes {
					codes = append(codes, fmt.Sprint(t.Code))
				}
				hold(fmt.Sprintf("ставку ПДВ товару «%s» (податкові коди Checkbox: %s) не зіставлено зі ставкою BAS", l.Good.Name, strings.Join(codes, ", ")))
				continue
			}
			k := rowKey{item: strings.ToLower(g.Item), char: strings.ToLower(g.Characteristic), unit: strings.ToLower(g.Unit),
				price: l.Good.Price, vat: strings.ToLower(vat.Ref), ret: ret}
			rw := index[k]
			if rw == nil {
				rw = &row{rowKey: k, vatPercent: vat.Percent, noVAT: vat.NoVAT}
				index[k] = rw
				rows = append(rows, rw)
			}
			rw.qty += abs(l.Quantity)
			rw.paid += paid[i]
		}
		for _, p := range r.Payments {
			if p.Type == "CASH" || p.Value == 0 {
				continue
			}
			kind := cmp.Or(m.CardKinds[p.Label], m.Setup.CardKind, "Платіжна картка")
			i := slices.IndexFunc(cards, func(c *card) bool { return c.kind == kind })
			if i < 0 {
				cards = append(cards, &card{kind: kind})
				i = len(cards) - 1
			}
			v := abs(p.Value)
			if ret {
				v = -v
			}
			cards[i].sum += v
			if p.CardMask != "" && !slices.Contains(cards[i].masks, p.CardMask) {
				cards[i].masks = append(cards[i].masks, p.CardMask)
			}
		}
	}
	if len(res.Held) > 0 {
		return res, nil
	}
	if res.Sales+res.Returns == 0 {
		res.Empty = true
		return res, nil
	}

	start, end := basodata.WallClock(*shift.OpenedAt, loc), basodata.WallClock(*shift.ClosedAt, loc)
	s := m.Setup
	rep := basodata.Report{
		Ref: RefKey(shift.CashRegister.ID, shift.ID), Date: end, Currency: s.Currency, PriceKind: s.PriceKind, Till: s.Till.Ref,
		ShiftStart: start, ShiftEnd: end, Organization: s.Organization, Department: s.Department, Store: s.Store.Ref,
		ShiftStatus: s.ShiftStatus, VATTaxation: cmp.Or(m.VATTaxation, "ОблагаетсяНДС"), IncludesVAT: true, CashFlowItem: s.CashFlowItem,
	}
	res.Marker = Marker(shift.ID)
	rep.Comment = fmt.Sprintf("Checkbox: зміна №%d каси %s, %s – %s; чеків продажу %d, повернення %d. %s",
		shift.Serial, shift.CashRegister.FiscalNumber, shift.OpenedAt.In(loc).Format("02.01.2006 15:04"),
		shift.ClosedAt.In(loc).Format("02.01.2006 15:04"), res.Sales, res.Returns, res.Marker)
	var total int64
	for i, rw := range rows {
		sign := int64(1)
		if rw.ret {
			sign = -1
		}
		sr := basodata.StockRow{
			Line: basodata.LineNumber(i + 1), Good: rw.item, Characteristic: rw.char, Quantity: basodata.Quantity(sign * rw.qty),
			Unit: rw.unit, UnitType: basodata.UnitTypeClassifier, Price: basodata.Amount(rw.price),
			DiscountPct: discountPct(rw.price, rw.qty, rw.paid), Sum: basodata.Amount(sign * rw.paid), VATRate: rw.vat,
			VAT: basodata.Amount(sign * includedVAT(rw.paid, rw.vatPercent, rw.noVAT)), Total: basodata.Amount(sign * rw.paid),
		}
		if rw.ret {
			sr.Returned = basodata.Quantity(rw.qty)
		}
		total += sign * rw.paid
		rep.Stock = append(rep.Stock, sr)
	}
	if total != takings {
		return res, fmt.Errorf("shift %s: rows total %d kopecks, receipts %d: a bug in the grouping", shift.ID, total, takings)
	}
	rep.Total = basodata.Amount(total)
	var cardTotal int64
	for _, c := range cards {
		if c.sum == 0 {
			continue
		}
		cardTotal += c.sum
		rep.Cards = append(rep.Cards, basodata.CardRow{Line: basodata.LineNumber(len(rep.Cards) + 1), Terminal: s.Terminal,
			CardKind: cut(c.kind, 50), CardNumber: cardNumber(c.masks), Sum: basodata.Amount(c.sum), PaidOn: end.DateOnly()})
	}
	if cardTotal > total {
		// BAS refuses to post it (ObjectModule.ОбработкаПроверкиЗаполнения): a card sale refunded in cash, say.
		res.Held = append(res.Held, fmt.Sprintf("оплати карткою (%s грн) перевищують суму звіту (%s грн): BAS не проведе такий звіт; внесіть цю зміну вручну",
			basodata.Amount(cardTotal), basodata.Amount(total)))
		return res, nil
	}
	res.Report = rep
	return res, nil
}

// allocate is the money each line of r actually took, in kopecks: its sum after line discounts, less
// its share of receipt-level discounts, extra charges and rounding, shared in proportion to the lines'
// sums with the remainders going to the largest fractions, so the lines add up to the receipt's total.
func allocate(r checkbox.Receipt) []int64 {
	out := make([]int64, len(r.Goods))
	var sum int64
	for i, l := range r.Goods {
		out[i] = abs(l.Sum)
		sum += out[i]
	}
	diff := sum - abs(r.TotalSum)
	if diff == 0 || sum == 0 {
		return out
	}
	type frac struct {
		i   int
		rem decimal.Decimal
	}
	var fr []frac
	var given int64
	d := decimal.NewFromInt(diff)
	for i := range out {
		share := d.Mul(decimal.NewFromInt(out[i])).Div(decimal.NewFromInt(sum))
		whole := share.Truncate(0).IntPart()
		out[i] -= whole
		given += whole
		fr = append(fr, frac{i, share.Sub(decimal.NewFromInt(whole)).Abs()})
	}
	slices.SortStableFunc(fr, func(a, b frac) int { return b.rem.Cmp(a.rem) })
	step := int64(1)
	if diff < 0 {
		step = -1
	}
	for k := 0; given != diff; k++ {
		out[fr[k%len(fr)].i] -= step
		given += step
	}
	return out
}

// lineVAT is the BAS rate of a receipt line: its first tax mapped to a BAS rate, else NoTax.
func lineVAT(l checkbox.ReceiptLine, m Mapping) (VATRate, bool) {
	for _, t := range l.Taxes {
		if v, ok := m.VAT[t.Code]; ok {
			return v, true
		}
	}
	if m.NoTax != nil {
		return *m.NoTax, true
	}
	return VATRate{}, false
}

// includedVAT is the VAT inside a sum at a rate, rounded half away from zero: the sums include VAT
// (СуммаВключаетНДС), as Ukrainian retail prices do.
func includedVAT(sum, percent int64, noVAT bool) int64 {
	if noVAT || percent == 0 {
		return 0
	}
	return decimal.NewFromInt(sum).Mul(decimal.NewFromInt(percent)).Div(decimal.NewFromInt(100 + percent)).Round(0).IntPart()
}

// discountPct is the row's effective discount: 100·(list sum − paid)/list sum, in hundredths of a
// percent. It only informs: Сумма and Всего carry the money.
func discountPct(price, qty, paid int64) basodata.Percent {
	list := decimal.NewFromInt(price).Mul(decimal.NewFromInt(qty)).Div(decimal.NewFromInt(1000)).Round(0)
	if list.IsZero() {
		return 0
	}
	p := list.Sub(decimal.NewFromInt(paid)).Mul(decimal.NewFromInt(10000)).Div(list).Round(0).IntPart()
	return basodata.Percent(max(min(p, 99999), -99999))
}

// cardNumber is the masked number a card row needs (НомерПлатежнойКарты, required, 22 characters): the
// card's mask when one card paid, else a mask standing for several.
func cardNumber(masks []string) string {
	if len(masks) == 1 {
		return cut(masks[0], 22)
	}
	return "****************"
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// ErrNotClosed is returned for a shift still open.
var ErrNotClosed = errors.New("shift not closed")
