package emulator

import (
	"net/http"
	"strings"
	"time"
)

// Fault makes the next matching requests fail, for testing a client's retries and exactly-once.
type Fault struct {
	Method string `json:"method"` // "" matches any method
	// Path is a prefix of the path after the service root, e.g. "Document_ОтчетОРозничныхПродажах";
	// "" matches any path.
	Path   string `json:"path"`
	Status int    `json:"status"` // answer with this status
	// Body: "proxy" (the default for 502-504: an HTML page, as a web server in front of 1C sends),
	// "lock" (1C's own error: a lock conflict, which is worth retrying), or "odata" (1C's own error
	// with a generic message).
	Body string `json:"body"`
	// Times is how many matching requests the fault takes: 0 means one, negative every one (an
	// outage) until ClearFaults.
	Times          int           `json:"times"`
	Latency        time.Duration `json:"latency"`         // delays the request; with AfterHandling, its answer
	DropConnection bool          `json:"drop_connection"` // closes the connection without an answer
	// AfterHandling lets the request take effect before its answer is replaced: the "report created,
	// answer lost" case a client must settle by a look-up.
	AfterHandling bool `json:"after_handling"`
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

func (e *Emulator) takeFault(method, path string) *Fault {
	for i, f := range e.faults {
		if (f.Method != "" && !strings.EqualFold(f.Method, method)) || !strings.HasPrefix(path, f.Path) {
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

func (f *Fault) answers() bool { return f.DropConnection || f.Status != 0 }

func (e *Emulator) fail(w http.ResponseWriter, r *http.Request, rel string, f *Fault) {
	if f.DropConnection {
		e.record(r, rel, 0)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	switch f.Body {
	case "lock":
		e.finish(w, r, rel, errReply(&badRequest{status: f.Status, code: "-1", msg: "Конфликт блокировок при выполнении транзакции: Превышено максимальное время ожидания предоставления блокировки"}))
	case "odata":
		e.finish(w, r, rel, errReply(&badRequest{status: f.Status, code: "-1", msg: "Произошла внутренняя ошибка OData сервиса. "}))
	default:
		text := http.StatusText(f.Status)
		e.finish(w, r, rel, reply{status: f.Status, contentType: "text/html",
			raw: []byte("<html><head><title>" + text + "</title></head><body><h1>" + text + "</h1></body></html>")})
	}
}
