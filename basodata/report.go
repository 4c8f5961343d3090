package basodata

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Report is the document «Отчет о розничных продажах» (Document_ОтчетОРозничныхПродажах) as obmin
// writes and reads it: the header and the Запасы and ОплатаПлатежнымиКартами sections (docs/bas-odata.md §4).
type Report struct {
	Ref          string   `json:"Ref_Key,omitempty"`
	Date         DateTime `json:"Date"`
	Currency     string   `json:"ВалютаДокумента_Key"`
	PriceKind    string   `json:"ВидЦен_Key"`
	Till         string   `json:"КассаККМ_Key"`
	Comment      string   `json:"Комментарий"`
	ShiftStart   DateTime `json:"НачалоКассовойСмены"`
	ShiftEnd     DateTime `json:"ОкончаниеКассовойСмены"`
	Organization string   `json:"Организация_Key"`
	Department   string   `json:"Подразделение_Key"`
	Store        string   `json:"СтруктурнаяЕдиница_Key"`
	ShiftStatus  string   `json:"СтатусКассовойСмены"` // Открыта, Закрыта, ЗакрытаЧекиЗаархивированы
	// Total is what the base computes (Σ Запасы.Всего, ObjectModule.ПередЗаписью); what a client sends
	// is overwritten. obmin sends it anyway, equal to that sum, for a base that skips the handler.
	Total        Amount `json:"СуммаДокумента"`
	VATTaxation  string `json:"НалогообложениеНДС"` // ОблагаетсяНДС, НеОблагаетсяНДС, НаЭкспорт
	IncludesVAT  bool   `json:"СуммаВключаетНДС"`
	VATInCost    bool   `json:"НДСВключатьВСтоимость"`
	CashFlowItem string `json:"Статья_Key"`

	Stock []StockRow `json:"Запасы"`
	Cards []CardRow  `json:"ОплатаПлатежнымиКартами"`

	// Set by the base; never sent.
	DataVersion  string `json:"DataVersion,omitempty"`
	Number       string `json:"Number,omitempty"`
	Posted       bool   `json:"Posted,omitempty"`
	DeletionMark bool   `json:"DeletionMark,omitempty"`
}

// StockRow is a row of Запасы: goods sold (positive) or returned (negative, Returned = the quantity).
type StockRow struct {
	Line           LineNumber `json:"LineNumber"`
	Good           string     `json:"Номенклатура_Key"`
	Characteristic string     `json:"Характеристика_Key"`
	Quantity       Quantity   `json:"Количество"`
	Unit           string     `json:"ЕдиницаИзмерения"`
	UnitType       string     `json:"ЕдиницаИзмерения_Type"`
	Price          Amount     `json:"Цена"` // never negative, a return's too
	DiscountPct    Percent    `json:"ПроцентСкидкиНаценки"`
	Sum            Amount     `json:"Сумма"`
	VATRate        string     `json:"СтавкаНДС_Key"`
	VAT            Amount     `json:"СуммаНДС"`
	Total          Amount     `json:"Всего"`
	Returned       Quantity   `json:"Возврат"` // the returned quantity, not a flag
}

// CardRow is a row of ОплатаПлатежнымиКартами.
type CardRow struct {
	Line       LineNumber `json:"LineNumber"`
	Terminal   string     `json:"ЭквайринговыйТерминал_Key"`
	CardKind   string     `json:"ВидПлатежнойКарты"`   // string(50), required
	CardNumber string     `json:"НомерПлатежнойКарты"` // string(22), required: a masked number
	Sum        Amount     `json:"Сумма"`
	PaidOn     DateTime   `json:"ДатаПлатежа"`
}

// UnitTypeClassifier is the _Type of a unit from Catalog.КлассификаторЕдиницИзмерения, an item's base unit.
const UnitTypeClassifier = "StandardODATA.Catalog_КлассификаторЕдиницИзмерения"

// Shift statuses (Enum.СтатусыКассовойСмены) and till types (Enum.ТипыКассККМ).
const (
	ShiftOpen           = "Открыта"
	ShiftClosed         = "Закрыта"
	ShiftClosedArchived = "ЗакрытаЧекиЗаархивированы"
	TillFiscalRegister  = "ФискальныйРегистратор"
)

// payload is the report as sent: the base's own fields cleared, references never "".
func (r Report) payload(withRef bool) Report {
	p := r
	p.DataVersion, p.Number, p.Posted, p.DeletionMark = "", "", false, false
	if !withRef {
		p.Ref = ""
	}
	for _, ref := range []*string{&p.Currency, &p.PriceKind, &p.Till, &p.Organization, &p.Department, &p.Store, &p.CashFlowItem} {
		*ref = orEmpty(*ref)
	}
	p.Stock = append([]StockRow{}, r.Stock...)
	for i := range p.Stock {
		p.Stock[i].Characteristic = orEmpty(p.Stock[i].Characteristic)
	}
	p.Cards = append([]CardRow{}, r.Cards...)
	for i := range p.Cards {
		p.Cards[i].Terminal = orEmpty(p.Cards[i].Terminal)
	}
	return p
}

// reportSelect is what a look-up reads: enough to compare with what obmin would send.
var reportSelect = []string{"Ref_Key", "DataVersion", "Number", "Date", "DeletionMark", "Posted", "ВалютаДокумента_Key",
	"ВидЦен_Key", "КассаККМ_Key", "Комментарий", "НачалоКассовойСмены", "ОкончаниеКассовойСмены", "Организация_Key",
	"Подразделение_Key", "СтруктурнаяЕдиница_Key", "СтатусКассовойСмены", "СуммаДокумента", "НалогообложениеНДС",
	"СуммаВключаетНДС", "НДСВключатьВСтоимость", "Статья_Key", "Запасы", "ОплатаПлатежнымиКартами"}

// GetReport reads a report by Ref_Key; a missing one is ErrNotFound.
func (c *Client) GetReport(ctx context.Context, ref string) (Report, error) {
	var r Report
	err := c.Get(ctx, SetReport, ref, reportSelect, &r)
	return r, err
}

// FindReports lists the reports of a till dated within [from, to], with their lines: the candidates a
// marker in Комментарий is looked for among (docs/bas-odata.md §4, exactly once).
func (c *Client) FindReports(ctx context.Context, till string, from, to DateTime) ([]Report, error) {
	if err := checkRef("till", till); err != nil {
		return nil, err
	}
	var out []Report
	q := Query{Filter: And(Eq("КассаККМ_Key", Guid(till)), Ge("Date", Time(from)), Le("Date", Time(to))), Select: reportSelect}
	err := List(ctx, c, SetReport, q, func(r Report) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// CreateReport POSTs a new report and returns it as the base stored it. The POST is sent once and
// never repeated: when its answer is lost the report may exist, and only a look-up can tell (see Sync).
// withRef sends r.Ref as the new report's Ref_Key.
func (c *Client) CreateReport(ctx context.Context, r Report, withRef bool) (Report, error) {
	if withRef {
		if err := checkRef("report key", r.Ref); err != nil {
			return Report{}, err
		}
	}
	var out Report
	err := c.do(ctx, request{method: http.MethodPost, path: url.PathEscape(SetReport), query: "$format=json", body: r.payload(withRef), once: true}, &out)
	return out, err
}

// PatchReport replaces a report's header and its two sections (a PATCH carrying a section replaces it
// whole) and returns it as stored. dataVersion, when known, goes in If-Match, so a report changed in
// between is not overwritten blindly: the base then answers 412, and the caller reads it again.
func (c *Client) PatchReport(ctx context.Context, ref, dataVersion string, r Report) (Report, error) {
	if err := checkRef("report key", ref); err != nil {
		return Report{}, err
	}
	h := http.Header{}
	if dataVersion != "" {
		h.Set("If-Match", dataVersion)
	}
	var out Report
	err := c.do(ctx, request{method: http.MethodPatch, path: entityPath(SetReport, ref), query: "$format=json", body: r.payload(false), header: h}, &out)
	return out, err
}

// Post posts a report, non-operationally: the document forbids operational posting (docs/bas-odata.md §4).
// Posting again is harmless, so it is retried like a read.
func (c *Client) Post(ctx context.Context, ref string) error {
	return c.action(ctx, ref, "Post")
}

// Unpost cancels a report's posting, taking its movements back.
func (c *Client) Unpost(ctx context.Context, ref string) error {
	return c.action(ctx, ref, "Unpost")
}

func (c *Client) action(ctx context.Context, ref, name string) error {
	if err := checkRef("report key", ref); err != nil {
		return err
	}
	err := c.do(ctx, request{method: http.MethodPost, path: entityPath(SetReport, ref) + "/" + name, query: "PostingModeOperational=false"}, nil)
	if err != nil {
		return fmt.Errorf("%s report %s: %w", strings.ToLower(name), ref, err)
	}
	return nil
}

// DeleteReport deletes a report outright (tests and the demo; obmin itself never deletes).
func (c *Client) DeleteReport(ctx context.Context, ref string) error {
	if err := checkRef("report key", ref); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: entityPath(SetReport, ref)}, nil)
}
