package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Receipts: fiscalisation, search and lookup (docs/checkbox-rest.md §6).

// ruleError is a business rule a receipt breaks; the API refuses the receipt with it (see refused).
type ruleError struct {
	msg   string
	field string // the body field at fault, "" for the receipt as a whole
}

func (e *ruleError) Error() string { return e.msg }

func rule(format string, args ...any) error { return &ruleError{msg: fmt.Sprintf(format, args...)} }

func ruleAt(field, format string, args ...any) error {
	return &ruleError{msg: fmt.Sprintf(format, args...), field: field}
}

// saleInput is a receipt to fiscalise, from the API or from Sell and Return.
type saleInput struct {
	id              string
	reg             *register
	cashier         *cashier
	lines           []lineInput
	discounts       []discountInput
	payments        []payment
	related         string
	shift           *shift    // nil: the register's open shift (opened when needed)
	fiscalDate      time.Time // zero: now
	createdAt       time.Time // zero: now
	offline         bool
	status          string // "" is DONE (Sale.Status)
	stockCode       string
	header, footer  string
	barcode         string
	technicalReturn bool
	context         map[string]any
}

type lineInput struct {
	code, name, barcode, uktzed string
	goodID                      string
	price, quantity             int64
	isReturn                    bool
	taxCodes                    []int
	hasTaxes                    bool // taxCodes were given, possibly none
	discounts                   []discountInput
}

type discountInput struct {
	typ, mode string
	value     decimal.Decimal
	name      string
}

var (
	thousand = decimal.NewFromInt(1000)
	hundred  = decimal.NewFromInt(100)
	// maxSum bounds any sum: payment values must stay within ±10^11 kopecks (docs/checkbox-rest.md §6.2).
	maxSum = decimal.New(1, 11)
)

// lineBase is price × quantity / 1000, rounded half up: the line's sum before discounts.
func lineBase(price, quantity int64) (int64, error) {
	d := decimal.NewFromInt(price).Mul(decimal.NewFromInt(quantity)).Div(thousand).Round(0)
	if d.GreaterThanOrEqual(maxSum) {
		return 0, rule("Сума рядка %s коп. завелика", d)
	}
	return d.IntPart(), nil
}

// discountSums turns discounts on a base sum into their signed sums: negative for a discount (as in
// Checkbox's own fixture, docs/checkbox-rest.md §2.2), positive for an extra charge. PERCENT values are
// percent of base, VALUE values kopecks; both rounded half up.
func discountSums(base int64, in []discountInput) ([]discount, int64, error) {
	var out []discount
	var total int64
	for _, d := range in {
		amount := d.value
		if d.mode == "PERCENT" {
			amount = decimal.NewFromInt(base).Mul(d.value).Div(hundred)
		}
		amount = amount.Round(0)
		if amount.GreaterThanOrEqual(maxSum) {
			return nil, 0, rule("Знижка %s коп. завелика", amount)
		}
		sum := amount.IntPart()
		if d.typ != "EXTRA_CHARGE" {
			sum = -sum
		}
		total += sum
		out = append(out, discount{typ: d.typ, mode: d.mode, value: d.value, name: d.name, sum: sum})
	}
	return out, total, nil
}

// includedTax is the VAT inside a sum at rate percent: sum × rate / (100 + rate), rounded half up.
func includedTax(sum, rate int64) int64 {
	if rate == 0 {
		return 0
	}
	return decimal.NewFromInt(sum).Mul(decimal.NewFromInt(rate)).Div(decimal.NewFromInt(100 + rate)).Round(0).IntPart()
}

// fiscalise checks and stores a receipt, moves stock, updates the shift and queues webhooks. Errors
// are *ruleError.
func (e *Emulator) fiscalise(in saleInput) (*receipt, error) {
	if in.id != "" {
		if _, dup := e.receiptIDs[in.id]; dup {
			return nil, ruleAt("id", "Чек з ідентифікатором %s вже існує", in.id)
		}
	} else {
		in.id = e.newID()
	}
	if len(in.lines) == 0 {
		return nil, rule("Чек не містить товарів")
	}
	typ := "SELL"
	if in.lines[0].isReturn {
		typ = "RETURN"
	}
	for _, l := range in.lines {
		if l.isReturn != in.lines[0].isReturn {
			return nil, rule("Чек не може одночасно містити продаж і повернення")
		}
	}
	if in.related != "" {
		orig := e.receiptIDs[in.related]
		if orig == nil {
			return nil, ruleAt("related_receipt_id", "Чек %s, до якого робиться повернення, не знайдено", in.related)
		}
		if orig.typ != "SELL" {
			return nil, ruleAt("related_receipt_id", "Повернення можливе лише до чека продажу")
		}
	}

	r := &receipt{id: in.id, typ: typ, reg: in.reg, cashier: in.cashier, related: in.related, offline: in.offline,
		stockCode: in.stockCode, header: in.header, footer: in.footer, barcode: in.barcode,
		technicalReturn: in.technicalReturn, context: in.context}
	var linesTotal int64
	var discountsSum, extraSum int64
	for i, li := range in.lines {
		g, err := e.lineGood(li)
		if err != nil {
			return nil, err
		}
		base, err := lineBase(li.price, li.quantity)
		if err != nil {
			return nil, err
		}
		ds, dsum, err := discountSums(base, li.discounts)
		if err != nil {
			return nil, err
		}
		if base+dsum < 0 {
			return nil, rule("Знижка на товар %d (%s) перевищує його суму", i+1, li.code)
		}
		codes := li.taxCodes
		if !li.hasTaxes && g != nil {
			codes = g.taxCodes
		}
		l := line{code: li.code, name: li.name, barcode: li.barcode, uktzed: li.uktzed, price: li.price,
			quantity: li.quantity, isReturn: li.isReturn, sum: base + dsum, discounts: ds}
		if g != nil {
			l.goodID = g.id
		}
		for _, code := range codes {
			t, ok := e.taxByCode(code)
			if !ok {
				return nil, rule("Податкову ставку з кодом %d не знайдено", code)
			}
			l.taxes = append(l.taxes, lineTax{tax: t, value: includedTax(l.sum, t.rate), base: l.sum})
		}
		r.lines = append(r.lines, l)
		linesTotal += l.sum
		discountsSum, extraSum = addDiscounts(ds, discountsSum, extraSum)
	}
	ds, dsum, err := discountSums(linesTotal, in.discounts)
	if err != nil {
		return nil, err
	}
	r.discounts = ds
	discountsSum, extraSum = addDiscounts(ds, discountsSum, extraSum)
	r.totalSum = linesTotal + dsum
	if r.totalSum < 0 {
		return nil, rule("Знижка на чек перевищує його суму")
	}
	// Receipt-level discounts are not spread over the tax totals: obmin reads totals, not taxes.
	r.taxes = receiptTaxes(r.lines)

	if err := r.pay(in.payments); err != nil {
		return nil, err
	}

	now := e.now()
	r.createdAt, r.fiscalDate = now, now
	if !in.createdAt.IsZero() {
		r.createdAt = in.createdAt.UTC().Truncate(time.Microsecond)
	}
	if !in.fiscalDate.IsZero() {
		r.fiscalDate = in.fiscalDate.UTC()
	}
	// The tax service stamps whole seconds.
	r.fiscalDate = r.fiscalDate.Truncate(time.Second)

	r.shift = in.shift
	if r.shift == nil {
		r.shift = e.shiftFor(in.reg, in.cashier)
	}
	in.reg.lastReceipt++
	r.serial = in.reg.lastReceipt
	r.fiscalCode = fmt.Sprintf("TEST%010d", e.rng.Int64N(10_000_000_000))
	r.transactionID = e.newID()
	r.txSerial = r.serial
	r.status = in.status

	e.moveStock(r)
	e.book(r.shift, r, discountsSum, extraSum)
	e.receipts = append(e.receipts, r)
	e.receiptIDs[r.id] = r
	if r.statusName() == "DONE" {
		e.notifyReceipt(r)
	}
	return r, nil
}

func addDiscounts(ds []discount, discounts, extra int64) (int64, int64) {
	for _, d := range ds {
		if d.sum < 0 {
			discounts -= d.sum
		} else {
			extra += d.sum
		}
	}
	return discounts, extra
}

// lineGood is the catalogue good a line refers to, by good_id or else by code; nil when none.
func (e *Emulator) lineGood(li lineInput) (*good, error) {
	if li.goodID != "" {
		g := e.goodByID(li.goodID)
		if g == nil {
			return nil, ruleAt("goods", "Товар з ідентифікатором %s не знайдено", li.goodID)
		}
		return g, nil
	}
	return e.goodByCodeLocked(li.code), nil
}

// receiptTaxes totals the lines' taxes per tax code, in the order the codes first appear.
func receiptTaxes(lines []line) []lineTax {
	var out []lineTax
	for _, l := range lines {
		for _, t := range l.taxes {
			i := slices.IndexFunc(out, func(x lineTax) bool { return x.tax.code == t.tax.code })
			if i < 0 {
				out = append(out, lineTax{tax: t.tax})
				i = len(out) - 1
			}
			out[i].base += t.base
		}
	}
	for i := range out {
		out[i].value = includedTax(out[i].base, out[i].tax.rate)
	}
	return out
}

// pay checks the payments against the total: together they must cover it, card payments must not
// exceed it, and change (total_rest) can come only from cash.
func (r *receipt) pay(pays []payment) error {
	if len(pays) == 0 {
		return ruleAt("payments", "Не вказано оплату чека")
	}
	var total, cash, card int64
	for _, p := range pays {
		if p.value <= 0 {
			return ruleAt("payments", "Сума оплати має бути більшою за нуль")
		}
		total += p.value
		if p.typ == "CASH" {
			cash += p.value
		} else {
			card += p.value
		}
	}
	if total < r.totalSum {
		return ruleAt("payments", "Сума оплати %d коп. менша за суму чека %d коп.", total, r.totalSum)
	}
	if card > r.totalSum {
		return ruleAt("payments", "Безготівкова оплата %d коп. перевищує суму чека %d коп.", card, r.totalSum)
	}
	rest := total - r.totalSum
	if rest > cash {
		return ruleAt("payments", "Решта %d коп. можлива лише з готівки", rest)
	}
	r.payments, r.totalPayment, r.totalRest = pays, total, rest
	return nil
}

// moveStock takes sold goods out of stock and puts returned ones back, for goods that keep stock.
// Stock may go negative: Checkbox does not refuse a sale for want of leftovers.
func (e *Emulator) moveStock(r *receipt) {
	for _, l := range r.lines {
		g := e.goodByID(l.goodID)
		if g == nil || g.stock == nil {
			continue
		}
		q := -l.quantity
		if l.isReturn {
			q = l.quantity
		}
		n := *g.stock + q
		g.stock = &n
	}
}

// book adds the receipt to its shift's balance.
func (e *Emulator) book(s *shift, r *receipt, discounts, extra int64) {
	b := &s.bal
	for _, p := range r.payments {
		v := p.value
		if p.typ == "CASH" {
			v -= r.totalRest
		}
		switch {
		case r.typ == "SELL" && p.typ == "CASH":
			b.cashSales += v
		case r.typ == "SELL":
			b.cardSales += v
		case p.typ == "CASH":
			b.cashReturns += v
		default:
			b.cardReturns += v
		}
	}
	b.discounts += discounts
	b.extraCharge += extra
	s.updatedAt = e.now()
}

// sellReceipt is POST /api/v1/receipts/sell: 201 ReceiptModel.
func (e *Emulator) sellReceipt(c *call) reply {
	in, errs := e.parseSell(c.body)
	if len(errs) > 0 {
		return invalid(errs)
	}
	in.cashier = c.sess.cashier
	in.reg = e.sellRegister(c)
	r, err := e.fiscalise(in)
	var re *ruleError
	if errors.As(err, &re) {
		if re.field != "" {
			return refused(re.msg, "body", re.field)
		}
		return refused(re.msg)
	}
	if err != nil {
		return messageReply(http.StatusInternalServerError, err.Error())
	}
	return jsonReply(http.StatusCreated, e.receiptJSON(r))
}

// sellRegister picks the register of an API sale: where the cashier's shift is open, else the register
// of its PIN sign-in, else that of an X-License-Key header, else the first.
func (e *Emulator) sellRegister(c *call) *register {
	if s := e.openShiftOf(c.sess.cashier); s != nil {
		return s.reg
	}
	if c.sess.reg != nil {
		return c.sess.reg
	}
	if r := e.registerByKey(c.r.Header.Get("X-License-Key")); r != nil {
		return r
	}
	return e.registers[0]
}

var (
	phoneRe        = regexp.MustCompile(`\+?380\d{9}$`)
	discountTypes  = []string{"DISCOUNT", "PRE_PAYMENT", "EXTRA_CHARGE"}
	discountModes  = []string{"PERCENT", "VALUE"}
	paymentTypes   = []string{"CASH", "CASHLESS", "CARD"}
	roundingModes  = []string{"ROUND_10", "ROUND_50"}
	paymentBounds  = bounds{gt: bound(-100_000_000_000), lt: bound(100_000_000_000)}
	receiptShortID = regexp.MustCompile(`^[\w-]{11}$`)
)

// parseSell validates a ReceiptSellPayload: the subset obmin and its tests use, with the schema's
// limits (docs/checkbox-rest.md §6.4). Other fields are accepted and ignored.
func (e *Emulator) parseSell(body []byte) (saleInput, []fieldError) {
	var v checker
	var in saleInput
	o, ok := v.body(body)
	if !ok {
		return in, v.errs
	}
	in.id, _ = o.uuid("id", false)
	if items, ok := o.list("goods", true, 1); ok {
		for i, raw := range items {
			if li, ok := parseSellLine(&v, raw, loc(o.loc, "goods", i), e); ok {
				in.lines = append(in.lines, li)
			}
		}
	}
	in.discounts = parseDiscounts(o, "discounts")
	if items, ok := o.list("payments", false, 0); ok {
		for i, raw := range items {
			if p, ok := parsePayment(&v, raw, loc(o.loc, "payments", i)); ok {
				in.payments = append(in.payments, p)
			}
		}
	}
	in.related, _ = o.uuid("related_receipt_id", false)
	in.stockCode, _ = o.str("stock_code", false, 0, 0)
	in.header, _ = o.str("header", false, 0, 0)
	in.footer, _ = o.str("footer", false, 0, 0)
	in.barcode, _ = o.str("barcode", false, 0, 0)
	in.technicalReturn, _ = o.boolean("technical_return", false)
	o.enum("rounding_mode", false, roundingModes...)
	o.uuid("order_id", false)
	o.str("cashier_name", false, 0, 0)
	o.str("departament", false, 0, 0)
	if raw, ok := o.get("context", false); ok {
		var ctx map[string]any
		if json.Unmarshal(raw, &ctx) != nil || ctx == nil {
			v.add(loc(o.loc, "context"), "dict_type", "Input should be a valid dictionary")
		}
		in.context = ctx
	}
	if raw, ok := o.get("delivery", false); ok {
		if d, ok := v.object(raw, loc(o.loc, "delivery")); ok {
			if phone, ok := d.str("phone", false, 0, 0); ok && !phoneRe.MatchString(phone) {
				v.add(loc(d.loc, "phone"), "string_pattern_mismatch", `String should match pattern '\+?380\d{9}$'`)
			}
		}
	}
	return in, v.errs
}

func parseSellLine(v *checker, raw json.RawMessage, l []any, e *Emulator) (lineInput, bool) {
	var li lineInput
	o, ok := v.object(raw, l)
	if !ok {
		return li, false
	}
	before := len(v.errs)
	if graw, ok := o.get("good", true); ok {
		if g, ok := v.object(graw, loc(l, "good")); ok {
			li.code, _ = g.str("code", true, 1, 256)
			li.name, _ = g.str("name", true, 1, 0)
			li.price, _ = g.integer("price", true, bounds{gt: bound(0), lt: bound(100_000_000_000)})
			li.barcode, _ = g.str("barcode", false, 0, 4096)
			li.uktzed, _ = g.str("uktzed", false, 0, 64)
			g.str("header", false, 0, 1024)
			g.str("footer", false, 0, 1024)
			for _, key := range []string{"tax", "taxes"} {
				if !g.has(key) {
					continue
				}
				codes, ok := g.codes(key)
				if !ok {
					continue
				}
				resolved, err := e.taxCodes(codes)
				if err != nil {
					v.add(loc(g.loc, key), "value_error", "Value error, "+err.Error())
					continue
				}
				li.taxCodes, li.hasTaxes = append(li.taxCodes, resolved...), true
			}
		}
	}
	li.goodID, _ = o.uuid("good_id", false)
	li.quantity, _ = o.integer("quantity", true, bounds{gt: bound(0)})
	li.isReturn, _ = o.boolean("is_return", false)
	li.discounts = parseDiscounts(o, "discounts")
	o.integer("total_sum", false, bounds{})
	return li, len(v.errs) == before
}

// parseDiscounts reads a list of DiscountPayload.
func parseDiscounts(o object, key string) []discountInput {
	items, ok := o.list(key, false, 0)
	if !ok {
		return nil
	}
	zero := decimal.Zero
	var out []discountInput
	for i, raw := range items {
		d, ok := o.c.object(raw, loc(o.loc, key, i))
		if !ok {
			continue
		}
		var di discountInput
		var ok1, ok2, ok3 bool
		di.typ, ok1 = d.enum("type", true, discountTypes...)
		di.mode, ok2 = d.enum("mode", true, discountModes...)
		di.value, ok3 = d.number("value", true, &zero)
		di.name, _ = d.str("name", false, 0, 0)
		if ok1 && ok2 && ok3 {
			out = append(out, di)
		}
	}
	return out
}

// parsePayment reads one of CashPaymentPayload, CardPaymentPayload or ObsoleteCardPaymentPayload; a
// payment without a type is cash, the first of the union, whose type defaults to CASH.
func parsePayment(v *checker, raw json.RawMessage, l []any) (payment, bool) {
	var p payment
	o, ok := v.object(raw, l)
	if !ok {
		return p, false
	}
	before := len(v.errs)
	p.typ = "CASH"
	if o.has("type") {
		p.typ, _ = o.enum("type", true, paymentTypes...)
	}
	p.value, _ = o.integer("value", true, paymentBounds)
	label, hasLabel := o.str("label", false, 1, 128)
	switch p.typ {
	case "CASH":
		p.label = "Готівка"
	default:
		p.label, p.code = "Картка", 1
		if o.has("code") {
			n, _ := o.integer("code", false, bounds{gt: bound(0), lt: bound(10)})
			p.code = int(n)
		}
		p.cardMask, _ = o.str("card_mask", false, 0, 19)
		p.authCode, _ = o.str("auth_code", false, 0, 0)
		p.rrn, _ = o.str("rrn", false, 0, 0)
		p.paymentSystem, _ = o.str("payment_system", false, 0, 0)
		o.enum("provider_type", false, "TAPXPHONE", "POSCONTROL", "TERMINAL", "ANDROID_PAYLINK", "DESKTOP_PAYLINK")
	}
	if hasLabel {
		p.label = label
	}
	return p, len(v.errs) == before
}

// searchReceipts is GET /api/v1/receipts/search (docs/checkbox-rest.md §6.1): from_date inclusive, to_date
// exclusive on Config.SearchBy's timestamp, self_receipts true by default, limit <= 100, ascending
// unless desc.
func (e *Emulator) searchReceipts(c *call) reply {
	q := c.r.URL.Query()
	var v checker
	limit := v.queryInt(q, "limit", 25, true, 100)
	offset := v.queryInt(q, "offset", 0, false, 0)
	desc := v.queryBool(q, "desc", false)
	self := v.queryBool(q, "self_receipts", true)
	from, to := v.queryTime(q, "from_date"), v.queryTime(q, "to_date")
	shifts := v.queryUUIDs(q, "shift_id")
	branches := v.queryUUIDs(q, "branch_id")
	regs := v.queryUUIDs(q, "cash_register_id")
	if len(v.errs) > 0 {
		return invalid(v.errs)
	}
	fiscal, stock, barcode := q.Get("fiscal_code"), q.Get("stock_code"), q.Get("barcode")
	var found []*receipt
	for _, r := range e.receipts {
		switch {
		case self && r.cashier != c.sess.cashier,
			!inWindow(e.searchTime(r), from, to),
			len(shifts) > 0 && !slices.Contains(shifts, r.shift.id),
			len(branches) > 0 && !slices.Contains(branches, r.reg.BranchID),
			len(regs) > 0 && !slices.Contains(regs, r.reg.ID),
			fiscal != "" && r.fiscalCode != fiscal,
			stock != "" && r.stockCode != stock,
			barcode != "" && r.barcode != barcode:
			continue
		}
		found = append(found, r)
	}
	slices.SortStableFunc(found, func(a, b *receipt) int { return e.searchTime(a).Compare(e.searchTime(b)) })
	if desc {
		slices.Reverse(found)
	}
	return e.receiptsPage(found, limit, offset)
}

func (e *Emulator) searchTime(r *receipt) time.Time {
	if e.searchBy == SearchByCreatedAt {
		return r.createdAt
	}
	return r.fiscalDate
}

// receiptsPage answers a receipts list in the full or the short form (Config.ShortSearch).
func (e *Emulator) receiptsPage(found []*receipt, limit, offset int) reply {
	meta := metaJSON{Limit: limit, Offset: offset}
	if e.cfg.ShortSearch {
		out := pageJSON[shortReceiptJSON]{Meta: meta, Results: []shortReceiptJSON{}}
		for _, r := range page(found, offset, limit) {
			out.Results = append(out.Results, e.shortReceiptJSON(r))
		}
		return jsonReply(http.StatusOK, out)
	}
	out := pageJSON[receiptJSON]{Meta: meta, Results: []receiptJSON{}}
	for _, r := range page(found, offset, limit) {
		out.Results = append(out.Results, e.receiptJSON(r))
	}
	return jsonReply(http.StatusOK, out)
}

// listReceipts is GET /api/v1/receipts: by fiscal_code or serial, else the receipts of the cashier's
// open shift, else all of them (docs/checkbox-rest.md §6.1).
func (e *Emulator) listReceipts(c *call) reply {
	q := c.r.URL.Query()
	var v checker
	limit := v.queryInt(q, "limit", 25, true, 100)
	offset := v.queryInt(q, "offset", 0, false, 0)
	desc := v.queryBool(q, "desc", false)
	serial := int64(-1)
	if s := q.Get("serial"); s != "" {
		serial = int64(v.queryInt(q, "serial", -1, false, 0))
	}
	if len(v.errs) > 0 {
		return invalid(v.errs)
	}
	fiscal := q.Get("fiscal_code")
	if fiscal != "" && serial >= 0 {
		return refused("Пошук за серійним і фіскальним номером одночасно неможливий", "query", "serial")
	}
	open := e.openShiftOf(c.sess.cashier)
	var found []*receipt
	for _, r := range e.receipts {
		switch {
		case fiscal != "" && r.fiscalCode != fiscal,
			serial >= 0 && r.serial != serial,
			fiscal == "" && serial < 0 && open != nil && r.shift != open:
			continue
		}
		found = append(found, r)
	}
	if desc {
		slices.Reverse(found)
	}
	return e.receiptsPage(found, limit, offset)
}

// getReceipt is GET /api/v1/receipts/{receipt_id}: a UUID or an 11-character short id.
func (e *Emulator) getReceipt(c *call) reply {
	raw := c.params[0]
	id, ok := canonicalUUID(raw)
	if !ok && !receiptShortID.MatchString(raw) {
		return invalid([]fieldError{{Loc: []any{"path", "receipt_id"}, Msg: "Input should be a valid UUID or a short receipt id", Type: "uuid_parsing"}})
	}
	r := e.receiptIDs[id]
	if r == nil {
		return notFound("Чек не знайдено")
	}
	return jsonReply(http.StatusOK, e.receiptJSON(r))
}
