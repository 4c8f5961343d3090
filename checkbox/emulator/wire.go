package emulator

import (
	"encoding/json"
	"strings"
	"time"
)

// Wire shapes, named after the schemas of Checkbox's OpenAPI 2.105.1. Optional fields the emulator has
// no value for are written as null rather than left out, as the service does ("shift": null,
// "branch": null in the wiki's examples, docs/checkbox-rest.md §2.2).

// isoTime writes a moment the way Checkbox (Python's isoformat) does: UTC with a "+00:00" offset and
// microseconds only when there are any: 2022-07-26T19:54:09+00:00, 2024-03-22T16:20:09.549268+00:00
// (docs/checkbox-rest.md §2.2).
type isoTime struct{ t time.Time }

func (t isoTime) MarshalJSON() ([]byte, error) {
	u := t.t.UTC()
	layout := `"2006-01-02T15:04:05-07:00"`
	if u.Nanosecond()/1000 != 0 {
		layout = `"2006-01-02T15:04:05.000000-07:00"`
	}
	return []byte(u.Format(layout)), nil
}

// UnmarshalJSON reads what MarshalJSON writes, so the wire types decode too.
func (t *isoTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	t.t = v
	return err
}

// at is a nullable moment: nil for the zero time.
func at(t time.Time) *isoTime {
	if t.IsZero() {
		return nil
	}
	return &isoTime{t}
}

// opt is a nullable string: nil for "".
func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type metaJSON struct {
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

// pageJSON is PaginatedResult[...] (docs/checkbox-rest.md §2.3).
type pageJSON[T any] struct {
	Meta    metaJSON `json:"meta"`
	Results []T      `json:"results"`
}

// goodsPageJSON is PaginatedResultGoodSpecific[GoodModel]: use_leftovers is required.
type goodsPageJSON struct {
	Meta         metaJSON   `json:"meta"`
	Results      []goodJSON `json:"results"`
	UseLeftovers bool       `json:"use_leftovers"`
}

type tokenJSON struct {
	Type        string `json:"type"`
	TokenType   string `json:"token_type"`
	AccessToken string `json:"access_token"`
}

// taxJSON is TaxModel.
type taxJSON struct {
	ID              string   `json:"id"`
	Code            int      `json:"code"`
	Label           string   `json:"label"`
	Symbol          string   `json:"symbol"`
	Rate            int64    `json:"rate"`
	ExtraRate       *int64   `json:"extra_rate"`
	Included        bool     `json:"included"`
	IsGambling      bool     `json:"is_gambling"`
	CreatedAt       isoTime  `json:"created_at"`
	UpdatedAt       *isoTime `json:"updated_at"`
	NoVAT           bool     `json:"no_vat"`
	SalesTurnover   *int64   `json:"sales_turnover"`
	ReturnsTurnover *int64   `json:"returns_turnover"`
	Type            string   `json:"type"`
}

// extendedTaxJSON is ExtendedTaxModel (GET /tax), whose rates are numbers: Python writes 20.0.
type extendedTaxJSON struct {
	ID               string      `json:"id"`
	Code             int         `json:"code"`
	Label            string      `json:"label"`
	Symbol           string      `json:"symbol"`
	Rate             json.Number `json:"rate"`
	ExtraRate        *int64      `json:"extra_rate"`
	Included         bool        `json:"included"`
	IsGambling       bool        `json:"is_gambling"`
	IsDefault        bool        `json:"is_default"`
	CreatedAt        isoTime     `json:"created_at"`
	UpdatedAt        *isoTime    `json:"updated_at"`
	NoVAT            bool        `json:"no_vat"`
	DecimalRate      json.Number `json:"decimal_rate"`
	DecimalExtraRate *int64      `json:"decimal_extra_rate"`
	Type             string      `json:"type"`
}

// goodJSON is GoodModel (srso__schema__good__schema__GoodModel).
type goodJSON struct {
	ID               string     `json:"id"`
	Code             string     `json:"code"`
	Name             string     `json:"name"`
	Price            int64      `json:"price"`
	Type             string     `json:"type"`
	Barcode          *string    `json:"barcode"`
	GroupID          *string    `json:"group_id"`
	GroupName        *string    `json:"group_name"`
	GroupDescription *string    `json:"group_description"`
	Uktzed           *string    `json:"uktzed"`
	Taxes            []taxJSON  `json:"taxes"`
	Count            *int64     `json:"count"`
	ImageURL         *string    `json:"image_url"`
	IsWeight         bool       `json:"is_weight"`
	CreatedAt        isoTime    `json:"created_at"`
	UpdatedAt        *isoTime   `json:"updated_at"`
	ShortName        *string    `json:"short_name"`
	Parent           *string    `json:"parent"`
	Position         *int64     `json:"position"`
	Children         []goodJSON `json:"children"`
	RelatedBarcodes  *string    `json:"related_barcodes"`
	Branches         []string   `json:"branches"`
	BranchesInfo     []any      `json:"branches_info"`
}

func (e *Emulator) taxJSON(t taxRate) taxJSON {
	return taxJSON{
		ID: t.id, Code: t.code, Label: t.label, Symbol: t.symbol, Rate: t.rate, Included: true,
		CreatedAt: isoTime{e.org.createdAt}, NoVAT: t.noVAT, Type: "INCLUDED",
	}
}

func (e *Emulator) goodJSON(g *good) goodJSON {
	taxes := make([]taxJSON, 0, len(g.taxCodes))
	for _, code := range g.taxCodes {
		if t, ok := e.taxByCode(code); ok {
			taxes = append(taxes, e.taxJSON(t))
		}
	}
	return goodJSON{
		ID: g.id, Code: g.code, Name: g.name, Price: g.price, Type: g.typ,
		Barcode: opt(g.barcode), GroupID: opt(g.groupID), GroupName: opt(g.groupName), Uktzed: opt(g.uktzed),
		Taxes: taxes, Count: g.stock, IsWeight: g.isWeight, CreatedAt: isoTime{g.createdAt}, UpdatedAt: at(g.updatedAt),
		ShortName: opt(g.shortName), Position: g.position, Children: []goodJSON{},
		RelatedBarcodes: opt(strings.Join(g.barcodes, ",")),
	}
}

// permissionsJSON is CashierPermissionsModel with the schema's defaults.
type permissionsJSON struct {
	SelfReturn         bool `json:"self_return"`
	Orders             bool `json:"orders"`
	AddDiscounts       bool `json:"add_discounts"`
	EditingGoodsSum    bool `json:"editing_goods_sum"`
	DeferredReceipt    bool `json:"deferred_receipt"`
	EditingGoodPrice   bool `json:"editing_good_price"`
	CanAddManualGood   bool `json:"can_add_manual_good"`
	ServiceIn          bool `json:"service_in"`
	ServiceOut         bool `json:"service_out"`
	Returns            bool `json:"returns"`
	Sales              bool `json:"sales"`
	CardPayment        bool `json:"card_payment"`
	CashPayment        bool `json:"cash_payment"`
	InventoryEdit      bool `json:"inventory_edit"`
	ReportsHistory     bool `json:"reports_history"`
	AddReceiptDiscount bool `json:"add_receipt_discount"`
}

var defaultPermissions = permissionsJSON{
	SelfReturn: true, AddDiscounts: true, EditingGoodsSum: true, DeferredReceipt: true, EditingGoodPrice: true,
	CanAddManualGood: true, ServiceIn: true, ServiceOut: true, Returns: true, Sales: true, CardPayment: true,
	CashPayment: true, ReportsHistory: true, AddReceiptDiscount: true,
}

// cashierJSON is CashierModel.
type cashierJSON struct {
	ID             string           `json:"id"`
	FullName       string           `json:"full_name"`
	NIN            string           `json:"nin"`
	KeyID          string           `json:"key_id"`
	SignatureType  string           `json:"signature_type"`
	Permissions    *permissionsJSON `json:"permissions"`
	CreatedAt      isoTime          `json:"created_at"`
	UpdatedAt      *isoTime         `json:"updated_at"`
	CertificateEnd *isoTime         `json:"certificate_end"`
	Blocked        *string          `json:"blocked"`
}

func cashierWire(c *cashier) cashierJSON {
	return cashierJSON{
		ID: c.id, FullName: c.fullName, NIN: c.nin, KeyID: c.keyID, SignatureType: "TEST",
		CreatedAt: isoTime{c.createdAt}, CertificateEnd: at(c.createdAt.AddDate(2, 0, 0)),
	}
}

// organizationJSON is OrganizationReceiptConfigModel, trimmed to its required fields and a few more.
type organizationJSON struct {
	ID                  string   `json:"id"`
	Title               string   `json:"title"`
	EDRPOU              string   `json:"edrpou"`
	TaxNumber           string   `json:"tax_number"`
	CreatedAt           isoTime  `json:"created_at"`
	UpdatedAt           *isoTime `json:"updated_at"`
	IsVAT               bool     `json:"is_vat"`
	OfflineMode         bool     `json:"offline_mode"`
	ReceiptsRateLimit   *int64   `json:"receipts_ratelimit_count"`
	ReceiptsRateLimitIn *int64   `json:"receipts_ratelimit_interval"`
}

// meJSON is ExtendedCashierModel.
type meJSON struct {
	cashierJSON
	IsTest           bool             `json:"is_test"`
	Organization     organizationJSON `json:"organization"`
	UseOrder601Since *isoTime         `json:"use_order_601_since"`
}

// registerShortJSON is CashRegisterModel.
type registerShortJSON struct {
	ID           string   `json:"id"`
	FiscalNumber string   `json:"fiscal_number"`
	Active       bool     `json:"active"`
	CreatedAt    isoTime  `json:"created_at"`
	UpdatedAt    *isoTime `json:"updated_at"`
	Number       string   `json:"number"`
}

func registerShort(r *register) *registerShortJSON {
	return &registerShortJSON{ID: r.ID, FiscalNumber: r.FiscalNumber, Active: true, CreatedAt: isoTime{r.createdAt}, Number: r.Number}
}

type balanceJSON struct {
	Initial        int64    `json:"initial"`
	Balance        int64    `json:"balance"`
	CashSales      int64    `json:"cash_sales"`
	CardSales      int64    `json:"card_sales"`
	DiscountsSum   int64    `json:"discounts_sum"`
	ExtraChargeSum int64    `json:"extra_charge_sum"`
	CashReturns    int64    `json:"cash_returns"`
	CardReturns    int64    `json:"card_returns"`
	ServiceIn      int64    `json:"service_in"`
	ServiceOut     int64    `json:"service_out"`
	UpdatedAt      *isoTime `json:"updated_at"`
}

// shiftJSON is ShiftWithCashierAndCashRegister; without a cashier it is ShiftWithCashRegisterModel, and
// without a register ShiftWithCashierModel.
type shiftJSON struct {
	ID                    string             `json:"id"`
	Serial                int64              `json:"serial"`
	Status                string             `json:"status"`
	ZReport               any                `json:"z_report"`
	OpenedAt              *isoTime           `json:"opened_at"`
	ClosedAt              *isoTime           `json:"closed_at"`
	InitialTransaction    any                `json:"initial_transaction"`
	ClosingTransaction    any                `json:"closing_transaction"`
	CreatedAt             isoTime            `json:"created_at"`
	UpdatedAt             *isoTime           `json:"updated_at"`
	Balance               balanceJSON        `json:"balance"`
	Taxes                 []any              `json:"taxes"`
	FiscalAPIType         *string            `json:"fiscal_api_type"`
	EvpezShiftID          *string            `json:"evpez_shift_id"`
	EmergencyClose        bool               `json:"emergency_close"`
	EmergencyCloseDetails *string            `json:"emergency_close_details"`
	CashRegister          *registerShortJSON `json:"cash_register,omitempty"`
	Cashier               *cashierJSON       `json:"cashier,omitempty"`
}

// shiftWire renders s with its register and/or cashier.
func shiftWire(s *shift, withRegister, withCashier bool) shiftJSON {
	b := s.bal
	out := shiftJSON{
		ID: s.id, Serial: s.serial, Status: s.status, OpenedAt: at(s.openedAt), ClosedAt: at(s.closedAt),
		CreatedAt: isoTime{s.createdAt}, UpdatedAt: at(s.updatedAt),
		Balance: balanceJSON{
			Balance:   b.cashSales - b.cashReturns,
			CashSales: b.cashSales, CardSales: b.cardSales, DiscountsSum: b.discounts, ExtraChargeSum: b.extraCharge,
			CashReturns: b.cashReturns, CardReturns: b.cardReturns, UpdatedAt: at(s.updatedAt),
		},
		Taxes: []any{},
	}
	if withRegister {
		out.CashRegister = registerShort(s.reg)
	}
	if withCashier {
		c := cashierWire(s.cashier)
		out.Cashier = &c
	}
	return out
}

// detailedRegisterJSON is DetailedCashRegisterModel (GET /cash-registers).
type detailedRegisterJSON struct {
	ID           string     `json:"id"`
	FiscalNumber string     `json:"fiscal_number"`
	Active       bool       `json:"active"`
	CreatedAt    isoTime    `json:"created_at"`
	UpdatedAt    *isoTime   `json:"updated_at"`
	Number       string     `json:"number"`
	IsTest       bool       `json:"is_test"`
	Shift        *shiftJSON `json:"shift"`
	OfflineMode  bool       `json:"offline_mode"`
	StayOffline  bool       `json:"stay_offline"`
	Branch       any        `json:"branch"`
	Address      string     `json:"address"`
	Type         *int       `json:"type"`
}

// deviceJSON is CashRegisterDeviceModel (GET /cash-registers/info).
type deviceJSON struct {
	ID             string       `json:"id"`
	OrganizationID string       `json:"organization_id"`
	FiscalNumber   string       `json:"fiscal_number"`
	CreatedAt      isoTime      `json:"created_at"`
	UpdatedAt      *isoTime     `json:"updated_at"`
	Number         string       `json:"number"`
	Address        string       `json:"address"`
	Title          string       `json:"title"`
	OfflineMode    bool         `json:"offline_mode"`
	StayOffline    bool         `json:"stay_offline"`
	HasShift       bool         `json:"has_shift"`
	DocumentsState documentsObj `json:"documents_state"`
	EmergencyDate  *isoTime     `json:"emergency_date"`
	IsTest         bool         `json:"is_test"`
	Type           *int         `json:"type"`
	FiscalAPIType  *string      `json:"fiscal_api_type"`
}

type documentsObj struct {
	LastReceiptCode int64 `json:"last_receipt_code"`
	LastReportCode  int64 `json:"last_report_code"`
	LastZReportCode int64 `json:"last_z_report_code"`
}

// Receipts.

// receiptGoodJSON is the receipt line's good (srso__schema__receipt__schema__GoodModel).
type receiptGoodJSON struct {
	Code            string   `json:"code"`
	Barcode         *string  `json:"barcode"`
	Name            string   `json:"name"`
	ExciseBarcodes  []string `json:"excise_barcodes"`
	EExciseBarcodes []string `json:"e_excise_barcodes"`
	Header          *string  `json:"header"`
	Footer          *string  `json:"footer"`
	Uktzed          *string  `json:"uktzed"`
	Price           int64    `json:"price"`
	OriginalPrice   *int64   `json:"original_price"`
}

// goodTaxJSON is GoodTax: a TaxModel with the tax amount. value is a number in the schema; the
// emulator writes whole kopecks.
type goodTaxJSON struct {
	ID              string   `json:"id"`
	Code            int      `json:"code"`
	Label           string   `json:"label"`
	Symbol          string   `json:"symbol"`
	Rate            int64    `json:"rate"`
	ExtraRate       *int64   `json:"extra_rate"`
	Included        bool     `json:"included"`
	IsGambling      bool     `json:"is_gambling"`
	CreatedAt       isoTime  `json:"created_at"`
	UpdatedAt       *isoTime `json:"updated_at"`
	NoVAT           bool     `json:"no_vat"`
	SalesTurnover   *int64   `json:"sales_turnover"`
	ReturnsTurnover *int64   `json:"returns_turnover"`
	Type            string   `json:"type"`
	Value           int64    `json:"value"`
	ExtraValue      int64    `json:"extra_value"`
}

// discountJSON is DiscountModel; value is a number (percent or kopecks).
type discountJSON struct {
	Type      string      `json:"type"`
	Mode      string      `json:"mode"`
	Value     json.Number `json:"value"`
	TaxCode   any         `json:"tax_code"`
	TaxCodes  []any       `json:"tax_codes"`
	Name      *string     `json:"name"`
	Privilege *string     `json:"privilege"`
	Sum       int64       `json:"sum"`
}

// goodItemJSON is GoodItemModel, one receipt line.
type goodItemJSON struct {
	Good      receiptGoodJSON `json:"good"`
	GoodID    *string         `json:"good_id"`
	Sum       int64           `json:"sum"`
	Quantity  int64           `json:"quantity"`
	IsReturn  bool            `json:"is_return"`
	Taxes     []goodTaxJSON   `json:"taxes"`
	Discounts []discountJSON  `json:"discounts"`
}

// paymentJSON is CashPaymentPayload or CardPaymentPayload as a receipt carries them.
type paymentJSON struct {
	Type          string  `json:"type"`
	Value         int64   `json:"value"`
	Label         string  `json:"label"`
	Code          *int    `json:"code,omitempty"`
	ProviderType  *string `json:"provider_type,omitempty"`
	CardMask      *string `json:"card_mask,omitempty"`
	BankName      *string `json:"bank_name,omitempty"`
	AuthCode      *string `json:"auth_code,omitempty"`
	RRN           *string `json:"rrn,omitempty"`
	PaymentSystem *string `json:"payment_system,omitempty"`
	Terminal      *string `json:"terminal,omitempty"`
}

// transactionJSON is ShortTransaction.
type transactionJSON struct {
	ID                string   `json:"id"`
	Type              string   `json:"type"`
	Serial            int64    `json:"serial"`
	Status            string   `json:"status"`
	RequestSignedAt   *isoTime `json:"request_signed_at"`
	RequestReceivedAt *isoTime `json:"request_received_at"`
	ResponseStatus    *string  `json:"response_status"`
	ResponseError     *string  `json:"response_error_message"`
	ResponseID        *string  `json:"response_id"`
	OfflineID         *string  `json:"offline_id"`
	CreatedAt         *isoTime `json:"created_at"`
	UpdatedAt         *isoTime `json:"updated_at"`
	OriginalDatetime  *isoTime `json:"original_datetime"`
	PreviousHash      *string  `json:"previous_hash"`
}

// receiptCommonJSON holds the fields ReceiptModel and WebhookReceiptModel share.
type receiptCommonJSON struct {
	ID                      string           `json:"id"`
	Serial                  int64            `json:"serial"`
	Status                  string           `json:"status"`
	Goods                   []goodItemJSON   `json:"goods"`
	Payments                []paymentJSON    `json:"payments"`
	TotalSum                int64            `json:"total_sum"`
	TotalPayment            int64            `json:"total_payment"`
	TotalRest               int64            `json:"total_rest"`
	RoundSum                int64            `json:"round_sum"`
	FiscalCode              *string          `json:"fiscal_code"`
	FiscalDate              *isoTime         `json:"fiscal_date"`
	DeliveredAt             *isoTime         `json:"delivered_at"`
	Taxes                   []goodTaxJSON    `json:"taxes"`
	Discounts               []discountJSON   `json:"discounts"`
	CreatedAt               isoTime          `json:"created_at"`
	UpdatedAt               *isoTime         `json:"updated_at"`
	IsCreatedOffline        bool             `json:"is_created_offline"`
	IsSentDPS               bool             `json:"is_sent_dps"`
	FiscalAPIType           *string          `json:"fiscal_api_type"`
	Type                    string           `json:"type"`
	Transaction             *transactionJSON `json:"transaction"`
	OrderID                 *string          `json:"order_id"`
	Header                  *string          `json:"header"`
	Footer                  *string          `json:"footer"`
	Barcode                 *string          `json:"barcode"`
	Custom                  any              `json:"custom"`
	Context                 map[string]any   `json:"context"`
	SentDPSAt               *isoTime         `json:"sent_dps_at"`
	TaxURL                  *string          `json:"tax_url"`
	RelatedReceiptID        *string          `json:"related_receipt_id"`
	TechnicalReturn         bool             `json:"technical_return"`
	StockCode               *string          `json:"stock_code"`
	CurrencyExchange        any              `json:"currency_exchange"`
	ServiceCurrencyExchange any              `json:"service_currency_exchange"`
	PrePaymentRelationID    *string          `json:"pre_payment_relation_id"`
}

// receiptJSON is ReceiptModel.
type receiptJSON struct {
	receiptCommonJSON
	ShiftID          string         `json:"shift_id"`
	TransactionID    *string        `json:"transaction_id"`
	ControlNumber    *string        `json:"control_number"`
	CashierID        *string        `json:"cashier_id"`
	CashRegisterID   *string        `json:"cash_register_id"`
	Delivery         map[string]any `json:"delivery"`
	ProcessedCounter *int64         `json:"processed_counter"`
	Shift            shiftJSON      `json:"shift"`
}

// webhookReceiptJSON is WebhookReceiptModel: no shift_id or cashier_id, but the register object
// (docs/checkbox-rest.md §8).
type webhookReceiptJSON struct {
	receiptCommonJSON
	Shift        shiftJSON          `json:"shift"`
	CashRegister *registerShortJSON `json:"cash_register"`
}

// shortReceiptJSON is ShortReceiptDTO, the search's short form: goods untyped, no created_at.
type shortReceiptJSON struct {
	ID             string             `json:"id"`
	FiscalDate     *isoTime           `json:"fiscal_date"`
	OrganizationID string             `json:"organization_id"`
	FiscalCode     *string            `json:"fiscal_code"`
	Status         string             `json:"status"`
	Type           string             `json:"type"`
	Serial         int64              `json:"serial"`
	Goods          []any              `json:"goods"`
	CashRegister   shortIDJSON        `json:"cash_register"`
	Branch         any                `json:"branch"`
	Shift          shortShiftJSON     `json:"shift"`
	Payments       []shortPaymentJSON `json:"payments"`
	TotalSum       int64              `json:"total_sum"`
	TotalPayment   int64              `json:"total_payment"`
	TotalRest      int64              `json:"total_rest"`
	RoundSum       int64              `json:"round_sum"`
	IsTest         bool               `json:"is_test"`
	TaxURL         *string            `json:"tax_url"`
}

type shortIDJSON struct {
	ID           string `json:"id"`
	FiscalNumber string `json:"fiscal_number"`
}

type shortShiftJSON struct {
	ID     string `json:"id"`
	Serial int64  `json:"serial"`
}

type shortPaymentJSON struct {
	Type  string `json:"type"`
	Label string `json:"label"`
	Value int64  `json:"value"`
}

func (e *Emulator) goodTaxJSON(lt lineTax) goodTaxJSON {
	t := lt.tax
	return goodTaxJSON{
		ID: t.id, Code: t.code, Label: t.label, Symbol: t.symbol, Rate: t.rate, Included: true,
		CreatedAt: isoTime{e.org.createdAt}, NoVAT: t.noVAT, Type: "INCLUDED", Value: lt.value,
	}
}

func discountsWire(ds []discount) []discountJSON {
	out := make([]discountJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, discountJSON{Type: d.typ, Mode: d.mode, Value: json.Number(d.value.String()), Name: opt(d.name), Sum: d.sum})
	}
	return out
}

func (e *Emulator) receiptCommon(r *receipt) receiptCommonJSON {
	goods := make([]goodItemJSON, 0, len(r.lines))
	for _, l := range r.lines {
		taxes := make([]goodTaxJSON, 0, len(l.taxes))
		for _, t := range l.taxes {
			taxes = append(taxes, e.goodTaxJSON(t))
		}
		goods = append(goods, goodItemJSON{
			Good:   receiptGoodJSON{Code: l.code, Barcode: opt(l.barcode), Name: l.name, Uktzed: opt(l.uktzed), Price: l.price},
			GoodID: opt(l.goodID), Sum: l.sum, Quantity: l.quantity, IsReturn: l.isReturn,
			Taxes: taxes, Discounts: discountsWire(l.discounts),
		})
	}
	pays := make([]paymentJSON, 0, len(r.payments))
	for _, p := range r.payments {
		pj := paymentJSON{Type: p.typ, Value: p.value, Label: p.label}
		if p.typ != "CASH" {
			code := p.code
			pj.Code = &code
			pj.CardMask, pj.AuthCode, pj.RRN, pj.PaymentSystem = opt(p.cardMask), opt(p.authCode), opt(p.rrn), opt(p.paymentSystem)
		}
		pays = append(pays, pj)
	}
	taxes := make([]goodTaxJSON, 0, len(r.taxes))
	for _, t := range r.taxes {
		taxes = append(taxes, e.goodTaxJSON(t))
	}
	return receiptCommonJSON{
		ID: r.id, Serial: r.serial, Status: r.statusName(), Goods: goods, Payments: pays,
		TotalSum: r.totalSum, TotalPayment: r.totalPayment, TotalRest: r.totalRest,
		FiscalCode: opt(r.fiscalCodeShown()), FiscalDate: at(r.fiscalDate), Taxes: taxes, Discounts: discountsWire(r.discounts),
		CreatedAt: isoTime{r.createdAt}, UpdatedAt: at(r.createdAt), IsCreatedOffline: r.offline, Type: r.typ,
		Transaction: &transactionJSON{
			ID: r.transactionID, Type: "RECEIPT", Serial: r.txSerial, Status: "DONE",
			RequestSignedAt: at(r.fiscalDate), CreatedAt: at(r.createdAt), UpdatedAt: at(r.createdAt),
		},
		Header: opt(r.header), Footer: opt(r.footer), Barcode: opt(r.barcode), Context: r.context,
		RelatedReceiptID: opt(r.related), TechnicalReturn: r.technicalReturn, StockCode: opt(r.stockCode),
	}
}

func (e *Emulator) receiptJSON(r *receipt) receiptJSON {
	return receiptJSON{
		receiptCommonJSON: e.receiptCommon(r),
		ShiftID:           r.shift.id,
		TransactionID:     opt(r.transactionID),
		CashierID:         opt(r.cashier.id),
		CashRegisterID:    opt(r.reg.ID),
		Shift:             shiftWire(r.shift, true, true),
	}
}

func (e *Emulator) webhookReceiptJSON(r *receipt) webhookReceiptJSON {
	return webhookReceiptJSON{receiptCommonJSON: e.receiptCommon(r), Shift: shiftWire(r.shift, true, true), CashRegister: registerShort(r.reg)}
}

func (e *Emulator) shortReceiptJSON(r *receipt) shortReceiptJSON {
	pays := make([]shortPaymentJSON, 0, len(r.payments))
	for _, p := range r.payments {
		pays = append(pays, shortPaymentJSON{Type: p.typ, Label: p.label, Value: p.value})
	}
	return shortReceiptJSON{
		ID: r.id, FiscalDate: at(r.fiscalDate), OrganizationID: e.org.id, FiscalCode: opt(r.fiscalCodeShown()),
		Status: r.statusName(), Type: r.typ, Serial: r.serial, Goods: []any{},
		CashRegister: shortIDJSON{ID: r.reg.ID, FiscalNumber: r.reg.FiscalNumber},
		Shift:        shortShiftJSON{ID: r.shift.id, Serial: r.shift.serial},
		Payments:     pays, TotalSum: r.totalSum, TotalPayment: r.totalPayment, TotalRest: r.totalRest, IsTest: true,
	}
}
