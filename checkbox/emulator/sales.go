package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"obmin/checkbox"
)

// Sales made at the till, for tests and the demo: they go through the same fiscalisation as
// POST /api/v1/receipts/sell.

// Sale is a sale at the till.
type Sale struct {
	ID         string // receipt id; "" generates one
	RegisterID string // "" is the first register
	Lines      []SaleLine
	Payment    string // "CASH" (default) or "CASHLESS"
	Tendered   int64  // cash handed over, in kopecks, when more than the total: the rest is change
	At         time.Time
	// DiscountPercent (whole percent) and DiscountValue (kopecks) are receipt-level discounts, on the
	// total after the lines' own discounts.
	DiscountPercent int64
	DiscountValue   int64
	// Offline marks a receipt made while the register was offline: its fiscal_date is At (in the
	// past) while created_at is now, when it reached Checkbox (docs/checkbox-rest.md §6.5). Without
	// Offline, At (zero: now) is both.
	Offline bool
	// ShiftID puts an offline receipt into that shift of its register, which may be closed by now: a
	// register that worked offline sends its shift's receipts after the shift closed (docs/checkbox-rest.md
	// §6.5). "" is the register's open shift, opened when needed.
	ShiftID string
	// ByAPICashier makes the cashier who signs in through the API the seller, instead of the
	// shop-floor cashier; only its receipts pass /receipts/search's default self_receipts=true.
	ByAPICashier bool
	// Status is the receipt's ReceiptStatus when it is not yet (or no longer) a finished fiscal receipt:
	// CREATED, ERROR, CANCELLATION or CANCELLED; "" is DONE. SetReceiptStatus moves it on.
	Status string
}

// SaleLine is one line of a Sale or a Return.
type SaleLine struct {
	Code     string // a catalogue good's code
	Quantity int64  // thousandths: 1000 is one piece
	Price    int64  // kopecks per 1000; 0 takes the catalogue price
	// Name names a good typed in at the till that is not in the catalogue; it then needs Price.
	Name            string
	DiscountPercent int64 // whole percent off the line
	DiscountValue   int64 // kopecks off the line
}

// Sell fiscalises a sale and returns the receipt as a client would read it.
func (e *Emulator) Sell(s Sale) (checkbox.Receipt, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.Status != "" && !slices.Contains(receiptStatuses, s.Status) {
		return checkbox.Receipt{}, fmt.Errorf("emulator: sell: status %q is not a ReceiptStatus", s.Status)
	}
	r, err := e.sellLocked(s)
	if err != nil {
		return checkbox.Receipt{}, fmt.Errorf("emulator: sell: %w", err)
	}
	return e.clientReceipt(r), nil
}

// receiptStatuses is ReceiptStatus in Checkbox's OpenAPI 2.105.1.
var receiptStatuses = []string{"CREATED", "DONE", "ERROR", "CANCELLATION", "CANCELLED"}

// SetReceiptStatus moves a receipt to another ReceiptStatus, as Checkbox does when the tax service
// signs a receipt (CREATED → DONE) or fails to (ERROR), or when one is cancelled. The fiscal code shows
// only while the receipt is DONE; a receipt that becomes DONE is delivered to the webhook then.
func (e *Emulator) SetReceiptStatus(id, status string) error {
	if !slices.Contains(receiptStatuses, status) {
		return fmt.Errorf("emulator: status %q is not a ReceiptStatus", status)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.receiptIDs[id]
	if r == nil {
		return fmt.Errorf("emulator: no receipt %s", id)
	}
	was := r.statusName()
	r.status = status
	if status == "DONE" && was != "DONE" {
		e.notifyReceipt(r)
	}
	return nil
}

func (r *receipt) statusName() string {
	if r.status == "" {
		return "DONE"
	}
	return r.status
}

func (r *receipt) fiscalCodeShown() string {
	if r.statusName() != "DONE" {
		return ""
	}
	return r.fiscalCode
}

func (e *Emulator) sellLocked(s Sale) (*receipt, error) {
	reg := e.registers[0]
	if s.RegisterID != "" {
		if reg = e.registerByID(s.RegisterID); reg == nil {
			return nil, fmt.Errorf("no cash register %s", s.RegisterID)
		}
	}
	in := saleInput{id: s.ID, reg: reg, cashier: e.shopUser, offline: s.Offline, status: s.Status}
	if s.ShiftID != "" {
		if !s.Offline {
			return nil, errors.New("a sale into a given shift must be an offline one")
		}
		i := slices.IndexFunc(e.shifts, func(sh *shift) bool { return sh.id == s.ShiftID && sh.reg == reg })
		if i < 0 {
			return nil, fmt.Errorf("no shift %s on register %s", s.ShiftID, reg.ID)
		}
		in.shift = e.shifts[i]
	}
	if s.ByAPICashier {
		in.cashier = e.apiUser
	}
	if s.Offline {
		if s.At.IsZero() {
			return nil, errors.New("an offline sale needs At, the time it was made")
		}
		in.fiscalDate = s.At
	} else {
		in.fiscalDate, in.createdAt = s.At, s.At
	}
	for _, sl := range s.Lines {
		li := lineInput{code: sl.Code, name: sl.Name, price: sl.Price, quantity: sl.Quantity}
		if g := e.goodByCodeLocked(sl.Code); g != nil {
			li.goodID, li.barcode, li.uktzed = g.id, g.barcode, g.uktzed
			if li.name == "" {
				li.name = g.name
			}
			if li.price == 0 {
				li.price = g.price
			}
		} else if sl.Name == "" || sl.Price <= 0 {
			return nil, fmt.Errorf("no good with code %q in the catalogue; a good typed in at the till needs Name and Price", sl.Code)
		}
		if sl.Quantity <= 0 {
			return nil, fmt.Errorf("line %q: quantity %d must be positive", sl.Code, sl.Quantity)
		}
		li.discounts = lineDiscounts(sl)
		in.lines = append(in.lines, li)
	}
	in.discounts = lineDiscounts(SaleLine{DiscountPercent: s.DiscountPercent, DiscountValue: s.DiscountValue})
	total, err := e.previewTotal(in)
	if err != nil {
		return nil, err
	}
	p := payment{typ: "CASH", label: "Готівка", value: max(total, s.Tendered)}
	switch s.Payment {
	case "", "CASH":
	case "CASHLESS":
		p = e.cardPayment(total)
	default:
		return nil, fmt.Errorf("payment %q: want CASH or CASHLESS", s.Payment)
	}
	in.payments = []payment{p}
	return e.fiscalise(in)
}

func lineDiscounts(sl SaleLine) []discountInput {
	var out []discountInput
	if sl.DiscountPercent > 0 {
		out = append(out, discountInput{typ: "DISCOUNT", mode: "PERCENT", value: decimal.NewFromInt(sl.DiscountPercent), name: "Знижка"})
	}
	if sl.DiscountValue > 0 {
		out = append(out, discountInput{typ: "DISCOUNT", mode: "VALUE", value: decimal.NewFromInt(sl.DiscountValue), name: "Знижка"})
	}
	return out
}

// previewTotal is the total a receipt will have, so that Sell can pay it exactly.
func (e *Emulator) previewTotal(in saleInput) (int64, error) {
	var total int64
	for _, li := range in.lines {
		base, err := lineBase(li.price, li.quantity)
		if err != nil {
			return 0, err
		}
		_, dsum, err := discountSums(base, li.discounts)
		if err != nil {
			return 0, err
		}
		total += base + dsum
	}
	_, dsum, err := discountSums(total, in.discounts)
	if err != nil {
		return 0, err
	}
	return total + dsum, nil
}

// cardPayment is a card payment as a bank terminal reports it.
func (e *Emulator) cardPayment(value int64) payment {
	return payment{
		typ: "CASHLESS", label: "Картка", code: 1, value: value,
		cardMask:      fmt.Sprintf("444433******%04d", e.rng.IntN(10000)),
		authCode:      fmt.Sprintf("%06d", e.rng.IntN(1_000_000)),
		rrn:           fmt.Sprintf("%012d", e.rng.Int64N(1_000_000_000_000)),
		paymentSystem: "VISA",
	}
}

// Return fiscalises a return of lines (Code and Quantity; nil returns everything not yet returned)
// of the sale saleID: a RETURN receipt with related_receipt_id = the sale and goods[].is_return =
// true, quantities and sums positive (docs/checkbox-rest.md §6.3). The sale's price and line discounts carry
// over pro rata, and the money goes back the way it came. Returning more than was sold, less what
// earlier returns took back, is an error.
func (e *Emulator) Return(saleID string, lines []SaleLine) (checkbox.Receipt, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.returnLocked(saleID, lines)
	if err != nil {
		return checkbox.Receipt{}, fmt.Errorf("emulator: return of %s: %w", saleID, err)
	}
	return e.clientReceipt(r), nil
}

func (e *Emulator) returnLocked(saleID string, lines []SaleLine) (*receipt, error) {
	sale := e.receiptIDs[saleID]
	if sale == nil || sale.typ != "SELL" {
		return nil, errors.New("no such sale")
	}
	left := e.returnable(sale)
	if lines == nil {
		for i, l := range sale.lines {
			if left[i] > 0 {
				lines = append(lines, SaleLine{Code: l.code, Quantity: left[i]})
			}
		}
		if len(lines) == 0 {
			return nil, errors.New("everything was returned already")
		}
	}
	in := saleInput{reg: sale.reg, cashier: sale.cashier, related: sale.id}
	for _, sl := range lines {
		i := -1
		for j, l := range sale.lines {
			if l.code == sl.Code && left[j] > 0 {
				i = j
				break
			}
		}
		if i < 0 {
			return nil, fmt.Errorf("good %q is not in the sale or was returned already", sl.Code)
		}
		if sl.Quantity <= 0 || sl.Quantity > left[i] {
			return nil, fmt.Errorf("good %q: cannot return %d, %d left to return", sl.Code, sl.Quantity, left[i])
		}
		left[i] -= sl.Quantity
		ol := sale.lines[i]
		li := lineInput{code: ol.code, name: ol.name, barcode: ol.barcode, uktzed: ol.uktzed, goodID: ol.goodID,
			price: ol.price, quantity: sl.Quantity, isReturn: true, hasTaxes: true}
		for _, t := range ol.taxes {
			li.taxCodes = append(li.taxCodes, t.tax.code)
		}
		if e.goodByID(ol.goodID) == nil {
			li.goodID = "" // deleted since the sale
		}
		// The line's discounts, pro rata: the return refunds what was paid for these pieces.
		base, err := lineBase(ol.price, sl.Quantity)
		if err != nil {
			return nil, err
		}
		paid := decimal.NewFromInt(ol.sum).Mul(decimal.NewFromInt(sl.Quantity)).Div(decimal.NewFromInt(ol.quantity)).Round(0).IntPart()
		if off := base - paid; off > 0 {
			li.discounts = []discountInput{{typ: "DISCOUNT", mode: "VALUE", value: decimal.NewFromInt(off), name: "Знижка"}}
		}
		in.lines = append(in.lines, li)
	}
	total, err := e.previewTotal(in)
	if err != nil {
		return nil, err
	}
	p := payment{typ: "CASH", label: "Готівка", value: total}
	if len(sale.payments) > 0 && sale.payments[0].typ != "CASH" {
		p = sale.payments[0]
		p.value = total
	}
	in.payments = []payment{p}
	return e.fiscalise(in)
}

// returnable is, per line of sale, the quantity not yet returned.
func (e *Emulator) returnable(sale *receipt) []int64 {
	left := make([]int64, len(sale.lines))
	for i, l := range sale.lines {
		left[i] = l.quantity
	}
	for _, r := range e.receipts {
		if r.related != sale.id || r.typ != "RETURN" {
			continue
		}
		for _, rl := range r.lines {
			q := rl.quantity
			for i, l := range sale.lines {
				if l.code == rl.code && left[i] > 0 && q > 0 {
					n := min(q, left[i])
					left[i] -= n
					q -= n
				}
			}
		}
	}
	return left
}

// GenerateSales makes n receipts of goods in the catalogue at the till: one to three lines each, whole
// pieces or weighed quantities, paid in cash or by card, now and then with a discount; every
// returnsEvery-th receipt (0: none) returns part or all of an earlier sale instead. The same r, seed
// and clock give the same receipts.
func (e *Emulator) GenerateSales(r *rand.Rand, n int, returnsEvery int) ([]checkbox.Receipt, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.goods) == 0 {
		return nil, errors.New("emulator: generate sales: the catalogue is empty")
	}
	var out []checkbox.Receipt
	var sales []*receipt
	for i := range n {
		var made *receipt
		var err error
		if returnsEvery > 0 && (i+1)%returnsEvery == 0 {
			made, err = e.randomReturn(r, sales)
		}
		if made == nil && err == nil {
			made, err = e.sellLocked(e.randomSale(r))
			if made != nil {
				sales = append(sales, made)
			}
		}
		if err != nil {
			return out, fmt.Errorf("emulator: generate sales: receipt %d: %w", i+1, err)
		}
		out = append(out, e.clientReceipt(made))
	}
	return out, nil
}

func (e *Emulator) randomSale(r *rand.Rand) Sale {
	picks := r.Perm(len(e.goods))[:min(len(e.goods), 1+r.IntN(3))]
	s := Sale{Payment: "CASH"}
	if r.IntN(2) == 0 {
		s.Payment = "CASHLESS"
	}
	for _, i := range picks {
		g := e.goods[i]
		q := int64(1+r.IntN(3)) * 1000
		if g.isWeight {
			q = int64(100 + r.IntN(2400))
		}
		l := SaleLine{Code: g.code, Quantity: q}
		if r.IntN(5) == 0 {
			l.DiscountPercent = 10
		}
		s.Lines = append(s.Lines, l)
	}
	return s
}

// randomReturn returns part or all of one line of a random earlier sale; nil when none is left.
func (e *Emulator) randomReturn(r *rand.Rand, sales []*receipt) (*receipt, error) {
	for _, k := range r.Perm(len(sales)) {
		sale := sales[k]
		left := e.returnable(sale)
		for _, i := range r.Perm(len(left)) {
			if left[i] == 0 {
				continue
			}
			q := left[i]
			if !e.isWeight(sale.lines[i]) && q > 1000 {
				q = int64(1+r.IntN(int(q/1000))) * 1000
			}
			return e.returnLocked(sale.id, []SaleLine{{Code: sale.lines[i].code, Quantity: q}})
		}
	}
	return nil, nil
}

func (e *Emulator) isWeight(l line) bool {
	g := e.goodByID(l.goodID)
	return g != nil && g.isWeight
}

// Receipts returns every receipt in the order they were made, as a client would decode them.
func (e *Emulator) Receipts() []checkbox.Receipt {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]checkbox.Receipt, 0, len(e.receipts))
	for _, r := range e.receipts {
		out = append(out, e.clientReceipt(r))
	}
	return out
}

// clientReceipt is r as obmin's client decodes GET /receipts/{id}: the emulator's own JSON read back
// through the client's types, so both sides are checked against each other.
func (e *Emulator) clientReceipt(r *receipt) checkbox.Receipt {
	var out checkbox.Receipt
	mustRoundTrip(e.receiptJSON(r), &out)
	return out
}

// mustRoundTrip encodes v as the API would and decodes it into out. A failure is a bug in the
// emulator or a drift between it and the client's types, so it panics.
func mustRoundTrip(v, out any) {
	b, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(b, out)
	}
	if err != nil {
		panic(fmt.Sprintf("emulator: %T does not read back as %T: %v", v, out, err))
	}
}
