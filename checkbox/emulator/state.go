package emulator

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// The emulator's own records. Handlers turn them into the wire shapes of wire.go.

type organization struct {
	id, title, edrpou, taxNumber string
	createdAt                    time.Time
}

type cashier struct {
	id, fullName, nin, keyID string
	createdAt                time.Time
}

type register struct {
	Register
	createdAt   time.Time
	lastReceipt int64  // serial of the last receipt (documents_state.last_receipt_code)
	lastShift   int64  // serial of the last shift
	open        *shift // the open shift, nil when none
}

// shift is a cashier's shift on one register. A register has at most one open shift.
type shift struct {
	id                                       string
	serial                                   int64
	status                                   string // OPENED | CLOSED
	reg                                      *register
	cashier                                  *cashier
	openedAt, closedAt, createdAt, updatedAt time.Time
	bal                                      balance
}

// balance is the shift's running totals in kopecks (BalanceModel).
type balance struct {
	cashSales, cardSales, cashReturns, cardReturns, discounts, extraCharge int64
}

// session is what an issued token stands for.
type session struct {
	cashier *cashier
	reg     *register // the register of a PIN sign-in, nil otherwise
	exp     time.Time
}

// good is a catalogue good (GoodModel).
type good struct {
	id, code, name, shortName, typ string
	barcode                        string
	barcodes                       []string // extra barcodes; the API returns them joined as related_barcodes
	uktzed                         string
	price                          int64 // kopecks
	isWeight                       bool
	taxCodes                       []int
	groupID, groupName             string
	stock                          *int64 // thousandths; nil until the good has a supply
	position                       *int64
	createdAt, updatedAt           time.Time
}

// taxRate is one row of the organisation's tax table.
type taxRate struct {
	id     string
	code   int
	symbol string // letter printed on receipts
	label  string
	rate   int64 // percent
	noVAT  bool
}

// defaultTaxes is a plausible Ukrainian table: ПДВ 20 % "А", 7 % "Б", 0 % "В", and "Без ПДВ" "З" with
// code 8, the last as in Checkbox's own report fixture (docs/checkbox-rest.md §4.3). VAT is included in the
// price, as in Ukrainian retail.
var defaultTaxes = []taxRate{
	{code: 1, symbol: "А", label: "ПДВ", rate: 20},
	{code: 2, symbol: "Б", label: "ПДВ", rate: 7},
	{code: 3, symbol: "В", label: "ПДВ", rate: 0},
	{code: 8, symbol: "З", label: "Без ПДВ", rate: 0, noVAT: true},
}

func (e *Emulator) taxByCode(code int) (taxRate, bool) {
	for _, t := range e.taxes {
		if t.code == code {
			return t, true
		}
	}
	return taxRate{}, false
}

// taxCodes resolves tax codes given as numbers ("8") or letters ("З") (docs/checkbox-rest.md §4.2).
func (e *Emulator) taxCodes(in []string) ([]int, error) {
	out := make([]int, 0, len(in))
next:
	for _, s := range in {
		for _, t := range e.taxes {
			if s == t.symbol || s == fmt.Sprint(t.code) {
				out = append(out, t.code)
				continue next
			}
		}
		return nil, fmt.Errorf("Податкову ставку %q не знайдено", s)
	}
	return out, nil
}

// receipt is a fiscalised receipt (ReceiptModel).
type receipt struct {
	id, typ         string // SELL | RETURN
	serial          int64
	reg             *register
	shift           *shift
	cashier         *cashier
	lines           []line
	discounts       []discount
	payments        []payment
	totalSum        int64
	totalPayment    int64
	totalRest       int64
	taxes           []lineTax
	status          string // ReceiptStatus: DONE unless a test says otherwise (Sale.Status, SetReceiptStatus)
	fiscalCode      string
	fiscalDate      time.Time
	createdAt       time.Time
	offline         bool
	related         string
	stockCode       string
	header, footer  string
	barcode         string
	technicalReturn bool
	context         map[string]any
	transactionID   string
	txSerial        int64
}

type line struct {
	code, name, barcode, uktzed string
	goodID                      string
	price                       int64 // kopecks per 1000 of quantity
	quantity                    int64 // thousandths
	isReturn                    bool
	sum                         int64 // after the line's discounts
	taxes                       []lineTax
	discounts                   []discount
}

type lineTax struct {
	tax   taxRate
	value int64 // kopecks of tax in the sum
	base  int64 // the sum the tax is counted on
}

type discount struct {
	typ, mode string // DISCOUNT | EXTRA_CHARGE | PRE_PAYMENT; PERCENT | VALUE
	value     decimal.Decimal
	name      string
	sum       int64 // negative for a discount, positive for an extra charge
}

type payment struct {
	typ   string // CASH | CASHLESS | CARD
	value int64
	label string
	code  int // CASHLESS payment number, 1..9
	// card details, as a terminal reports them
	cardMask, authCode, rrn, paymentSystem string
}

// newID draws a version 4 UUID from the emulator's seeded generator.
func (e *Emulator) newID() string {
	b := e.randBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (e *Emulator) randBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(e.rng.Uint32())
	}
	return b
}

func (e *Emulator) registerByKey(key string) *register {
	for _, r := range e.registers {
		if r.LicenseKey == key {
			return r
		}
	}
	return nil
}

func (e *Emulator) registerByID(id string) *register {
	for _, r := range e.registers {
		if r.ID == id {
			return r
		}
	}
	return nil
}
