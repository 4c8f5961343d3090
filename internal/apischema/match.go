package apischema

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// match finds the operation for a method and a concrete request path, and the values of its path
// parameters. A template segment "{name}" matches any one non-empty path segment. When several templates
// match, the one with a literal segment where the others have a parameter wins, comparing from the left:
// /api/v1/receipts/search beats /api/v1/receipts/{receipt_id}. That is what a reader of the document
// expects; Starlette itself tries routes in declaration order, and FastAPI applications declare the literal
// routes first for exactly this reason.
func (d *Doc) match(method string, u *url.URL) (*operation, map[string]string, error) {
	method = strings.ToUpper(method)
	raw := strings.Split(u.EscapedPath(), "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		v, err := url.PathUnescape(s)
		if err != nil {
			return nil, nil, fmt.Errorf("bad path %q: %w", u.EscapedPath(), err)
		}
		segs[i] = v
	}

	var candidates []*operation
	for _, op := range d.operations {
		if templateMatches(op.segments, segs) {
			candidates = append(candidates, op)
		}
	}
	if len(candidates) == 0 {
		return nil, nil, fmt.Errorf("no operation in document %s matches path %s", d.version, u.Path)
	}
	sort.SliceStable(candidates, func(i, j int) bool {
		return moreLiteral(candidates[i].segments, candidates[j].segments)
	})
	var allowed []string
	for _, op := range candidates {
		if op.method != method {
			allowed = append(allowed, op.label())
			continue
		}
		values := map[string]string{}
		for i, t := range op.segments {
			if name, ok := paramName(t); ok {
				values[name] = segs[i]
			}
		}
		return op, values, nil
	}
	return nil, nil, fmt.Errorf("method %s not allowed on %s (document has %s)", method, u.Path, strings.Join(allowed, ", "))
}

func templateMatches(tmpl, segs []string) bool {
	if len(tmpl) != len(segs) {
		return false
	}
	for i, t := range tmpl {
		if _, ok := paramName(t); ok {
			if segs[i] == "" {
				return false
			}
			continue
		}
		if t != segs[i] {
			return false
		}
	}
	return true
}

// moreLiteral orders templates of equal length: at the first segment where one is literal and the other a
// parameter, the literal one comes first.
func moreLiteral(a, b []string) bool {
	for i := range a {
		_, ap := paramName(a[i])
		_, bp := paramName(b[i])
		if ap != bp {
			return !ap
		}
	}
	return false
}

// paramName returns the name of a whole-segment template parameter such as "{good_id}".
func paramName(seg string) (string, bool) {
	if len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' {
		return seg[1 : len(seg)-1], true
	}
	return "", false
}
