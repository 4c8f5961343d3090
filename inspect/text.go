package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"obmin/commerceml"
)

// textSink prints each report as soon as it is complete, for staff to read.
type textSink struct {
	w     io.Writer
	files int
}

func (s *textSink) begin(string) error              { return nil }
func (s *textSink) record(kind string, v any) error { return nil }

// kindNames are the words for CommerceML kinds (docs/commerceml.md §4.2: told apart by content).
var kindNames = map[string]string{
	"catalog":   "catalogue",
	"offers":    "offers",
	"prices":    "prices only",
	"rests":     "stock only",
	"documents": "orders (documents)",
	"empty":     "root element only, nothing in it",
}

func (s *textSink) end(r *fileReport) error {
	var b strings.Builder
	if s.files > 0 {
		b.WriteByte('\n')
	}
	s.files++
	b.WriteString(r.Path + "\n")
	line := func(label, format string, a ...any) {
		fmt.Fprintf(&b, "  %-9s %s\n", label, fmt.Sprintf(format, a...))
	}
	switch r.Format {
	case "commerceml":
		k := r.Kind
		if k == "" {
			k = "- (not decided: the read stopped)"
		} else if name := kindNames[k]; name != "" && name != k {
			k += " (" + name + ")"
		}
		line("format", "CommerceML 2, kind %s, schema %s, namespace %s", k, orDash(r.Schema), orNone(r.Namespace))
	case "commerceml-3":
		line("format", "CommerceML %s, namespace %s", orDash(r.Schema), orNone(r.Namespace))
	case "yml", "hotline":
		name := "YML feed"
		if r.Format == "hotline" {
			name = "Hotline price list"
		}
		line("format", "%s, flavour %s (%s)", name, r.Flavour, r.FlavourWhy)
	case "zip":
		if r.Zip != nil {
			line("format", "zip archive, %d files", len(r.Zip.Entries))
		} else {
			line("format", "zip archive, not unpacked")
		}
	case "xml":
		line("format", "XML, not a format obmin reads")
	case "not-xml":
		line("format", "not XML")
	}
	if r.Encoding != "" {
		enc := r.Encoding + " (declared)"
		if !r.Declared {
			enc = r.Encoding + " (not declared)"
		}
		if r.BOM {
			enc += ", with a byte-order mark"
		}
		line("encoding", "%s", enc)
	}
	if r.Format == "commerceml" {
		pkg := "full (not only changes)"
		if r.OnlyChanges {
			pkg = "only changes (СодержитТолькоИзменения)"
		}
		line("package", "%s, generated %s", pkg, orDash(r.Generated))
	}
	if c := r.CommerceML; c != nil {
		line("counts", "groups %d, price types %d, warehouses %d, goods %d, offers %d, documents %d",
			c.Groups, c.PriceTypes, c.Warehouses, c.Goods, c.Offers, c.Documents)
		if c.Goods+c.Offers > 0 {
			line("", "characteristics %d, deleted %d, with stock %d (negative %d), offers without a price %d",
				c.Characteristics, c.Deleted, c.WithStock, c.NegativeStock, c.WithoutPrice)
		}
		for _, p := range c.PricesByType {
			name := "price type"
			if p.Name != "" {
				name = "«" + p.Name + "»"
			}
			line("prices", "%s (Ид %s): %d offers", name, p.ID, p.Offers)
		}
	}
	if f := r.Feed; f != nil {
		line("feed", "shop %s, date %s", orDash(quoteName(f.Shop)), orDash(r.Generated))
		line("counts", "offers %d: available %d, not available %d, not said %d; categories %d, currencies %d",
			f.Offers, f.Available, f.Unavailable, f.Unsaid, f.Categories, f.Currencies)
		line("", "with stock %d, with a price %d (in another currency %d), without a price %d, without vendorCode %d",
			f.WithStock, f.WithPrice, f.NotHryvnia, f.WithoutPrice, f.WithoutCode)
	}
	if z := r.Zip; z != nil {
		ignored := map[string]int{}
		for _, e := range z.Entries {
			if e.Use == "inspected" || strings.HasPrefix(e.Use, "inspected;") {
				line("entry", "%s", e.Name)
			} else {
				ignored[strings.TrimPrefix(e.Use, "ignored: ")]++
			}
		}
		whys := make([]string, 0, len(ignored))
		for why := range ignored {
			whys = append(whys, why)
		}
		sort.Strings(whys)
		for _, why := range whys {
			line("ignored", "%d: %s", ignored[why], why)
		}
	}
	switch r.Status {
	case statusRead:
		line("status", "read")
	default:
		what := ""
		if r.What != "" {
			what = ": " + r.What
		}
		line("status", "%s (%s)%s", strings.ToUpper(r.Status), r.Reason, what)
	}
	if r.ProblemsAll > 0 {
		more := ""
		if r.ProblemsAll > len(r.Problems) {
			more = fmt.Sprintf(", the first %d shown (-problems N shows more)", len(r.Problems))
		}
		line("problems", "%d%s", r.ProblemsAll, more)
		for _, p := range r.Problems {
			sev := p.Severity
			if sev == "error" {
				sev = "ERROR"
			}
			fmt.Fprintf(&b, "    %-8s%s\n", sev, formatProblem(p))
		}
	}
	_, err := io.WriteString(s.w, b.String())
	return err
}

// finish counts the files when there were several.
func (s *textSink) finish(t Totals) error {
	if t.Files <= 1 {
		return nil
	}
	_, err := fmt.Fprintf(s.w, "\n%d files: %d read, %d refused, %d broken\n", t.Files, t.Read, t.Refused, t.Broken)
	return err
}

func (s *textSink) drop(p *dropPlan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\ndrop %s\n", p.Folder)
	if len(p.Order) > 0 {
		b.WriteString("  obmin would apply it in this order:\n")
		width := 0
		for _, st := range p.Order {
			width = max(width, len([]rune(st.File)))
		}
		for i, st := range p.Order {
			fmt.Fprintf(&b, "    %d. %s%s  %s\n", i+1, st.File, strings.Repeat(" ", width-len([]rune(st.File))), st.Role)
		}
	}
	if p.PriceTypeNote != "" {
		fmt.Fprintf(&b, "  price type: %s\n", p.PriceTypeNote)
	}
	for _, ig := range p.Ignored {
		fmt.Fprintf(&b, "  ignored: %s: %s\n", ig.Name, ig.Why)
	}
	switch p.Verdict {
	case verdictApply:
		b.WriteString("  verdict: obmin would apply this drop\n")
	case verdictWait:
		fmt.Fprintf(&b, "  verdict: WAIT: %s\n", p.Because)
	default:
		fmt.Fprintf(&b, "  verdict: FAIL: %s\n", p.Because)
	}
	_, err := io.WriteString(s.w, b.String())
	return err
}

// formatProblem words a problem the way obmin's readers word their errors (commerceml.ParseError):
// `import.xml:12: <Цена>: ЦенаЗаЕдиницу "12,5x": not a decimal`.
func formatProblem(p problem) string {
	msg := p.Message
	if p.Field != "" {
		msg = p.Field + " " + strconv.Quote(p.Value) + ": " + msg
	}
	return (&commerceml.ParseError{File: p.File, Line: p.Line, Element: p.Element, Err: errors.New(msg)}).Error()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func quoteName(s string) string {
	if s == "" {
		return ""
	}
	return "«" + s + "»"
}

// jsonSink writes {"files": [...], "drops": [...], "totals": {...}}. Each file's records are streamed as
// they are read, so memory stays flat however big the file is; the file's report follows them.
type jsonSink struct {
	w       io.Writer
	files   int
	records int
	drops   []*dropPlan
	buf     bytes.Buffer
	enc     *json.Encoder
}

func newJSONSink(w io.Writer) *jsonSink {
	s := &jsonSink{w: w}
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetEscapeHTML(false)
	return s
}

// encode renders v as one line of JSON, without the trailing newline.
func (s *jsonSink) encode(v any) ([]byte, error) {
	s.buf.Reset()
	if err := s.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(s.buf.Bytes(), []byte("\n")), nil
}

func (s *jsonSink) begin(string) error {
	sep := ""
	if s.files == 0 {
		sep = "{\"files\": ["
	} else {
		sep = ","
	}
	s.files++
	s.records = 0
	_, err := fmt.Fprintf(s.w, "%s\n{\"records\": [", sep)
	return err
}

func (s *jsonSink) record(kind string, v any) error {
	b, err := s.encode(v)
	if err != nil {
		return err
	}
	sep := ""
	if s.records > 0 {
		sep = ","
	}
	s.records++
	_, err = fmt.Fprintf(s.w, "%s\n  {\"type\": %q, \"record\": %s}", sep, kind, b)
	return err
}

func (s *jsonSink) end(rep *fileReport) error {
	b, err := s.encode(rep)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.w, "],\n %s", b[1:]) // the report's fields follow "records" in the same object
	return err
}

func (s *jsonSink) drop(p *dropPlan) error {
	s.drops = append(s.drops, p)
	return nil
}

func (s *jsonSink) finish(t Totals) error {
	if s.files == 0 {
		if _, err := io.WriteString(s.w, "{\"files\": ["); err != nil {
			return err
		}
	}
	if s.drops == nil {
		s.drops = []*dropPlan{}
	}
	d, err := s.encode(s.drops)
	if err != nil {
		return err
	}
	drops := string(d)
	tt, err := s.encode(t)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.w, "\n],\n\"drops\": %s,\n\"totals\": %s}\n", drops, tt)
	return err
}
