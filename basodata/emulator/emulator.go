package emulator

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config configures an Emulator. Zero fields take the defaults named beside them.
type Config struct {
	Root           string // path of the service root, default "/bas/odata/standard.odata"
	User, Password string // the OData user, default "odata.user" / "odata"

	// AssignOwnKeys makes the base ignore a Ref_Key sent with a POST and assign its own, a reading
	// nothing has ruled out (docs/bas-odata.md §3); by default the key sent is kept.
	AssignOwnKeys bool
	// MaxPage caps every list answer silently, below $top, as a server limit would; 0: no cap.
	MaxPage int
	// ControlNegativeStock refuses a posting that takes a balance below zero, as a base with
	// «контроль остатков» on does (Documents.ОтчетОРозничныхПродажах.ВыполнитьКонтроль).
	ControlNegativeStock bool
	Organization         string // the organisation's name, default "ТОВ «Книгарня»"
}

// Call is one request the emulator answered; Status 0 means the connection was dropped.
type Call struct {
	Method, Path, Query string
	Status              int
}

// Emulator is an in-memory BAS with the standard OData interface. It is an http.Handler; safe for
// concurrent use (one mutex guards all state).
type Emulator struct {
	cfg   Config
	model *Model
	edmx  []byte

	mu         sync.Mutex
	sets       map[string]*entitySet
	version    uint64
	number     int
	faults     []*Fault
	calls      []Call
	ids        uint64
	adminToken string
	seeded     bool // the base objects are in; from now on seeding takes the lock

	servers []*http.Server
}

// entitySet holds the objects of one entity set, in creation order.
type entitySet struct {
	t     *Type
	order []obj
	byRef map[string]obj
}

// New returns an emulator holding the base objects every base has (organisation, currency, VAT rates,
// units, price kinds, stores, cash-flow items), seeded as Seed describes.
func New(cfg Config) *Emulator {
	if cfg.Root == "" {
		cfg.Root = "/bas/odata/standard.odata"
	}
	cfg.Root = "/" + strings.Trim(cfg.Root, "/")
	if cfg.User == "" && cfg.Password == "" {
		cfg.User, cfg.Password = "odata.user", "odata"
	}
	if cfg.Organization == "" {
		cfg.Organization = "ТОВ «Книгарня»"
	}
	m := LoadModel()
	e := &Emulator{cfg: cfg, model: m, edmx: m.EDMX(), sets: map[string]*entitySet{}}
	for _, t := range m.Types {
		if t.Entity {
			e.sets[t.Name] = &entitySet{t: t, byRef: map[string]obj{}}
		}
	}
	e.seedBase()
	e.seeded = true
	return e
}

// Root is the path of the service root.
func (e *Emulator) Root() string { return e.cfg.Root }

// Model is the model the emulator serves.
func (e *Emulator) Model() *Model { return e.model }

// Calls returns every request answered so far.
func (e *Emulator) Calls() []Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Call(nil), e.calls...)
}

// CountCalls counts requests with this method ("" any) whose path (after the root) starts with prefix.
func (e *Emulator) CountCalls(method, prefix string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.calls {
		if (method == "" || c.Method == method) && strings.HasPrefix(c.Path, prefix) {
			n++
		}
	}
	return n
}

const maxRequestBody = 8 << 20

// ServeHTTP answers one request: the admin API under /_emulator/, then authentication, injected
// faults, and the OData call.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, adminPrefix) {
		e.serveAdmin(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		e.finish(w, r, "", errReply(&badRequest{status: 400, code: "-1", msg: "cannot read the request body"}))
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, e.cfg.Root)
	if !ok || (rel != "" && rel[0] != '/') {
		e.finish(w, r, rel, errReply(&badRequest{status: 404, code: "-1", msg: "Не найдена публикация " + r.URL.Path}))
		return
	}
	rel = strings.TrimPrefix(rel, "/")
	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(e.cfg.User)) != 1 || subtle.ConstantTimeCompare([]byte(pass), []byte(e.cfg.Password)) != 1 {
		rep := reply{status: http.StatusUnauthorized, contentType: "text/plain; charset=utf-8", raw: []byte("401 Unauthorized")}
		rep.header = http.Header{"Www-Authenticate": {`Basic realm="1C:Enterprise"`}}
		e.finish(w, r, rel, rep)
		return
	}

	e.mu.Lock()
	fault := e.takeFault(r.Method, rel)
	e.mu.Unlock()
	// Latency delays the request, or with AfterHandling its answer: a write the client times out on.
	wait := func() bool {
		t := time.NewTimer(fault.Latency)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-r.Context().Done():
			e.record(r, rel, 0)
			return false
		}
	}
	if fault != nil && fault.Latency > 0 && !fault.AfterHandling && !wait() {
		return
	}
	if fault != nil && !fault.AfterHandling && fault.answers() {
		e.fail(w, r, rel, fault)
		return
	}
	e.mu.Lock()
	rep := e.handle(r, rel, body)
	e.mu.Unlock()
	if fault != nil && fault.Latency > 0 && fault.AfterHandling && !wait() {
		return
	}
	if fault != nil && fault.AfterHandling && fault.answers() {
		e.fail(w, r, rel, fault)
		return
	}
	e.finish(w, r, rel, rep)
}

// reply is an answer; raw is written as is.
type reply struct {
	status      int
	raw         []byte
	contentType string
	header      http.Header
}

func jsonReply(status int, raw []byte) reply {
	return reply{status: status, raw: raw, contentType: "application/json;charset=utf-8"}
}

// errReply is 1C's error body: {"odata.error":{"code":…,"message":{"lang":"ru","value":…}}}.
func errReply(b *badRequest) reply {
	var buf strings.Builder
	buf.WriteString(`{"odata.error":{"code":`)
	buf.WriteString(strconv.Quote(b.code))
	buf.WriteString(`,"message":{"lang":"ru","value":`)
	v, _ := jsonString(b.msg)
	buf.WriteString(v)
	buf.WriteString(`}}}`)
	return jsonReply(b.status, []byte(buf.String()))
}

func jsonString(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return `"` + b.String() + `"`, nil
}

func (e *Emulator) finish(w http.ResponseWriter, r *http.Request, rel string, rep reply) {
	e.record(r, rel, rep.status)
	for k, vs := range rep.header {
		w.Header()[k] = vs
	}
	if rep.contentType != "" {
		w.Header().Set("Content-Type", rep.contentType)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(rep.raw)))
	w.WriteHeader(rep.status)
	w.Write(rep.raw) //nolint:errcheck // the client went away
}

func (e *Emulator) record(r *http.Request, rel string, status int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, Call{Method: r.Method, Path: rel, Query: r.URL.RawQuery, Status: status})
}

// target is Set, Set(guid'…') or Set(guid'…')/Post|Unpost.
var target = regexp.MustCompile(`^([^(/]+)(?:\(guid'([^']*)'\))?(?:/(Post|Unpost))?$`)

// handle runs one OData call under the lock.
func (e *Emulator) handle(r *http.Request, rel string, body []byte) reply {
	q := r.URL.Query()
	switch {
	case rel == "$metadata" && r.Method == http.MethodGet:
		return reply{status: http.StatusOK, raw: e.edmx, contentType: "application/xml;charset=utf-8"}
	case rel == "" && r.Method == http.MethodGet:
		return e.serviceDocument()
	}
	m := target.FindStringSubmatch(rel)
	if m == nil {
		return errReply(&badRequest{status: 400, code: "-1", msg: "Неверный адрес ресурса: " + rel})
	}
	set := e.sets[m[1]]
	if set == nil {
		return errReply(&badRequest{status: 404, code: "-1", msg: "Не найден ресурс " + m[1]})
	}
	ref, action := strings.ToLower(m[2]), m[3]
	if m[2] != "" && !isGUID(ref) {
		return errReply(refuse("Неверный ключ: guid'%s'", m[2]))
	}
	if action == "" && r.Method != http.MethodPost && q.Get("$format") != "json" && r.Method != http.MethodDelete {
		// 1C answers Atom XML without $format=json; the emulator speaks JSON only.
		return errReply(refuse("Эмулятор отвечает только в JSON: укажите $format=json"))
	}
	var rep reply
	var err *badRequest
	switch {
	case action != "" && r.Method == http.MethodPost:
		rep, err = e.act(set, ref, action, q)
	case ref == "" && r.Method == http.MethodGet:
		rep, err = e.list(set, q)
	case ref == "" && r.Method == http.MethodPost:
		rep, err = e.create(set, r.Header, body)
	case ref != "" && r.Method == http.MethodGet:
		rep, err = e.getOne(set, ref, q)
	case ref != "" && r.Method == http.MethodPatch:
		rep, err = e.patch(set, ref, r.Header, body)
	case ref != "" && r.Method == http.MethodDelete:
		rep, err = e.remove(set, ref)
	default:
		err = &badRequest{status: 405, code: "-1", msg: "Метод " + r.Method + " не поддерживается для " + rel}
	}
	if err != nil {
		return errReply(err)
	}
	return rep
}

func (e *Emulator) serviceDocument() reply {
	names := make([]string, 0, len(e.sets))
	for n := range e.sets {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(`{"odata.metadata":` + strconv.Quote(e.cfg.Root+"/$metadata") + `,"value":[`)
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		q, _ := jsonString(n)
		b.WriteString(`{"name":` + q + `,"url":` + q + `}`)
	}
	b.WriteString("]}")
	return jsonReply(http.StatusOK, []byte(b.String()))
}

// selection reads $select; nil selects everything.
func selection(t *Type, q url.Values) (map[string]bool, *badRequest) {
	s := q.Get("$select")
	if s == "" {
		return nil, nil
	}
	sel := map[string]bool{}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if t.Prop(name) == nil {
			return nil, refuse("$select: свойство '%s' не найдено у типа 'StandardODATA.%s'", name, t.Name)
		}
		sel[name] = true
	}
	return sel, nil
}

func (e *Emulator) list(set *entitySet, q url.Values) (reply, *badRequest) {
	sel, bad := selection(set.t, q)
	if bad != nil {
		return reply{}, bad
	}
	found := append([]obj(nil), set.order...)
	if f := q.Get("$filter"); f != "" {
		ex, err := parseFilter(f, set.t)
		if err != nil {
			return reply{}, refuse("$filter: %v", err)
		}
		kept := found[:0]
		for _, o := range found {
			v, err := ex(o)
			if err != nil {
				return reply{}, refuse("$filter: %v", err)
			}
			if b, _ := v.(bool); b {
				kept = append(kept, o)
			}
		}
		found = kept
	}
	if ob := q.Get("$orderby"); ob != "" {
		var keys []*Prop
		var desc []bool
		for _, part := range strings.Split(ob, ",") {
			f := strings.Fields(part)
			if len(f) == 0 || set.t.Prop(f[0]) == nil {
				return reply{}, refuse("$orderby: свойство '%s' не найдено", part)
			}
			keys = append(keys, set.t.Prop(f[0]))
			desc = append(desc, len(f) > 1 && f[1] == "desc")
		}
		sort.SliceStable(found, func(i, j int) bool {
			for k, p := range keys {
				c, _ := cmp(found[i].get(p), found[j].get(p))
				if c != 0 {
					return (c < 0) != desc[k]
				}
			}
			return false
		})
	}
	skip, _ := strconv.Atoi(q.Get("$skip"))
	top, _ := strconv.Atoi(q.Get("$top"))
	if skip > len(found) {
		skip = len(found)
	}
	found = found[skip:]
	if top > 0 && top < len(found) {
		found = found[:top]
	}
	if e.cfg.MaxPage > 0 && len(found) > e.cfg.MaxPage {
		found = found[:e.cfg.MaxPage]
	}
	var b strings.Builder
	meta, _ := jsonString(e.cfg.Root + "/$metadata#" + set.t.Name)
	b.WriteString(`{"odata.metadata":` + meta + `,"value":[`)
	for i, o := range found {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(render(set.t, e.view(set.t, o), sel, ""))
	}
	b.WriteString("]}")
	return jsonReply(http.StatusOK, []byte(b.String())), nil
}

// view is o with every section's rows filled out, for answers.
func (e *Emulator) view(t *Type, o obj) obj {
	v := obj{}
	for k, x := range o {
		v[k] = x
	}
	for _, p := range t.Props {
		if p.Kind == "Rows" {
			v[p.Name] = fullRows(e.model.ByName[p.Target], o.rows(p.Name))
		}
	}
	return v
}

func (e *Emulator) element(set *entitySet, o obj, status int, sel map[string]bool) reply {
	return jsonReply(status, render(set.t, e.view(set.t, o), sel, e.cfg.Root+"/$metadata#"+set.t.Name+"/@Element"))
}

func (e *Emulator) getOne(set *entitySet, ref string, q url.Values) (reply, *badRequest) {
	sel, bad := selection(set.t, q)
	if bad != nil {
		return reply{}, bad
	}
	o := set.byRef[ref]
	if o == nil {
		return reply{}, notFound(set.t.Name, ref)
	}
	return e.element(set, o, http.StatusOK, sel), nil
}

func notFound(set, ref string) *badRequest {
	return &badRequest{status: 404, code: "-1", msg: fmt.Sprintf("Объект не найден: %s(guid'%s')", set, ref)}
}

// create is POST to an entity set. Rows of a tabular section cannot be created on their own (1C's
// error 13, docs/bas-odata.md §1).
func (e *Emulator) create(set *entitySet, h http.Header, body []byte) (reply, *badRequest) {
	if set.t.Comment == "tabular section" {
		return reply{}, &badRequest{status: 400, code: "13", msg: "Cоздание строк табличной части напрямую не поддерживается"}
	}
	if set.t.Prop("Ref_Key") == nil || len(set.t.Keys) != 1 {
		return reply{}, refuse("Создание записей %s через этот ресурс не поддерживается эмулятором", set.t.Name)
	}
	o, bad := e.decodeBody(set.t, body, true)
	if bad != nil {
		return reply{}, bad
	}
	ref, _ := o["Ref_Key"].(string)
	if ref == "" || ref == emptyRef || e.cfg.AssignOwnKeys {
		ref = e.newRef()
	}
	if set.byRef[ref] != nil {
		return reply{}, &badRequest{status: 500, code: "-1", msg: fmt.Sprintf("Запись с таким ключом уже существует: %s(guid'%s')", set.t.Name, ref)}
	}
	o["Ref_Key"] = ref
	if set.t.Name == docSet {
		if bad := e.beforeWrite(o, h, true); bad != nil {
			return reply{}, bad
		}
	}
	o["DataVersion"] = e.nextVersion()
	set.put(o)
	return e.element(set, o, http.StatusCreated, nil), nil
}

func (e *Emulator) patch(set *entitySet, ref string, h http.Header, body []byte) (reply, *badRequest) {
	cur := set.byRef[ref]
	if cur == nil {
		return reply{}, notFound(set.t.Name, ref)
	}
	if im := h.Get("If-Match"); im != "" && im != "*" && im != cur.str("DataVersion") {
		// What 1C answers to a stale If-Match is not confirmed; 412 is HTTP's (docs/bas-odata.md §3).
		return reply{}, &badRequest{status: http.StatusPreconditionFailed, code: "-1", msg: "Версия объекта изменилась: данные были изменены другим пользователем"}
	}
	in, bad := e.decodeBody(set.t, body, false)
	if bad != nil {
		return reply{}, bad
	}
	next := cur.clone()
	for k, v := range in {
		next[k] = v
	}
	if set.t.Name == docSet {
		if posted, _ := cur["Posted"].(bool); posted {
			return reply{}, &badRequest{status: 500, code: "-1", msg: "Документ проведен: изменение проведенного документа без перепроведения эмулятором не допускается; отмените проведение (Unpost)"}
		}
		if bad := e.beforeWrite(next, h, false); bad != nil {
			return reply{}, bad
		}
	}
	next["DataVersion"] = e.nextVersion()
	set.replace(ref, next)
	return e.element(set, next, http.StatusOK, nil), nil
}

func (e *Emulator) remove(set *entitySet, ref string) (reply, *badRequest) {
	o := set.byRef[ref]
	if o == nil {
		return reply{}, notFound(set.t.Name, ref)
	}
	if set.t.Name == docSet {
		e.clearMovements(ref)
	}
	delete(set.byRef, ref)
	for i, x := range set.order {
		if x.str("Ref_Key") == ref {
			set.order = append(set.order[:i], set.order[i+1:]...)
			break
		}
	}
	return reply{status: http.StatusNoContent}, nil
}

func (s *entitySet) put(o obj) {
	s.order = append(s.order, o)
	if ref := o.str("Ref_Key"); ref != "" {
		s.byRef[ref] = o
	}
}

func (s *entitySet) replace(ref string, o obj) {
	for i, x := range s.order {
		if x.str("Ref_Key") == ref {
			s.order[i] = o
		}
	}
	s.byRef[ref] = o
}

// newRef is a fresh random-looking but deterministic key.
func (e *Emulator) newRef() string {
	e.ids++
	return fmt.Sprintf("e0000000-0000-4000-8000-%012x", e.ids)
}

func (e *Emulator) nextVersion() string {
	e.version++
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], e.version)
	return base64.StdEncoding.EncodeToString(b[:])
}

// Serve answers on a new loopback listener (e.g. "127.0.0.1:0") until Close; ctx bounds only the start.
// It returns the service root URL.
func (e *Emulator) Serve(ctx context.Context, addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("basodata emulator: listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("basodata emulator: listen address %q is not a loopback address", addr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("basodata emulator: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	e.mu.Lock()
	e.servers = append(e.servers, srv)
	e.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			ln.Close()
		}
	}()
	return "http://" + ln.Addr().String() + e.cfg.Root, nil
}

// Close stops every server started by Serve.
func (e *Emulator) Close() {
	e.mu.Lock()
	servers := e.servers
	e.servers = nil
	e.mu.Unlock()
	for _, s := range servers {
		s.Close()
	}
}
