package emulator

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/shopspring/decimal"
)

// A $filter parser and evaluator for the subset of OData v3 obmin and its tests use: eq ne gt ge lt le,
// and or not, parentheses, substringof/startswith/endswith, and the literals guid'…', datetime'…',
// '…' (quotes doubled), numbers, true and false (docs/bas-odata.md §3). A literal of the wrong kind for
// its property (a GUID written as a plain string, a date without datetime'…') is an error, as a typed
// service reports it: that is how the emulator proves the client's literal syntax.

type token struct {
	kind string // ident, guid, datetime, string, number, op, ( ) ,
	text string
}

func lex(s string) ([]token, error) {
	var out []token
	rs := []rune(s)
	for i := 0; i < len(rs); {
		c := rs[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(' || c == ')' || c == ',':
			out = append(out, token{kind: string(c)})
			i++
		case c == '\'':
			str, n, err := quoted(rs[i:])
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: "string", text: str})
			i += n
		case c == '-' || unicode.IsDigit(c):
			j := i + 1
			for j < len(rs) && (unicode.IsDigit(rs[j]) || rs[j] == '.') {
				j++
			}
			out = append(out, token{kind: "number", text: string(rs[i:j])})
			i = j
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '_') {
				j++
			}
			word := string(rs[i:j])
			if (word == "guid" || word == "datetime") && j < len(rs) && rs[j] == '\'' {
				str, n, err := quoted(rs[j:])
				if err != nil {
					return nil, err
				}
				out = append(out, token{kind: word, text: str})
				i = j + n
				continue
			}
			out = append(out, token{kind: "ident", text: word})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q", c)
		}
	}
	return out, nil
}

// quoted reads '…' with ” standing for one quote; it returns the text and the runes used.
func quoted(rs []rune) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(rs); i++ {
		if rs[i] == '\'' {
			if i+1 < len(rs) && rs[i+1] == '\'' {
				b.WriteRune('\'')
				i++
				continue
			}
			return b.String(), i + 1, nil
		}
		b.WriteRune(rs[i])
	}
	return "", 0, fmt.Errorf("unterminated string literal")
}

// expr is a parsed filter: it evaluates against one object.
type expr func(o obj) (any, error)

type parser struct {
	toks []token
	pos  int
	t    *Type
}

func parseFilter(s string, t *Type) (expr, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, t: t}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text+p.toks[p.pos].kind)
	}
	return e, nil
}

func (p *parser) peekWord(w string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == "ident" && p.toks[p.pos].text == w
}

func (p *parser) or() (expr, error) {
	l, err := p.and()
	for err == nil && p.peekWord("or") {
		p.pos++
		var r expr
		if r, err = p.and(); err == nil {
			a, b := l, r
			l = func(o obj) (any, error) { return logic(o, a, b, false) }
		}
	}
	return l, err
}

func (p *parser) and() (expr, error) {
	l, err := p.not()
	for err == nil && p.peekWord("and") {
		p.pos++
		var r expr
		if r, err = p.not(); err == nil {
			a, b := l, r
			l = func(o obj) (any, error) { return logic(o, a, b, true) }
		}
	}
	return l, err
}

func logic(o obj, a, b expr, and bool) (any, error) {
	x, err := a(o)
	if err != nil {
		return nil, err
	}
	y, err := b(o)
	if err != nil {
		return nil, err
	}
	xb, ok1 := x.(bool)
	yb, ok2 := y.(bool)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("and/or need boolean operands")
	}
	if and {
		return xb && yb, nil
	}
	return xb || yb, nil
}

func (p *parser) not() (expr, error) {
	if p.peekWord("not") {
		p.pos++
		e, err := p.not()
		if err != nil {
			return nil, err
		}
		return func(o obj) (any, error) {
			v, err := e(o)
			b, ok := v.(bool)
			if err == nil && !ok {
				err = fmt.Errorf("not needs a boolean")
			}
			return !b, err
		}, nil
	}
	return p.compare()
}

var ops = map[string]bool{"eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true}

func (p *parser) compare() (expr, error) {
	l, lk, err := p.primary()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) && p.toks[p.pos].kind == "ident" && ops[p.toks[p.pos].text] {
		op := p.toks[p.pos].text
		p.pos++
		r, rk, err := p.primary()
		if err != nil {
			return nil, err
		}
		if lk != "" && rk != "" && lk != rk {
			return nil, fmt.Errorf("type mismatch: %s %s %s", lk, op, rk)
		}
		return func(o obj) (any, error) {
			a, err := l(o)
			if err != nil {
				return nil, err
			}
			b, err := r(o)
			if err != nil {
				return nil, err
			}
			c, err := cmp(a, b)
			if err != nil {
				return nil, err
			}
			switch op {
			case "eq":
				return c == 0, nil
			case "ne":
				return c != 0, nil
			case "gt":
				return c > 0, nil
			case "ge":
				return c >= 0, nil
			case "lt":
				return c < 0, nil
			}
			return c <= 0, nil
		}, nil
	}
	return l, nil
}

// primary parses one operand and says its kind: guid, datetime, string, number, bool, or "" (a function).
func (p *parser) primary() (expr, string, error) {
	if p.pos >= len(p.toks) {
		return nil, "", fmt.Errorf("unexpected end of the expression")
	}
	tk := p.toks[p.pos]
	p.pos++
	switch tk.kind {
	case "(":
		e, err := p.or()
		if err != nil {
			return nil, "", err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos].kind != ")" {
			return nil, "", fmt.Errorf("missing )")
		}
		p.pos++
		return e, "bool", nil
	case "guid":
		v := strings.ToLower(tk.text)
		if !isGUID(v) {
			return nil, "", fmt.Errorf("guid'%s' is not a GUID", tk.text)
		}
		return constant(v), "guid", nil
	case "datetime":
		if !isDateTime(tk.text) {
			return nil, "", fmt.Errorf("datetime'%s': want YYYY-MM-DDTHH:MM:SS", tk.text)
		}
		return constant(tk.text), "datetime", nil
	case "string":
		return constant(tk.text), "string", nil
	case "number":
		d, err := decimal.NewFromString(tk.text)
		if err != nil {
			return nil, "", err
		}
		return constant(d), "number", nil
	case "ident":
		switch tk.text {
		case "true", "false":
			return constant(tk.text == "true"), "bool", nil
		case "substringof", "startswith", "endswith":
			return p.function(tk.text)
		}
		prop := p.t.Prop(tk.text)
		if prop == nil || prop.Kind == "Rows" {
			return nil, "", fmt.Errorf("no property %s in %s", tk.text, p.t.Name)
		}
		return func(o obj) (any, error) { return o.get(prop), nil }, kindOf(prop), nil
	}
	return nil, "", fmt.Errorf("unexpected %s", tk.kind)
}

func kindOf(p *Prop) string {
	switch p.Edm {
	case "Edm.Guid":
		return "guid"
	case "Edm.DateTime":
		return "datetime"
	case "Edm.Double", "Edm.Int64":
		return "number"
	case "Edm.Boolean":
		return "bool"
	}
	return "string"
}

func (p *parser) function(name string) (expr, string, error) {
	if p.pos >= len(p.toks) || p.toks[p.pos].kind != "(" {
		return nil, "", fmt.Errorf("%s: missing (", name)
	}
	p.pos++
	a, ak, err := p.primary()
	if err != nil {
		return nil, "", err
	}
	if p.pos >= len(p.toks) || p.toks[p.pos].kind != "," {
		return nil, "", fmt.Errorf("%s: want two arguments", name)
	}
	p.pos++
	b, bk, err := p.primary()
	if err != nil {
		return nil, "", err
	}
	if p.pos >= len(p.toks) || p.toks[p.pos].kind != ")" {
		return nil, "", fmt.Errorf("%s: missing )", name)
	}
	p.pos++
	if ak != "string" || bk != "string" {
		return nil, "", fmt.Errorf("%s takes strings", name)
	}
	return func(o obj) (any, error) {
		x, _ := a(o)
		y, _ := b(o)
		xs, _ := x.(string)
		ys, _ := y.(string)
		switch name {
		case "substringof":
			return strings.Contains(ys, xs), nil
		case "startswith":
			return strings.HasPrefix(xs, ys), nil
		}
		return strings.HasSuffix(xs, ys), nil
	}, "bool", nil
}

func constant(v any) expr { return func(obj) (any, error) { return v, nil } }

func cmp(a, b any) (int, error) {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		if !ok {
			break
		}
		return strings.Compare(strings.ToLower(x), strings.ToLower(y)), nil
	case decimal.Decimal:
		switch y := b.(type) {
		case decimal.Decimal:
			return x.Cmp(y), nil
		case int64:
			return x.Cmp(decimal.NewFromInt(y)), nil
		}
	case int64:
		switch y := b.(type) {
		case decimal.Decimal:
			return decimal.NewFromInt(x).Cmp(y), nil
		case int64:
			return decimal.NewFromInt(x).Cmp(decimal.NewFromInt(y)), nil
		}
	case bool:
		y, ok := b.(bool)
		if !ok {
			break
		}
		if x == y {
			return 0, nil
		}
		if !x {
			return -1, nil
		}
		return 1, nil
	}
	return 0, fmt.Errorf("cannot compare %T with %T", a, b)
}
