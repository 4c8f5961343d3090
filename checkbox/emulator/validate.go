package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Request validation in the manner of FastAPI with pydantic v2, which Checkbox runs (its OpenAPI
// document is FastAPI-generated, docs/checkbox-rest.md §1): every problem is collected into one 422 body
// with loc, msg and type per field, and JSON input is coerced the "lax" way pydantic does (an integer
// field takes 12, 12.0 or "12"; a boolean takes true, 1 or "true").

// fieldError is one ValidationError of a 422 body.
type fieldError struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

func missing(loc ...any) fieldError {
	return fieldError{Loc: loc, Msg: "Field required", Type: "missing"}
}

// loc returns base + more as a new slice, so that locations never share backing arrays.
func loc(base []any, more ...any) []any {
	out := make([]any, 0, len(base)+len(more))
	return append(append(out, base...), more...)
}

// checker collects the problems of one request.
type checker struct{ errs []fieldError }

func (c *checker) add(l []any, typ, msg string) {
	c.errs = append(c.errs, fieldError{Loc: l, Msg: msg, Type: typ})
}

// object is a JSON object being validated: its raw fields and its location.
type object struct {
	c      *checker
	fields map[string]json.RawMessage
	loc    []any
}

// body parses a request body that must be a JSON object.
func (c *checker) body(b []byte) (object, bool) {
	if len(bytes.TrimSpace(b)) == 0 {
		c.errs = append(c.errs, missing("body"))
		return object{}, false
	}
	var raw json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		// Python reports the 0-based index of the bad character; Go, how many bytes it read.
		pos := 0
		if se, ok := err.(*json.SyntaxError); ok && se.Offset > 0 {
			pos = int(se.Offset) - 1
		}
		c.add([]any{"body", pos}, "json_invalid", "JSON decode error")
		return object{}, false
	}
	return c.object(raw, []any{"body"})
}

// object parses raw as a JSON object at l.
func (c *checker) object(raw json.RawMessage, l []any) (object, bool) {
	var fields map[string]json.RawMessage
	if isNull(raw) || json.Unmarshal(raw, &fields) != nil || fields == nil {
		c.add(l, "model_attributes_type", "Input should be a valid dictionary or object to extract fields from")
		return object{}, false
	}
	return object{c: c, fields: fields, loc: l}, true
}

func isNull(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return len(s) == 0 || string(s) == "null"
}

// get returns a field; an optional field that is null counts as absent, as pydantic's Optional does.
func (o object) get(key string, required bool) (json.RawMessage, bool) {
	raw, ok := o.fields[key]
	if ok && (!isNull(raw) || required) {
		return raw, true
	}
	if required {
		o.c.errs = append(o.c.errs, missing(loc(o.loc, key)...))
	}
	return nil, false
}

// has reports whether the field is present and not null.
func (o object) has(key string) bool {
	raw, ok := o.fields[key]
	return ok && !isNull(raw)
}

// str reads a string field with length limits in characters (max 0: none).
func (o object) str(key string, required bool, minLen, maxLen int) (string, bool) {
	raw, ok := o.get(key, required)
	if !ok {
		return "", false
	}
	return o.c.str(raw, loc(o.loc, key), minLen, maxLen)
}

func (c *checker) str(raw json.RawMessage, l []any, minLen, maxLen int) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		c.add(l, "string_type", "Input should be a valid string")
		return "", false
	}
	n := utf8.RuneCountInString(s)
	if n < minLen {
		c.add(l, "string_too_short", fmt.Sprintf("String should have at least %d %s", minLen, plural(minLen, "character")))
		return "", false
	}
	if maxLen > 0 && n > maxLen {
		c.add(l, "string_too_long", fmt.Sprintf("String should have at most %d %s", maxLen, plural(maxLen, "character")))
		return "", false
	}
	return s, true
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// bounds are pydantic's gt / lt constraints on an integer; nil means none.
type bounds struct{ gt, lt *int64 }

func bound(n int64) *int64 { return &n }

// integer reads an integer field within b.
func (o object) integer(key string, required bool, b bounds) (int64, bool) {
	raw, ok := o.get(key, required)
	if !ok {
		return 0, false
	}
	return o.c.integer(raw, loc(o.loc, key), b)
}

func (c *checker) integer(raw json.RawMessage, l []any, b bounds) (int64, bool) {
	n, typ, msg := laxInt(raw)
	if typ != "" {
		c.add(l, typ, msg)
		return 0, false
	}
	if b.gt != nil && n <= *b.gt {
		c.add(l, "greater_than", fmt.Sprintf("Input should be greater than %d", *b.gt))
		return 0, false
	}
	if b.lt != nil && n >= *b.lt {
		c.add(l, "less_than", fmt.Sprintf("Input should be less than %d", *b.lt))
		return 0, false
	}
	return n, true
}

// laxInt coerces JSON to an integer as pydantic's lax mode does; typ is empty on success.
func laxInt(raw json.RawMessage) (n int64, typ, msg string) {
	s := strings.TrimSpace(string(raw))
	if strings.HasPrefix(s, `"`) {
		var str string
		if json.Unmarshal(raw, &str) != nil {
			return 0, "int_type", "Input should be a valid integer"
		}
		v, err := strconv.ParseInt(strings.TrimSpace(str), 10, 64)
		if err != nil {
			return 0, "int_parsing", "Input should be a valid integer, unable to parse string as an integer"
		}
		return v, "", ""
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return 0, "int_type", "Input should be a valid integer"
	}
	if !d.Equal(d.Truncate(0)) {
		return 0, "int_from_float", "Input should be a valid integer, got a number with a fractional part"
	}
	if d.Abs().GreaterThan(decimal.New(1, 18)) {
		return 0, "int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size"
	}
	return d.IntPart(), "", ""
}

// number reads a JSON number (or numeric string) field with an optional lower bound (>= min).
func (o object) number(key string, required bool, min *decimal.Decimal) (decimal.Decimal, bool) {
	raw, ok := o.get(key, required)
	if !ok {
		return decimal.Zero, false
	}
	l := loc(o.loc, key)
	s := strings.TrimSpace(string(raw))
	if strings.HasPrefix(s, `"`) {
		json.Unmarshal(raw, &s) //nolint:errcheck // a bad string fails the parse below
	}
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		o.c.add(l, "float_parsing", "Input should be a valid number, unable to parse string as a number")
		return decimal.Zero, false
	}
	if min != nil && d.LessThan(*min) {
		o.c.add(l, "greater_than_equal", fmt.Sprintf("Input should be greater than or equal to %s", min.String()))
		return decimal.Zero, false
	}
	return d, true
}

// boolean reads a boolean field.
func (o object) boolean(key string, required bool) (bool, bool) {
	raw, ok := o.get(key, required)
	if !ok {
		return false, false
	}
	s := strings.TrimSpace(string(raw))
	if strings.HasPrefix(s, `"`) {
		var str string
		json.Unmarshal(raw, &str) //nolint:errcheck // a bad string is not a boolean word either
		s = str
	}
	v, ok := laxBool(s)
	if !ok {
		o.c.add(loc(o.loc, key), "bool_parsing", "Input should be a valid boolean, unable to interpret input")
	}
	return v, ok
}

// laxBool reads the words pydantic takes for a boolean.
func laxBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on", "t", "y":
		return true, true
	case "false", "0", "no", "off", "f", "n":
		return false, true
	}
	return false, false
}

// enum reads a string field that must be one of values.
func (o object) enum(key string, required bool, values ...string) (string, bool) {
	raw, ok := o.get(key, required)
	if !ok {
		return "", false
	}
	var s string
	json.Unmarshal(raw, &s) //nolint:errcheck // a non-string is not in values
	for _, v := range values {
		if s == v {
			return s, true
		}
	}
	o.c.add(loc(o.loc, key), "enum", "Input should be "+quoteList(values))
	return "", false
}

// quoteList writes 'a', 'b' or 'c', as pydantic lists enum members.
func quoteList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = "'" + v + "'"
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

var uuidRe = regexp.MustCompile(`^(urn:uuid:)?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// canonicalUUID returns s as a lower-case hyphenated UUID, or false.
func canonicalUUID(s string) (string, bool) {
	if !uuidRe.MatchString(s) {
		return "", false
	}
	h := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(s, "urn:uuid:"), "-", ""))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

func (c *checker) uuidValue(s string, l []any) (string, bool) {
	id, ok := canonicalUUID(s)
	if !ok {
		c.add(l, "uuid_parsing", "Input should be a valid UUID, invalid character or length")
	}
	return id, ok
}

// uuid reads a UUID string field.
func (o object) uuid(key string, required bool) (string, bool) {
	raw, ok := o.get(key, required)
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		o.c.add(loc(o.loc, key), "uuid_type", "UUID input should be a string, bytes or UUID object")
		return "", false
	}
	return o.c.uuidValue(s, loc(o.loc, key))
}

// list reads an array field with at least minItems items.
func (o object) list(key string, required bool, minItems int) ([]json.RawMessage, bool) {
	raw, ok := o.get(key, required)
	if !ok {
		return nil, false
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil || items == nil {
		o.c.add(loc(o.loc, key), "list_type", "Input should be a valid list")
		return nil, false
	}
	if len(items) < minItems {
		o.c.add(loc(o.loc, key), "too_short",
			fmt.Sprintf("List should have at least %d %s after validation, not %d", minItems, plural(minItems, "item"), len(items)))
		return nil, false
	}
	return items, true
}

// codes reads a list of tax codes, numbers or letters ([int] | [str] in the schema), as strings.
func (o object) codes(key string) ([]string, bool) {
	items, ok := o.list(key, false, 0)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for i, raw := range items {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out = append(out, s)
			continue
		}
		n, typ, msg := laxInt(raw)
		if typ != "" {
			o.c.add(loc(o.loc, key, i), typ, msg)
			return nil, false
		}
		out = append(out, strconv.FormatInt(n, 10))
	}
	return out, true
}

// Query parameters.

// queryInt reads an integer query parameter with a default, > 0 when positive is set and <= max when
// max > 0 (limit), or >= 0 otherwise (offset).
func (c *checker) queryInt(q url.Values, name string, def int, positive bool, max int) int {
	s, ok := q[name]
	if !ok {
		return def
	}
	l := []any{"query", name}
	n, err := strconv.Atoi(strings.TrimSpace(s[len(s)-1]))
	switch {
	case err != nil:
		c.add(l, "int_parsing", "Input should be a valid integer, unable to parse string as an integer")
	case positive && n <= 0:
		c.add(l, "greater_than", "Input should be greater than 0")
	case !positive && n < 0:
		c.add(l, "greater_than_equal", "Input should be greater than or equal to 0")
	case max > 0 && n > max:
		c.add(l, "less_than_equal", fmt.Sprintf("Input should be less than or equal to %d", max))
	default:
		return n
	}
	return def
}

// queryBool reads a boolean query parameter with a default.
func (c *checker) queryBool(q url.Values, name string, def bool) bool {
	s, ok := q[name]
	if !ok {
		return def
	}
	v, ok := laxBool(s[len(s)-1])
	if !ok {
		c.add([]any{"query", name}, "bool_parsing", "Input should be a valid boolean, unable to interpret input")
		return def
	}
	return v
}

// queryTime reads a date-time query parameter; zero when absent. Values without an offset are taken
// as UTC (docs/checkbox-rest.md §12.3: the server's zone for them is undocumented).
func (c *checker) queryTime(q url.Values, name string) time.Time {
	s, ok := q[name]
	if !ok || s[len(s)-1] == "" {
		return time.Time{}
	}
	v := s[len(s)-1]
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t
		}
	}
	c.add([]any{"query", name}, "datetime_from_date_parsing", "Input should be a valid datetime or date, invalid character in year")
	return time.Time{}
}

// queryUUIDs reads a list query parameter of UUIDs, given as repeated keys (docs/checkbox-rest.md §2.3).
func (c *checker) queryUUIDs(q url.Values, name string) []string {
	var out []string
	for i, s := range q[name] {
		if id, ok := c.uuidValue(s, []any{"query", name, i}); ok {
			out = append(out, id)
		}
	}
	return out
}

// queryEnum reads an optional query parameter that must be one of values.
func (c *checker) queryEnum(q url.Values, name string, values ...string) string {
	s, ok := q[name]
	if !ok {
		return ""
	}
	for _, v := range values {
		if s[len(s)-1] == v {
			return v
		}
	}
	c.add([]any{"query", name}, "enum", "Input should be "+quoteList(values))
	return ""
}
