package apischema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
)

// Transport is an http.RoundTripper for tests: every request and response passing through it is validated
// against Doc, and what does not conform is collected instead of failing the call, so a test can run a
// whole client/emulator conversation and then assert Failures() is empty. Safe for concurrent use.
type Transport struct {
	Base http.RoundTripper // nil means http.DefaultTransport
	Doc  *Doc

	mu       sync.Mutex
	failures []string
	ops      map[string]bool
}

// RoundTrip validates the request, sends it through Base, and validates the response. Both bodies are read
// whole and handed on intact. Errors from Base are returned as they are and the exchange is not judged.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Doc == nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errors.New("apischema: Transport.Doc is nil")
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("apischema: read request body: %w", err)
		}
	}
	// A RoundTripper must not modify the caller's request, so the copy carries the re-readable body.
	out := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}

	op, reqErr := t.Doc.validateRequest(req.Method, req.URL, req.Header, body)
	if op != nil {
		t.sawOperation(op.label())
	}
	t.record(reqErr)

	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("apischema: read response body: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if op != nil {
		t.record(validateResponse(op, resp.StatusCode, resp.Header, respBody))
	}
	return resp, nil
}

func (t *Transport) record(err error) {
	if err == nil {
		return
	}
	var lines []string
	var e *Error
	if errors.As(err, &e) {
		lines = e.Lines()
	} else {
		lines = []string{err.Error()}
	}
	t.mu.Lock()
	t.failures = append(t.failures, lines...)
	t.mu.Unlock()
}

func (t *Transport) sawOperation(label string) {
	t.mu.Lock()
	if t.ops == nil {
		t.ops = map[string]bool{}
	}
	t.ops[label] = true
	t.mu.Unlock()
}

// Failures returns every conformance problem seen so far, in the order seen, one per line, e.g.
// "POST /api/v1/goods request: body.price: must be < 1000000000".
func (t *Transport) Failures() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.failures...)
}

// Operations returns the distinct operations seen, as sorted "METHOD /template" strings, so a test can show
// which part of the API a conversation covered.
func (t *Transport) Operations() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.ops))
	for op := range t.ops {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}
