package apischema

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const itemID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// issuesOf returns the issues of an *Error, or fails the test for any other error.
func issuesOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *Error", err)
	}
	return e.Issues
}

// checkIssues asserts that err carries exactly the wanted issues (nil wants no error).
func checkIssues(t *testing.T, err error, want []string) {
	t.Helper()
	got := issuesOf(t, err)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("issues:\n  got  %q\n  want %q", got, want)
	}
}

func TestMatchPrefersLiteralSegments(t *testing.T) {
	d := tinyDoc(t)
	tests := []struct {
		method, path string
		want         string // "METHOD /template", or an error fragment after "error: "
		params       map[string]string
	}{
		{"GET", "/items/special", "GET /items/special", map[string]string{}},
		{"GET", "/items/" + itemID, "GET /items/{item_id}", map[string]string{"item_id": itemID}},
		// Only GET is declared on /items/special, so PUT falls through to the template, as in Starlette.
		{"PUT", "/items/special", "PUT /items/{item_id}", map[string]string{"item_id": "special"}},
		// Both /items/special/{part} and /items/{item_id}/name match: the leftmost literal wins.
		{"GET", "/items/special/name", "GET /items/special/{part}", map[string]string{"part": "name"}},
		{"GET", "/items/" + itemID + "/name", "GET /items/{item_id}/name", map[string]string{"item_id": itemID}},
		{"GET", "/items/special/a%2Fb", "GET /items/special/{part}", map[string]string{"part": "a/b"}},
		{"get", "/search", "GET /search", map[string]string{}},
		{"DELETE", "/items/special", "error: method DELETE not allowed on /items/special (document has GET /items/special, GET /items/{item_id}, PUT /items/{item_id})", nil},
		{"GET", "/items/", "error: no operation in document 1.2.0 matches path /items/", nil},
		{"GET", "/items/special/", "error: no operation", nil},
		{"GET", "/nowhere", "error: no operation", nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			op, params, err := d.match(tt.method, mustURL(t, tt.path))
			if wantErr, ok := strings.CutPrefix(tt.want, "error: "); ok {
				if err == nil || !strings.Contains(err.Error(), wantErr) {
					t.Fatalf("err = %v, want %q", err, wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if op.label() != tt.want {
				t.Errorf("matched %s, want %s", op.label(), tt.want)
			}
			if len(params) != len(tt.params) {
				t.Errorf("params = %v, want %v", params, tt.params)
			}
			for k, v := range tt.params {
				if params[k] != v {
					t.Errorf("param %s = %q, want %q", k, params[k], v)
				}
			}
		})
	}
}

func TestTinyRequests(t *testing.T) {
	d := tinyDoc(t)
	bearer := hdr("Authorization", "Bearer t0k3n")
	search := func(extra ...string) http.Header {
		return hdr(append([]string{"Authorization", "Bearer t", "X-Trace", "1"}, extra...)...)
	}
	tests := []struct {
		name   string
		method string
		url    string
		header http.Header
		body   string
		want   []string
	}{
		{name: "put item", method: "PUT", url: "/items/" + itemID, header: bearer, body: `{"id":"` + itemID + `","name":"x","price":1}`},
		{name: "json content type with charset", method: "PUT", url: "/items/" + itemID,
			header: hdr("Authorization", "Bearer t", "Content-Type", "application/json; charset=utf-8"), body: `{"id":"` + itemID + `","name":"x"}`},
		{name: "no content type is read as JSON", method: "PUT", url: "/items/" + itemID, header: bearer, body: `{"id":"` + itemID + `","name":"x"}`},
		{name: "bad path parameter", method: "PUT", url: "/items/42", header: bearer, body: `{"id":"` + itemID + `","name":"x"}`,
			want: []string{"path.item_id: '42' is not valid uuid: must have 5 elements"}},
		{name: "requests do not take null for optional fields", method: "PUT", url: "/items/" + itemID, header: bearer, body: `{"id":"` + itemID + `","name":"x","note":null}`,
			want: []string{"body.note: got null, want string"}},
		{name: "price bounds and enum", method: "PUT", url: "/items/" + itemID, header: bearer, body: `{"id":"` + itemID + `","name":"x","price":1000000000,"tags":["new","bad"]}`,
			want: []string{"body.price: must be < 1000000000", "body.tags.1: value must be one of 'new', 'old'"}},
		{name: "missing body", method: "PUT", url: "/items/" + itemID, header: bearer,
			want: []string{"body: missing required request body"}},
		{name: "broken json", method: "PUT", url: "/items/" + itemID, header: bearer, body: `{"id":`,
			want: []string{"body: invalid JSON: unexpected EOF"}},
		{name: "wrong content type", method: "PUT", url: "/items/" + itemID, header: hdr("Authorization", "Bearer t", "Content-Type", "text/plain"), body: `{}`,
			want: []string{`body: content type "text/plain" not declared (want application/json)`}},
		{name: "no bearer token", method: "GET", url: "/items/" + itemID, header: hdr("Authorization", "Basic abc"),
			want: []string{`header.Authorization: Bearer token required (security scheme "bearer")`}},
		{name: "empty security needs nothing", method: "GET", url: "/items/special"},
		{name: "body on a bodiless operation", method: "GET", url: "/items/special", body: `{}`,
			want: []string{"body: the operation takes no request body"}},
		{name: "search", method: "GET", url: "/search?q=a&limit=100&tag=new&tag=old&exact=true&since=2024-03-22T16:20:09.549268%2B00:00", header: search()},
		{name: "email format is not asserted", method: "GET", url: "/search?q=a&mail=not-an-email", header: search()},
		{name: "search limit and since", method: "GET", url: "/search?q=a&limit=101&since=yesterday", header: search(),
			want: []string{"query.limit: must be <= 100", "query.since: 'yesterday' is not valid date-time: less than 20 characters long"}},
		{name: "search zero limit", method: "GET", url: "/search?q=a&limit=0", header: search(),
			want: []string{"query.limit: must be > 0"}},
		{name: "search types", method: "GET", url: "/search?q=a&limit=ten&exact=maybe&tag=new&tag=mid", header: search(),
			want: []string{"query.limit: got string, want integer", "query.tag.1: value must be one of 'new', 'old'", "query.exact: got string, want boolean"}},
		{name: "search repeated scalar", method: "GET", url: "/search?q=a&limit=1&limit=2", header: search(),
			want: []string{"query.limit: given 2 times, takes one value"}},
		{name: "search missing required", method: "GET", url: "/search?limit=5&zzz=1", header: hdr("Authorization", "Bearer t"),
			want: []string{"query.q: missing required parameter", "header.X-Trace: missing required parameter", "query.zzz: not a parameter of this operation"}},
		{name: "multipart upload", method: "POST", url: "/upload", header: hdr("X-Key", "k", "Content-Type", "multipart/form-data; boundary=b"), body: "--b\r\n\r\nx\r\n--b--\r\n"},
		{name: "upload as json", method: "POST", url: "/upload", header: hdr("X-Key", "k", "Content-Type", "application/json"), body: `{"file":"x"}`,
			want: []string{`body: content type "application/json" not declared (want multipart/form-data)`}},
		{name: "upload without content type or key", method: "POST", url: "/upload", body: "x",
			want: []string{`header.X-Key: required (security scheme "key")`, "body: no Content-Type (want multipart/form-data)"}},
		{name: "unknown path", method: "GET", url: "/nowhere", want: []string{"no operation in document 1.2.0 matches path /nowhere"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.ValidateRequest(tt.method, mustURL(t, tt.url), tt.header, []byte(tt.body))
			checkIssues(t, err, tt.want)
		})
	}
}

func TestTinyResponses(t *testing.T) {
	d := tinyDoc(t)
	jsonCT := hdr("Content-Type", "application/json")
	item := `{"id":"` + itemID + `","name":"x"}`
	tests := []struct {
		name   string
		method string
		url    string
		status int
		header http.Header
		body   string
		want   []string
	}{
		{name: "item", method: "GET", url: "/items/" + itemID, status: 200, header: jsonCT, body: item},
		{name: "responses may carry null for optional fields", method: "GET", url: "/items/" + itemID, status: 200, header: jsonCT,
			body: `{"id":"` + itemID + `","name":"x","note":null,"price":null,"tags":null}`},
		{name: "but not for required ones", method: "GET", url: "/items/" + itemID, status: 200, header: jsonCT,
			body: `{"id":null,"name":"x","price":"5"}`, want: []string{"body.id: got null, want string", "body.price: got string, want integer"}},
		{name: "no headers given means JSON", method: "GET", url: "/items/" + itemID, status: 200, body: item},
		{name: "4XX range", method: "GET", url: "/items/" + itemID, status: 409, header: jsonCT, body: `{"message":"taken"}`},
		{name: "4XX range wrong body", method: "GET", url: "/items/" + itemID, status: 409, header: jsonCT, body: `{"detail":"taken"}`,
			want: []string{"body: missing property 'message'"}},
		{name: "empty 200", method: "GET", url: "/items/" + itemID, status: 200, header: jsonCT, want: []string{"body: empty, want JSON"}},
		{name: "text 200", method: "GET", url: "/items/" + itemID, status: 200, header: hdr("Content-Type", "text/plain; charset=utf-8"), body: item,
			want: []string{`body: content type "text/plain" not declared for status 200 (want application/json)`}},
		{name: "205 without body", method: "POST", url: "/logout", status: 205},
		{name: "default response", method: "POST", url: "/logout", status: 400, header: jsonCT, body: `{"message":"no"}`},
		{name: "undeclared 404 with message", method: "GET", url: "/search", status: 404, header: jsonCT, body: `{"message":"not found"}`},
		{name: "undeclared 503 with message", method: "GET", url: "/search", status: 503, header: jsonCT, body: `{"message":"later"}`},
		{name: "undeclared 401 with plain text", method: "GET", url: "/search", status: 401, header: hdr("Content-Type", "text/plain"), body: "Unauthorized",
			want: []string{`body: undeclared status 401 must carry {"message": string}, got "Unauthorized"`}},
		{name: "undeclared 400", method: "GET", url: "/search", status: 400, header: jsonCT, body: `{"message":"bad"}`,
			want: []string{"status 400 is not declared by the operation (declared: 200)"}},
		{name: "array of items", method: "GET", url: "/search", status: 200, header: jsonCT, body: `[` + item + `,{"name":""}]`,
			want: []string{"body.1.name: length must be >= 1, got 0", "body.1: missing property 'id'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.ValidateResponse(tt.method, mustURL(t, tt.url), tt.status, tt.header, []byte(tt.body))
			checkIssues(t, err, tt.want)
		})
	}
}
