// Package basloader is a model of how BAS Малий бізнес (a 1C:Enterprise configuration) loads the orders
// file of its site exchange, «Обмін з сайтом». Tests run every file obmin writes through it, so that a
// change BAS would choke on — a number it cuts, a return it stores as zeros, a discount it counts twice,
// VAT it drops — fails the test suite, not a shop's accounting.
//
// Each rule names the place of BAS's code it comes from: the common module ОбменССайтом (and
// ОбменССайтомПовтИсп) of the configuration's upstreams, [A] «Управління невеликою фірмою для України»
// 1.6 (the lineage of BAS МБ 1.x) and [B] 1C:УНФ 3.0 (the lineage of BAS МБ 2.0). docs/bas-orders.md
// explains the rules and what obmin writes because of them.
//
// The model keeps state between loads, like a BAS infobase: the register ЗаказыПокупателейССайта (which
// site number became which order) and the orders themselves, so that re-loads (skipped when completed,
// re-filled and unposted otherwise) can be tested too.
//
// It imports no other package of obmin; only tests use it.
package basloader

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/beevik/etree"
	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/charmap"
)

// State is an order's state in BAS (справочник СостоянияЗаказовПокупателей).
type State string

const (
	StateNew       State = "Новый"    // the node's default state for loaded orders
	StateCompleted State = "Завершен" // completed: later loads skip the order
)

// Options are the BAS-side settings a load depends on: the node's settings and the infobase's constants.
type Options struct {
	// SitePrefix is the constant ПрефиксДляОбменаССайтом, default "СА"; OrgPrefix the organisation's
	// prefix, default none. Both are padded to 2 characters with "0" on the left (ПолучитьНомерЗаказаССайта).
	SitePrefix, OrgPrefix string
	// NumberLength is ЗаказПокупателя's NumberLength in the configuration's metadata: 11.
	NumberLength int
	// Goods and Articles are the GUIDs and Артикул values of BAS's items. Nil: every GUID-shaped Ид is
	// taken as an existing item.
	Goods, Articles map[string]bool
	// StatusMap is the node's table of site statuses («Статус заказа») to order states.
	StatusMap map[string]State
	// CounterpartyByName is the node's «by name» identification; false is «a predefined counterparty».
	CounterpartyByName bool
	// OnlinePayments is [B]'s node option «online payments»: with it, payment requisites make BAS create a
	// payment document and queue a fiscal receipt.
	OnlinePayments bool
	// Characteristics is the functional option ИспользоватьХарактеристики.
	Characteristics bool
}

// DefaultOptions are a plain BAS: prefix «СА», no organisation prefix, 11-character numbers, online
// payments and characteristics on (the strictest reading).
func DefaultOptions() Options {
	return Options{SitePrefix: "СА", NumberLength: 11, OnlinePayments: true, Characteristics: true}
}

// Problem is something BAS would do wrong with the file, or refuse.
type Problem struct {
	Number string // the document's Номер, "" for the file
	Line   int    // 1-based Товар of the document, 0 for the document
	Rule   string // short name of the rule
	Source string // where in BAS's code the rule comes from
	Msg    string
	Fatal  bool // [A] rolls back the whole file, and it fails again on every run until it changes
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Fatal {
		b.WriteString("FATAL ")
	}
	if p.Number != "" {
		fmt.Fprintf(&b, "Номер %q", p.Number)
		if p.Line > 0 {
			fmt.Fprintf(&b, " Товар[%d]", p.Line)
		}
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s: %s (%s)", p.Rule, p.Msg, p.Source)
	return b.String()
}

// Line is an order line as BAS stores it (табличная часть Запасы).
type Line struct {
	Good            string          // the item's GUID, "new:<name>" for an item BAS would create
	Characteristic  string          // "" or the GUID / the name of a characteristic
	Quantity        decimal.Decimal // stored non-negative (AllowedSign)
	Price           decimal.Decimal // Цена
	Sum             decimal.Decimal // Сумма
	VATRate         string          // "20", "7", "0" or "Без НДС"
	VAT             decimal.Decimal // СуммаНДС
	Total           decimal.Decimal // Всего
	DiscountPercent decimal.Decimal // ПроцентСкидкиНаценки, from Цена × Количество − Сумма
}

// Order is a customer order (ЗаказПокупателя) as BAS holds it after a load.
type Order struct {
	SiteNumber string // НомерЗаказаНаСайте
	Number     string // the document's own number
	Date       time.Time
	State      State
	Cancelled  bool // ВариантЗавершения Отменен
	VATExempt  bool // НалогообложениеНДС = НеОблагаетсяНДС
	InclVAT    bool // СуммаВключаетНДС
	Lines      []Line
	Total      decimal.Decimal // СуммаДокумента = Σ Всего
	Comment    string
	Properties map[string]string // additional information (ДополнительныеСведения) from the requisites
	Posted     bool
	Loads      int // how many loads created or re-filled it
	Unposts    int // how many re-fills unposted it
}

// Result is what one load did.
type Result struct {
	Problems                  []Problem
	Failed                    bool // the load failed: nothing of the file was stored ([A])
	Created, Updated, Skipped []string
}

// Fatal returns the problems that fail the whole file.
func (r Result) Fatal() []Problem {
	var out []Problem
	for _, p := range r.Problems {
		if p.Fatal {
			out = append(out, p)
		}
	}
	return out
}

// Base is a simulated BAS infobase.
type Base struct {
	Opts   Options
	orders map[string]*Order         // by site number (register ЗаказыПокупателейССайта)
	taken  map[int]map[string]string // by year: document number → site number (CheckUnique, NumberPeriodicity Year)
}

// New returns an empty infobase with these settings; zero fields of opts take DefaultOptions' values.
func New(opts Options) *Base {
	def := DefaultOptions()
	if opts.SitePrefix == "" {
		opts.SitePrefix = def.SitePrefix
	}
	if opts.NumberLength == 0 {
		opts.NumberLength = def.NumberLength
	}
	return &Base{Opts: opts, orders: map[string]*Order{}, taken: map[int]map[string]string{}}
}

// Check loads data into a fresh infobase with DefaultOptions and returns the problems.
func Check(data []byte) ([]Problem, error) {
	res, err := New(DefaultOptions()).Load(data)
	return res.Problems, err
}

// Order returns the order loaded from site number n.
func (b *Base) Order(n string) (*Order, bool) {
	o, ok := b.orders[n]
	return o, ok
}

// Orders returns every order, by site number.
func (b *Base) Orders() []*Order {
	out := make([]*Order, 0, len(b.orders))
	for _, o := range b.orders {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SiteNumber < out[j].SiteNumber })
	return out
}

// Post marks an order as posted, as an accountant would.
func (b *Base) Post(n string) bool {
	o, ok := b.orders[n]
	if ok {
		o.Posted = true
	}
	return ok
}

// Complete sets an order's state to Завершен, as staff would.
func (b *Base) Complete(n string) bool {
	o, ok := b.orders[n]
	if ok {
		o.State = StateCompleted
	}
	return ok
}

// Source names.
const (
	srcRead      = "[A] ОбменССайтом.ЗагрузитьЗаказыИзФайла, КодировкаФайла, ПолучитьЗаказыXDTO"
	srcLoad      = "[A] ОбменССайтом.ЗагрузитьЗаказы (one transaction for the file)"
	srcDocument  = "[A][B] ОбменССайтом.СоздатьОбновитьЗаказы"
	srcNumber    = "[A] ОбменССайтом.ПолучитьНомерЗаказаССайта, [B] ПолучитьНомерДокументаССайта; Documents/ЗаказПокупателя NumberLength 11, NumberPeriodicity Year, CheckUnique"
	srcRegister  = "InformationRegisters/ЗаказыПокупателейССайта: НомерЗаказаНаСайте String(100), looked up by the whole Номер"
	srcGoods     = "[A] ОбменССайтом.ИдентифицироватьНоменклатуру, НайтиСоздатьНоменклатуру, НайтиНоменклатуруПоАртикулуНаименованию"
	srcCharact   = "[A] ОбменССайтом.НайтиСоздатьХарактеристикуНоменклатуры"
	srcLines     = "[A] ОбменССайтом.ИдентифицироватьНоменклатуру; Documents/ЗаказПокупателя Запасы.Количество, Сумма AllowedSign Nonnegative"
	srcLineDisc  = "[A] ОбменССайтом.ИдентифицироватьНоменклатуру: НРег(СкидкаXDTO.УчтеноВСумме = \"true\") in a condition"
	srcDocDisc   = "[A] ОбменССайтом.ИдентифицироватьНоменклатуру: document Скидки spread only when УчтеноВСумме is not \"true\"; ОбменССайтомПовтИсп.ПолучитьВидСкидкиНаДокумент"
	srcTaxes     = "[A] ОбменССайтом.ИдентифицироватьНоменклатуру (Налоги); ОбменССайтомПовтИсп.ПолучитьПоЗначениюДляВыгрузкиСтавкуНДС"
	srcStatus    = "[A] ОбменССайтом.УстановитьСостояниеЗаказа"
	srcCancel    = "[A] ОбменССайтом.ЗагрузитьЗаказы, ПолучитьОтмененныеЗаказы"
	srcRefill    = "[A] ОбменССайтом.СоздатьОбновитьЗаказы, ЗаписатьДокумент (unposts a posted order)"
	srcPayment   = "[B] ОбменССайтом.СоздатьОбновитьЗаказы → СоздатьОбновитьДокументОплаты (node option ОнлайнОплаты)"
	srcCounterpt = "[A] ОбменССайтом.ИдентифицироватьКонтрагента"
	srcDate      = "[A] ОбменССайтом.ЗаполнитьЗаказДаннымиДокументаXDTO, ПолучитьДатуВремяИзСтроки"
)

// Load reads one orders file as BAS does and applies it to the infobase. The error is for input the
// model itself cannot make sense of; everything BAS would refuse is a fatal Problem in the result.
func (b *Base) Load(data []byte) (Result, error) {
	var res Result
	root, err := parse(data)
	if err != nil {
		res.Problems = append(res.Problems, Problem{Rule: "XML", Source: srcRead, Msg: err.Error(), Fatal: true})
		res.Failed = true
		return res, nil
	}
	docs := root.SelectElements("Документ")
	if len(docs) == 0 {
		// «Нет документов для обработки»: a success.
		return res, nil
	}
	l := &load{base: b, res: &res, staged: map[string]*Order{}, stagedNumbers: map[int]map[string]string{}}
	seen := map[string]bool{}
	for _, d := range docs {
		n := text(d, "Номер")
		if seen[n] {
			// ПолучитьРанееЗагруженныеДокументы runs before the loop: both copies create an order, and
			// the second write breaks the number's uniqueness.
			l.fatal(n, 0, "Номер", srcDocument, "the file holds Номер %q twice; BAS creates two orders and the second write fails", n)
			continue
		}
		seen[n] = true
		l.document(d, n)
	}
	if len(res.Fatal()) > 0 {
		res.Failed = true
		res.Created, res.Updated, res.Skipped = nil, nil, nil
		return res, nil
	}
	for n, o := range l.staged {
		b.orders[n] = o
	}
	for y, m := range l.stagedNumbers {
		if b.taken[y] == nil {
			b.taken[y] = map[string]string{}
		}
		for k, v := range m {
			b.taken[y][k] = v
		}
	}
	return res, nil
}

// load is one run of ЗагрузитьЗаказы.
type load struct {
	base          *Base
	res           *Result
	staged        map[string]*Order
	stagedNumbers map[int]map[string]string
}

func (l *load) add(p Problem) { l.res.Problems = append(l.res.Problems, p) }

func (l *load) fatal(number string, line int, rule, src, format string, a ...any) {
	l.add(Problem{Number: number, Line: line, Rule: rule, Source: src, Msg: fmt.Sprintf(format, a...), Fatal: true})
}

func (l *load) warn(number string, line int, rule, src, format string, a ...any) {
	l.add(Problem{Number: number, Line: line, Rule: rule, Source: src, Msg: fmt.Sprintf(format, a...)})
}

// document applies one Документ (СоздатьОбновитьЗаказы).
func (l *load) document(d *etree.Element, n string) {
	op := text(d, "ХозОперация")
	if strings.ToLower(op) != "заказ товара" {
		l.fatal(n, 0, "ХозОперация", srcDocument, "ХозОперация %q is not «заказ товара»: the load stops with an error", op)
		return
	}
	if strings.TrimSpace(text(d, "Валюта")) == "" {
		l.fatal(n, 0, "Валюта", srcDocument, "Валюта is empty: the load stops with an error")
		return
	}
	if len([]rune(n)) > 100 {
		l.warn(n, 0, "Номер", srcRegister, "Номер is %d characters; the register keeps 100", len([]rune(n)))
	}
	old, found := l.base.orders[n]
	if found && old.State == StateCompleted {
		l.res.Skipped = append(l.res.Skipped, n)
		return
	}
	o := &Order{SiteNumber: n, Properties: map[string]string{}}
	if found {
		cp := *old
		o = &cp
		o.Properties = map[string]string{}
		for k, v := range old.Properties {
			o.Properties[k] = v
		}
	}
	props := requisites(d)
	for k, v := range props {
		o.Properties[k] = v
	}
	date, err := parseDate(text(d, "Дата"), text(d, "Время"))
	if err != nil {
		l.warn(n, 0, "Дата", srcDate, "%v: the order gets an empty date", err)
	}
	o.Date = date
	l.counterparty(d, n)
	if !l.lines(d, n, o) {
		return
	}
	l.state(n, o, props)
	l.payment(n, props)
	if cmt := text(d, "Комментарий"); cmt != "" {
		o.Comment = fmt.Sprintf("№ %s (сайт) | %s", n, strings.TrimSpace(cmt))
	} else {
		o.Comment = fmt.Sprintf("№ %s (сайт)", n)
	}
	if !found {
		if !l.number(n, o) {
			return
		}
		l.res.Created = append(l.res.Created, n)
	} else {
		if o.Posted {
			o.Posted = false
			o.Unposts++
		}
		l.res.Updated = append(l.res.Updated, n)
	}
	if v := props["Отменен"]; v == "true" {
		o.State, o.Cancelled = StateCompleted, true
	}
	o.Loads++
	l.staged[n] = o
}

// number builds the order's own number (ПолучитьНомерЗаказаССайта) and checks it fits and is unique
// within its year.
func (l *load) number(n string, o *Order) bool {
	var digits strings.Builder
	for _, r := range strings.TrimSpace(n) {
		if r >= '0' && r <= '9' {
			digits.WriteRune(r)
		}
	}
	if digits.Len() == 0 {
		l.fatal(n, 0, "Номер", srcNumber, "Номер has no digits: every such order gets the number …-000000, and the second one breaks uniqueness")
		return false
	}
	num := padLeft(l.base.Opts.OrgPrefix, 2) + padLeft(l.base.Opts.SitePrefix, 2) + "-" + padLeft(digits.String(), 6)
	if len([]rune(num)) > l.base.Opts.NumberLength {
		l.fatal(n, 0, "Номер", srcNumber, "BAS makes the number %q of it (%d characters), longer than the %d of ЗаказПокупателя: the write fails (digits of Номер must be at most 6, prefixes at most 2 characters)",
			num, len([]rune(num)), l.base.Opts.NumberLength)
		return false
	}
	o.Number = num
	y := o.Date.Year()
	if other, ok := l.base.taken[y][num]; ok && other != n {
		l.fatal(n, 0, "Номер", srcNumber, "number %s of %d is already order %q's: the write fails", num, y, other)
		return false
	}
	if other, ok := l.stagedNumbers[y][num]; ok && other != n {
		l.fatal(n, 0, "Номер", srcNumber, "number %s of %d is also made from %q in this file: the write fails", num, y, other)
		return false
	}
	if l.stagedNumbers[y] == nil {
		l.stagedNumbers[y] = map[string]string{}
	}
	l.stagedNumbers[y][num] = n
	return true
}

func (l *load) counterparty(d *etree.Element, n string) {
	cp := d.FindElement("Контрагенты/Контрагент")
	if cp == nil {
		l.fatal(n, 0, "Контрагент", srcCounterpt, "no Контрагенты/Контрагент: reading it raises an error")
		return
	}
	if l.base.Opts.CounterpartyByName && strings.TrimSpace(text(cp, "Наименование")) == "" {
		l.warn(n, 0, "Контрагент", srcCounterpt, "Наименование is empty: the order has no counterparty")
	}
}

// lines fills the order's lines and taxes (ИдентифицироватьНоменклатуру). false: the document failed.
func (l *load) lines(d *etree.Element, n string, o *Order) bool {
	// Document taxes: without Налоги the order is not subject to VAT, whatever its lines say.
	docRate := ""
	o.VATExempt, o.InclVAT = true, false
	if taxes := d.FindElements("Налоги/Налог"); d.SelectElement("Налоги") != nil {
		o.VATExempt = false
		for _, t := range taxes {
			if strings.ToLower(text(t, "Наименование")) != "ндс" {
				if isVATName(text(t, "Наименование")) {
					l.warn(n, 0, "Налоги", srcTaxes, "document tax %q is not recognised: only «НДС» is", text(t, "Наименование"))
				}
				continue
			}
			docRate = vatRate(textOr(t, "Ставка", "18"))
			l.checkRate(n, 0, t)
			if t.SelectElement("УчтеноВСумме") != nil {
				o.InclVAT = strings.ToLower(text(t, "УчтеноВСумме")) == "true"
			}
			break
		}
		if !o.InclVAT {
			l.warn(n, 0, "Налоги", srcTaxes, "the document's НДС is not УчтеноВСумме=true: BAS adds VAT on top of the sums and the total exceeds the till's")
		}
	}
	if d.SelectElement("Скидки") != nil {
		for _, s := range d.FindElements("Скидки/Скидка") {
			switch {
			case strings.ToLower(text(s, "УчтеноВСумме")) == "true":
				l.warn(n, 0, "Скидки", srcDocDisc, "a document discount marked УчтеноВСумме=true is ignored: BAS's total exceeds the till's")
			default:
				l.warn(n, 0, "Скидки", srcDocDisc, "a document discount is spread over the lines again: counted twice when the lines are net")
			}
			if s.SelectElement("Процент") != nil {
				l.warn(n, 0, "Скидки", srcDocDisc, "Процент creates an item in «Види знижок»")
			}
		}
	}
	o.Lines = nil
	for i, g := range d.FindElements("Товары/Товар") {
		ln := i + 1
		good := l.good(g, n, ln)
		if g.SelectElement("Скидки") != nil {
			l.warn(n, ln, "Скидки", srcLineDisc, "a line discount is read through an expression that puts a string where a Boolean is needed; write net line sums instead")
		}
		rate := ""
		for _, t := range g.FindElements("Налоги/Налог") {
			if strings.ToLower(text(t, "Наименование")) == "ндс" && t.SelectElement("Ставка") != nil {
				rate = vatRate(text(t, "Ставка"))
				l.checkRate(n, ln, t)
				break
			}
			if isVATName(text(t, "Наименование")) {
				l.warn(n, ln, "Налоги", srcTaxes, "line tax %q is not recognised: only «НДС» is", text(t, "Наименование"))
			}
		}
		if rate == "" {
			rate = docRate
		}
		if rate == "" {
			rate = "Без НДС"
		}
		if o.VATExempt && rate != "Без НДС" && rate != "" {
			l.warn(n, ln, "Налоги", srcTaxes, "the line carries VAT %s but the document has no Налоги: the order is VAT-exempt and the line's VAT is lost", rate)
		}
		if g.SelectElement("Количество") == nil {
			continue
		}
		qty := number(g, "Количество")
		if qty.IsZero() {
			continue
		}
		price, sum := number(g, "ЦенаЗаЕдиницу"), number(g, "Сумма")
		for _, f := range []struct {
			name string
			v    decimal.Decimal
		}{{"Количество", qty}, {"ЦенаЗаЕдиницу", price}, {"Сумма", sum}} {
			if f.v.IsNegative() {
				l.warn(n, ln, f.name, srcLines, "%s %s is negative: BAS stores 0, the amount vanishes", f.name, f.v)
			}
		}
		if qty.Exponent() < -3 && !qty.Equal(qty.Round(3)) {
			l.warn(n, ln, "Количество", srcLines, "%s has more than 3 decimals: BAS keeps 3", qty)
		}
		qty, price, sum = nonNegative(qty), nonNegative(price), nonNegative(sum)
		line := Line{Good: good, Quantity: qty, Sum: sum, VATRate: rate}
		line.Characteristic = l.characteristic(g, n, ln)
		if price.IsPositive() {
			line.Price = price
		} else {
			line.Price = sum.DivRound(qty, 2)
		}
		if gross := line.Price.Mul(qty); !gross.Equal(sum) && !gross.IsZero() {
			line.DiscountPercent = gross.Sub(sum).Mul(decimal.NewFromInt(100)).DivRound(gross, 2)
		}
		line.VAT, line.Total = lineVAT(sum, rate, o.InclVAT, o.VATExempt)
		o.Lines = append(o.Lines, line)
	}
	o.Total = decimal.Zero
	for _, ln := range o.Lines {
		o.Total = o.Total.Add(ln.Total)
	}
	if want := number(d, "Сумма"); !want.Equal(o.Total) {
		l.warn(n, 0, "Сумма", srcLines, "BAS's total is %s (Σ Всего of the lines), the document's Сумма says %s", o.Total.StringFixed(2), want.StringFixed(2))
	}
	return true
}

// checkRate flags a Ставка that is meant as a rate but is not one of the exact strings BAS compares with.
func (l *load) checkRate(n string, line int, t *etree.Element) {
	s := text(t, "Ставка")
	if vatRate(s) == "Без НДС" && regexp.MustCompile(`\d`).MatchString(s) && s != "0" {
		l.warn(n, line, "Налоги", srcTaxes, "Ставка %q is not exactly \"20\", \"7\" or \"0\": BAS reads it as «not subject to VAT»", s)
	}
}

// good finds the line's item as BAS does: the GUID before '#', else the exact Артикул, else the name
// when Артикул is empty, else a new item.
func (l *load) good(g *etree.Element, n string, line int) string {
	id := text(g, "Ид")
	guid, _, _ := strings.Cut(id, "#")
	if guidRE.MatchString(guid) && (l.base.Opts.Goods == nil || l.base.Opts.Goods[strings.ToLower(guid)]) {
		return strings.ToLower(guid)
	}
	art := text(g, "Артикул")
	if art != "" {
		if l.base.Opts.Articles != nil && l.base.Opts.Articles[art] {
			return "article:" + art
		}
		l.warn(n, line, "Ид", srcGoods, "Ид %q is no item of BAS and Артикул %q finds none: BAS creates a new item", id, art)
		return "new:" + art
	}
	name, _, _ := strings.Cut(text(g, "Наименование"), "#")
	l.warn(n, line, "Ид", srcGoods, "Ид %q is no item of BAS and there is no Артикул: BAS looks the item up by the name %q and creates it when absent", id, name)
	return "new:" + name
}

// characteristic is what BAS makes of '#' in Ид or Наименование.
func (l *load) characteristic(g *etree.Element, n string, line int) string {
	if !l.base.Opts.Characteristics {
		return ""
	}
	if _, ch, ok := strings.Cut(text(g, "Ид"), "#"); ok && ch != "" {
		return ch
	}
	if _, ch, ok := strings.Cut(text(g, "Наименование"), "#"); ok && strings.TrimSpace(ch) != "" {
		l.warn(n, line, "Наименование", srcCharact, "'#' in Наименование %q: BAS finds or creates the characteristic %q", text(g, "Наименование"), strings.TrimSpace(ch))
		return strings.TrimSpace(ch)
	}
	return ""
}

// state sets the order's state from «Статус заказа» through the node's table.
func (l *load) state(n string, o *Order, props map[string]string) {
	st := StateNew
	if v, ok := props["Статус заказа"]; ok && v != "" {
		if mapped, ok := l.base.Opts.StatusMap[v]; ok {
			st = mapped
		}
	}
	o.State = st
}

// payment flags the requisites that make [B] create a payment (and a fiscal receipt).
func (l *load) payment(n string, props map[string]string) {
	if !l.base.Opts.OnlinePayments {
		return
	}
	if props["Дата оплаты"] != "" && (props["Метод оплаты"] != "" || props["Метод оплаты ИД"] != "") && props["Номер платежного документа"] != "" {
		l.warn(n, 0, "Оплата", srcPayment, "«Дата оплаты», «Метод оплаты» and «Номер платежного документа» make BAS create a payment and queue a fiscal receipt: a second receipt for a sale the till fiscalised")
	}
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// vatRate is ПолучитьПоЗначениюДляВыгрузкиСтавкуНДС: exactly "0", "20" or "7", anything else is
// «not subject to VAT».
func vatRate(s string) string {
	switch s {
	case "0", "20", "7":
		return s
	}
	return "Без НДС"
}

func isVATName(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return s == "пдв" || s == "vat" || s == "ндс"
}

// lineVAT is the line's VAT and Всего (РассчитатьСуммуНДСЗаказа): VAT inside the sum when the
// document's prices include it, on top otherwise.
func lineVAT(sum decimal.Decimal, rate string, incl, exempt bool) (vat, total decimal.Decimal) {
	if exempt || rate == "Без НДС" || rate == "0" {
		return decimal.Zero, sum
	}
	r := decimal.RequireFromString(rate)
	if incl {
		return sum.Mul(r).DivRound(r.Add(decimal.NewFromInt(100)), 2), sum
	}
	vat = sum.Mul(r).DivRound(decimal.NewFromInt(100), 2)
	return vat, sum.Add(vat)
}

func nonNegative(d decimal.Decimal) decimal.Decimal {
	if d.IsNegative() {
		return decimal.Zero
	}
	return d
}

// requisites reads ЗначенияРеквизитов as СвойстваЗаказа: name → value.
func requisites(d *etree.Element) map[string]string {
	out := map[string]string{}
	for _, r := range d.FindElements("ЗначенияРеквизитов/ЗначениеРеквизита") {
		out[text(r, "Наименование")] = text(r, "Значение")
	}
	return out
}

// parseDate is ПолучитьДатуВремяИзСтроки: "YYYY-MM-DD" and "HH:MM:SS".
func parseDate(date, clock string) (time.Time, error) {
	if clock == "" {
		clock = "00:00:00"
	}
	t, err := time.Parse("2006-01-02 15:04:05", date+" "+clock)
	if err != nil {
		return time.Time{}, fmt.Errorf("Дата %q Время %q", date, clock)
	}
	return t, nil
}

// number is ПолучитьЧислоИзСтроки of a child's text: a number with '.', 0 otherwise.
func number(e *etree.Element, tag string) decimal.Decimal {
	s := strings.ReplaceAll(strings.TrimSpace(text(e, tag)), ",", ".")
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	v, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero
	}
	return v
}

func padLeft(s string, n int) string {
	if k := len([]rune(s)); k < n {
		return strings.Repeat("0", n-k) + s
	}
	return s
}

func text(e *etree.Element, tag string) string {
	c := e.SelectElement(tag)
	if c == nil {
		return ""
	}
	return c.Text()
}

func textOr(e *etree.Element, tag, def string) string {
	if e.SelectElement(tag) == nil {
		return def
	}
	return text(e, tag)
}

// parse reads the file as ЗагрузитьЗаказыИзФайла does: the encoding named by the XML declaration
// (UTF-8 when none), a UTF-8 BOM dropped, then an untyped XML read.
func parse(data []byte) (*etree.Element, error) {
	enc := "utf-8"
	head := data[:min(len(data), 200)]
	if m := regexp.MustCompile(`encoding="([^"]+)"`).FindSubmatch(head); m != nil {
		enc = strings.ToLower(string(m[1]))
	}
	switch enc {
	case "utf-8", "utf8":
		data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	case "windows-1251", "cp1251":
		d, err := charmap.Windows1251.NewDecoder().Bytes(data)
		if err != nil {
			return nil, err
		}
		data = d
	default:
		return nil, fmt.Errorf("encoding %q", enc)
	}
	doc := etree.NewDocument()
	doc.ReadSettings.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, err
	}
	root := doc.Root()
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}
