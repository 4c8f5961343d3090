package basodata

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Filter is an OData v3 $filter expression. Build it from the functions below, which write every literal
// in 1C's syntax (docs/bas-odata.md §3): guid'…', datetime'…', '…' with ' doubled, true/false.
type Filter string

// Literal is a value written in $filter syntax.
type Literal string

// Guid is a reference literal: guid'xxxxxxxx-…'.
func Guid(ref string) Literal { return Literal("guid'" + strings.ToLower(orEmpty(ref)) + "'") }

// Str is a string literal, quotes doubled: O'Brien → 'O”Brien'.
func Str(s string) Literal { return Literal("'" + strings.ReplaceAll(s, "'", "''") + "'") }

// Time is a date-time literal: datetime'2025-03-01T08:00:00'.
func Time(d DateTime) Literal { return Literal("datetime'" + d.String() + "'") }

// Bool is true or false.
func Bool(b bool) Literal { return Literal(strconv.FormatBool(b)) }

// Num is a number literal.
func Num(n float64) Literal { return Literal(strconv.FormatFloat(n, 'f', -1, 64)) }

// AmountLit is a money literal, e.g. 20 or 16.68.
func AmountLit(a Amount) Literal { b, _ := a.MarshalJSON(); return Literal(b) }

func compare(op, prop string, v Literal) Filter { return Filter(prop + " " + op + " " + string(v)) }

// Eq is prop eq v; Ne, Ge, Le, Gt and Lt likewise.
func Eq(prop string, v Literal) Filter { return compare("eq", prop, v) }
func Ne(prop string, v Literal) Filter { return compare("ne", prop, v) }
func Ge(prop string, v Literal) Filter { return compare("ge", prop, v) }
func Le(prop string, v Literal) Filter { return compare("le", prop, v) }
func Gt(prop string, v Literal) Filter { return compare("gt", prop, v) }
func Lt(prop string, v Literal) Filter { return compare("lt", prop, v) }

// And joins filters with and, each in parentheses; empty filters are left out.
func And(fs ...Filter) Filter { return join("and", fs) }

// Or joins filters with or, each in parentheses.
func Or(fs ...Filter) Filter { return join("or", fs) }

func join(op string, fs []Filter) Filter {
	var parts []string
	for _, f := range fs {
		if f != "" {
			parts = append(parts, "("+string(f)+")")
		}
	}
	if len(parts) == 1 {
		return Filter(strings.TrimSuffix(strings.TrimPrefix(parts[0], "("), ")"))
	}
	return Filter(strings.Join(parts, " "+op+" "))
}

// Query is what a list request asks for.
type Query struct {
	Filter  Filter
	Select  []string // properties to return; empty: all
	OrderBy string   // e.g. "Ref_Key"; paging needs a stable order
	Top     int      // page size; 0: the client's default
	Skip    int
}

// encode writes the query string. Spaces become %20, never "+": OData reads the query as a URI, and a
// web server in front of 1C need not turn "+" into a space. Cyrillic names are UTF-8 percent-encoded.
func (q Query) encode() string {
	var parts []string
	add := func(k, v string) { parts = append(parts, k+"="+escapeQuery(v)) }
	add("$format", "json")
	if q.Filter != "" {
		add("$filter", string(q.Filter))
	}
	if len(q.Select) > 0 {
		add("$select", strings.Join(q.Select, ","))
	}
	if q.OrderBy != "" {
		add("$orderby", q.OrderBy)
	}
	if q.Top > 0 {
		add("$top", strconv.Itoa(q.Top))
	}
	if q.Skip > 0 {
		add("$skip", strconv.Itoa(q.Skip))
	}
	return strings.Join(parts, "&")
}

func escapeQuery(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// entityPath is the escaped path of one object: Set(guid'…').
func entityPath(set, ref string) string {
	return url.PathEscape(set) + "(guid'" + strings.ToLower(ref) + "')"
}

// checkRef refuses what is not a GUID, so a key can never bend a path or a filter.
func checkRef(what, ref string) error {
	if len(ref) != 36 {
		return fmt.Errorf("BAS OData: %s %q is not a GUID", what, ref)
	}
	for i, c := range ref {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return fmt.Errorf("BAS OData: %s %q is not a GUID", what, ref)
			}
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return fmt.Errorf("BAS OData: %s %q is not a GUID", what, ref)
		}
	}
	return nil
}

// kyiv is the default zone of a base: BAS stores readings of its own clock.
var kyiv = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Kyiv"); err == nil {
		return loc
	}
	return time.FixedZone("EET", 2*3600)
}()
