package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault makes the next matching requests fail, for testing a client's retries.
type Fault struct {
	Method     string // "" matches any method
	PathPrefix string // "" matches any path
	Status     int    // answer with this status and a JSON {"message"} body
	// GatewayHTML answers with an HTML page instead, as a proxy in front of the service (nginx) does for
	// 502 and 504; Checkbox's document describes only JSON bodies.
	GatewayHTML bool
	// Times is how many matching requests the fault takes: 0 means one, a negative number every one
	// until ClearFaults.
	Times          int
	RetryAfter     time.Duration // sets Retry-After, in whole seconds rounded up
	Latency        time.Duration // delays the answer (and, with Status 0 and no drop, nothing else)
	DropConnection bool          // closes the connection without an answer
	// AfterHandling lets the request take effect before its answer is replaced by the fault: the
	// "receipt created but the client got no answer" case (docs/checkbox-rest.md §9).
	AfterHandling bool
}

// InjectFault adds f; faults are tried in the order they were added.
func (e *Emulator) InjectFault(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	e.faults = append(e.faults, &f)
}

// ClearFaults removes every injected fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

// takeFault returns (a copy of) the first fault matching the request and uses up one of its times.
func (e *Emulator) takeFault(method, path string) *Fault {
	for i, f := range e.faults {
		if (f.Method != "" && !strings.EqualFold(f.Method, method)) || !strings.HasPrefix(path, f.PathPrefix) {
			continue
		}
		taken := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
			}
		}
		return &taken
	}
	return nil
}

// answers reports whether the fault replaces the answer (rather than only delaying it).
func (f *Fault) answers() bool { return f.DropConnection || f.Status != 0 }

// fail answers with the fault, or drops the connection.
func (e *Emulator) fail(w http.ResponseWriter, r *http.Request, f *Fault) {
	if f.DropConnection {
		e.record(r, 0)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // net/http closes the connection without logging
	}
	rep := messageReply(f.Status, http.StatusText(f.Status))
	if f.GatewayHTML {
		text := fmt.Sprintf("%d %s", f.Status, http.StatusText(f.Status))
		rep = reply{status: f.Status, contentType: "text/html",
			raw: []byte("<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text + "</h1></center>\r\n</body>\r\n</html>\r\n")}
	}
	if f.RetryAfter > 0 {
		rep.header = http.Header{"Retry-After": {seconds(f.RetryAfter)}}
	}
	e.finish(w, r, rep)
}

func seconds(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// rateLimit is a fixed window on the emulator's clock.
type rateLimit struct {
	n     int
	per   time.Duration
	start time.Time
	count int
}

// SetRateLimit answers 429 with Retry-After to requests beyond n in each window of per, counted on the
// emulator's clock. Checkbox documents no such limit (docs/checkbox-rest.md §9), but clients must cope with
// one (§9: Retry-After is honoured). n <= 0 turns it off.
func (e *Emulator) SetRateLimit(n int, per time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rate = rateLimit{n: n, per: per}
}

// rateLimited counts the request and returns how long until the window ends when it is over the
// limit, else 0.
func (e *Emulator) rateLimited() time.Duration {
	rl := &e.rate
	if rl.n <= 0 || rl.per <= 0 {
		return 0
	}
	now := e.now()
	if rl.start.IsZero() || !now.Before(rl.start.Add(rl.per)) {
		rl.start, rl.count = now, 0
	}
	if rl.count >= rl.n {
		return max(rl.start.Add(rl.per).Sub(now), time.Nanosecond)
	}
	rl.count++
	return 0
}

func tooManyRequests(wait time.Duration) reply {
	rep := messageReply(http.StatusTooManyRequests, "Too Many Requests")
	rep.header = http.Header{"Retry-After": {seconds(wait)}}
	return rep
}
