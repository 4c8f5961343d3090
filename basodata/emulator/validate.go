package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Request bodies are checked against the model before anything is stored. The emulator takes the
// strict reading wherever 1C's behaviour is not documented (docs/bas-odata.md §7): a value too long,
// with too many decimals, negative where the type is Nonnegative, of the wrong JSON type, a reference
// to an object the base does not hold, an unknown property, a row without LineNumber are refused, so a
// client that passes here does not lean on a base's leniency.

var (
	guidRe     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	dateTimeRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$`)
)

func isGUID(s string) bool     { return guidRe.MatchString(s) }
func isDateTime(s string) bool { return dateTimeRe.MatchString(s) }

// readOnly are properties a client may not write: the base sets them.
var readOnly = map[string]bool{"DataVersion": true, "Posted": true, "Predefined": true, "PredefinedDataName": true}

// badRequest is a refusal with 1C's error shape.
type badRequest struct {
	status int
	code   string
	msg    string
}

func (e *badRequest) Error() string { return e.msg }

func refuse(format string, a ...any) *badRequest {
	return &badRequest{status: 400, code: "-1", msg: fmt.Sprintf(format, a...)}
}

// decodeBody reads a JSON object for type t: every key a property of t (or an annotation), every value
// of the property's type. create allows Ref_Key.
func (e *Emulator) decodeBody(t *Type, body []byte, create bool) (obj, *badRequest) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, refuse("Ошибка разбора JSON: тело запроса должно быть объектом (%v)", err)
	}
	return e.decodeObject(t, raw, create, "")
}

func (e *Emulator) decodeObject(t *Type, raw map[string]any, create bool, where string) (obj, *badRequest) {
	out := obj{}
	for k, v := range raw {
		if k == "odata.metadata" || strings.Contains(k, "@odata.") {
			continue
		}
		p := t.Prop(k)
		if p == nil {
			return nil, refuse("%sСвойство '%s' не найдено у типа 'StandardODATA.%s'", where, k, t.Name)
		}
		if readOnly[k] || (k == "Ref_Key" && !create) {
			return nil, refuse("%sСвойство '%s' доступно только для чтения", where, k)
		}
		val, err := e.value(t, p, v, where)
		if err != nil {
			return nil, err
		}
		out[k] = val
	}
	// A composite value needs its _Type.
	for _, p := range t.Props {
		if p.Kind != "Comp" {
			continue
		}
		v, ok := out[p.Name].(string)
		if !ok || v == "" || v == emptyRef {
			continue
		}
		typ, _ := out[p.Name+"_Type"].(string)
		valid := false
		for _, target := range p.Targets {
			if typ == "StandardODATA."+target {
				valid = true
				if !isGUID(v) {
					return nil, refuse("%sЗначение '%s' свойства %s не является ссылкой", where, v, p.Name)
				}
				if err := e.checkRef(target, v, where+p.Name); err != nil {
					return nil, err
				}
			}
		}
		if !valid {
			return nil, refuse("%sНе указан или неверен тип значения %s_Type ('%s'): ожидается один из StandardODATA.%s", where, p.Name, typ, strings.Join(p.Targets, ", StandardODATA."))
		}
	}
	return out, nil
}

// value converts one JSON value of property p to its canonical form.
func (e *Emulator) value(t *Type, p *Prop, v any, where string) (any, *badRequest) {
	name := where + p.Name
	if v == nil {
		if p.NotNull {
			return nil, refuse("Свойство %s не может быть null", name)
		}
		return empty(p), nil
	}
	wrong := func(want string) *badRequest {
		return refuse("Неверный тип значения свойства %s: ожидается %s, получено %s", name, want, jsonKind(v))
	}
	switch {
	case p.Kind == "Rows":
		list, ok := v.([]any)
		if !ok {
			return nil, wrong("массив строк табличной части")
		}
		rt := e.model.ByName[p.Target]
		rows := make([]obj, 0, len(list))
		for i, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				return nil, wrong("объект строки")
			}
			if _, has := m["LineNumber"]; !has {
				// What 1C answered when a row came without LineNumber (docs/bas-odata.md §1).
				return nil, &badRequest{status: 500, code: "-1", msg: "Произошла внутренняя ошибка OData сервиса. "}
			}
			row, err := e.decodeObject(rt, m, false, fmt.Sprintf("%s[%d].", p.Name, i))
			if err != nil {
				return nil, err
			}
			if n, _ := row["LineNumber"].(int64); n != int64(i+1) {
				return nil, refuse("%s[%d].LineNumber = %d: строки нумеруются с 1 по порядку", p.Name, i, n)
			}
			rows = append(rows, row)
		}
		return rows, nil
	case p.Edm == "Edm.Guid":
		s, ok := v.(string)
		if !ok || !isGUID(s) {
			return nil, wrong("Edm.Guid")
		}
		s = strings.ToLower(s)
		if p.Kind == "Ref" && s != emptyRef {
			if err := e.checkRef(p.Target, s, name); err != nil {
				return nil, err
			}
		}
		return s, nil
	case p.Edm == "Edm.Boolean":
		b, ok := v.(bool)
		if !ok {
			return nil, wrong("Edm.Boolean")
		}
		return b, nil
	case p.Edm == "Edm.DateTime":
		s, ok := v.(string)
		if !ok || !isDateTime(s) {
			return nil, wrong("Edm.DateTime (YYYY-MM-DDTHH:MM:SS)")
		}
		if p.Kind == "Date" && !strings.HasSuffix(s, "T00:00:00") {
			return nil, refuse("Свойство %s хранит дату без времени: %s", name, s)
		}
		return s, nil
	case p.Edm == "Edm.Int64":
		var d decimal.Decimal
		var err error
		switch x := v.(type) {
		case json.Number:
			d, err = decimal.NewFromString(x.String())
		case string:
			d, err = decimal.NewFromString(x)
		default:
			return nil, wrong("Edm.Int64")
		}
		if err != nil || !d.IsInteger() {
			return nil, wrong("Edm.Int64")
		}
		if p.NonNeg && d.IsNegative() {
			return nil, refuse("Значение свойства %s не может быть отрицательным: %s", name, d)
		}
		return d.IntPart(), nil
	case p.Edm == "Edm.Double":
		n, ok := v.(json.Number)
		if !ok {
			return nil, wrong("Edm.Double (число)")
		}
		d, err := decimal.NewFromString(n.String())
		if err != nil {
			return nil, wrong("Edm.Double")
		}
		if p.Kind == "Num" {
			if p.NonNeg && d.IsNegative() {
				return nil, refuse("Значение свойства %s не может быть отрицательным: %s", name, d)
			}
			if !d.Equal(d.Round(int32(p.Scale))) {
				return nil, refuse("Значение свойства %s (%s) имеет больше %d знаков после запятой", name, d, p.Scale)
			}
			if d.Abs().GreaterThanOrEqual(decimal.New(1, int32(p.Prec-p.Scale))) {
				return nil, refuse("Значение свойства %s (%s) не помещается в Число(%d,%d)", name, d, p.Prec, p.Scale)
			}
		}
		return d, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, wrong("Edm.String")
	}
	switch p.Kind {
	case "Str":
		if p.Len > 0 && utf8.RuneCountInString(s) > p.Len {
			return nil, refuse("Значение свойства %s длиннее %d символов", name, p.Len)
		}
	case "Enum":
		if s != "" && !contains(e.model.EnumByKey[p.Target], s) {
			return nil, refuse("Значение '%s' свойства %s не является значением перечисления %s", s, name, p.Target)
		}
	case "TypeOf":
		if s != "" && !strings.HasPrefix(s, "StandardODATA.") {
			return nil, refuse("Неверный тип '%s' в %s", s, name)
		}
	}
	return s, nil
}

// checkRef refuses a reference to an object the base does not hold. A real base stores such a "broken"
// reference («Объект не найден») (docs/bas-odata.md §7); refusing it catches the client's bug here.
func (e *Emulator) checkRef(target, ref, name string) *badRequest {
	set := e.sets[target]
	if set == nil {
		return refuse("Ссылка %s на %s: такие объекты эмулятор не хранит; передайте пустую ссылку", name, target)
	}
	if set.byRef[strings.ToLower(ref)] == nil {
		return refuse("Ссылка %s: объект %s(guid'%s') не найден", name, target, ref)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "строка"
	case json.Number:
		return "число"
	case bool:
		return "булево"
	case []any:
		return "массив"
	case map[string]any:
		return "объект"
	}
	return "null"
}
