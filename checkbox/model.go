// Package checkbox talks to the Checkbox (checkbox.ua) cloud cash register REST API.
//
// Facts about the API are cited from the project's page on it as "docs/checkbox-rest.md §N"
// (docs/checkbox-rest.md), itself drawn from Checkbox's OpenAPI 2.105.1.
// Money is integer kopecks and quantity integer thousandths everywhere (docs/checkbox-rest.md §2.2): this
// package never uses floating point for either.
//
// It imports only internal/quietlog of obmin (the logging convention).
package checkbox

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Page is the envelope of every paginated list (docs/checkbox-rest.md §2.3).
type Page[T any] struct {
	Meta    PageMeta `json:"meta"`
	Results []T      `json:"results"`
	// UseLeftovers is present on goods lists only ("organisation uses leftovers").
	UseLeftovers *bool `json:"use_leftovers,omitempty"`
}

// PageMeta is the pagination block; there is no total count on goods and receipts lists.
type PageMeta struct {
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

// Tax is a TaxModel as embedded in a good (docs/checkbox-rest.md §4.3).
type Tax struct {
	ID       string `json:"id,omitempty"`
	Code     int    `json:"code"`
	Label    string `json:"label,omitempty"`
	Symbol   string `json:"symbol,omitempty"` // tax letter, e.g. "А", "Б", "З"
	Rate     int64  `json:"rate"`             // percent
	Included bool   `json:"included,omitempty"`
	NoVAT    bool   `json:"no_vat,omitempty"`
}

// Good is a GoodModel, a catalogue good as Checkbox returns it (docs/checkbox-rest.md §4.3).
type Good struct {
	ID              string     `json:"id"`
	Code            string     `json:"code"`
	Name            string     `json:"name"`
	Price           int64      `json:"price"` // kopecks
	Type            string     `json:"type"`  // "good" | "service"
	Barcode         string     `json:"barcode,omitempty"`
	RelatedBarcodes string     `json:"related_barcodes,omitempty"` // one string, as the API returns it
	GroupID         string     `json:"group_id,omitempty"`
	Uktzed          string     `json:"uktzed,omitempty"`
	Taxes           []Tax      `json:"taxes"`
	Count           *int64     `json:"count,omitempty"` // stock; unit not documented (docs/checkbox-rest.md §12.5)
	IsWeight        bool       `json:"is_weight"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       *time.Time `json:"updated_at,omitempty"`
}

// GoodPayload is CreateGoodPayload (POST /api/v1/goods) and EditGoodsPayload (PUT /api/v1/goods/{id})
// (docs/checkbox-rest.md §4.2). Name, Type, Code, IsWeight and Price are required on create.
type GoodPayload struct {
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	Code       string   `json:"code"`
	IsWeight   bool     `json:"is_weight"`
	Price      int64    `json:"price"` // kopecks, 0 < price < 1 000 000 000
	Barcode    string   `json:"barcode,omitempty"`
	Barcodes   []string `json:"barcodes,omitempty"`
	TaxCodes   []int    `json:"tax_codes,omitempty"`
	Uktzed     string   `json:"uktzed,omitempty"`
	ExternalID string   `json:"external_id,omitempty"` // BAS Ид; not returned by the API
}

// ReceiptGood is the good block of a receipt line (GoodItemModel.good).
type ReceiptGood struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Price   int64  `json:"price"` // kopecks per quantity 1000
	Barcode string `json:"barcode,omitempty"`
	Uktzed  string `json:"uktzed,omitempty"`
}

// LineTax is a GoodTax on a receipt line or receipt.
type LineTax struct {
	Code   int    `json:"code"`
	Label  string `json:"label,omitempty"`
	Symbol string `json:"symbol,omitempty"`
	Rate   int64  `json:"rate"`
	Value  int64  `json:"value"`            // kopecks
	NoVAT  bool   `json:"no_vat,omitempty"` // «Без ПДВ»: not subject to VAT
}

// Discount is a DiscountModel (docs/checkbox-rest.md §6.2). Sum is in kopecks and negative for a discount in
// Checkbox's own fixtures; Value is a percent for mode PERCENT and kopecks for mode VALUE.
type Discount struct {
	Type  string  `json:"type"` // DISCOUNT | EXTRA_CHARGE | PRE_PAYMENT
	Mode  string  `json:"mode"` // PERCENT | VALUE
	Value float64 `json:"value"`
	Name  string  `json:"name,omitempty"`
	Sum   int64   `json:"sum"`
}

// ReceiptLine is a GoodItemModel.
type ReceiptLine struct {
	Good      ReceiptGood `json:"good"`
	GoodID    string      `json:"good_id,omitempty"`
	Sum       int64       `json:"sum"`      // kopecks, after line discounts
	Quantity  int64       `json:"quantity"` // thousandths
	IsReturn  bool        `json:"is_return"`
	Taxes     []LineTax   `json:"taxes"`
	Discounts []Discount  `json:"discounts,omitempty"`
}

// Payment is one receipt payment (CASH, CASHLESS, or the deprecated CARD).
type Payment struct {
	Type     string `json:"type"`
	Value    int64  `json:"value"` // kopecks
	Label    string `json:"label,omitempty"`
	Code     int    `json:"code,omitempty"`
	CardMask string `json:"card_mask,omitempty"`
	AuthCode string `json:"auth_code,omitempty"`
	RRN      string `json:"rrn,omitempty"`
}

// CashRegister is the short cash register embedded in a receipt's shift.
type CashRegister struct {
	ID           string `json:"id"`
	FiscalNumber string `json:"fiscal_number"`
	Active       bool   `json:"active"`
	Number       string `json:"number,omitempty"`
	IsTest       bool   `json:"is_test,omitempty"`
	OfflineMode  bool   `json:"offline_mode,omitempty"`
	// Shift is the register's open shift, which GET /api/v1/cash-registers gives with each register
	// (DetailedCashRegisterModel.shift); nil when none is open or the form carries none.
	Shift *Shift `json:"shift,omitempty"`
}

// Cashier is the short cashier embedded in a receipt's shift.
type Cashier struct {
	ID       string `json:"id"`
	FullName string `json:"full_name"`
}

// Shift is ShiftWithCashierAndCashRegister as embedded in a receipt.
type Shift struct {
	ID           string       `json:"id"`
	Serial       int64        `json:"serial"`
	Status       string       `json:"status"`
	OpenedAt     *time.Time   `json:"opened_at,omitempty"`
	ClosedAt     *time.Time   `json:"closed_at,omitempty"`
	CashRegister CashRegister `json:"cash_register"`
	Cashier      *Cashier     `json:"cashier,omitempty"`
}

// Receipt types and statuses (docs/checkbox-rest.md §6.2). Only DONE is a finished fiscal receipt.
const (
	ReceiptSell   = "SELL"
	ReceiptReturn = "RETURN"
	StatusDone    = "DONE"
)

// Receipt is a ReceiptModel (docs/checkbox-rest.md §6.2). Unknown fields are ignored; every field that is
// not required may come as null.
type Receipt struct {
	ID               string        `json:"id"`
	Type             string        `json:"type"`
	Status           string        `json:"status"`
	Serial           int64         `json:"serial"`
	Goods            []ReceiptLine `json:"goods"`
	Payments         []Payment     `json:"payments"`
	TotalSum         int64         `json:"total_sum"`
	TotalPayment     int64         `json:"total_payment"`
	TotalRest        int64         `json:"total_rest"`
	RoundSum         int64         `json:"round_sum,omitempty"`
	Discounts        []Discount    `json:"discounts,omitempty"`
	Taxes            []LineTax     `json:"taxes"`
	FiscalCode       string        `json:"fiscal_code,omitempty"`
	FiscalDate       *time.Time    `json:"fiscal_date,omitempty"`
	CreatedAt        time.Time     `json:"created_at"`
	UpdatedAt        *time.Time    `json:"updated_at,omitempty"`
	IsCreatedOffline bool          `json:"is_created_offline"`
	RelatedReceiptID string        `json:"related_receipt_id,omitempty"`
	ShiftID          string        `json:"shift_id"`
	CashRegisterID   string        `json:"cash_register_id,omitempty"`
	CashierID        string        `json:"cashier_id,omitempty"`
	StockCode        string        `json:"stock_code,omitempty"`
	Shift            Shift         `json:"shift"`

	// CashRegister is the short register object of the short search form and of webhook receipts,
	// which carry no cash_register_id (docs/checkbox-rest.md §6.1, §8).
	CashRegister *CashRegister `json:"cash_register,omitempty"`
}

// RegisterID is the cash register of a receipt: from its own field, else its shift, else its
// cash_register object.
func (r Receipt) RegisterID() string {
	if r.CashRegisterID != "" {
		return r.CashRegisterID
	}
	if r.Shift.CashRegister.ID == "" && r.CashRegister != nil {
		return r.CashRegister.ID
	}
	return r.Shift.CashRegister.ID
}

// When is the moment a receipt was made: its fiscal date when known (offline receipts arrive late but
// keep the time of sale, docs/checkbox-rest.md §6.5), else its creation time.
func (r Receipt) When() time.Time {
	if r.FiscalDate != nil && !r.FiscalDate.IsZero() {
		return *r.FiscalDate
	}
	return r.CreatedAt
}

// Lenient decoding. Checkbox's schema is "incorrectly described in many places" with "different
// datetime formats for semantically same fields" (docs/checkbox-rest.md §2.2), and fields typed integer
// arrive as 0.0 (a tax rate in Checkbox's own report fixture). Plain time.Time rejects date-times
// without an offset and int64 rejects 0.0, and one such field must not make a whole receipt
// unreadable; so the structs holding them decode those fields through jsonTime and flexInt.

// UnmarshalJSON decodes a GoodModel, reading its date-times leniently.
func (g *Good) UnmarshalJSON(b []byte) error {
	type plain Good
	aux := struct {
		*plain
		CreatedAt jsonTime `json:"created_at"`
		UpdatedAt jsonTime `json:"updated_at"`
	}{plain: (*plain)(g)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	g.CreatedAt, g.UpdatedAt = aux.CreatedAt.Time, aux.UpdatedAt.ptr()
	return nil
}

// UnmarshalJSON decodes a TaxModel, accepting a rate written as 0.0.
func (t *Tax) UnmarshalJSON(b []byte) error {
	type plain Tax
	aux := struct {
		*plain
		Rate flexInt `json:"rate"`
	}{plain: (*plain)(t)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	t.Rate = int64(aux.Rate)
	return nil
}

// UnmarshalJSON decodes a GoodTax; its value is typed "number" in the schema.
func (t *LineTax) UnmarshalJSON(b []byte) error {
	type plain LineTax
	aux := struct {
		*plain
		Rate  flexInt `json:"rate"`
		Value flexInt `json:"value"`
	}{plain: (*plain)(t)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	t.Rate, t.Value = int64(aux.Rate), int64(aux.Value)
	return nil
}

// UnmarshalJSON decodes a shift, reading its date-times leniently.
func (s *Shift) UnmarshalJSON(b []byte) error {
	type plain Shift
	aux := struct {
		*plain
		OpenedAt jsonTime `json:"opened_at"`
		ClosedAt jsonTime `json:"closed_at"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	s.OpenedAt, s.ClosedAt = aux.OpenedAt.ptr(), aux.ClosedAt.ptr()
	return nil
}

// UnmarshalJSON decodes a ReceiptModel, reading its date-times leniently.
func (r *Receipt) UnmarshalJSON(b []byte) error {
	type plain Receipt
	aux := struct {
		*plain
		FiscalDate jsonTime `json:"fiscal_date"`
		CreatedAt  jsonTime `json:"created_at"`
		UpdatedAt  jsonTime `json:"updated_at"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	r.FiscalDate, r.CreatedAt, r.UpdatedAt = aux.FiscalDate.ptr(), aux.CreatedAt.Time, aux.UpdatedAt.ptr()
	return nil
}

// jsonTime is a date-time read leniently: RFC 3339 with or without fractional seconds, an offset
// written +03:00, +0300 or Z, or no offset at all, which is taken as UTC (Checkbox otherwise writes
// +00:00; the zone of offset-less values is not documented, docs/checkbox-rest.md §12.3). null and "" are
// the zero time.
type jsonTime struct{ time.Time }

func (t *jsonTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date-time %s: want a string", b)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	for _, layout := range [...]string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999Z0700",
		"2006-01-02 15:04:05.999999999",
	} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return fmt.Errorf("date-time %q: unrecognised format", s)
}

// ptr is nil for the zero time, for the optional fields.
func (t jsonTime) ptr() *time.Time {
	if t.IsZero() {
		return nil
	}
	v := t.Time
	return &v
}

// flexInt is an integer that may arrive as 20, 20.0 or "20". A fraction is rounded half away from
// zero: it occurs only in fields obmin does not total (tax rates and tax amounts), where failing the
// whole document would be worse.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*n = 0
		return nil
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return fmt.Errorf("number %s: %w", b, err)
	}
	d = d.Round(0)
	if d.GreaterThan(decimal.NewFromInt(math.MaxInt64)) || d.LessThan(decimal.NewFromInt(math.MinInt64)) {
		return fmt.Errorf("number %s: out of range", b)
	}
	*n = flexInt(d.IntPart())
	return nil
}
