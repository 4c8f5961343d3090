package apischema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Error lists everything one request or response got wrong.
type Error struct {
	Op     string   // "POST /api/v1/goods": the matched template, or the concrete path when none matched
	Part   string   // "request" or "response 200"
	Issues []string // e.g. "body.price: must be < 1000000000", "query.limit: must be <= 100"
}

func (e *Error) Error() string {
	return e.Op + " " + e.Part + ": " + strings.Join(e.Issues, "; ")
}

// Lines returns one line per issue, each prefixed with the operation and part.
func (e *Error) Lines() []string {
	out := make([]string, len(e.Issues))
	for i, issue := range e.Issues {
		out[i] = e.Op + " " + e.Part + ": " + issue
	}
	return out
}

// ValidateRequest checks a request against the operation matched by method and path: path parameters, query
// parameters (only names the operation declares), header parameters, credentials the operation's security
// requires, and the body against the declared media type and schema. A nil or empty body is accepted when
// the operation's body is not required. The error, if any, is an *Error.
func (d *Doc) ValidateRequest(method string, u *url.URL, header http.Header, body []byte) error {
	_, err := d.validateRequest(method, u, header, body)
	return err
}

func (d *Doc) validateRequest(method string, u *url.URL, header http.Header, body []byte) (*operation, error) {
	op, pathValues, err := d.match(method, u)
	if err != nil {
		return nil, &Error{Op: strings.ToUpper(method) + " " + u.Path, Part: "request", Issues: []string{err.Error()}}
	}
	if header == nil {
		header = http.Header{}
	}
	var issues []string
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		issues = append(issues, "query: "+err.Error())
	}
	known := map[string]bool{}
	for _, p := range op.params {
		switch p.in {
		case "path":
			issues = append(issues, checkParam(p, "path.", []string{pathValues[p.name]}, true)...)
		case "query":
			known[p.name] = true
			vals, ok := query[p.name]
			issues = append(issues, checkParam(p, "query.", vals, ok)...)
		case "header":
			// OpenAPI 3.1, Parameter Object: header parameters named Accept, Content-Type or
			// Authorization are ignored.
			switch http.CanonicalHeaderKey(p.name) {
			case "Accept", "Content-Type", "Authorization":
				continue
			}
			vals := header.Values(p.name)
			issues = append(issues, checkParam(p, "header.", vals, len(vals) > 0)...)
		}
	}
	for _, alt := range op.security {
		for _, s := range alt {
			if s.typ == "apiKey" && s.in == "query" {
				known[s.key] = true
			}
		}
	}
	var unknown []string
	for name := range query {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		issues = append(issues, "query."+name+": not a parameter of this operation")
	}
	issues = append(issues, checkSecurity(op.security, header, query)...)
	issues = append(issues, checkRequestBody(op.body, header, body)...)
	if len(issues) > 0 {
		return op, &Error{Op: op.label(), Part: "request", Issues: dedupe(issues)}
	}
	return op, nil
}

// checkParam checks the values given for one parameter; present says whether it was given at all.
func checkParam(p *param, prefix string, vals []string, present bool) []string {
	at := prefix + p.name
	if !present {
		if p.required {
			return []string{at + ": missing required parameter"}
		}
		return nil
	}
	if p.schema == nil {
		return nil
	}
	var v any
	switch {
	case p.kind.types["array"]:
		items := valueKind{types: map[string]bool{"string": true}}
		if p.kind.items != nil {
			items = *p.kind.items
		}
		if prefix == "header." {
			// OpenAPI "simple" style, the default for headers: one comma-separated value.
			vals = strings.Split(strings.Join(vals, ","), ",")
		}
		arr := make([]any, len(vals))
		for i, s := range vals {
			arr[i] = items.coerce(s)
		}
		v = arr
	case len(vals) > 1:
		return []string{fmt.Sprintf("%s: given %d times, takes one value", at, len(vals))}
	default:
		v = p.kind.coerce(vals[0])
	}
	return schemaIssues(p.schema, v, at)
}

// coerce turns a string from a URL or header into the JSON value the parameter's schema expects. A string
// that fits none of the admitted types stays a string, so the schema reports the mismatch.
func (k valueKind) coerce(s string) any {
	if (k.types["integer"] || k.types["number"]) && isJSONNumber(s) {
		return json.Number(s)
	}
	if k.types["boolean"] {
		if b, ok := parseBool(s); ok {
			return b
		}
	}
	return s
}

func isJSONNumber(s string) bool {
	return s != "" && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) && json.Valid([]byte(s))
}

// parseBool accepts the spellings FastAPI (pydantic) accepts for a boolean query parameter.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "true", "t", "yes", "y", "on":
		return true, true
	case "0", "false", "f", "no", "n", "off":
		return false, true
	}
	return false, false
}

func checkSecurity(alts [][]securityScheme, header http.Header, query url.Values) []string {
	if len(alts) == 0 {
		return nil
	}
	var missing []string
	for _, alt := range alts {
		var altMissing []string
		for _, s := range alt {
			if why := s.unsatisfied(header, query); why != "" {
				altMissing = append(altMissing, why)
			}
		}
		if len(altMissing) == 0 {
			return nil
		}
		missing = append(missing, strings.Join(altMissing, " and "))
	}
	return []string{strings.Join(missing, ", or ")}
}

// unsatisfied says what is missing for the scheme, or "" when the request carries it. Only presence is
// checked: whether a token is valid is the server's business.
func (s securityScheme) unsatisfied(header http.Header, query url.Values) string {
	switch s.typ {
	case "http":
		scheme, token, _ := strings.Cut(header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, s.scheme) || strings.TrimSpace(token) == "" {
			return fmt.Sprintf("header.Authorization: %s token required (security scheme %q)", titleCase(s.scheme), s.name)
		}
	case "apiKey":
		switch s.in {
		case "header":
			if header.Get(s.key) == "" {
				return fmt.Sprintf("header.%s: required (security scheme %q)", s.key, s.name)
			}
		case "query":
			if query.Get(s.key) == "" {
				return fmt.Sprintf("query.%s: required (security scheme %q)", s.key, s.name)
			}
		}
	}
	return ""
}

// titleCase writes an HTTP auth scheme name as it appears in headers ("bearer" → "Bearer").
func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + strings.ToLower(s[1:])
}

func checkRequestBody(rb *requestBody, header http.Header, body []byte) []string {
	empty := len(bytes.TrimSpace(body)) == 0
	if rb == nil {
		if !empty {
			return []string{"body: the operation takes no request body"}
		}
		return nil
	}
	if empty {
		if rb.required {
			return []string{"body: missing required request body"}
		}
		return nil
	}
	ct := header.Get("Content-Type")
	mt := ""
	if ct == "" {
		// FastAPI parses a body that has no Content-Type as JSON.
		if rb.json == nil {
			return []string{"body: no Content-Type (want " + strings.Join(rb.media, " or ") + ")"}
		}
		mt = "application/json"
	} else {
		var err error
		mt, _, err = mime.ParseMediaType(ct)
		if err != nil {
			return []string{fmt.Sprintf("body: bad Content-Type %q: %v", ct, err)}
		}
	}
	if !mediaDeclared(rb.media, mt) {
		return []string{fmt.Sprintf("body: content type %q not declared (want %s)", mt, strings.Join(rb.media, " or "))}
	}
	if !isJSONMedia(mt) || rb.json == nil {
		return nil // e.g. multipart/form-data uploads: only the media type is checked
	}
	v, err := decodeJSON(body)
	if err != nil {
		return []string{"body: " + err.Error()}
	}
	return schemaIssues(rb.json, v, "body")
}

// ValidateResponse checks a response body against the schema the operation declares for the status (or for
// its range such as "4XX", or "default"). A status the operation does not declare is an error, except 401,
// 403, 404, 429 and 5xx, which FastAPI raises without declaring them; those must carry {"message": string}
// (docs/checkbox-rest.md §2.4). Bodiless statuses (204, 205, 304) and responses to HEAD skip the body. The error,
// if any, is an *Error.
func (d *Doc) ValidateResponse(method string, u *url.URL, status int, header http.Header, body []byte) error {
	op, _, err := d.match(method, u)
	part := "response " + strconv.Itoa(status)
	if err != nil {
		return &Error{Op: strings.ToUpper(method) + " " + u.Path, Part: part, Issues: []string{err.Error()}}
	}
	return validateResponse(op, status, header, body)
}

func validateResponse(op *operation, status int, header http.Header, body []byte) error {
	if header == nil {
		header = http.Header{}
	}
	part := "response " + strconv.Itoa(status)
	fail := func(issues ...string) error {
		return &Error{Op: op.label(), Part: part, Issues: dedupe(issues)}
	}
	resp := op.responses[strconv.Itoa(status)]
	if resp == nil {
		resp = op.responses[fmt.Sprintf("%dXX", status/100)]
	}
	if resp == nil {
		resp = op.responses["DEFAULT"]
	}
	if resp == nil {
		if !undeclaredAllowed(status) {
			return fail(fmt.Sprintf("status %d is not declared by the operation (declared: %s)", status, strings.Join(op.statuses(), ", ")))
		}
		if !isMessageBody(body) {
			return fail(fmt.Sprintf("body: undeclared status %d must carry {\"message\": string}, got %s", status, snippet(body)))
		}
		return nil
	}
	if op.method == "HEAD" || status == http.StatusNoContent || status == http.StatusResetContent || status == http.StatusNotModified {
		return nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if resp.json != nil {
			return fail("body: empty, want JSON")
		}
		return nil
	}
	if len(resp.media) == 0 {
		return fail(fmt.Sprintf("body: the operation declares no content for status %d, got %s", status, snippet(body)))
	}
	mt := "application/json" // a caller that passes no headers is taken to have sent JSON
	if ct := header.Get("Content-Type"); ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return fail(fmt.Sprintf("body: bad Content-Type %q: %v", ct, err))
		}
	}
	if !mediaDeclared(resp.media, mt) {
		return fail(fmt.Sprintf("body: content type %q not declared for status %d (want %s)", mt, status, strings.Join(resp.media, " or ")))
	}
	if !isJSONMedia(mt) || resp.json == nil {
		return nil
	}
	v, err := decodeJSON(body)
	if err != nil {
		return fail("body: " + err.Error())
	}
	if issues := schemaIssues(resp.json, v, "body"); len(issues) > 0 {
		return fail(issues...)
	}
	return nil
}

func (op *operation) statuses() []string {
	out := make([]string, 0, len(op.responses))
	for s := range op.responses {
		out = append(out, strings.ToLower(s))
	}
	sort.Strings(out)
	return out
}

// undeclaredAllowed lists the statuses FastAPI and its middleware return without declaring them.
func undeclaredAllowed(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusTooManyRequests:
		return true
	}
	return status >= 500 && status <= 599
}

func isMessageBody(body []byte) bool {
	var v struct {
		Message *string `json:"message"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return false
	}
	return v.Message != nil
}

func snippet(body []byte) string {
	const max = 80
	s := strings.TrimSpace(string(body))
	if s == "" {
		return "an empty body"
	}
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strconv.Quote(s)
}

func isJSONMedia(mt string) bool {
	mt = strings.ToLower(mt)
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// mediaDeclared reports whether mt is among the declared media types, honouring "type/*" and "*/*".
func mediaDeclared(declared []string, mt string) bool {
	mt = strings.ToLower(mt)
	typ, _, _ := strings.Cut(mt, "/")
	for _, d := range declared {
		d = strings.ToLower(d)
		if d == mt || d == "*/*" || d == typ+"/*" {
			return true
		}
	}
	return false
}

// printer renders the library's messages in English.
var printer = message.NewPrinter(language.English)

// schemaIssues validates v and turns the library's error tree into one line per problem, each starting with
// where the problem is: prefix, then the instance location joined with dots ("body.goods.0.price").
func schemaIssues(sch *jsonschema.Schema, v any, prefix string) []string {
	err := sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []string{prefix + ": " + err.Error()}
	}
	var out []string
	collectIssues(ve, prefix, &out)
	// The library walks properties in map order; sorting makes the report repeatable.
	out = dedupe(out)
	sort.Strings(out)
	return out
}

func collectIssues(e *jsonschema.ValidationError, prefix string, out *[]string) {
	alternatives := false
	switch k := e.ErrorKind.(type) {
	case *kind.AnyOf:
		alternatives = true
	case *kind.OneOf:
		alternatives = len(k.Subschemas) == 0 // none matched; otherwise too many matched and there are no causes
	}
	if alternatives {
		branches := make([]*jsonschema.ValidationError, 0, len(e.Causes))
		for _, c := range e.Causes {
			if !onlyWantsNull(c) {
				branches = append(branches, c)
			}
		}
		if len(branches) == 0 {
			branches = e.Causes
		}
		if len(branches) == 1 {
			// The usual case: a field that may also be null. Report why the real branch failed.
			collectIssues(branches[0], prefix, out)
			return
		}
		parts := make([]string, 0, len(branches))
		for _, b := range branches {
			var sub []string
			collectIssues(b, prefix, &sub)
			sub = dedupe(sub)
			sort.Strings(sub)
			parts = append(parts, strings.Join(sub, "; "))
		}
		*out = append(*out, location(prefix, e.InstanceLocation)+": matches none of the alternatives: "+strings.Join(parts, " | "))
		return
	}
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			collectIssues(c, prefix, out)
		}
		return
	}
	*out = append(*out, location(prefix, e.InstanceLocation)+": "+describe(e.ErrorKind))
}

// onlyWantsNull reports whether a failed branch is just {"type": "null"}, the nullable half of an anyOf.
func onlyWantsNull(e *jsonschema.ValidationError) bool {
	for len(e.Causes) == 1 {
		e = e.Causes[0]
	}
	t, ok := e.ErrorKind.(*kind.Type)
	return ok && len(e.Causes) == 0 && len(t.Want) == 1 && t.Want[0] == "null"
}

func location(prefix string, tokens []string) string {
	if len(tokens) == 0 {
		return prefix
	}
	return prefix + "." + strings.Join(tokens, ".")
}

// describe words an error kind. Numeric bounds are written exactly (the library's English printer renders
// 1000000000 as "1×10⁰⁹").
func describe(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Minimum:
		return "must be >= " + ratString(k.Want)
	case *kind.Maximum:
		return "must be <= " + ratString(k.Want)
	case *kind.ExclusiveMinimum:
		return "must be > " + ratString(k.Want)
	case *kind.ExclusiveMaximum:
		return "must be < " + ratString(k.Want)
	case *kind.MultipleOf:
		return "must be a multiple of " + ratString(k.Want)
	case *kind.MinLength:
		return fmt.Sprintf("length must be >= %d, got %d", k.Want, k.Got)
	case *kind.MaxLength:
		return fmt.Sprintf("length must be <= %d, got %d", k.Want, k.Got)
	case *kind.MinItems:
		return fmt.Sprintf("must have >= %d items, got %d", k.Want, k.Got)
	case *kind.MaxItems:
		return fmt.Sprintf("must have <= %d items, got %d", k.Want, k.Got)
	}
	return k.LocalizedString(printer)
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	return strings.TrimRight(r.FloatString(12), "0")
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
