package apischema

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// operation is one method of one path item, with everything needed to check a request and its response.
type operation struct {
	method    string   // upper case, e.g. "GET"
	template  string   // e.g. "/api/v1/goods/{good_id}"
	segments  []string // template split at "/"
	params    []*param
	body      *requestBody         // nil when the operation takes no body
	responses map[string]*response // by status key: "200", "4XX", "default"
	// security lists alternatives (OpenAPI: any one alternative must be satisfied, and within it every
	// scheme). Empty means no credentials are needed.
	security [][]securityScheme
}

func (op *operation) label() string { return op.method + " " + op.template }

type param struct {
	name     string
	in       string // "query", "header", "path" or "cookie"
	required bool
	schema   *jsonschema.Schema // nil when the parameter declares none
	kind     valueKind
}

// valueKind says which JSON types a parameter's schema admits, so that a string from a URL or a header can
// be turned into the JSON value the schema expects ("101" into the number 101).
type valueKind struct {
	types map[string]bool // JSON Schema type names
	items *valueKind      // element kind when types["array"]
}

type requestBody struct {
	required bool
	media    []string           // declared media types, e.g. "application/json", "multipart/form-data"
	json     *jsonschema.Schema // schema of the JSON media type; nil when none is declared
}

type response struct {
	media []string
	json  *jsonschema.Schema
}

type securityScheme struct {
	name   string // key in components/securitySchemes
	typ    string // "http", "apiKey", …
	scheme string // for http: "bearer", "basic"
	in     string // for apiKey: "header", "query", "cookie"
	key    string // for apiKey: the header or query parameter name
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// builder turns the decoded document into operations, compiling their schemas.
type builder struct {
	root     map[string]any
	compiler *jsonschema.Compiler
}

func (b *builder) operations() ([]*operation, error) {
	paths, _ := b.root["paths"].(map[string]any)
	templates := make([]string, 0, len(paths))
	for t := range paths {
		templates = append(templates, t)
	}
	sort.Strings(templates)
	var ops []*operation
	for _, tmpl := range templates {
		itemPtr, item, err := b.deref([]string{"paths", tmpl}, paths[tmpl])
		if err != nil {
			return nil, err
		}
		for _, m := range methods {
			raw, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			op, err := b.operation(tmpl, m, itemPtr, item, raw)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", strings.ToUpper(m), tmpl, err)
			}
			ops = append(ops, op)
		}
	}
	return ops, nil
}

func (b *builder) operation(tmpl, method string, itemPtr []string, item, raw map[string]any) (*operation, error) {
	op := &operation{
		method:    strings.ToUpper(method),
		template:  tmpl,
		segments:  strings.Split(tmpl, "/"),
		responses: map[string]*response{},
	}
	opPtr := at(itemPtr, method)

	// Path-level parameters apply unless the operation redefines the same name and location.
	byKey := map[string]*param{}
	var order []string
	addParams := func(ptr []string, list any) error {
		arr, _ := list.([]any)
		for i, rawParam := range arr {
			p, err := b.param(at(ptr, "parameters", fmt.Sprint(i)), rawParam)
			if err != nil {
				return err
			}
			key := p.in + ":" + strings.ToLower(p.name)
			if _, seen := byKey[key]; !seen {
				order = append(order, key)
			}
			byKey[key] = p
		}
		return nil
	}
	if err := addParams(itemPtr, item["parameters"]); err != nil {
		return nil, err
	}
	if err := addParams(opPtr, raw["parameters"]); err != nil {
		return nil, err
	}
	for _, k := range order {
		op.params = append(op.params, byKey[k])
	}

	if rawBody, ok := raw["requestBody"]; ok {
		ptr, body, err := b.deref(at(opPtr, "requestBody"), rawBody)
		if err != nil {
			return nil, err
		}
		rb := &requestBody{}
		rb.required, _ = body["required"].(bool)
		rb.media, rb.json, err = b.content(requestsURL, ptr, body)
		if err != nil {
			return nil, fmt.Errorf("request body: %w", err)
		}
		op.body = rb
	}

	responses, _ := raw["responses"].(map[string]any)
	for status, rawResp := range responses {
		ptr, resp, err := b.deref(at(opPtr, "responses", status), rawResp)
		if err != nil {
			return nil, err
		}
		r := &response{}
		r.media, r.json, err = b.content(responsesURL, ptr, resp)
		if err != nil {
			return nil, fmt.Errorf("response %s: %w", status, err)
		}
		op.responses[strings.ToUpper(status)] = r
	}

	sec, hasOwn := raw["security"]
	if !hasOwn {
		sec = b.root["security"]
	}
	var err error
	op.security, err = b.security(sec)
	if err != nil {
		return nil, err
	}
	return op, nil
}

func (b *builder) param(ptr []string, raw any) (*param, error) {
	ptr, obj, err := b.deref(ptr, raw)
	if err != nil {
		return nil, err
	}
	p := &param{}
	p.name, _ = obj["name"].(string)
	p.in, _ = obj["in"].(string)
	p.required, _ = obj["required"].(bool)
	if p.name == "" || p.in == "" {
		return nil, fmt.Errorf("parameter at %s has no name or location", pointer(ptr...))
	}
	if p.in == "path" {
		p.required = true // OpenAPI: path parameters are always required
	}
	if rawSchema, ok := obj["schema"]; ok {
		p.schema, err = b.compiler.Compile(requestsURL + "#" + pointer(at(ptr, "schema")...))
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p.name, err)
		}
		p.kind = b.kindOf(rawSchema, 0)
	}
	return p, nil
}

// content reads a "content" map: the media types it declares and the compiled schema of its JSON one.
func (b *builder) content(resource string, ptr []string, obj map[string]any) ([]string, *jsonschema.Schema, error) {
	content, _ := obj["content"].(map[string]any)
	media := make([]string, 0, len(content))
	for mt := range content {
		media = append(media, mt)
	}
	sort.Strings(media)
	jsonMT := ""
	for _, mt := range media {
		if isJSONMedia(mt) && (jsonMT == "" || mt == "application/json") {
			jsonMT = mt
		}
	}
	if jsonMT == "" {
		return media, nil, nil
	}
	entry, _ := content[jsonMT].(map[string]any)
	if _, ok := entry["schema"]; !ok {
		return media, nil, nil
	}
	sch, err := b.compiler.Compile(resource + "#" + pointer(at(ptr, "content", jsonMT, "schema")...))
	if err != nil {
		return nil, nil, err
	}
	return media, sch, nil
}

func (b *builder) security(raw any) ([][]securityScheme, error) {
	alts, _ := raw.([]any)
	schemes, _ := childMap(b.root, "components", "securitySchemes")
	var out [][]securityScheme
	for _, alt := range alts {
		req, _ := alt.(map[string]any)
		if len(req) == 0 {
			return nil, nil // an empty alternative makes credentials optional
		}
		var group []securityScheme
		for name := range req {
			_, def, err := b.deref([]string{"components", "securitySchemes", name}, schemes[name])
			if err != nil {
				return nil, fmt.Errorf("security scheme %q: %w", name, err)
			}
			s := securityScheme{name: name}
			s.typ, _ = def["type"].(string)
			s.scheme, _ = def["scheme"].(string)
			s.in, _ = def["in"].(string)
			s.key, _ = def["name"].(string)
			group = append(group, s)
		}
		sort.Slice(group, func(i, j int) bool { return group[i].name < group[j].name })
		out = append(out, group)
	}
	return out, nil
}

// deref follows a local "$ref" on an OpenAPI object (parameter, request body, response, path item) and
// returns the object with the JSON pointer tokens of where it really lives, so schemas inside it can be
// compiled by pointer.
func (b *builder) deref(ptr []string, v any) ([]string, map[string]any, error) {
	for range 32 { // a bound against reference cycles
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, nil, fmt.Errorf("%s is not an object", pointer(ptr...))
		}
		ref, ok := obj["$ref"].(string)
		if !ok {
			return ptr, obj, nil
		}
		tokens, target, err := b.resolve(ref)
		if err != nil {
			return nil, nil, err
		}
		ptr, v = tokens, target
	}
	return nil, nil, fmt.Errorf("%s: too many nested references", pointer(ptr...))
}

// resolve looks up a local reference "#/a/b" in the document.
func (b *builder) resolve(ref string) ([]string, any, error) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, nil, fmt.Errorf("reference %q is not local to the document", ref)
	}
	frag, err := url.PathUnescape(frag)
	if err != nil {
		return nil, nil, fmt.Errorf("reference %q: %w", ref, err)
	}
	if frag == "" {
		return nil, b.root, nil
	}
	var tokens []string
	var v any = b.root
	for _, t := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		t = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
		tokens = append(tokens, t)
		switch node := v.(type) {
		case map[string]any:
			v, ok = node[t]
		case []any:
			var i int
			_, err := fmt.Sscan(t, &i)
			ok = err == nil && i >= 0 && i < len(node)
			if ok {
				v = node[i]
			}
		default:
			ok = false
		}
		if !ok {
			return nil, nil, fmt.Errorf("reference %q does not resolve", ref)
		}
	}
	return tokens, v, nil
}

// kindOf works out which JSON types a schema admits, following $ref and the branches of anyOf, oneOf and
// allOf. A schema that names no type at all is read as a string: that is what a URL carries.
func (b *builder) kindOf(s any, depth int) valueKind {
	k := valueKind{types: map[string]bool{}}
	b.collectKind(s, &k, depth)
	if len(k.types) == 0 {
		k.types["string"] = true
	}
	return k
}

func (b *builder) collectKind(s any, k *valueKind, depth int) {
	obj, ok := s.(map[string]any)
	if !ok || depth > 16 {
		return
	}
	if ref, ok := obj["$ref"].(string); ok {
		if _, target, err := b.resolve(ref); err == nil {
			b.collectKind(target, k, depth+1)
		}
	}
	switch t := obj["type"].(type) {
	case string:
		k.types[t] = true
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				k.types[s] = true
			}
		}
	}
	for _, kw := range []string{"anyOf", "oneOf", "allOf"} {
		if arr, ok := obj[kw].([]any); ok {
			for _, branch := range arr {
				b.collectKind(branch, k, depth+1)
			}
		}
	}
	if items, ok := obj["items"]; ok {
		ik := b.kindOf(items, depth+1)
		k.items = &ik
	}
}

// at returns a new pointer: ptr followed by more. It never shares ptr's backing array.
func at(ptr []string, more ...string) []string {
	out := make([]string, 0, len(ptr)+len(more))
	return append(append(out, ptr...), more...)
}
