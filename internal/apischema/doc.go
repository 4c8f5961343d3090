// Package apischema checks HTTP conversations against Checkbox's OpenAPI document, so tests can prove that
// obmin's Checkbox client and its emulator both speak the API as Checkbox publishes it.
//
// The document is compiled once with github.com/santhosh-tekuri/jsonschema/v6 as a single JSON Schema 2020-12
// resource (OpenAPI 3.1 schemas are that dialect); requests and responses are validated against the schemas
// at JSON pointers inside it. Two deliberate departures from the document as written, both because the
// document is known to be inexact (docs/checkbox-rest.md §2.2):
//
//   - In responses, a property not listed in its object's "required" may be null. The 2.105.1 document has no
//     nullable unions at all, yet the service sends null for absent optional fields ("shift": null,
//     "branch": null in the wiki's examples). Requests are checked as written: a client should omit such
//     fields rather than send null.
//   - Duplicate names in a "required" array are dropped before compiling; the 2.105.1 document repeats
//     "total_sum" and "total_rest" in ReceiptModel and its siblings, which JSON Schema forbids. Doc.Quirks
//     lists every such repair.
//
// Format assertions are on for "uuid" and "date-time" only; "discriminator" and "contentMediaType" are
// annotations and are not checked.
//
// It imports no other package of obmin; only tests use it.
package apischema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Resource URLs of the two compiled variants of the document. They are never fetched: both are added to the
// compiler in memory, and every $ref in an OpenAPI 3.1 document of Checkbox's is local ("#/components/…").
const (
	requestsURL  = "https://apischema.invalid/requests.json"
	responsesURL = "https://apischema.invalid/responses.json"
)

// assertedFormats are the formats whose values are checked; every other format is an annotation. uuid and
// date-time carry ids and timestamps, the two places where a malformed value would break obmin.
var assertedFormats = map[string]bool{"uuid": true, "date-time": true}

// Doc is a compiled OpenAPI document. It is immutable after Load and safe for concurrent use.
type Doc struct {
	version    string
	operations []*operation // in document order
	components map[string]*jsonschema.Schema
	quirks     []string
}

// Version returns the document's info.version, e.g. "2.105.1+62034299".
func (d *Doc) Version() string { return d.version }

// Quirks lists the repairs made to the document so that it compiles, e.g. duplicate "required" entries.
func (d *Doc) Quirks() []string { return append([]string(nil), d.quirks...) }

// ValidateComponent validates a JSON value against components/schemas/<name> as a response would be checked
// (optional properties may be null). It suits payloads that travel outside the documented operations, such
// as webhook deliveries ({"receipt": WebhookReceiptModel} is ReceiptUpdateSchema).
func (d *Doc) ValidateComponent(name string, body []byte) error {
	sch, ok := d.components[name]
	if !ok {
		return fmt.Errorf("apischema: no components/schemas/%s in document %s", name, d.version)
	}
	v, err := decodeJSON(body)
	if err != nil {
		return &Error{Op: name, Part: "component", Issues: []string{"body: " + err.Error()}}
	}
	if issues := schemaIssues(sch, v, "body"); len(issues) > 0 {
		return &Error{Op: name, Part: "component", Issues: issues}
	}
	return nil
}

// Load reads and compiles one OpenAPI 3.1 JSON document.
func Load(path string) (*Doc, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("apischema: read openapi document: %w", err)
	}
	d, err := compile(data)
	if err != nil {
		return nil, fmt.Errorf("apischema: %s: %w", path, err)
	}
	return d, nil
}

// LoadNewest loads the openapi-*.json file in dir whose info.version is highest and returns it with that
// version. Several copies of Checkbox's document sit side by side; only the newest is the contract.
func LoadNewest(dir string) (*Doc, string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "openapi-*.json"))
	if err != nil {
		return nil, "", fmt.Errorf("apischema: list openapi documents: %w", err)
	}
	if len(paths) == 0 {
		return nil, "", fmt.Errorf("apischema: no openapi-*.json in %s", dir)
	}
	sort.Strings(paths)
	var bestPath, bestVersion string
	for _, p := range paths {
		v, err := readVersion(p)
		if err != nil {
			return nil, "", err
		}
		if bestPath == "" || compareVersions(v, bestVersion) > 0 {
			bestPath, bestVersion = p, v
			continue
		}
		if compareVersions(v, bestVersion) == 0 {
			return nil, "", fmt.Errorf("apischema: %s and %s both claim version %q; keep one", bestPath, p, v)
		}
	}
	d, err := Load(bestPath)
	if err != nil {
		return nil, "", err
	}
	return d, d.version, nil
}

func readVersion(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("apischema: read openapi document: %w", err)
	}
	var head struct {
		Info struct {
			Version string `json:"version"`
		} `json:"info"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return "", fmt.Errorf("apischema: %s: %w", path, err)
	}
	if head.Info.Version == "" {
		return "", fmt.Errorf("apischema: %s: no info.version", path)
	}
	return head.Info.Version, nil
}

// compareVersions orders versions such as "2.105.1+62034299" and "0.1.79+1ee1e68a" by their dot-separated
// parts, numerically where both parts are numbers. Build metadata after "+" is ignored, as in semver; a
// pre-release ("1.0.0-rc1") sorts before its release.
func compareVersions(a, b string) int {
	a, _, _ = strings.Cut(a, "+")
	b, _, _ = strings.Cut(b, "+")
	a, aPre, aHasPre := strings.Cut(a, "-")
	b, bPre, bHasPre := strings.Cut(b, "-")
	if c := compareDotted(a, b); c != 0 {
		return c
	}
	switch {
	case aHasPre && !bHasPre:
		return -1
	case !aHasPre && bHasPre:
		return 1
	}
	return compareDotted(aPre, bPre)
}

func compareDotted(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y string
		if i < len(as) {
			x = as[i]
		}
		if i < len(bs) {
			y = bs[i]
		}
		xn, xerr := strconv.ParseUint(x, 10, 64)
		yn, yerr := strconv.ParseUint(y, 10, 64)
		switch {
		case xerr == nil && yerr == nil:
			if xn != yn {
				if xn < yn {
					return -1
				}
				return 1
			}
		case x == "" || y == "":
			// "1.2" < "1.2.0": the shorter one is a prefix.
			if x != y {
				if x == "" {
					return -1
				}
				return 1
			}
		default:
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		}
	}
	return 0
}

// compile builds a Doc from the raw document bytes.
func compile(data []byte) (*Doc, error) {
	reqDoc, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	root, ok := reqDoc.(map[string]any)
	if !ok {
		return nil, errors.New("document is not a JSON object")
	}
	openapi, _ := root["openapi"].(string)
	if !strings.HasPrefix(openapi, "3.1.") {
		// OpenAPI 3.0 schemas are not JSON Schema 2020-12 (boolean exclusiveMinimum, "nullable"), so
		// compiling them as such would give wrong answers rather than errors.
		return nil, fmt.Errorf("openapi %q: only OpenAPI 3.1 documents are supported", openapi)
	}
	// The OpenAPI 3.1 base dialect is JSON Schema 2020-12 plus annotations such as "discriminator".
	if dialect, ok := root["jsonSchemaDialect"].(string); ok && !strings.Contains(dialect, "2020-12") && !strings.Contains(dialect, "oas/3.1/dialect") {
		return nil, fmt.Errorf("jsonSchemaDialect %q: only JSON Schema 2020-12 is supported", dialect)
	}
	d := &Doc{components: map[string]*jsonschema.Schema{}}
	if info, ok := root["info"].(map[string]any); ok {
		d.version, _ = info["version"].(string)
	}
	d.quirks = dedupeRequired(root, "")

	// The response variant is a second decoding of the same bytes, then loosened; decoding again is the
	// simplest deep copy.
	respDoc, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	respRoot := respDoc.(map[string]any)
	dedupeRequired(respRoot, "")
	allowNullOptionals(respRoot)

	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// The library switches format checks on or off as a whole; turning them on and registering a no-op for
	// every other format name used in the document gives per-format control.
	c.AssertFormat()
	for name := range collectFormats(root, map[string]bool{}) {
		if !assertedFormats[name] && name != "regex" {
			c.RegisterFormat(&jsonschema.Format{Name: name, Validate: func(any) error { return nil }})
		}
	}
	if err := c.AddResource(requestsURL, reqDoc); err != nil {
		return nil, fmt.Errorf("add document: %w", err)
	}
	if err := c.AddResource(responsesURL, respDoc); err != nil {
		return nil, fmt.Errorf("add document: %w", err)
	}

	if schemas, ok := childMap(root, "components", "schemas"); ok {
		for name := range schemas {
			sch, err := c.Compile(responsesURL + "#" + pointer("components", "schemas", name))
			if err != nil {
				return nil, fmt.Errorf("compile components/schemas/%s: %w", name, err)
			}
			d.components[name] = sch
		}
	}
	b := &builder{root: root, compiler: c}
	d.operations, err = b.operations()
	if err != nil {
		return nil, err
	}
	return d, nil
}

// decodeJSON decodes one JSON value with numbers kept exact (json.Number), as the validator expects, and
// rejects trailing data.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("invalid JSON: data after the top-level value")
	}
	return v, nil
}

// dedupeRequired removes repeated names from every "required" array in the tree and reports where.
// "required" elsewhere in OpenAPI (parameters, request bodies) is a boolean and is left alone.
func dedupeRequired(v any, at string) []string {
	var quirks []string
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := v[k]
			if arr, ok := child.([]any); ok && k == "required" {
				seen := map[string]bool{}
				kept := arr[:0:0]
				var dups []string
				for _, item := range arr {
					s, isString := item.(string)
					if isString && seen[s] {
						dups = append(dups, strconv.Quote(s))
						continue
					}
					seen[s] = true
					kept = append(kept, item)
				}
				if len(dups) > 0 {
					v[k] = kept
					quirks = append(quirks, fmt.Sprintf("%s/required: dropped duplicate %s", strings.TrimPrefix(at, "/"), strings.Join(dups, ", ")))
				}
				continue
			}
			quirks = append(quirks, dedupeRequired(child, at+"/"+escapeToken(k))...)
		}
	case []any:
		for i, item := range v {
			quirks = append(quirks, dedupeRequired(item, at+"/"+strconv.Itoa(i))...)
		}
	}
	return quirks
}

// allowNullOptionals rewrites, in every schema of the document, each property that its object does not
// require into {"anyOf": [<property schema>, {"type": "null"}]}. It walks schemas through their keywords
// only, so a model with a field literally named "properties" is not mistaken for a schema.
func allowNullOptionals(root map[string]any) {
	if schemas, ok := childMap(root, "components", "schemas"); ok {
		for _, s := range schemas {
			nullOptionals(s)
		}
	}
	// Inline schemas under paths (parameters, bodies, responses, callbacks) are found by the "schema" key,
	// which in OpenAPI always holds a schema.
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if k == "schema" {
					nullOptionals(child)
					continue
				}
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(root["paths"])
	if comps, ok := root["components"].(map[string]any); ok {
		for k, section := range comps {
			if k != "schemas" {
				walk(section)
			}
		}
	}
}

// Keywords whose value is one schema, an array of schemas or a map of schemas (JSON Schema 2020-12).
var (
	schemaKeywords      = []string{"items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema"}
	schemaArrayKeywords = []string{"allOf", "anyOf", "oneOf", "prefixItems"}
	schemaMapKeywords   = []string{"$defs", "patternProperties", "dependentSchemas"}
)

func nullOptionals(s any) {
	obj, ok := s.(map[string]any)
	if !ok {
		return
	}
	for _, k := range schemaKeywords {
		nullOptionals(obj[k])
	}
	for _, k := range schemaArrayKeywords {
		if arr, ok := obj[k].([]any); ok {
			for _, item := range arr {
				nullOptionals(item)
			}
		}
	}
	for _, k := range schemaMapKeywords {
		if m, ok := obj[k].(map[string]any); ok {
			for _, item := range m {
				nullOptionals(item)
			}
		}
	}
	props, ok := obj["properties"].(map[string]any)
	if !ok {
		return
	}
	required := map[string]bool{}
	if arr, ok := obj["required"].([]any); ok {
		for _, r := range arr {
			if s, ok := r.(string); ok {
				required[s] = true
			}
		}
	}
	for name, p := range props {
		nullOptionals(p)
		if !required[name] {
			props[name] = map[string]any{"anyOf": []any{p, map[string]any{"type": "null"}}}
		}
	}
}

// collectFormats gathers every string value of a "format" key in the tree.
func collectFormats(v any, into map[string]bool) map[string]bool {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if s, ok := child.(string); ok && k == "format" {
				into[s] = true
				continue
			}
			collectFormats(child, into)
		}
	case []any:
		for _, child := range v {
			collectFormats(child, into)
		}
	}
	return into
}

// childMap follows keys through nested objects.
func childMap(v any, keys ...string) (map[string]any, bool) {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		v = m[k]
	}
	m, ok := v.(map[string]any)
	return m, ok
}

// pointer builds a JSON pointer (RFC 6901) from raw tokens, percent-encoded for use as a URL fragment.
func pointer(tokens ...string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		sb.WriteString(url.PathEscape(escapeToken(t)))
	}
	return sb.String()
}

func escapeToken(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}
