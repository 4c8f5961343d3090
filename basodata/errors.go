package basodata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"
)

// ErrNotFound matches (errors.Is) an Error with status 404: no object with that key.
var ErrNotFound = errors.New("basodata: not found")

// Error is a non-2xx answer from the base. Code, Lang and Message come from 1C's error body
// {"odata.error":{"code":"13","message":{"lang":"ru","value":"…"}}} (docs/bas-odata.md §3); a body of
// another shape (a proxy's page) leaves Code empty and Message holding its start.
type Error struct {
	Status       int
	Method, Path string
	Code         string
	Lang         string
	Message      string
	// OData is true when the body was 1C's own error object: the base understood the request and
	// refused it. A 5xx without it came from the web server or a proxy in front of the base.
	OData bool
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "BAS OData: %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		fmt.Fprintf(&b, " (1C code %s)", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) true for a 404.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// lockWords are fragments of 1C's messages for a lock that another session holds: transient, worth
// repeating (docs/bas-odata.md §7).
var lockWords = []string{"конфликт блокировок", "конфлікт блокувань", "lock conflict", "превышено максимальное время ожидания", "перевищено максимальний час очікування"}

// IsRetryable reports whether repeating the request may succeed: the base or the server in front of it
// was unavailable (502, 503, 504, or a 5xx that is not 1C's own error), a row lock timed out, 408/429, or
// the network failed or timed out. 1C's own refusals (a 500 with an odata.error body, such as a posting
// check) are final: repeating them changes nothing.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		switch {
		case e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests:
			return true
		case e.Status == http.StatusBadGateway || e.Status == http.StatusServiceUnavailable || e.Status == http.StatusGatewayTimeout:
			return true
		case e.Status >= 500 && !e.OData:
			return true
		case e.Status >= 500:
			msg := strings.ToLower(e.Message)
			for _, w := range lockWords {
				if strings.Contains(msg, w) {
					return true
				}
			}
		}
		return false
	}
	var te *transportError
	if errors.As(err, &te) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// transportError is a failure to get an answer at all: the request may or may not have reached the base.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// errorBody is 1C's error object.
type errorBody struct {
	Error *struct {
		Code    json.RawMessage `json:"code"`
		Message struct {
			Lang  string `json:"lang"`
			Value string `json:"value"`
		} `json:"message"`
	} `json:"odata.error"`
}

const maxErrorBody = 64 << 10

// newError reads a capped part of a non-2xx answer's body.
func newError(resp *http.Response, method, path string) *Error {
	e := &Error{Status: resp.StatusCode, Method: method, Path: path}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body errorBody
	if json.Unmarshal(raw, &body) == nil && body.Error != nil {
		e.OData = true
		e.Code = strings.Trim(string(body.Error.Code), `"`)
		e.Lang, e.Message = body.Error.Message.Lang, strings.TrimSpace(body.Error.Message.Value)
		return e
	}
	e.Message = snippet(raw)
	return e
}

// snippet is the start of a body that is not 1C's error (a proxy's HTML page), on one line.
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
