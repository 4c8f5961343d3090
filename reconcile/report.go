package reconcile

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"obmin/checkbox"
	"obmin/internal/atomicfile"
	"obmin/internal/voice"
	"obmin/store"
)

// Areas of a difference.
const (
	AreaGoods    = "goods"
	AreaReceipts = "receipts"
)

// Report is one reconciliation: what was compared, every difference (up to a bound per kind, all counted),
// and what repair did.
type Report struct {
	Date          string    `json:"date"` // the Kyiv day of the receipts compared
	From          time.Time `json:"from"`
	To            time.Time `json:"to"`
	Started       time.Time `json:"started"`
	Finished      time.Time `json:"finished"`
	StockCompared bool      `json:"stock_compared"`
	Goods         GoodsPart `json:"goods"`
	Receipts      Receipts  `json:"receipts"`
	// CountsByKind counts every difference found, "goods.price" → n, including those past the list's bound.
	CountsByKind map[string]int `json:"counts"`
	Repair       *RepairReport  `json:"repair,omitempty"`
	Dir          string         `json:"dir,omitempty"` // where the report was written
}

// GoodsPart is the goods half of a report.
type GoodsPart struct {
	InCheckbox  int          `json:"in_checkbox"` // goods Checkbox listed
	Compared    int          `json:"compared"`    // goods obmin sent that were compared
	Differences []Difference `json:"differences"`
}

// Receipts is the receipts half of a report.
type Receipts struct {
	InCheckbox  int              `json:"in_checkbox"` // finished sales and returns of the day
	NotPulled   int              `json:"not_pulled"`  // sold after obmin's last pull: not judged yet
	Channels    []ChannelSummary `json:"channels"`
	Differences []Difference     `json:"differences"`
}

// ChannelSummary is what one channel showed.
type ChannelSummary struct {
	Name       string `json:"name"`
	Title      string `json:"title"`
	Partial    bool   `json:"partial"`
	Expected   int    `json:"expected"`            // receipts of the day that had to reach BAS this way
	Deliveries int    `json:"deliveries"`          // what it carried for the day
	Documents  int    `json:"documents,omitempty"` // BAS's documents read back (Channel.Documents)
}

// Difference is one thing BAS and Checkbox disagree on.
type Difference struct {
	Area      string    `json:"area"` // goods, receipts
	Kind      string    `json:"kind"` // Good* and Receipt* constants
	Channel   string    `json:"channel,omitempty"`
	Code      string    `json:"code,omitempty"` // a good's Checkbox code
	Name      string    `json:"name,omitempty"`
	ReceiptID string    `json:"receipt_id,omitempty"`
	Fiscal    string    `json:"fiscal_code,omitempty"`
	Refs      []string  `json:"bas_documents,omitempty"` // BAS's documents involved (order numbers)
	At        time.Time `json:"sold_at,omitzero"`
	Want      string    `json:"bas,omitempty"`      // what BAS (through obmin) says
	Got       string    `json:"checkbox,omitempty"` // what Checkbox says
	Note      string    `json:"what_to_do"`
	Fixable   bool      `json:"fixable"`
	Repaired  bool      `json:"repaired,omitempty"`

	rec     *store.GoodRecord
	stock   *int64
	receipt *checkbox.Receipt
	doc     string // Document.Key, for RepairDocuments
}

// RepairReport says what repair did and what is left.
type RepairReport struct {
	Done       []string       `json:"done"`
	Errors     []string       `json:"errors,omitempty"`
	Left       []Difference   `json:"left"`
	LeftCounts map[string]int `json:"left_counts"`
}

// add appends d to list unless its kind already has max listed; it is counted either way.
func (rep *Report) add(list *[]Difference, d Difference, max int) {
	if rep.CountsByKind == nil {
		rep.CountsByKind = map[string]int{}
	}
	key := d.Area + "." + d.Kind
	rep.CountsByKind[key]++
	if rep.CountsByKind[key] <= max {
		*list = append(*list, d)
	}
}

// Counts returns every difference found, by area and kind ("goods.price").
func (rep *Report) Counts() map[string]int {
	out := map[string]int{}
	for k, v := range rep.CountsByKind {
		out[k] = v
	}
	return out
}

// Differences are the differences listed, goods first.
func (rep *Report) Differences() []Difference {
	return append(append([]Difference(nil), rep.Goods.Differences...), rep.Receipts.Differences...)
}

// Found is how many differences were found.
func (rep *Report) Found() int {
	n := 0
	for _, v := range rep.CountsByKind {
		n += v
	}
	return n
}

// Left is how many differences remain: after repair, what the second comparison found; else all found.
func (rep *Report) Left() int {
	if rep.Repair == nil {
		return rep.Found()
	}
	n := 0
	for _, v := range rep.Repair.LeftCounts {
		n += v
	}
	return n
}

// LeftCounts are the differences left by area and kind: after repair, what the second comparison found;
// else all found.
func (rep *Report) LeftCounts() map[string]int {
	if rep.Repair != nil {
		return rep.Repair.LeftCounts
	}
	return rep.Counts()
}

// Clean says whether BAS and Checkbox agree.
func (rep *Report) Clean() bool { return rep.Left() == 0 }

// Summary is what the status and the job record keep of a report.
type Summary struct {
	Date     string         `json:"date"`
	Found    int            `json:"differences"`
	Left     int            `json:"left"`
	Repaired bool           `json:"repaired"`
	Counts   map[string]int `json:"counts,omitempty"`
	Report   string         `json:"report,omitempty"` // the text report's path
}

// Summary summarises the report.
func (rep *Report) Summary() Summary {
	s := Summary{Date: rep.Date, Found: rep.Found(), Left: rep.Left(), Repaired: rep.Repair != nil, Counts: rep.Counts()}
	if rep.Dir != "" {
		s.Report = filepath.Join(rep.Dir, "report.txt")
	}
	return s
}

// Write writes report.txt, report.html and report.json into dir, each atomically; private, since they name
// receipts and sums.
func (rep *Report) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("reconcile report: %w", err)
	}
	var txt, page bytes.Buffer
	txt.WriteString("\ufeff")
	rep.Text(&txt)
	if err := rep.HTML(&page, "uk"); err != nil {
		return fmt.Errorf("reconcile report: %w", err)
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("reconcile report: %w", err)
	}
	for name, data := range map[string][]byte{"report.txt": txt.Bytes(), "report.html": page.Bytes(), "report.json": js} {
		if err := atomicfile.WriteFile(filepath.Join(dir, name), 0o640, func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		}); err != nil {
			return fmt.Errorf("reconcile report: %w", err)
		}
	}
	return nil
}

// ReadReport reads a report Write wrote.
func ReadReport(dir string) (*Report, error) {
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		return nil, err
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("reconcile report %s: %w", dir, err)
	}
	return &rep, nil
}

// Latest reads the newest report under dir (the reports' root), nil when there is none.
func Latest(dir string) (*Report, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var best *Report
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		rep, err := ReadReport(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // half-written or foreign
		}
		if best == nil || rep.Finished.After(best.Finished) {
			best = rep
		}
	}
	return best, nil
}

// KindTitle names a kind of difference for staff.
func KindTitle(area, kind string) string {
	if t, ok := kindTitles[area+"."+kind]; ok {
		return t
	}
	return area + "." + kind
}

var kindTitles = map[string]string{
	"goods." + GoodMissing:          "Немає в Checkbox",
	"goods." + GoodExtra:            "Є лише в Checkbox",
	"goods." + GoodPrice:            "Інша ціна",
	"goods." + GoodName:             "Інша назва",
	"goods." + GoodBarcode:          "Інші штрихкоди",
	"goods." + GoodVAT:              "Інші податки (ПДВ)",
	"goods." + GoodStock:            "Інший залишок",
	"receipts." + ReceiptMissing:    "Чек не дійшов до BAS",
	"receipts." + ReceiptDuplicated: "Чек у BAS двічі",
	"receipts." + ReceiptSum:        "Інша сума в BAS",
	"receipts." + ReceiptExtra:      "У BAS є, у Checkbox немає",
	"receipts." + ReceiptHeld:       "Чек затримано",
	"receipts." + DocumentMissing:   "Документа немає в BAS",
	"receipts." + DocumentUnposted:  "Документ у BAS не проведено",
	"receipts." + DocumentDiffers:   "Документ у BAS змінено",
}

// kindOrder is the order kinds are listed in.
var kindOrder = []string{
	"goods." + GoodMissing, "goods." + GoodPrice, "goods." + GoodName, "goods." + GoodBarcode, "goods." + GoodVAT,
	"goods." + GoodStock, "goods." + GoodExtra,
	"receipts." + ReceiptMissing, "receipts." + ReceiptDuplicated, "receipts." + ReceiptSum, "receipts." + ReceiptExtra,
	"receipts." + ReceiptHeld, "receipts." + DocumentMissing, "receipts." + DocumentUnposted, "receipts." + DocumentDiffers,
}

// group is the listed differences of one kind.
type group struct {
	Key, Title string
	Count      int // found, listed or not
	Items      []Difference
}

func (rep *Report) groups() []group {
	by := map[string][]Difference{}
	for _, d := range rep.Differences() {
		by[d.Area+"."+d.Kind] = append(by[d.Area+"."+d.Kind], d)
	}
	keys := append([]string(nil), kindOrder...)
	for k := range rep.CountsByKind {
		if !contains(keys, k) {
			keys = append(keys, k)
		}
	}
	var out []group
	for _, k := range keys {
		sortDifferences(by[k])
		if rep.CountsByKind[k] == 0 {
			continue
		}
		area, kind, _ := strings.Cut(k, ".")
		out = append(out, group{Key: k, Title: KindTitle(area, kind), Count: rep.CountsByKind[k], Items: by[k]})
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Describe says one difference in a line.
func (d Difference) Describe() string {
	var b strings.Builder
	switch {
	case d.Area == AreaGoods:
		fmt.Fprintf(&b, "%s «%s»", d.Code, d.Name)
	case strings.HasPrefix(d.Kind, "document-"):
		b.WriteString(d.Name)
		if len(d.Refs) > 0 {
			b.WriteString(", документ BAS №" + strings.Join(d.Refs, ", "))
		}
	default:
		what := "чек"
		if d.Name != "" {
			what = d.Name
		}
		fmt.Fprintf(&b, "%s %s", what, orDash(d.Fiscal))
		if !d.At.IsZero() {
			b.WriteString(" від " + voice.Time(d.At))
		}
		if len(d.Refs) > 0 {
			b.WriteString(", документи BAS: " + strings.Join(d.Refs, ", "))
		}
	}
	if d.Want != "" || d.Got != "" {
		fmt.Fprintf(&b, ": у BAS %s, у Checkbox %s", orDash(d.Want), orDash(d.Got))
	}
	if d.Repaired {
		b.WriteString(" — ВИПРАВЛЕНО")
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// Text writes the report for staff.
func (rep *Report) Text(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\r\n", a...) }
	p("Звірка BAS і Checkbox за %s", rep.Date)
	p("Виконано: %s", voice.Time(rep.Finished))
	p("")
	p("Товари: у Checkbox %d, звірено з тим, що вивантажив BAS: %d%s", rep.Goods.InCheckbox, rep.Goods.Compared, map[bool]string{true: " (із залишками)", false: ""}[rep.StockCompared])
	p("Чеки за %s: у Checkbox %d (продажі й повернення)", rep.Date, rep.Receipts.InCheckbox)
	for _, c := range rep.Receipts.Channels {
		if c.Partial {
			p("  %s: документів за день %d (BAS показує лише частину)", c.Title, c.Deliveries)
			continue
		}
		docs := ""
		if c.Documents > 0 {
			docs = fmt.Sprintf("; документів BAS перевірено: %d", c.Documents)
		}
		p("  %s: мали дійти %d, дійшло документів %d%s", c.Title, c.Expected, c.Deliveries, docs)
	}
	if rep.Receipts.NotPulled > 0 {
		p("  Ще не забрано з Checkbox (продано після останнього запиту): %d — не розбіжність, їх буде передано", rep.Receipts.NotPulled)
	}
	p("")
	if rep.Found() == 0 {
		p("Розбіжностей немає: BAS і Checkbox збігаються.")
	} else {
		p("Знайдено розбіжностей: %d", rep.Found())
	}
	for _, g := range rep.groups() {
		p("")
		p("%s (%d):", g.Title, g.Count)
		for _, d := range g.Items {
			p("  - %s", d.Describe())
			p("    Що зробити: %s", d.Note)
		}
		if n := g.Count - len(g.Items); n > 0 {
			p("  … і ще %d (повний перелік — після виправлення, у наступній звірці)", n)
		}
	}
	if r := rep.Repair; r != nil {
		p("")
		p("Виправлення:")
		if len(r.Done) == 0 {
			p("  Нічого з цього obmin виправити не може сам.")
		}
		for _, s := range r.Done {
			p("  - %s", s)
		}
		for _, s := range r.Errors {
			p("  ! %s", s)
		}
		if len(r.Left) == 0 {
			p("Після виправлення розбіжностей немає.")
		} else {
			p("Після виправлення лишилося розбіжностей: %d — їх треба усунути вручну (див. «Що зробити»).", rep.Left())
		}
	}
}

//go:embed report.html.tmpl
var templates embed.FS

var pageTmpl = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"time":  voice.Time,
	"minus": func(a, b int) int { return a - b },
}).ParseFS(templates, "report.html.tmpl"))

// HTML writes the report as a page; lang is "uk" (the words are Ukrainian whatever it says: it sets the
// page's language only).
func (rep *Report) HTML(w io.Writer, lang string) error {
	return pageTmpl.Execute(w, struct {
		*Report
		Lang   string
		Groups []group
	}{rep, lang, rep.groups()})
}

// sortDifferences orders differences as reports list them: by area and kind, then code or time.
func sortDifferences(ds []Difference) {
	rank := map[string]int{}
	for i, k := range kindOrder {
		rank[k] = i
	}
	sort.SliceStable(ds, func(i, j int) bool {
		ri, rj := rank[ds[i].Area+"."+ds[i].Kind], rank[ds[j].Area+"."+ds[j].Kind]
		if ri != rj {
			return ri < rj
		}
		if ds[i].Code != ds[j].Code {
			return ds[i].Code < ds[j].Code
		}
		return ds[i].At.Before(ds[j].At)
	})
}
