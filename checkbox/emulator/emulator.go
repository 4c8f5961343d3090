package emulator

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Search timestamps for Config.SearchBy.
const (
	SearchByFiscalDate = "fiscal_date"
	SearchByCreatedAt  = "created_at"
)

// Config configures an Emulator. Zero fields take the defaults named beside them.
type Config struct {
	Login, Password string // POST /api/v1/cashier/signin; default "emulator" / "emulator"
	PINCode         string // POST /api/v1/cashier/signinPinCode (with a known X-License-Key); empty: PIN sign-in refused
	CashierName     string // full name of the API cashier, default "Касир інтеграції"

	Registers []Register    // default: one test register
	TokenTTL  time.Duration // JWT lifetime, default 8 h (docs/checkbox-rest.md §3: undocumented)

	// AllowNoClientName accepts calls without X-Client-Name; by default they get 422, since the wiki
	// calls the header mandatory (docs/checkbox-rest.md §2.1).
	AllowNoClientName bool

	// SearchBy is the timestamp /receipts/search from_date/to_date filter and sort on: SearchByFiscalDate
	// (default; the pessimistic reading for offline receipts) or SearchByCreatedAt (docs/checkbox-rest.md §12.3).
	SearchBy string

	// ShortSearch makes /receipts/search and /receipts answer with the short receipt form
	// (ShortReceiptDTO, goods untyped), which the schema allows (docs/checkbox-rest.md §6.1).
	ShortSearch bool

	// ImportPolls is how many task_status calls still answer "pending" in each stage of a goods import
	// before it reports its result; default 1, so a client must poll at least twice.
	ImportPolls int
	// ImportSkipsBadRows makes a goods import with some bad rows apply the others: the check reports
	// "completed" with the bad rows in errors, and apply_changes leaves them out. By default a file with
	// any bad row ends in "error" and nothing is applied. Which one Checkbox does is not documented
	// (docs/checkbox-rest.md §4.1 only names errors[{error, address}]), so tests run both.
	ImportSkipsBadRows bool

	Webhook WebhookPolicy

	Clock func() time.Time // default time.Now
	Seed  int64            // ids, keys and fiscal codes are drawn from it: same seed and clock, same output
}

// FirstFiscalNumber is the fiscal number the first register gets when the configuration gives none:
// the one register of the demo and the torture harness, which their BAS mapping names.
const FirstFiscalNumber = "TEST400001"

// Register is one cash register of the organisation. Empty fields are generated.
type Register struct {
	ID           string // uuid
	FiscalNumber string
	LicenseKey   string // X-License-Key
	Number       string
	Title        string
	Address      string
	BranchID     string // uuid of the shop; /receipts/search branch_id filters on it
}

// WebhookPolicy times webhook deliveries. Checkbox waits 10 s for an answer and retries for 4 hours
// with exponential back-off from 1 s up to 30 min (docs/checkbox-rest.md §8); tests scale these down.
type WebhookPolicy struct {
	FirstRetry  time.Duration // default 1 s
	MaxRetry    time.Duration // default 30 min
	GiveUpAfter time.Duration // default 4 h
	Timeout     time.Duration // default 10 s
}

// Call is one request the emulator answered. Status 0 means the connection was dropped.
type Call struct {
	Method string
	Path   string
	Query  string
	Status int
	At     time.Time
}

// Emulator is an in-memory Checkbox. It is safe for concurrent use; one mutex guards all state.
type Emulator struct {
	cfg      Config
	searchBy string
	taxes    []taxRate
	org      organization
	apiUser  *cashier // signs in through the API
	shopUser *cashier // sells at the till (Sell, GenerateSales)
	jwtKey   []byte
	routes   []route

	deliveryCtx    context.Context // cancelled by Close; webhook deliveries run under it
	stopDeliveries context.CancelFunc
	deliveries     sync.WaitGroup
	webhookClient  *http.Client

	mu         sync.Mutex
	rng        *rand.Rand
	registers  []*register
	tokens     map[string]*session
	goods      []*good // in creation order
	byCode     map[string]*good
	byID       map[string]*good
	groups     map[string]string
	receipts   []*receipt // in creation order
	receiptIDs map[string]*receipt
	shifts     []*shift
	imports    map[string]*importTask
	webhooks   map[string]*webhook // by register id
	faults     []*Fault
	rate       rateLimit
	calls      []Call
	sent       []Delivery
	pending    int           // webhook deliveries still running
	drained    chan struct{} // closed when pending drops to 0
	servers    []*http.Server
	closed     bool
}

// New returns an emulator with an empty catalogue. It panics when cfg.SearchBy is not one of the
// SearchBy constants, a programming error.
func New(cfg Config) *Emulator {
	if cfg.Login == "" && cfg.Password == "" {
		cfg.Login, cfg.Password = "emulator", "emulator"
	}
	if cfg.CashierName == "" {
		cfg.CashierName = "Касир інтеграції"
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 8 * time.Hour
	}
	if cfg.ImportPolls <= 0 {
		cfg.ImportPolls = 1
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	w := &cfg.Webhook
	w.FirstRetry = orDefault(w.FirstRetry, time.Second)
	w.MaxRetry = orDefault(w.MaxRetry, 30*time.Minute)
	w.GiveUpAfter = orDefault(w.GiveUpAfter, 4*time.Hour)
	w.Timeout = orDefault(w.Timeout, 10*time.Second)
	searchBy := cfg.SearchBy
	switch searchBy {
	case "":
		searchBy = SearchByFiscalDate
	case SearchByFiscalDate, SearchByCreatedAt:
	default:
		panic(fmt.Sprintf("emulator: Config.SearchBy %q: want %q or %q", cfg.SearchBy, SearchByFiscalDate, SearchByCreatedAt))
	}

	e := &Emulator{
		cfg:        cfg,
		searchBy:   searchBy,
		rng:        rand.New(rand.NewPCG(uint64(cfg.Seed), 0x0b1a_c4ec_b0c5)),
		tokens:     make(map[string]*session),
		groups:     make(map[string]string),
		byCode:     make(map[string]*good),
		byID:       make(map[string]*good),
		receiptIDs: make(map[string]*receipt),
		imports:    make(map[string]*importTask),
		webhooks:   make(map[string]*webhook),
	}
	now := e.now()
	e.jwtKey = e.randBytes(32)
	e.org = organization{id: e.newID(), title: "ТОВ «Тестова книгарня»", edrpou: "34554355", taxNumber: "345543526589", createdAt: now}
	e.apiUser = &cashier{id: e.newID(), fullName: cfg.CashierName, nin: "3456789012", keyID: hex.EncodeToString(e.randBytes(20)), createdAt: now}
	e.shopUser = &cashier{id: e.newID(), fullName: "Касир торгового залу", nin: "2345678901", keyID: hex.EncodeToString(e.randBytes(20)), createdAt: now}
	for _, t := range defaultTaxes {
		t.id = e.newID()
		e.taxes = append(e.taxes, t)
	}
	regs := cfg.Registers
	if len(regs) == 0 {
		regs = []Register{{}}
	}
	for i, r := range regs {
		if r.ID == "" {
			r.ID = e.newID()
		}
		if r.FiscalNumber == "" {
			r.FiscalNumber = fmt.Sprintf("TEST%06d", 400001+i) // FirstFiscalNumber first
		}
		if r.LicenseKey == "" {
			r.LicenseKey = hex.EncodeToString(e.randBytes(12))
		}
		if r.Number == "" {
			r.Number = fmt.Sprint(i + 1)
		}
		if r.Title == "" {
			r.Title = fmt.Sprintf("Каса %d", i+1)
		}
		if r.Address == "" {
			r.Address = "м. Київ, вул. Хрещатик, 1"
		}
		e.registers = append(e.registers, &register{Register: r, createdAt: now})
	}
	e.deliveryCtx, e.stopDeliveries = context.WithCancel(context.Background())
	e.webhookClient = &http.Client{Timeout: cfg.Webhook.Timeout}
	e.routes = e.table()
	return e
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// now is the emulator's clock in UTC, cut to microseconds as Checkbox (Python) stores time.
func (e *Emulator) now() time.Time { return e.cfg.Clock().UTC().Truncate(time.Microsecond) }

// Registers returns the cash registers as configured, with generated fields filled in.
func (e *Emulator) Registers() []Register {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Register, len(e.registers))
	for i, r := range e.registers {
		out[i] = r.Register
	}
	return out
}

// Calls returns every request answered so far, in order.
func (e *Emulator) Calls() []Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Call(nil), e.calls...)
}

// CountCalls counts the requests with this method ("" for any) whose path starts with pathPrefix.
func (e *Emulator) CountCalls(method, pathPrefix string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.calls {
		if (method == "" || c.Method == method) && strings.HasPrefix(c.Path, pathPrefix) {
			n++
		}
	}
	return n
}

// maxRequestBody caps what the emulator reads of a request; an import file of thousands of goods is
// far smaller.
const maxRequestBody = 16 << 20

// ServeHTTP answers one API request: injected faults and the rate limit first (they stand for the
// infrastructure in front of the service), then routing, authentication and the handler.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		e.finish(w, r, reply{status: http.StatusBadRequest, body: httpError{"cannot read the request body"}})
		return
	}

	e.mu.Lock()
	fault := e.takeFault(r.Method, r.URL.Path)
	limited := e.rateLimited()
	e.mu.Unlock()

	if fault != nil && fault.Latency > 0 {
		t := time.NewTimer(fault.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			e.record(r, 0)
			return
		}
	}
	if fault != nil && !fault.AfterHandling && fault.answers() {
		e.fail(w, r, fault)
		return
	}
	var rep reply
	if limited > 0 {
		rep = tooManyRequests(limited)
	} else {
		rep = e.handle(r, body)
	}
	if fault != nil && fault.AfterHandling && fault.answers() {
		e.fail(w, r, fault)
		return
	}
	e.finish(w, r, rep)
}

// handle routes the request, checks its credentials and headers and runs its handler under the lock.
func (e *Emulator) handle(r *http.Request, body []byte) reply {
	rt, params, rep, ok := e.match(r.Method, r.URL.Path)
	if !ok {
		return rep
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c := &call{r: r, body: body, params: params}
	if rep, ok := e.authorize(rt.access, c); !ok {
		return rep
	}
	return rt.handle(c)
}

// finish writes rep and records the call.
func (e *Emulator) finish(w http.ResponseWriter, r *http.Request, rep reply) {
	e.record(r, rep.status)
	rep.write(w)
}

func (e *Emulator) record(r *http.Request, status int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: status, At: e.now()})
}

// Serve answers on a new loopback listener at addr (e.g. "127.0.0.1:0") until stop or Close is called;
// ctx bounds only the start. It returns the base URL without a trailing slash.
func (e *Emulator) Serve(ctx context.Context, addr string) (baseURL string, stop func(context.Context) error, err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, fmt.Errorf("emulator: listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		// A fake fiscal service must never be reachable from the shop's network.
		return "", nil, fmt.Errorf("emulator: listen address %q is not a loopback address", addr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("emulator: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		ln.Close()
		return "", nil, errors.New("emulator: closed")
	}
	e.servers = append(e.servers, srv)
	e.mu.Unlock()
	go srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed on shutdown
	return "http://" + ln.Addr().String(), srv.Shutdown, nil
}

// Close stops webhook deliveries (waiting for them to return) and every server started by Serve. It
// is safe to call more than once.
func (e *Emulator) Close() {
	e.mu.Lock()
	servers := e.servers
	e.servers, e.closed = nil, true
	e.mu.Unlock()
	for _, s := range servers {
		s.Close()
	}
	e.stopDeliveries()
	e.deliveries.Wait()
}
