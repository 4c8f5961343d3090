package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"obmin/checkbox"
	"obmin/commerceml"
	"obmin/store"
)

// How a receipt becomes the order BAS loads (docs/bas-orders.md): every discount and rounding inside the
// line sums, so BAS's total (the sum of the lines) is what the till took; VAT named the way BAS
// recognises it; nothing negative; no '#' in names.

// Requisites obmin writes (ЗначенияРеквизитов of a Документ).
const (
	reqStatus    = "Статус заказа"             // mapped to «Завершений» in the node's settings
	reqCancelled = "Отменен"                   // "true": BAS completes the order as cancelled
	reqFiscal    = "Фіскальний номер Checkbox" // becomes the order's additional information
)

// receiptLine is one line of a receipt as it goes to BAS.
type receiptLine struct {
	good  store.GoodRecord
	code  string          // the Checkbox good code
	qty   decimal.Decimal // positive
	price decimal.Decimal // the shelf price per unit
	net   decimal.Decimal // what was paid for the line, its share of receipt discounts included
	vat   string          // BAS's VAT rate: "20", "7", "0", or "" without VAT
}

// receiptLines maps a receipt's lines to BAS's goods and spreads the receipt-level discounts, extra
// charges and rounding over them, so they add up to the receipt's total to the kopeck. missing lists the
// goods BAS never exported.
func (s *Sales) receiptLines(ctx context.Context, r checkbox.Receipt) (lines []receiptLine, missing []string, err error) {
	sums := make([]int64, len(r.Goods))
	for i, l := range r.Goods {
		sums[i] = abs64(l.Sum)
	}
	nets := spread(sums, abs64(r.TotalSum))
	for i, l := range r.Goods {
		rec, ok, err := s.Store.Good(ctx, l.Good.Code)
		if err != nil {
			return nil, nil, err
		}
		if !ok || rec.BASID == "" {
			missing = append(missing, fmt.Sprintf("«%s» (код %s)", l.Good.Name, l.Good.Code))
			continue
		}
		lines = append(lines, receiptLine{
			good: rec, code: l.Good.Code,
			qty:   Quantity(abs64(l.Quantity)),
			price: UAH(abs64(l.Good.Price)),
			net:   UAH(nets[i]),
			vat:   s.vatRate(l.Taxes),
		})
	}
	return lines, missing, nil
}

// spread returns the line sums adjusted so they add up to total: the difference (receipt discounts,
// extra charges, rounding) is shared in proportion to the sums, the kopecks left over by largest
// remainder. A share never takes a line below zero: total is at most what the lines add up to, or more
// (an extra charge), and a share is at most its line's part.
func spread(sums []int64, total int64) []int64 {
	out := append([]int64(nil), sums...)
	var all int64
	for _, s := range sums {
		all += s
	}
	diff := total - all
	if diff == 0 || len(sums) == 0 {
		return out
	}
	if all == 0 {
		out[0] += diff // nothing to share by: the whole difference on the first line
		return out
	}
	type part struct {
		i   int
		rem int64
	}
	var given int64
	parts := make([]part, len(sums))
	for i, s := range sums {
		share := diff * s / all // truncated towards zero
		out[i] += share
		given += share
		parts[i] = part{i, abs64(diff*s - share*all)}
	}
	sort.SliceStable(parts, func(a, b int) bool { return parts[a].rem > parts[b].rem })
	step := int64(1)
	if diff < 0 {
		step = -1
	}
	for k := 0; given != diff; k = (k + 1) % len(parts) {
		i := parts[k].i
		if sums[i] == 0 || out[i]+step < 0 {
			continue
		}
		out[i] += step
		given += step
	}
	return out
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// vatRate is the VAT rate BAS should get for a line with these Checkbox taxes: "20", "7" or "0", or ""
// for a line without VAT. The configured mapping of BAS rates to Checkbox tax codes decides first; a
// code it does not name is judged by the tax itself: «no VAT», excise (not VAT at all), or the rate.
func (s *Sales) vatRate(taxes []checkbox.LineTax) string {
	for _, t := range taxes {
		if rate, ok := s.Cfg.VATCodes[t.Code]; ok {
			if rate != "" {
				return rate
			}
			continue
		}
		if t.NoVAT || strings.Contains(strings.ToLower(t.Label), "акциз") {
			continue
		}
		switch t.Rate {
		case 20, 7, 0:
			return strconv.FormatInt(t.Rate, 10)
		}
	}
	return ""
}

// BAS's VAT rate of a line without VAT in a document with VAT: any Ставка other than "20", "7" and "0"
// is «not subject to VAT» in BAS; without one, the line would take the document's rate.
const rateNoVAT = "Без ПДВ"

// fillLines sets the document's lines, taxes and total from lines.
func (s *Sales) fillLines(doc *commerceml.Document, lines []receiptLine) {
	doc.Lines = doc.Lines[:0]
	doc.Taxes = nil
	docRate := ""
	var vatSum decimal.Decimal
	for _, l := range lines {
		if l.vat != "" {
			if docRate == "" {
				docRate = l.vat
			}
			vatSum = vatSum.Add(includedVAT(l.net, l.vat))
		}
	}
	total := decimal.Zero
	for _, l := range lines {
		line := commerceml.DocumentLine{
			ID: l.good.BASID, Article: l.good.Article, Name: strings.ReplaceAll(l.good.Name, "#", "№"),
			Unit:         commerceml.Unit{Code: l.good.UnitCode, Name: l.good.UnitName, FullName: l.good.UnitFullName, Intl: l.good.UnitIntl},
			PricePerUnit: l.price,
			Quantity:     l.qty,
			Sum:          l.net,
		}
		switch {
		case l.vat != "":
			line.Taxes = []commerceml.Tax{{Name: "НДС", Rate: l.vat, InTotal: true, Sum: includedVAT(l.net, l.vat)}}
		case docRate != "":
			line.Taxes = []commerceml.Tax{{Name: "НДС", Rate: rateNoVAT, InTotal: true, Sum: decimal.Zero}}
		}
		total = total.Add(l.net)
		doc.Lines = append(doc.Lines, line)
	}
	if docRate != "" {
		doc.Taxes = []commerceml.Tax{{Name: "НДС", Rate: docRate, InTotal: true, Sum: vatSum}}
	}
	doc.Total = total
}

// includedVAT is the VAT inside sum at rate: sum × rate / (100 + rate), to the kopeck.
func includedVAT(sum decimal.Decimal, rate string) decimal.Decimal {
	r, err := decimal.NewFromString(rate)
	if err != nil || r.IsZero() {
		return decimal.Zero
	}
	return sum.Mul(r).DivRound(r.Add(decimal.NewFromInt(100)), 2)
}

// saleDocument is the order of a sale receipt whose goods are all known (lines from receiptLines).
// Номер is left empty: a receipt is numbered when it first goes into the file.
func (s *Sales) saleDocument(r checkbox.Receipt, lines []receiptLine) *commerceml.Document {
	doc := &commerceml.Document{
		ID:        r.ID,
		Time:      r.When().In(kyiv),
		Operation: "Заказ товара",
		Role:      "Продавец",
		Currency:  s.Cfg.Currency,
		Rate:      decimal.NewFromInt(1),
		Counterparty: commerceml.Counterparty{
			ID: "obmin-retail-customer", Name: s.Cfg.CustomerName, FullName: s.Cfg.CustomerName, Role: "Покупатель",
		},
		Comment: receiptComment(r),
	}
	s.fillLines(doc, lines)
	fiscal := r.FiscalCode
	if fiscal == "" {
		fiscal = r.ID
	}
	if s.Cfg.Returns != ReturnsAmend && s.Cfg.OrderStatus != "" {
		doc.Requisites = append(doc.Requisites, commerceml.Requisite{Name: reqStatus, Value: s.Cfg.OrderStatus})
	}
	doc.Requisites = append(doc.Requisites, commerceml.Requisite{Name: reqFiscal, Value: fiscal})
	if s.Cfg.PaymentRequisites {
		method, paid := paymentMethod(r)
		doc.Requisites = append(doc.Requisites,
			commerceml.Requisite{Name: "Метод оплаты", Value: method},
			commerceml.Requisite{Name: "Заказ оплачен", Value: strconv.FormatBool(paid)},
			commerceml.Requisite{Name: "Дата оплаты", Value: r.When().In(kyiv).Format("2006-01-02 15:04:05")},
			commerceml.Requisite{Name: "Номер платежного документа", Value: fiscal})
	}
	return doc
}

// receiptComment is what staff read in the order's comment: which receipt, which register, when.
func receiptComment(r checkbox.Receipt) string {
	c := fmt.Sprintf("Checkbox: чек %s, каса %s, %s", r.FiscalCode, r.Shift.CashRegister.FiscalNumber, r.When().In(kyiv).Format("02.01.2006 15:04"))
	if r.IsCreatedOffline {
		c += ", офлайн"
	}
	return c
}

// receiptFiscalCode reads the fiscal code of a stored receipt.
func receiptFiscalCode(raw []byte) string {
	var r struct {
		ID         string `json:"id"`
		FiscalCode string `json:"fiscal_code"`
	}
	if json.Unmarshal(raw, &r) != nil {
		return ""
	}
	if r.FiscalCode == "" {
		return r.ID
	}
	return r.FiscalCode
}
