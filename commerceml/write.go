package commerceml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/charmap"
)

// Encoding is the character encoding of a written file.
type Encoding string

const (
	// EncodingUTF8BOM is UTF-8 preceded by a byte order mark: a UTF-8 orders file without the BOM
	// was rejected by 1C (docs/commerceml.md §0.9, §7).
	EncodingUTF8BOM Encoding = "utf-8"
	// EncodingWindows1251 is the encoding of the 1C protocol's own order examples (docs/commerceml.md §4.3).
	// Characters cp1251 lacks are written as numeric character references, see NewDocumentWriter.
	EncodingWindows1251 Encoding = "windows-1251"
)

// WriterOptions configure a DocumentWriter. The zero value is usable.
type WriterOptions struct {
	// Encoding defaults to EncodingUTF8BOM. The XML declaration names it, and УНФ takes the
	// encoding from that declaration when it loads the file (docs/commerceml.md §1.5).
	Encoding Encoding
	// SchemaVersion is ВерсияСхемы; default "2.08", what УНФ itself writes (docs/commerceml.md §1.5).
	SchemaVersion string
	// Generated is ДатаФормирования; default time.Now() when the writer is created. It is written
	// in Europe/Kyiv as YYYY-MM-DDTHH:MM:SS, without a zone, as 1C writes it (docs/commerceml.md §1.1).
	Generated time.Time
	// Indent pretty-prints the documents with tabs, as 1C's own files are laid out. When false
	// (the zero value) every Документ is written on one line of its own, which keeps files small
	// and still lets a person or a diff tell documents apart. Both read the same: indentation is
	// only inserted between elements, never into values.
	Indent bool
	// Comment, when set, is written as an XML comment right after the declaration. XML readers, 1C's
	// included, skip comments; obmin uses one to recognise a file it wrote itself (docs/folders.md). It
	// must be valid XML comment text: no "--", nothing XML cannot carry.
	Comment string
}

// writeRoot is the root element of every CommerceML file.
const writeRoot = "КоммерческаяИнформация"

// Defaults written when a Document leaves these fields empty: the values 1C expects of an order
// that comes from a "site" (docs/commerceml.md §0.8, §5.4).
const (
	defaultSchemaVersion = "2.08"
	defaultOperation     = "Заказ товара"
	defaultRole          = "Продавец"
	defaultBuyerRole     = "Покупатель"
)

// ErrInvalidDocument marks a Document that Write refused. Nothing of that document reached the
// output and the writer stays usable, so a caller can hold the document back, report it and go on
// with the others. The message names the document's Номер and the field at fault.
var ErrInvalidDocument = errors.New("invalid document")

// ErrWriterClosed is returned by Write after Close.
var ErrWriterClosed = errors.New("commerceml: document writer is closed")

// DocumentWriter streams a КоммерческаяИнформация holding one Документ per Write, in the form
// BAS (1C:УНФ) loads orders from a file (docs/commerceml.md §5). Each document is built as a small
// tree and written out before Write returns, so memory does not grow with the number of documents.
//
// The root element carries no xmlns: УНФ reads the file with XDTO without a type, and without a
// namespace it reads it as an open object and takes properties by name, which is how the
// namespace-less files sites send are loaded (docs/commerceml.md §1.5, §5.4).
//
// A DocumentWriter is not safe for concurrent use.
type DocumentWriter struct {
	w        io.Writer
	encoding Encoding
	indent   bool
	kyiv     *time.Location
	settings etree.WriteSettings
	buf      bytes.Buffer // the current piece as UTF-8
	out      []byte       // the same piece re-encoded as windows-1251
	err      error        // first write error; the output is broken from then on
	closed   bool
}

// NewDocumentWriter writes the XML declaration (after a BOM for UTF-8) and the opening root
// element to w, and returns a writer for the documents.
//
// With EncodingWindows1251 a character the code page lacks (the Ukrainian apostrophe ʼ U+02BC,
// emoji, …) is written as a numeric character reference such as &#x2BC;. Any XML parser, 1C's
// included, reads the reference back as the very same character, so names stay exact (УНФ may
// match goods by Наименование, docs/commerceml.md §1.5) and no receipt is refused for its spelling.
// Ґ, є, і, ї, №, «», ’ and the dashes are in cp1251 and are written as plain bytes.
func NewDocumentWriter(w io.Writer, opts WriterOptions) (*DocumentWriter, error) {
	enc := opts.Encoding
	if enc == "" {
		enc = EncodingUTF8BOM
	}
	var declared string
	switch enc {
	case EncodingUTF8BOM:
		declared = "UTF-8"
	case EncodingWindows1251:
		declared = "windows-1251"
	default:
		return nil, fmt.Errorf("commerceml: unknown output encoding %q (want %q or %q)", enc, EncodingUTF8BOM, EncodingWindows1251)
	}
	kyiv, err := loadKyiv()
	if err != nil {
		return nil, err
	}
	version := opts.SchemaVersion
	if version == "" {
		version = defaultSchemaVersion
	}
	if p := textProblem(version); p != "" {
		return nil, fmt.Errorf("commerceml: schema version %s", p)
	}
	if p := textProblem(opts.Comment); p != "" || strings.Contains(opts.Comment, "--") || strings.HasSuffix(opts.Comment, "-") {
		return nil, fmt.Errorf("commerceml: comment %q cannot be an XML comment %s", opts.Comment, p)
	}
	generated := opts.Generated
	if generated.IsZero() {
		generated = time.Now()
	}

	dw := &DocumentWriter{
		w:        w,
		encoding: enc,
		indent:   opts.Indent,
		kyiv:     kyiv,
		// Canonical escaping keeps values exact: a CR in text and a tab or newline in an attribute
		// become character references instead of being normalised away by the reading parser.
		settings: etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true},
	}
	b := &dw.buf
	if enc == EncodingUTF8BOM {
		b.WriteString("\uFEFF")
	}
	b.WriteString(`<?xml version="1.0" encoding="` + declared + `"?>` + "\n")
	if opts.Comment != "" {
		b.WriteString("<!-- " + opts.Comment + " -->\n")
	}
	b.WriteString(`<` + writeRoot + ` ВерсияСхемы="`)
	_ = xml.EscapeText(b, []byte(version)) // writes to a bytes.Buffer, which cannot fail
	b.WriteString(`" ДатаФормирования="` + generated.In(kyiv).Format("2006-01-02T15:04:05") + `">` + "\n")
	if err := dw.flush(); err != nil {
		return nil, err
	}
	return dw, nil
}

// Write checks d and writes it as one Документ.
//
// An error wrapping ErrInvalidDocument means d was refused and nothing was written. The rules are those
// of BAS's own loader, which writes every document of a file in one transaction, so one document it
// cannot take fails the whole file on every run (docs/bas-orders.md). d is refused when
//   - ХозОперация is anything but «Заказ товара» (compared without case): BAS loads nothing else;
//   - Ид, Номер, Валюта, the counterparty's Ид or Наименование is empty, Time is zero, or there are no
//     lines; a line lacks Ид, Наименование or a unit (Код or name);
//   - a quantity, price, sum or tax is negative: BAS cannot store a negative amount in an order;
//   - it carries Скидки, on the document or a line: discounts belong in the line Сумма (BAS ignores a
//     document discount marked as already deducted and reads a line discount through an expression
//     whose outcome is unsure);
//   - a money value (Сумма, ЦенаЗаЕдиницу, a tax's Сумма) has more than 2 decimal places (СуммаТип;
//     rounding here would change the money);
//   - a text holds what XML cannot carry (invalid UTF-8, control characters), a requisite or a tax has
//     no name;
//   - Сумма is not Σ Товар/Сумма: BAS recomputes the order's total from the lines.
//
// Empty ХозОперация, Роль, counterparty Роль and ПолноеНаименование are written as "Заказ
// товара", "Продавец", "Покупатель" and the counterparty's Наименование; a zero Курс as 1. A line
// without requisites gets ВидНоменклатуры=Товар and ТипНоменклатуры=Товар (docs/commerceml.md §5.4).
//
// Any other error is a write error of the underlying writer; the output is then incomplete and
// every later call returns the same error.
func (dw *DocumentWriter) Write(d Document) error {
	if dw.closed {
		return ErrWriterClosed
	}
	if dw.err != nil {
		return dw.err
	}
	if err := validateDocument(&d); err != nil {
		return err
	}
	el := dw.documentElement(&d)
	dw.buf.Reset()
	if dw.indent {
		// Indent a throwaway parent so that Документ gets the depth it has under the root.
		parent := etree.NewElement(writeRoot)
		parent.AddChild(el)
		parent.IndentWithSettings(&etree.IndentSettings{UseTabs: true, PreserveLeafWhitespace: true})
		dw.buf.WriteByte('\t')
	}
	el.WriteTo(&dw.buf, &dw.settings)
	dw.buf.WriteByte('\n')
	return dw.flush()
}

// Close writes the closing root element. It does not close the underlying writer. Calling Close
// again does nothing; after a write error Close returns that error.
func (dw *DocumentWriter) Close() error {
	if dw.closed || dw.err != nil {
		return dw.err
	}
	dw.closed = true
	dw.buf.Reset()
	dw.buf.WriteString("</" + writeRoot + ">\n")
	return dw.flush()
}

// WriteDocuments writes a whole file holding docs. Every document is checked before anything is
// written, so an invalid one leaves w untouched; the error names it as Write does.
func WriteDocuments(w io.Writer, opts WriterOptions, docs []Document) error {
	for i := range docs {
		if err := validateDocument(&docs[i]); err != nil {
			return err
		}
	}
	dw, err := NewDocumentWriter(w, opts)
	if err != nil {
		return err
	}
	for _, d := range docs {
		if err := dw.Write(d); err != nil {
			return err
		}
	}
	return dw.Close()
}

// flush encodes the UTF-8 in dw.buf and writes it to the output in a single Write call, so a
// document is either handed over whole or the writer is broken.
func (dw *DocumentWriter) flush() error {
	b := dw.buf.Bytes()
	if dw.encoding == EncodingWindows1251 {
		dw.out = appendWindows1251(dw.out[:0], b)
		b = dw.out
	}
	if _, err := dw.w.Write(b); err != nil {
		dw.err = fmt.Errorf("commerceml: write documents: %w", err)
	}
	return dw.err
}

// appendWindows1251 appends the UTF-8 markup s encoded as windows-1251, writing a character the
// code page lacks as a hexadecimal character reference. A reference is legal wherever such a
// character can occur here: every element and attribute name the writer uses is in cp1251, so
// the others can only be in text and attribute values.
func appendWindows1251(dst, s []byte) []byte {
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		s = s[size:]
		if r < utf8.RuneSelf {
			dst = append(dst, byte(r))
			continue
		}
		if b, ok := charmap.Windows1251.EncodeRune(r); ok {
			dst = append(dst, b)
			continue
		}
		dst = append(dst, "&#x"...)
		dst = strconv.AppendInt(dst, int64(r), 16)
		dst = append(dst, ';')
	}
	return dst
}

// loadKyiv returns Europe/Kyiv, the zone BAS reads document dates and times in. Writing in a
// guessed zone would shift receipts across midnight, so a missing zone is an error, not a fallback.
func loadKyiv() (*time.Location, error) {
	loc, err := time.LoadLocation("Europe/Kyiv")
	if err == nil {
		return loc, nil
	}
	// Zone databases older than 2022b know the city only by its former spelling.
	if old, oldErr := time.LoadLocation("Europe/Kiev"); oldErr == nil {
		return old, nil
	}
	return nil, fmt.Errorf("commerceml: load time zone Europe/Kyiv (the program should import time/tzdata): %w", err)
}

// documentElement builds one Документ in the XSD element order (docs/commerceml.md §5.2). d has been
// validated.
func (dw *DocumentWriter) documentElement(d *Document) *etree.Element {
	t := d.Time.In(dw.kyiv)
	doc := etree.NewElement("Документ")
	addText(doc, "Ид", d.ID)
	addText(doc, "Номер", d.Number)
	addText(doc, "Дата", t.Format("2006-01-02"))
	addText(doc, "ХозОперация", orDefault(d.Operation, defaultOperation))
	addText(doc, "Роль", orDefault(d.Role, defaultRole))
	addText(doc, "Валюта", d.Currency)
	rate := "1"
	if !d.Rate.IsZero() {
		rate = d.Rate.String()
	}
	addText(doc, "Курс", rate)
	addText(doc, "Сумма", money(d.Total))

	// docs/commerceml.md §5.2: a person is described by ПолноеНаименование, and Роль is required.
	cp := doc.CreateElement("Контрагенты").CreateElement("Контрагент")
	addText(cp, "Ид", d.Counterparty.ID)
	addText(cp, "Наименование", d.Counterparty.Name)
	addText(cp, "ПолноеНаименование", orDefault(d.Counterparty.FullName, d.Counterparty.Name))
	addText(cp, "Роль", orDefault(d.Counterparty.Role, defaultBuyerRole))

	addText(doc, "Время", t.Format("15:04:05"))
	if d.Comment != "" {
		addText(doc, "Комментарий", d.Comment)
	}
	addTaxes(doc, d.Taxes)

	goods := doc.CreateElement("Товары")
	for i := range d.Lines {
		addLine(goods, &d.Lines[i])
	}
	addRequisites(doc, d.Requisites)
	return doc
}

// defaultLineRequisites are written for a line that brings none, as sites do (docs/commerceml.md §5.3, §5.4).
var defaultLineRequisites = []Requisite{
	{Name: "ВидНоменклатуры", Value: "Товар"},
	{Name: "ТипНоменклатуры", Value: "Товар"},
}

// addLine writes a document Товар: the catalogue fields, then ЗначенияРеквизитов, then the
// document fields (docs/commerceml.md §5.2).
func addLine(parent *etree.Element, ln *DocumentLine) {
	g := parent.CreateElement("Товар")
	addText(g, "Ид", ln.ID)
	if ln.Article != "" {
		addText(g, "Артикул", ln.Article)
	}
	addText(g, "Наименование", ln.Name)
	u := g.CreateElement("БазоваяЕдиница")
	for _, a := range [...][2]string{
		{"Код", ln.Unit.Code},
		{"НаименованиеПолное", ln.Unit.FullName},
		{"МеждународноеСокращение", ln.Unit.Intl},
	} {
		if a[1] != "" {
			u.CreateAttr(a[0], a[1])
		}
	}
	u.SetText(ln.Unit.Name)
	reqs := ln.Requisites
	if len(reqs) == 0 {
		reqs = defaultLineRequisites
	}
	addRequisites(g, reqs)
	addText(g, "ЦенаЗаЕдиницу", money(ln.PricePerUnit))
	addText(g, "Количество", ln.Quantity.String()) // exact, without trailing zeros: "2", "0.25"
	addText(g, "Сумма", money(ln.Sum))
	addTaxes(g, ln.Taxes)
}

// addTaxes writes Налоги/Налог in the order of CommerceML's НалогВДокументе: Наименование,
// УчтеноВСумме, Сумма, Ставка, as BAS's own orders export writes it (docs/bas-orders.md, «ПДВ»).
func addTaxes(parent *etree.Element, list []Tax) {
	if len(list) == 0 {
		return
	}
	all := parent.CreateElement("Налоги")
	for _, t := range list {
		e := all.CreateElement("Налог")
		addText(e, "Наименование", t.Name)
		addText(e, "УчтеноВСумме", strconv.FormatBool(t.InTotal))
		addText(e, "Сумма", money(t.Sum))
		addText(e, "Ставка", t.Rate)
	}
}

func addRequisites(parent *etree.Element, list []Requisite) {
	if len(list) == 0 {
		return
	}
	all := parent.CreateElement("ЗначенияРеквизитов")
	for _, r := range list {
		e := all.CreateElement("ЗначениеРеквизита")
		addText(e, "Наименование", r.Name)
		addText(e, "Значение", r.Value)
	}
}

func addText(parent *etree.Element, tag, text string) {
	parent.CreateElement(tag).SetText(text)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// money formats a validated amount as СуммаТип: exactly two decimals, '.' as separator
// (docs/commerceml.md §1.3).
func money(v decimal.Decimal) string {
	return v.StringFixed(2)
}

// validateDocument returns an error wrapping ErrInvalidDocument for a document Write must refuse;
// the rules are listed on Write.
func validateDocument(d *Document) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("commerceml: document Номер %q (Ид %q): %s: %w", d.Number, d.ID, fmt.Sprintf(format, args...), ErrInvalidDocument)
	}
	switch {
	case isBlank(d.ID):
		return bad("Ид is empty")
	case isBlank(d.Number):
		return bad("Номер is empty")
	case d.Time.IsZero():
		return bad("Дата/Время is not set")
	case d.Operation != "" && !strings.EqualFold(strings.TrimSpace(d.Operation), defaultOperation):
		return bad("ХозОперация %q: BAS's site exchange loads «%s» only, and any other operation fails the whole file", d.Operation, defaultOperation)
	case isBlank(d.Currency):
		return bad("Валюта is empty")
	case d.Rate.IsNegative():
		return bad("Курс %s is negative", d.Rate)
	case isBlank(d.Counterparty.ID):
		return bad("Контрагенты/Контрагент/Ид is empty")
	case isBlank(d.Counterparty.Name):
		return bad("Контрагенты/Контрагент/Наименование is empty")
	case len(d.Lines) == 0:
		return bad("Товары has no Товар")
	case len(d.Discounts) > 0:
		return bad("Скидки: discounts are written into the line sums, never as document discounts (BAS ignores one marked as deducted)")
	}
	if field, p := badText(
		"Ид", d.ID, "Номер", d.Number, "ХозОперация", d.Operation, "Роль", d.Role, "Валюта", d.Currency,
		"Контрагенты/Контрагент/Ид", d.Counterparty.ID,
		"Контрагенты/Контрагент/Наименование", d.Counterparty.Name,
		"Контрагенты/Контрагент/ПолноеНаименование", d.Counterparty.FullName,
		"Контрагенты/Контрагент/Роль", d.Counterparty.Role,
		"Комментарий", d.Comment,
	); p != "" {
		return bad("%s %s", field, p)
	}
	if p := moneyProblem(d.Total); p != "" {
		return bad("Сумма %s", p)
	}
	if p := taxesProblem(d.Taxes); p != "" {
		return bad("Налоги/%s", p)
	}
	if p := requisitesProblem(d.Requisites); p != "" {
		return bad("ЗначенияРеквизитов/%s", p)
	}

	linesSum := decimal.Zero
	for i := range d.Lines {
		if p := lineProblem(&d.Lines[i]); p != "" {
			return bad("Товары/Товар[%d] %s", i+1, p)
		}
		linesSum = linesSum.Add(d.Lines[i].Sum)
	}
	if !d.Total.Equal(linesSum) {
		return bad("Сумма %s does not match the lines: Σ Товар/Сумма = %s (BAS recomputes the total from the lines)",
			money(d.Total), money(linesSum))
	}
	return nil
}

// lineProblem describes what is wrong with a document line, or returns "".
func lineProblem(ln *DocumentLine) string {
	switch {
	case isBlank(ln.ID):
		return "Ид is empty"
	case isBlank(ln.Name):
		return "Наименование is empty"
	case isBlank(ln.Unit.Code) && isBlank(ln.Unit.Name):
		return "БазоваяЕдиница has neither Код nor a name"
	}
	if field, p := badText(
		"Ид", ln.ID, "Артикул", ln.Article, "Наименование", ln.Name,
		"БазоваяЕдиница", ln.Unit.Name, "БазоваяЕдиница/@Код", ln.Unit.Code,
		"БазоваяЕдиница/@НаименованиеПолное", ln.Unit.FullName,
		"БазоваяЕдиница/@МеждународноеСокращение", ln.Unit.Intl,
	); p != "" {
		return field + " " + p
	}
	if p := moneyProblem(ln.PricePerUnit); p != "" {
		return "ЦенаЗаЕдиницу " + p
	}
	if p := moneyProblem(ln.Sum); p != "" {
		return "Сумма " + p
	}
	if ln.Quantity.IsNegative() {
		return "Количество " + ln.Quantity.String() + " is negative"
	}
	if len(ln.Discounts) > 0 {
		return "Скидки: discounts are written into the line Сумма, never as line discounts"
	}
	if p := taxesProblem(ln.Taxes); p != "" {
		return "Налоги/" + p
	}
	if p := requisitesProblem(ln.Requisites); p != "" {
		return "ЗначенияРеквизитов/" + p
	}
	return ""
}

func taxesProblem(list []Tax) string {
	for i, t := range list {
		switch {
		case isBlank(t.Name):
			return fmt.Sprintf("Налог[%d]/Наименование is empty", i+1)
		case isBlank(t.Rate):
			return fmt.Sprintf("Налог[%d]/Ставка is empty", i+1)
		case moneyProblem(t.Sum) != "":
			return fmt.Sprintf("Налог[%d]/Сумма %s", i+1, moneyProblem(t.Sum))
		}
		if field, p := badText("Наименование", t.Name, "Ставка", t.Rate); p != "" {
			return fmt.Sprintf("Налог[%d]/%s %s", i+1, field, p)
		}
	}
	return ""
}

func requisitesProblem(list []Requisite) string {
	for i, r := range list {
		if isBlank(r.Name) {
			return fmt.Sprintf("ЗначениеРеквизита[%d]/Наименование is empty", i+1)
		}
		if field, p := badText("Наименование", r.Name, "Значение", r.Value); p != "" {
			return fmt.Sprintf("ЗначениеРеквизита[%d]/%s %s", i+1, field, p)
		}
	}
	return ""
}

// moneyProblem refuses negative amounts (BAS cannot store them in an order, docs/bas-orders.md) and
// amounts with more than two decimal places instead of rounding them.
func moneyProblem(v decimal.Decimal) string {
	if v.IsNegative() {
		return v.String() + " is negative"
	}
	if !v.Equal(v.Round(2)) {
		return v.String() + " has more than 2 decimal places"
	}
	return ""
}

// badText returns the first of the name/value pairs whose value cannot be written as XML text.
func badText(pairs ...string) (field, problem string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if p := textProblem(pairs[i+1]); p != "" {
			return pairs[i], p
		}
	}
	return "", ""
}

// textProblem describes why s cannot be carried by XML 1.0 text, or returns "". Such a
// character would make the whole file unreadable to 1C, or be silently dropped by it
// (docs/commerceml.md §1.5: УНФ strips characters invalid in XML before parsing).
func textProblem(s string) string {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return fmt.Sprintf("is not valid UTF-8 (byte %d)", i)
			}
		}
		if !isXMLChar(r) {
			return fmt.Sprintf("contains %U, which XML cannot carry", r)
		}
	}
	return ""
}

// isXMLChar reports whether r is in the Char production of XML 1.0.
func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

func isBlank(s string) bool {
	return strings.TrimSpace(s) == ""
}
