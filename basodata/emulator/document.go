package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/shopspring/decimal"
)

// The rules of «Отчет о розничных продажах» as its object and manager modules apply them
// (Documents/ОтчетОРозничныхПродажах/Ext/ObjectModule.bsl; docs/bas-odata.md §4).

const (
	docSet      = "Document_ОтчетОРозничныхПродажах"
	movementSet = "AccumulationRegister_Запасы_RecordType"
	// dataLoadHeader is the header third-party code uses for writing in data-load mode, where
	// ПередЗаписью returns at once and СуммаДокумента is not recomputed (docs/bas-odata.md §3).
	dataLoadHeader = "1C_OData_DataLoadMode"
)

// beforeWrite is ПередЗаписью: Number on first write, and СуммаДокумента = Σ Запасы.Всего unless the
// write is in data-load mode.
func (e *Emulator) beforeWrite(o obj, h http.Header, create bool) *badRequest {
	if create && o.str("Number") == "" {
		e.number++
		o["Number"] = fmt.Sprintf("%011d", e.number)
	}
	if strings.EqualFold(h.Get(dataLoadHeader), "true") {
		return nil
	}
	total := decimal.Zero
	for _, r := range o.rows("Запасы") {
		total = total.Add(r.num("Всего"))
	}
	o["СуммаДокумента"] = total
	return nil
}

// act is POST …(guid'…')/Post or /Unpost.
func (e *Emulator) act(set *entitySet, ref, action string, q url.Values) (reply, *badRequest) {
	if set.t.Name != docSet {
		return reply{}, refuse("%s: действие %s не поддерживается", set.t.Name, action)
	}
	o := set.byRef[ref]
	if o == nil {
		return reply{}, notFound(set.t.Name, ref)
	}
	if q.Get("PostingModeOperational") == "true" {
		// RealTimePosting = Deny (Documents/ОтчетОРозничныхПродажах.xml).
		return reply{}, &badRequest{status: 500, code: "-1", msg: "Оперативное проведение документов этого вида запрещено"}
	}
	next := o.clone()
	switch action {
	case "Post":
		if msgs := e.fillCheck(next); len(msgs) > 0 {
			return reply{}, &badRequest{status: 500, code: "-1", msg: strings.Join(msgs, "\n")}
		}
		e.clearMovements(ref)
		if e.fullPosting(next) {
			if bad := e.writeMovements(next); bad != nil {
				return reply{}, bad
			}
		}
		next["Posted"] = true
	case "Unpost":
		e.clearMovements(ref)
		next["Posted"] = false
	}
	next["DataVersion"] = e.nextVersion()
	set.replace(ref, next)
	return reply{status: http.StatusOK}, nil
}

// fillCheck is the platform's FillChecking plus ОбработкаПроверкиЗаполнения; it returns the messages
// the user would see, in the base's language.
func (e *Emulator) fillCheck(o obj) []string {
	t := e.model.ByName[docSet]
	var msgs []string
	for _, p := range t.Props {
		if p.Required && !filled(p, o.get(p)) {
			msgs = append(msgs, fmt.Sprintf("Поле \"%s\" не заповнене", strings.TrimSuffix(p.Name, "_Key")))
		}
	}
	for _, sec := range []string{"Запасы", "ОплатаПлатежнымиКартами", "СкидкиНаценки", "СерийныеНомера"} {
		rt := e.model.ByName[docSet+"_"+sec+"_RowType"]
		for i, r := range o.rows(sec) {
			for _, p := range rt.Props {
				if p.Required && !filled(p, r.get(p)) {
					msgs = append(msgs, fmt.Sprintf("Не заповнена колонка \"%s\" в рядку %d списку \"%s\"", strings.TrimSuffix(p.Name, "_Key"), i+1, sec))
				}
			}
		}
	}
	cards := decimal.Zero
	for _, r := range o.rows("ОплатаПлатежнымиКартами") {
		cards = cards.Add(r.num("Сумма"))
	}
	if cards.GreaterThan(o.num("СуммаДокумента")) {
		msgs = append(msgs, "Сума оплати платіжними картками перевищує суму документа")
	}
	till := e.sets["Catalog_КассыККМ"].byRef[o.str("КассаККМ_Key")]
	if till != nil && till.str("ТипКассы") == "ФискальныйРегистратор" {
		msgs = append(msgs, e.fiscalRegisterChecks(o)...)
	}
	for i, r := range o.rows("Запасы") {
		if r.num("Количество").IsZero() {
			msgs = append(msgs, fmt.Sprintf("Не вірно заповнена колонка \"Кількість\" в рядку %d списку \"Запаси\".", i+1))
		}
	}
	return msgs
}

// fiscalRegisterChecks are the shift checks made only for a till of type ФискальныйРегистратор.
func (e *Emulator) fiscalRegisterChecks(o obj) []string {
	var msgs []string
	status, start, end, date := o.str("СтатусКассовойСмены"), o.str("НачалоКассовойСмены"), o.str("ОкончаниеКассовойСмены"), o.str("Date")
	endFilled := end != "" && end != emptyDate
	for _, other := range e.sets[docSet].order {
		if other.str("Ref_Key") != o.str("Ref_Key") && other.str("КассаККМ_Key") == o.str("КассаККМ_Key") &&
			other.str("СтатусКассовойСмены") == "Открыта" && other["Posted"] == true {
			msgs = append(msgs, fmt.Sprintf("По даній касі на дату %s уже зареєстрований %s", date, other.str("Number")))
		}
	}
	if !endFilled && status != "" && status != "Открыта" {
		msgs = append(msgs, "Поле \"Закінчення зміни\" не заповнене")
	}
	if endFilled && end < start {
		msgs = append(msgs, "Час початку касової зміни більше часу закінчення касової зміни")
	}
	if status == "Открыта" && start != date {
		msgs = append(msgs, "Час початку касової зміни відрізняється від дати документа")
	}
	if status != "" && status != "Открыта" && end != date {
		msgs = append(msgs, "Час закінчення касової зміни відрізняється від дати документа")
	}
	return msgs
}

// fullPosting is ДобавитьРеквизитыВДополнительныеСвойстваДляПроведения: a fiscal-register till's
// report moves stock only with ЗакрытаЧекиЗаархивированы, any other till's with Закрыта too.
func (e *Emulator) fullPosting(o obj) bool {
	status := o.str("СтатусКассовойСмены")
	till := e.sets["Catalog_КассыККМ"].byRef[o.str("КассаККМ_Key")]
	if till != nil && till.str("ТипКассы") == "ФискальныйРегистратор" {
		return status == "ЗакрытаЧекиЗаархивированы"
	}
	return status == "Закрыта" || status == "ЗакрытаЧекиЗаархивированы"
}

// writeMovements records the stock movements of a posted report: an expense per sold row, a receipt per
// returned (negative) row, for goods of type Запас.
func (e *Emulator) writeMovements(o obj) *badRequest {
	set := e.sets[movementSet]
	goods := e.sets["Catalog_Номенклатура"]
	ref := o.str("Ref_Key")
	var recs []obj
	for _, r := range o.rows("Запасы") {
		g := goods.byRef[r.str("Номенклатура_Key")]
		if g == nil || g.str("ТипНоменклатуры") != "Запас" {
			continue
		}
		qty := r.num("Количество")
		kind := "Expense"
		if qty.IsNegative() {
			kind, qty = "Receipt", qty.Neg()
		}
		recs = append(recs, obj{
			"Recorder": ref, "Recorder_Type": "StandardODATA." + docSet, "Period": o.str("Date"),
			"LineNumber": int64(len(recs) + 1), "Active": true, "RecordType": kind,
			"Организация_Key": o.str("Организация_Key"), "СтруктурнаяЕдиница": o.str("СтруктурнаяЕдиница_Key"),
			"СтруктурнаяЕдиница_Type": "StandardODATA.Catalog_СтруктурныеЕдиницы",
			"Номенклатура_Key":        r.str("Номенклатура_Key"), "Характеристика_Key": charOf(r),
			"Количество": qty, "Сумма": decimal.Zero, "СтавкаНДС_Key": r.str("СтавкаНДС_Key"),
			"ДокументПродажи": ref, "ДокументПродажи_Type": "StandardODATA." + docSet, "Возврат": kind == "Receipt",
		})
	}
	for _, r := range recs {
		set.put(r)
	}
	if e.cfg.ControlNegativeStock {
		for _, r := range recs {
			k := stockKey{r.str("Организация_Key"), r.str("СтруктурнаяЕдиница"), r.str("Номенклатура_Key"), r.str("Характеристика_Key")}
			if bal := e.balance(k); bal.IsNegative() {
				e.clearMovements(ref)
				name := goods.byRef[k.good].str("Description")
				return &badRequest{status: 500, code: "-1", msg: fmt.Sprintf("Недостатньо запасу «%s»: залишок %s", name, bal)}
			}
		}
	}
	return nil
}

func charOf(r obj) string {
	if c := r.str("Характеристика_Key"); c != "" {
		return c
	}
	return emptyRef
}

func (e *Emulator) clearMovements(ref string) {
	set := e.sets[movementSet]
	kept := set.order[:0]
	for _, r := range set.order {
		if r.str("Recorder") != ref {
			kept = append(kept, r)
		}
	}
	set.order = kept
}

// stockKey is a balance's dimensions: organisation, store, good, characteristic.
type stockKey struct{ org, store, good, char string }

func (e *Emulator) balance(k stockKey) decimal.Decimal {
	bal := decimal.Zero
	for _, r := range e.sets[movementSet].order {
		if r.str("Организация_Key") != k.org || r.str("СтруктурнаяЕдиница") != k.store || r.str("Номенклатура_Key") != k.good || r.str("Характеристика_Key") != k.char {
			continue
		}
		if r.str("RecordType") == "Receipt" {
			bal = bal.Add(r.num("Количество"))
		} else {
			bal = bal.Sub(r.num("Количество"))
		}
	}
	return bal
}

// Balance is one line of the stock balance (AccumulationRegister.Запасы, quantity only).
type Balance struct {
	Organization, Store, Good, Characteristic string
	GoodName                                  string
	Quantity                                  decimal.Decimal
}

// Stock returns the stock balance of every good that has movements, by store, good and characteristic.
func (e *Emulator) Stock() []Balance {
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := map[stockKey]bool{}
	var out []Balance
	for _, r := range e.sets[movementSet].order {
		k := stockKey{r.str("Организация_Key"), r.str("СтруктурнаяЕдиница"), r.str("Номенклатура_Key"), r.str("Характеристика_Key")}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, Balance{Organization: k.org, Store: k.store, Good: k.good, Characteristic: k.char,
			GoodName: e.sets["Catalog_Номенклатура"].byRef[k.good].str("Description"), Quantity: e.balance(k)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Good != out[j].Good {
			return out[i].Good < out[j].Good
		}
		return out[i].Characteristic+out[i].Store < out[j].Characteristic+out[j].Store
	})
	return out
}

// StockOf is the balance of one good (and characteristic, "" for none) in one store.
func (e *Emulator) StockOf(store, good, char string) decimal.Decimal {
	e.mu.Lock()
	defer e.mu.Unlock()
	if char == "" {
		char = emptyRef
	}
	total := decimal.Zero
	for _, org := range e.sets["Catalog_Организации"].order {
		total = total.Add(e.balance(stockKey{org.str("Ref_Key"), strings.ToLower(store), strings.ToLower(good), strings.ToLower(char)}))
	}
	return total
}
