package inspect

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"

	"obmin/commerceml"
	"obmin/drop"
	"obmin/exchange"
	"obmin/feed"
	"obmin/internal/ctxio"
	"obmin/internal/safezip"
	"obmin/internal/xmlin"
)

// Status of an inspected file.
const (
	statusRead    = "read"    // obmin reads it
	statusRefused = "refused" // a format obmin does not read
	statusBroken  = "broken"  // a format obmin reads, but this file is cut short, malformed or holds a bad value
)

// Reason kinds: why a file is refused or broken. They are stable: scripts may test them.
const (
	reasonCommerceML3 = "commerceml-3"   // CommerceML 3.x (the 1C-Bitrix module), docs/commerceml.md §1.4
	reasonOtherXML    = "other-xml"      // XML, but neither CommerceML nor a feed (an XSD schema, a web page…)
	reasonNotXML      = "not-xml"        // not XML at all (text, a picture, a PDF, a zip named .xml…)
	reasonEncoding    = "encoding"       // an encoding other than UTF-8 and windows-1251 (docs/commerceml.md §4.3)
	reasonWrongEnc    = "wrong-encoding" // the bytes contradict the declared encoding (re-saved in an editor)
	reasonEmpty       = "empty"          // 0 bytes
	reasonTruncated   = "truncated"      // ends before the closing root tag
	reasonMalformed   = "malformed"      // not well-formed XML
	reasonBadValue    = "invalid-value"  // a value obmin refuses to guess at (a price that is not a number…)
	reasonTooLarge    = "too-large"      // beyond the reader's limits
	reasonZipUnsafe   = drop.ZipUnsafe   // an entry name leaving the folder, a link…
	reasonZipLimit    = drop.ZipLimit    // too many entries or bytes
	reasonZipBroken   = drop.ZipBroken   // not a readable zip archive
	reasonIO          = "io"             // the file could not be read at all
)

// fileReport is what inspect says about one file; its JSON field names are stable.
type fileReport struct {
	Path        string      `json:"path"`              // as given, below a folder, or archive.zip!entry
	Size        int64       `json:"size"`              // bytes
	Format      string      `json:"format"`            // commerceml, commerceml-3, yml, hotline, zip, xml, not-xml
	Kind        string      `json:"kind,omitempty"`    // CommerceML: catalog, offers, prices, rests, documents, empty
	Flavour     string      `json:"flavour,omitempty"` // feeds: rozetka, prom, epicentr, maudau, yml, hotline
	FlavourWhy  string      `json:"flavour_evidence,omitempty"`
	Schema      string      `json:"schema_version,omitempty"` // ВерсияСхемы
	Namespace   string      `json:"namespace,omitempty"`
	Generated   string      `json:"generated,omitempty"` // ДатаФормирования, or a feed's date
	Encoding    string      `json:"encoding,omitempty"`  // as declared, or UTF-8 when nothing is declared
	Declared    bool        `json:"encoding_declared"`
	BOM         bool        `json:"bom"`
	OnlyChanges bool        `json:"only_changes"` // СодержитТолькоИзменения (docs/commerceml.md §4.1)
	Status      string      `json:"status"`       // read, refused, broken
	Reason      string      `json:"reason,omitempty"`
	What        string      `json:"what,omitempty"` // for a refused file: what it is
	Error       *string     `json:"error"`          // the first error, as obmin would report it; null when read
	CommerceML  *cmlCounts  `json:"commerceml,omitempty"`
	Feed        *feedCounts `json:"feed,omitempty"`
	Zip         *zipReport  `json:"zip,omitempty"`
	Problems    []problem   `json:"problems"`       // the first -problems of them
	ProblemsAll int         `json:"problems_total"` // how many there are

	priceTypes []commerceml.PriceType // announced in ТипыЦен, for the drop's plan
}

// cmlCounts are the counts of a CommerceML file (read up to the error, if any).
type cmlCounts struct {
	Groups          int              `json:"groups"`
	PriceTypes      int              `json:"price_types"`
	Warehouses      int              `json:"warehouses"`
	Goods           int              `json:"goods"`
	Offers          int              `json:"offers"`
	Documents       int              `json:"documents"`
	Characteristics int              `json:"characteristics"` // goods and offers whose Ид is product#characteristic
	Deleted         int              `json:"deleted"`         // Статус="Удален" or ПометкаУдаления
	WithStock       int              `json:"with_stock"`
	NegativeStock   int              `json:"negative_stock"`
	WithoutPrice    int              `json:"without_price"` // offers with no Цена at all
	PricesByType    []priceTypeCount `json:"prices_by_type,omitempty"`
}

// priceTypeCount is how many offers carry a price of one type.
type priceTypeCount struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"` // from ТипыЦен, when the file (or its drop) announces it
	Offers int    `json:"offers"`
}

// feedCounts are the counts of a marketplace feed.
type feedCounts struct {
	Shop         string `json:"shop,omitempty"`
	Offers       int    `json:"offers"`
	Available    int    `json:"available"`
	Unavailable  int    `json:"unavailable"`
	Unsaid       int    `json:"availability_unsaid"`
	WithStock    int    `json:"with_stock"`
	WithPrice    int    `json:"with_price"`
	Categories   int    `json:"categories"`
	Currencies   int    `json:"currencies"`
	NotHryvnia   int    `json:"not_hryvnia"` // priced in another currency: not sent to Checkbox
	WithoutCode  int    `json:"without_vendor_code"`
	WithoutPrice int    `json:"without_price"`
}

// zipReport lists an archive's entries and what becomes of each.
type zipReport struct {
	Entries []zipEntry `json:"entries"`
}

type zipEntry struct {
	Name string `json:"name"`
	Use  string `json:"use"` // "inspected" or why it is ignored
}

// problem is one thing wrong in a file: an error (the file is refused or broken) or a warning (the file is
// read, but this record will not reach Checkbox as it is).
type problem struct {
	Severity string `json:"severity"` // error, warning
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Element  string `json:"element,omitempty"`
	Field    string `json:"field,omitempty"`
	Value    string `json:"value,omitempty"`
	Message  string `json:"message"`
}

// zipExtracted is one XML entry of an archive, unpacked into a temporary folder.
type zipExtracted struct{ path, display string }

// fill inspects the file into rep. Only an error of the sink or of the context is returned: whatever is
// wrong with the file itself goes into rep.
func (in *inspector) fill(ctx context.Context, p string, rep *fileReport, entries *[]zipExtracted, tmp *string) error {
	f, err := os.Open(p)
	if err != nil {
		in.ioFailure(rep, err)
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		in.ioFailure(rep, err)
		return nil
	}
	rep.Size = st.Size()
	head := make([]byte, 1024)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		in.ioFailure(rep, err)
		return nil
	}
	head = head[:n]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		in.ioFailure(rep, err)
		return nil
	}

	isZipName := strings.EqualFold(path.Ext(rep.Path), ".zip")
	switch {
	case isZipName:
		rep.Format = "zip"
		return in.zip(ctx, p, rep, entries, tmp)
	case len(head) == 0:
		in.fail(rep, statusBroken, reasonEmpty, problem{File: rep.Path,
			Message: "empty file (0 bytes): a copy that has not been filled yet looks like this; obmin waits for it"})
		return nil
	}
	if what, reason := notXML(head); what != "" {
		rep.Format = "not-xml"
		rep.What = what
		in.fail(rep, statusRefused, reason, problem{File: rep.Path, Message: what + "; " + exchange.FormatsRead})
		return nil
	}
	rep.BOM = bytes.HasPrefix(head, utf8BOM)
	rep.Encoding, rep.Declared = declaredEncoding(head)
	if !rep.Declared {
		rep.Encoding = "UTF-8"
	}
	return in.readXML(ctx, f, rep)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// notXML tells what a file is when it cannot be XML, from its first bytes; "" when it may be XML.
func notXML(head []byte) (what, reason string) {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return "UTF-16 text (byte-order mark " + fmt.Sprintf("% X", head[:2]) + "): obmin reads UTF-8 and windows-1251 only", reasonEncoding
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return "a zip archive, not named .zip: obmin unpacks archives only when they are named .zip", reasonNotXML
	case bytes.HasPrefix(head, []byte("%PDF")):
		return "a PDF document, not XML", reasonNotXML
	case bytes.HasPrefix(head, []byte("\x89PNG")), bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}), bytes.HasPrefix(head, []byte("GIF8")):
		return "a picture (PNG, JPEG or GIF), not XML", reasonNotXML
	case bytes.HasPrefix(head, []byte{0x1F, 0x8B}):
		return "gzip-compressed data, not XML", reasonNotXML
	}
	body := bytes.TrimLeft(bytes.TrimPrefix(head, utf8BOM), " \t\r\n")
	if len(body) == 0 {
		return "", "" // only white space so far: the XML reader says "unexpected end of file"
	}
	if body[0] == '<' {
		return "", ""
	}
	if looksText(body) {
		line, _, _ := bytes.Cut(body, []byte("\n"))
		s := strings.TrimSpace(strings.ToValidUTF8(string(line), "?"))
		if r := []rune(s); len(r) > 40 {
			s = string(r[:40]) + "…"
		}
		return fmt.Sprintf("text, not XML (it starts %q)", s), reasonNotXML
	}
	k := min(len(body), 8)
	return fmt.Sprintf("binary data, not XML (first bytes % x)", body[:k]), reasonNotXML
}

// looksText: no control characters but tab and line ends (any 8-bit text encoding passes).
func looksText(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7F {
			return false
		}
	}
	return true
}

var encodingDecl = regexp.MustCompile(`^<\?xml[^>]*?\sencoding\s*=\s*["']([^"']*)["']`)

// declaredEncoding is the encoding named by the XML declaration, if any.
func declaredEncoding(head []byte) (string, bool) {
	body := bytes.TrimLeft(bytes.TrimPrefix(head, utf8BOM), " \t\r\n")
	m := encodingDecl.FindSubmatch(body)
	if m == nil {
		return "", false
	}
	return string(m[1]), true
}

// xml reads an XML file as CommerceML 2, and as a feed when its root says it is one.
func (in *inspector) readXML(ctx context.Context, f *os.File, rep *fileReport) error {
	c := &cmlCounter{in: in, rep: rep, types: map[string]string{}, byType: map[string]int{}, articles: map[string]int{}}
	sum, err := commerceml.Read(ctxio.Reader(ctx, f), rep.Path, c.handler())
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if c.sinkErr != nil {
		return c.sinkErr
	}
	if errors.Is(err, commerceml.ErrNotCommerceML) {
		if _, serr := f.Seek(0, io.SeekStart); serr != nil {
			in.ioFailure(rep, serr)
			return nil
		}
		return in.feed(ctx, f, rep, err)
	}
	rep.Format = "commerceml"
	rep.Schema, rep.Namespace, rep.Generated = sum.Header.SchemaVersion, sum.Header.Namespace, sum.Header.Generated
	rep.OnlyChanges = sum.OnlyChanges
	rep.Kind = string(sum.Kind)
	if err == nil && sum.Kind == commerceml.KindUnknown {
		rep.Kind = "empty"
	}
	if errors.Is(err, commerceml.ErrUnsupportedVersion) {
		rep.Format = "commerceml-3"
		rep.What = "CommerceML 3.x, what 1C writes when the 1C-Bitrix exchange module is installed in it: a different format"
		rep.Kind = ""
	}
	cc := &cmlCounts{
		Groups: sum.Groups, PriceTypes: sum.PriceTypes, Warehouses: sum.Warehouses, Goods: sum.Goods, Offers: sum.Offers,
		Documents: sum.Documents, Characteristics: c.characteristics, Deleted: c.deleted, WithStock: c.withStock,
		NegativeStock: c.negative, WithoutPrice: c.noPrice, PricesByType: c.pricesByType(),
	}
	if rep.Format == "commerceml" {
		rep.CommerceML = cc
	}
	if err != nil {
		in.readErr(rep, err)
	}
	return nil
}

// cmlCounter counts a CommerceML file's records and notes the ones obmin would skip.
type cmlCounter struct {
	in      *inspector
	rep     *fileReport
	sinkErr error

	characteristics, deleted, withStock, negative, noPrice int
	types                                                  map[string]string // price type Ид → Наименование
	order                                                  []string          // price type Ид in the order first seen
	byType                                                 map[string]int
	articles                                               map[string]int // Артикул → line of the first good carrying it
}

func (c *cmlCounter) emit(kind string, v any) error {
	if !c.in.records {
		return nil
	}
	if err := c.in.sink.record(kind, v); err != nil {
		c.sinkErr = err
		return err
	}
	return nil
}

func (c *cmlCounter) handler() commerceml.Handler {
	return commerceml.Handler{
		Group: func(g commerceml.Group) error { return c.emit("group", g) },
		PriceType: func(p commerceml.PriceType) error {
			if _, ok := c.types[p.ID]; !ok {
				c.order = append(c.order, p.ID)
			}
			c.types[p.ID] = p.Name
			c.in.dropTypes[p.ID] = p.Name
			c.rep.priceTypes = append(c.rep.priceTypes, p)
			return c.emit("price_type", p)
		},
		Warehouse: func(w commerceml.Warehouse) error { return c.emit("warehouse", w) },
		Good:      func(g commerceml.Good) error { c.good(g); return c.emit("good", g) },
		Offer:     func(o commerceml.Offer) error { c.offer(o); return c.emit("offer", o) },
		Document:  func(d commerceml.Document) error { return c.emit("document", d) },
	}
}

func (c *cmlCounter) warn(line int, elem, field, value, msg string) {
	c.in.add(c.rep, problem{Severity: "warning", File: c.rep.Path, Line: line, Element: elem, Field: field, Value: value, Message: msg})
}

func (c *cmlCounter) good(g commerceml.Good) {
	if strings.Contains(g.ID, "#") {
		c.characteristics++
	}
	if g.Deleted {
		c.deleted++
	}
	if strings.TrimSpace(g.Name) == "" {
		c.warn(g.Line, "Товар", "Ид", g.ID, "no Наименование")
	}
	// The code by the service's own rule: the Артикул by default (mapping.code_field), and for a variant
	// (productGUID#characteristicGUID) the Артикул with a suffix of its own (mapping.variant_code).
	art := defaults.Code(g)
	if _, _, variant := commerceml.Variant(g.ID); variant {
		art = defaults.VariantCodeOf(g)
	}
	switch first, dup := c.articles[art]; {
	case art == "":
		c.warn(g.Line, "Товар", "Ид", g.ID, "no Артикул: with the default mapping.code_field (article) it cannot become a Checkbox good")
	case dup:
		c.warn(g.Line, "Товар", "Артикул", art, fmt.Sprintf("the good on line %d has the same Артикул: Checkbox codes are unique, obmin sends only one of them", first))
	default:
		c.articles[art] = g.Line
	}
}

func (c *cmlCounter) offer(o commerceml.Offer) {
	if strings.Contains(o.ID, "#") {
		c.characteristics++ // docs/commerceml.md §2.2: productGUID#characteristicGUID
	}
	if o.Deleted {
		c.deleted++
	}
	if o.Quantity != nil || len(o.Stocks) > 0 {
		c.withStock++
		neg := o.Quantity != nil && o.Quantity.IsNegative()
		for _, s := range o.Stocks {
			neg = neg || s.Quantity.IsNegative()
		}
		if neg {
			c.negative++ // docs/commerceml.md §3.2: negative stock occurs; obmin sends it as 0
		}
	}
	if len(o.Prices) == 0 {
		c.noPrice++
	}
	for _, p := range o.Prices {
		if _, ok := c.byType[p.TypeID]; !ok {
			if _, known := c.types[p.TypeID]; !known {
				c.order = append(c.order, p.TypeID)
				c.types[p.TypeID] = c.in.dropTypes[p.TypeID]
			}
		}
		c.byType[p.TypeID]++
		if !exchange.PerBaseUnit(p.Factor) {
			c.warn(o.Line, "Цена", "Коэффициент", p.Factor, "a price per "+orDash(p.Unit)+", not per base unit: obmin does not send it")
		}
		if _, err := exchange.Kopecks(p.PerUnit); err != nil {
			c.warn(o.Line, "Цена", "ЦенаЗаЕдиницу", p.PerUnit.String(), err.Error()+": obmin does not send it")
		}
	}
}

func (c *cmlCounter) pricesByType() []priceTypeCount {
	var out []priceTypeCount
	for _, id := range c.order {
		if n := c.byType[id]; n > 0 {
			out = append(out, priceTypeCount{ID: id, Name: c.types[id], Offers: n})
		}
	}
	return out
}

// feed reads a file whose root is not КоммерческаяИнформация: a marketplace feed, or refused.
func (in *inspector) feed(ctx context.Context, f *os.File, rep *fileReport, cmlErr error) error {
	fc := &feedCounts{}
	ids := map[string]int{} // offer id → line of its first row
	sum, err := feed.Read(ctxio.Reader(ctx, f), rep.Path, func(o feed.Offer) error {
		if first, dup := ids[o.ID]; dup {
			in.add(rep, problem{Severity: "warning", File: rep.Path, Line: o.Line, Element: "offer", Field: "id", Value: o.ID,
				Message: fmt.Sprintf("the same offer id as line %d: obmin uses the first row", first)})
		} else {
			ids[o.ID] = o.Line
		}
		in.feedOffer(rep, fc, o)
		if in.records {
			if err := in.sink.record("feed_offer", o); err != nil {
				return &inspectSinkError{err}
			}
		}
		return nil
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var sinkErr *inspectSinkError
	if errors.As(err, &sinkErr) {
		return sinkErr.err
	}
	if errors.Is(err, feed.ErrNotFeed) {
		// Neither: the CommerceML reader's message names the root element found.
		rep.Format = "xml"
		var pe *commerceml.ParseError
		root := ""
		if errors.As(cmlErr, &pe) {
			root = pe.Element
		}
		rep.What = describeRoot(root)
		in.readErr(rep, cmlErr)
		return nil
	}
	rep.Format = string(sum.Header.Format)
	rep.Generated = sum.Header.Date
	fc.Shop = sum.Header.Shop
	fc.Categories, fc.Currencies = sum.Categories, sum.Currencies
	rep.Feed = fc
	if sum.Header.Format == feed.FormatHotline {
		rep.Flavour, rep.FlavourWhy = "hotline", "<price><items><item>: Hotline's own format"
	} else if sum.Header.Format == feed.FormatYML {
		if _, serr := f.Seek(0, io.SeekStart); serr == nil {
			rep.Flavour, rep.FlavourWhy = ymlFlavour(ctx, f)
		}
	}
	if err != nil {
		in.readErr(rep, err)
	}
	return nil
}

// inspectSinkError marks an error of the sink passed through a reader's callback.
type inspectSinkError struct{ err error }

func (e *inspectSinkError) Error() string { return e.err.Error() }

func (in *inspector) feedOffer(rep *fileReport, fc *feedCounts, o feed.Offer) {
	fc.Offers++
	switch {
	case o.Available == nil:
		fc.Unsaid++
	case *o.Available:
		fc.Available++
	default:
		fc.Unavailable++
	}
	if o.Quantity != nil {
		fc.WithStock++
	}
	warn := func(field, value, msg string) {
		in.add(rep, problem{Severity: "warning", File: rep.Path, Line: o.Line, Element: "offer", Field: field, Value: value, Message: msg})
	}
	if _, field := defaults.FeedSourceOf(path.Base(rep.Path)); exchange.FeedCode(field, &o, o.Barcodes) == "" {
		fc.WithoutCode++
		warn("id", o.ID, "no vendorCode: with the default mapping.code_field (article) it cannot become a Checkbox good")
	}
	if o.Price == nil {
		fc.WithoutPrice++
		warn("id", o.ID, "no price: obmin never sends a good at 0")
		return
	}
	fc.WithPrice++
	if !exchange.InHryvnia(o.Currency) {
		fc.NotHryvnia++
		warn("currencyId", o.Currency, "the price is not in hryvnia: Checkbox prices are, so obmin does not send it")
		return
	}
	if _, err := exchange.Kopecks(*o.Price); err != nil {
		warn("price", o.Price.String(), err.Error()+": obmin does not send it")
	}
}

// describeRoot says what an XML file with that root element is, for a refusal.
func describeRoot(root string) string {
	switch strings.ToLower(root) {
	case "":
		return "XML without a root element obmin knows"
	case "schema":
		return "an XML Schema (XSD, root <" + root + ">): it describes a format and holds no goods"
	case "html":
		return "a web page (HTML), not an export"
	case "envelope":
		return "a SOAP message (root <" + root + ">), not an export"
	}
	return "XML with the root element <" + root + ">, which is neither CommerceML nor a marketplace feed"
}

// ymlFlavour tells which marketplace a YML feed is written for, from the elements it uses
// (docs/formats.md, "Feed dialects"). It reads the whole feed, streaming; a read error ends the look, not the answer.
func ymlFlavour(ctx context.Context, r io.Reader) (flavour, why string) {
	dec := xmlin.NewDecoder(ctxio.Reader(ctx, r))
	var noShop, portalID, nameRU, nameLang, stockQty, qtyInStock, inStock bool
	for {
		tok, err := dec.Next()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if dec.Depth() == 2 && name == "offers" {
				noShop = true
			}
			switch name {
			case "stock_quantity":
				stockQty = true
			case "quantity_in_stock":
				qtyInStock = true
			case "name_ru":
				nameRU = true
			case "name":
				if attrOf(t, "lang") != "" {
					nameLang = true
				}
			case "category":
				if attrOf(t, "portal_id") != "" {
					portalID = true
				}
			case "offer":
				if attrOf(t, "in_stock") != "" {
					inStock = true
				}
			}
		}
	}
	switch {
	case noShop:
		return "epicentr", "<offers> directly under <yml_catalog>, no <shop>"
	case portalID || nameRU:
		return "maudau", "<category portal_id> or <name_ru>"
	case stockQty:
		return "rozetka", "<stock_quantity>"
	case qtyInStock || inStock:
		return "prom", "<quantity_in_stock> or offer@in_stock"
	case nameLang:
		return "epicentr", `<name lang="…">`
	}
	return "yml", "no marketplace-specific element: generic YML"
}

func attrOf(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// zip inspects an archive: it is unpacked through safezip, with obmin's limits, into a temporary folder
// that file removes afterwards; its XML entries are inspected after it, as obmin would read them.
func (in *inspector) zip(ctx context.Context, p string, rep *fileReport, entries *[]zipExtracted, tmp *string) error {
	dir, err := os.MkdirTemp("", "obmin-inspect-")
	if err != nil {
		return fmt.Errorf("temporary folder for %s: %w", rep.Path, err)
	}
	*tmp = dir
	files, err := safezip.Extract(ctx, p, dir, safezip.Limits{})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		pr := problem{File: rep.Path, Message: strings.TrimPrefix(err.Error(), "safezip: ")}
		pr.Message = strings.ReplaceAll(pr.Message, p+": ", "")
		if m := zipEntryErr.FindStringSubmatch(pr.Message); m != nil {
			if v, uerr := strconv.Unquote(m[1]); uerr == nil {
				pr.Field, pr.Value, pr.Message = "entry", v, m[2]
			}
		}
		reason := drop.ZipRefusal(err)
		switch reason {
		case "":
			reason = reasonIO
		case reasonZipBroken:
			pr.Message = "not a readable zip archive: " + pr.Message
		}
		in.fail(rep, statusBroken, reason, pr)
		return nil
	}
	zr := &zipReport{Entries: []zipEntry{}}
	seen := map[string]string{}
	for _, rel := range files {
		name, joins := drop.ZipEntry(rel)
		if !joins {
			zr.Entries = append(zr.Entries, zipEntry{Name: rel, Use: "ignored: " + zipEntryIgnored(rel)})
			continue
		}
		use := "inspected"
		key := strings.ToLower(name)
		if other, dup := seen[key]; dup {
			use = "inspected; same name as " + other
			in.fail(rep, statusBroken, reasonZipUnsafe, problem{File: rep.Path, Field: "entry", Value: rel,
				Message: fmt.Sprintf("%s and %s unpack to the same file name at the top of the drop: obmin refuses the drop", other, rel)})
		}
		seen[key] = rel
		*entries = append(*entries, zipExtracted{path: joinSlash(dir, rel), display: rep.Path + "!" + rel})
		zr.Entries = append(zr.Entries, zipEntry{Name: rel, Use: use})
	}
	rep.Zip = zr
	if rep.Status == "" {
		rep.Status = statusRead
	}
	return nil
}

var zipEntryErr = regexp.MustCompile(`^entry ("(?:[^"\\]|\\.)*"): (.*)$`)

// zipEntryIgnored says why an entry stays out of the drop (zipEntryTarget decides that it does).
func zipEntryIgnored(rel string) string {
	if drop.InPictures(rel) {
		return "pictures (import_files/), never read"
	}
	if strings.EqualFold(path.Ext(rel), ".zip") {
		return "an archive inside an archive is not unpacked"
	}
	return "not an .xml file"
}

func joinSlash(dir, rel string) string {
	return dir + string(os.PathSeparator) + strings.ReplaceAll(rel, "/", string(os.PathSeparator))
}

// readErr turns an error of the CommerceML or feed reader into the file's status and first problem.
func (in *inspector) readErr(rep *fileReport, err error) {
	p := problem{File: rep.Path, Message: err.Error()}
	var cpe *commerceml.ParseError
	var fpe *feed.ParseError
	switch {
	case errors.As(err, &cpe):
		p.File, p.Line, p.Element, p.Message = cpe.File, cpe.Line, cpe.Element, errText(cpe.Err)
	case errors.As(err, &fpe):
		p.File, p.Line, p.Element, p.Message = fpe.File, fpe.Line, fpe.Element, errText(fpe.Err)
	default:
		in.fail(rep, statusBroken, reasonIO, p)
		return
	}
	if m := valueErr.FindStringSubmatch(p.Message); m != nil {
		if v, uerr := strconv.Unquote(m[2]); uerr == nil {
			p.Field, p.Value, p.Message = m[1], v, m[3]
		}
	}
	status, reason := statusBroken, reasonBadValue
	switch {
	case errors.Is(err, commerceml.ErrUnsupportedVersion):
		status, reason = statusRefused, reasonCommerceML3
		p.Message += "; " + exchange.FormatsRead
	case errors.Is(err, commerceml.ErrNotCommerceML), errors.Is(err, feed.ErrNotFeed):
		status, reason = statusRefused, reasonOtherXML
		p.Message += "; " + exchange.FormatsRead
	case errors.Is(err, commerceml.ErrUnsupportedEncoding), errors.Is(err, feed.ErrUnsupportedEncoding):
		status, reason = statusRefused, reasonEncoding
	case errors.Is(err, xmlin.ErrWrongEncoding):
		reason = reasonWrongEnc
	case errors.Is(err, commerceml.ErrTruncated), errors.Is(err, feed.ErrTruncated):
		reason = reasonTruncated
		p.Message += ": the file ends before its closing tag (BAS may still be writing it)"
	case errors.Is(err, commerceml.ErrTooLarge), errors.Is(err, feed.ErrTooLarge):
		reason = reasonTooLarge
	case strings.HasPrefix(p.Message, "malformed XML"):
		reason = reasonMalformed
	}
	in.fail(rep, status, reason, p)
}

// valueErr splits a reader's `field "value": cause` message.
var valueErr = regexp.MustCompile(`^(\S+) ("(?:[^"\\]|\\.)*"): (.*)$`)

func errText(err error) string {
	if err == nil {
		return "parse error"
	}
	return err.Error()
}
