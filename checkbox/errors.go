package checkbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrNotFound matches (errors.Is) an APIError with status 404.
var ErrNotFound = errors.New("checkbox: not found")

// APIError is a non-2xx answer from Checkbox. Message and Detail come from the FastAPI error body
// (docs/checkbox-rest.md §2.4): {"message": "...", "detail": [{"loc": [...], "msg": "...", "type": "..."}]}.
type APIError struct {
	Status       int
	Method, Path string
	Message      string
	Detail       []ValidationDetail
	// RetryAfter is the server's Retry-After on 429 and 503, zero when absent.
	RetryAfter time.Duration
}

// ValidationDetail is one entry of a 422 body's detail list.
type ValidationDetail struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "checkbox: %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, d := range e.Detail {
		b.WriteString("; ")
		if loc := d.location(); loc != "" {
			b.WriteString(loc)
			b.WriteString(": ")
		}
		b.WriteString(d.Msg)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) true for a 404.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// location renders loc as FastAPI writes it, e.g. body.goods.0.price.
func (d ValidationDetail) location() string {
	parts := make([]string, 0, len(d.Loc))
	for _, p := range d.Loc {
		switch v := p.(type) {
		case float64: // encoding/json decodes every number in an []any as float64
			parts = append(parts, fmt.Sprintf("%d", int64(v)))
		default:
			parts = append(parts, fmt.Sprint(v))
		}
	}
	return strings.Join(parts, ".")
}

// transportError is a failure to get an answer at all: the request may or may not have reached
// Checkbox.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// IsRetryable reports whether repeating the request may succeed: Checkbox was unavailable (5xx),
// asked us to slow down (429), timed out (408), or the network failed or timed out. Other 4xx
// answers are final, and so is the caller's own context ending (cancelled or past its deadline).
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var api *APIError
	if errors.As(err, &api) {
		return api.Status >= 500 || api.Status == http.StatusTooManyRequests || api.Status == http.StatusRequestTimeout
	}
	var te *transportError
	if errors.As(err, &te) {
		return true // including the HTTP client's own timeout
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// errorBody is the body of a Checkbox error answer; both fields are optional in practice.
type errorBody struct {
	Message string          `json:"message"`
	Detail  json.RawMessage `json:"detail"`
}

// maxErrorBody caps how much of an error answer is read: the message is all we need.
const maxErrorBody = 64 << 10

// newAPIError builds the error for a non-2xx response, reading a capped part of its body.
func newAPIError(resp *http.Response, method, path string, now time.Time) *APIError {
	e := &APIError{Status: resp.StatusCode, Method: method, Path: path}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body errorBody
	if json.Unmarshal(raw, &body) == nil {
		e.Message = body.Message
		// FastAPI puts a list in detail for 422 but a plain string for some other errors.
		var list []ValidationDetail
		var text string
		switch {
		case json.Unmarshal(body.Detail, &list) == nil:
			e.Detail = list
		case json.Unmarshal(body.Detail, &text) == nil && e.Message == "":
			e.Message = text
		}
	}
	if e.Message == "" && len(e.Detail) == 0 {
		e.Message = snippet(raw) // not Checkbox's error shape (a proxy's page, say): show its start
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return e
}

// snippet is the start of a non-JSON error body (a proxy's HTML page, say), on one line.
func snippet(raw []byte) string {
	const max = 200
	s := strings.Join(strings.Fields(string(raw)), " ")
	if len(s) > max {
		s = s[:max]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

// notTaken reports whether a failed request surely had no effect: Checkbox refused it with 429 (its rate
// limit comes before any work), or the connection was never made, so nothing was sent.
func notTaken(err error) bool {
	var api *APIError
	if errors.As(err, &api) {
		return api.Status == http.StatusTooManyRequests
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
