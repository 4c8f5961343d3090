package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Link watches whether an outside system answers, from the outcomes of the calls obmin makes to it
// anyway: no probes of its own. Observe each outcome, or put Transport under an HTTP client.
type Link struct {
	now func() time.Time

	mu      sync.Mutex
	known   bool      // an outcome was observed
	down    time.Time // since when every call failed; zero while it answers
	lastErr string
}

// NewLink returns a Link that knows nothing yet.
func NewLink() *Link { return &Link{now: time.Now} }

// Observe records one call's outcome: nil when the system answered. Cancellation says nothing about the
// system and is ignored.
func (l *Link) Observe(err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.known = true
	if err == nil {
		l.down, l.lastErr = time.Time{}, ""
		return
	}
	if l.down.IsZero() {
		l.down = l.now()
	}
	l.lastErr = err.Error()
}

// state returns whether anything was observed, since when the system has not answered (zero: it
// answers) and the last error.
func (l *Link) state() (known bool, since time.Time, lastErr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.known, l.down, l.lastErr
}

// State returns whether anything was observed yet, since when the system has not answered (zero: it
// answers) and the last error: for the staff page.
func (l *Link) State() (known bool, since time.Time, lastErr string) { return l.state() }

// Transport wraps next (nil: http.DefaultTransport) so that every request through it is observed: no
// answer, or a 5xx answer (the system or its gateway is failing), counts as down; any other answer as up.
func (l *Link) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return linkTransport{l, next}
}

type linkTransport struct {
	l    *Link
	next http.RoundTripper
}

func (t linkTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	switch {
	case err != nil:
		if r.Context().Err() == nil {
			t.l.Observe(err)
		}
	case resp.StatusCode >= 500:
		t.l.Observe(fmt.Errorf("%s %s: HTTP %s", r.Method, r.URL.Path, resp.Status))
	default:
		t.l.Observe(nil)
	}
	return resp, err
}
