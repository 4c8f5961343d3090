package emulator

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// obj is one stored object or row, keyed by property name. Values are canonical: string (Guid,
// String, DateTime, enum, composite), decimal.Decimal (Edm.Double), int64 (Edm.Int64), bool, and []obj
// for a tabular section. Properties never written are absent and read as their empty value.
type obj map[string]any

const (
	emptyRef  = "00000000-0000-0000-0000-000000000000"
	emptyDate = "0001-01-01T00:00:00"
)

// empty is the value 1C gives a property nobody filled.
func empty(p *Prop) any {
	switch {
	case p.Kind == "Rows":
		return []obj{}
	case p.Edm == "Edm.Guid":
		return emptyRef
	case p.Edm == "Edm.Double":
		return decimal.Zero
	case p.Edm == "Edm.Int64":
		return int64(0)
	case p.Edm == "Edm.Boolean":
		return false
	case p.Edm == "Edm.DateTime":
		return emptyDate
	}
	return ""
}

// get is o's value of p, or its empty value.
func (o obj) get(p *Prop) any {
	if v, ok := o[p.Name]; ok {
		return v
	}
	return empty(p)
}

func (o obj) str(name string) string {
	s, _ := o[name].(string)
	return s
}

func (o obj) num(name string) decimal.Decimal {
	d, _ := o[name].(decimal.Decimal)
	return d
}

func (o obj) rows(name string) []obj {
	r, _ := o[name].([]obj)
	return r
}

// filled is 1C's ЗначениеЗаполнено: not the empty value of its type.
func filled(p *Prop, v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != "" && x != emptyRef && x != emptyDate
	case decimal.Decimal:
		return !x.IsZero()
	case int64:
		return x != 0
	case bool:
		return x
	case []obj:
		return len(x) > 0
	}
	return true
}

// clone copies o deeply enough that sections can be replaced without touching the original.
func (o obj) clone() obj {
	c := make(obj, len(o))
	for k, v := range o {
		if rows, ok := v.([]obj); ok {
			cp := make([]obj, len(rows))
			for i, r := range rows {
				cp[i] = r.clone()
			}
			v = cp
		}
		c[k] = v
	}
	return c
}

// render writes o as 1C's JSON: every property of t in the model's order (or only sel), Edm.Int64 as
// a string (OData v3 JSON), Edm.Double as a number.
func render(t *Type, o obj, sel map[string]bool, head string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	if head != "" {
		b.WriteString(`"odata.metadata":`)
		writeJSON(&b, head)
		first = false
	}
	for _, p := range t.Props {
		if sel != nil && !sel[p.Name] {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeJSON(&b, p.Name)
		b.WriteByte(':')
		writeValue(&b, o.get(p))
	}
	b.WriteByte('}')
	return b.Bytes()
}

func writeValue(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case decimal.Decimal:
		b.WriteString(x.String())
	case int64:
		writeJSON(b, strconv.FormatInt(x, 10))
	case []obj:
		b.WriteByte('[')
		for i, r := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('{')
			keys := make([]string, 0, len(r))
			for k := range r {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool {
				return rowOrder(keys[i]) < rowOrder(keys[j]) || rowOrder(keys[i]) == rowOrder(keys[j]) && keys[i] < keys[j]
			})
			for j, k := range keys {
				if j > 0 {
					b.WriteByte(',')
				}
				writeJSON(b, k)
				b.WriteByte(':')
				writeValue(b, r[k])
			}
			b.WriteByte('}')
		}
		b.WriteByte(']')
	default:
		writeJSON(b, x)
	}
}

// rowOrder puts LineNumber first in a row and _Type properties last, as 1C orders them.
func rowOrder(k string) int {
	switch {
	case k == "LineNumber":
		return 0
	case strings.HasSuffix(k, "_Type"):
		return 2
	}
	return 1
}

func writeJSON(b *bytes.Buffer, v any) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(v) //nolint:errcheck // plain values
	b.Truncate(b.Len() - 1)
}

// fullRows fills every row of a section with every property of its row type, so answers list them all.
func fullRows(rt *Type, rows []obj) []obj {
	out := make([]obj, len(rows))
	for i, r := range rows {
		o := obj{}
		for _, p := range rt.Props {
			o[p.Name] = r.get(p)
		}
		out[i] = o
	}
	return out
}
