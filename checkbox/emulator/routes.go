package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// access is what a route needs besides X-Client-Name (docs/checkbox-rest.md §2.1).
type access int

const (
	health        access = iota // GET /status: nothing required
	public                      // sign-in
	bearer                      // Authorization: Bearer <cashier JWT>
	licence                     // X-License-Key only: cash-registers/info, tax
	bearerLicence               // both: shifts open, webhook
)

// route is one operation. Pattern segments "{}" match any one path segment.
type route struct {
	method  string
	pattern []string
	access  access
	handle  func(c *call) reply
}

// call is one request as a handler sees it.
type call struct {
	r      *http.Request
	body   []byte
	params []string  // values of the pattern's "{}" segments, in order
	sess   *session  // the signed-in cashier on bearer routes
	reg    *register // the register of X-License-Key on licence routes
}

// reply is a handler's answer. body is written as JSON unless raw is set.
type reply struct {
	status      int
	body        any
	raw         []byte
	contentType string
	header      http.Header
}

// httpError is Checkbox's HTTPError body (docs/checkbox-rest.md §2.4).
type httpError struct {
	Message string `json:"message"`
}

// validationError is HTTPValidationError, the FastAPI 422 body (docs/checkbox-rest.md §2.4).
type validationError struct {
	Message string       `json:"message"`
	Detail  []fieldError `json:"detail"`
}

func jsonReply(status int, v any) reply { return reply{status: status, body: v} }

func messageReply(status int, msg string) reply { return reply{status: status, body: httpError{msg}} }

func invalid(errs []fieldError) reply {
	return reply{status: http.StatusUnprocessableEntity, body: validationError{Message: "Validation error", Detail: errs}}
}

func notFound(msg string) reply { return messageReply(http.StatusNotFound, msg) }

// refused answers a request the service understood but will not carry out: a duplicate code, an
// underpaid receipt, a task in the wrong state. Checkbox's document declares no status for these but
// 422, so the emulator reports them in the FastAPI envelope with a value_error entry, as a pydantic
// validator would (docs/checkbox-rest.md §2.4); the real status is undocumented and may be 400.
func refused(msg string, l ...any) reply {
	if len(l) == 0 {
		l = []any{"body"}
	}
	return invalid([]fieldError{{Loc: l, Msg: "Value error, " + msg, Type: "value_error"}}).withMessage(msg)
}

func (rep reply) withMessage(msg string) reply {
	if v, ok := rep.body.(validationError); ok {
		v.Message = msg
		rep.body = v
	}
	return rep
}

func (rep reply) write(w http.ResponseWriter) {
	for k, vs := range rep.header {
		w.Header()[k] = vs
	}
	if rep.raw == nil && rep.body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // FastAPI writes UTF-8 as is
		if err := enc.Encode(rep.body); err != nil {
			rep = messageReply(http.StatusInternalServerError, "emulator: encode answer: "+err.Error())
			b, _ := json.Marshal(rep.body)
			buf.Reset()
			buf.Write(b)
		}
		rep.raw = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		rep.contentType = "application/json"
	}
	if rep.contentType != "" {
		w.Header().Set("Content-Type", rep.contentType)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(rep.raw)))
	w.WriteHeader(rep.status)
	w.Write(rep.raw) //nolint:errcheck // the client went away
}

// table lists the whole API surface the emulator answers.
func (e *Emulator) table() []route {
	r := func(method, path string, a access, h func(*call) reply) route {
		return route{method: method, pattern: strings.Split(strings.Trim(path, "/"), "/"), access: a, handle: h}
	}
	return []route{
		r("GET", "/status", health, e.status),
		r("POST", "/api/v1/cashier/signin", public, e.signIn),
		r("POST", "/api/v1/cashier/signinPinCode", licence, e.signInPIN),
		r("POST", "/api/v1/cashier/signout", bearer, e.signOut),
		r("GET", "/api/v1/cashier/me", bearer, e.me),
		r("GET", "/api/v1/cashier/shift", bearer, e.cashierShift),
		r("GET", "/api/v1/cash-registers", bearer, e.listRegisters),
		r("GET", "/api/v1/cash-registers/info", licence, e.registerInfo),
		r("GET", "/api/v1/shifts", bearer, e.listShifts),
		r("POST", "/api/v1/shifts", bearerLicence, e.openShift),
		r("GET", "/api/v1/shifts/{}", bearer, e.getShift),
		r("GET", "/api/v1/receipts", bearer, e.listReceipts),
		r("GET", "/api/v1/receipts/search", bearer, e.searchReceipts),
		r("POST", "/api/v1/receipts/sell", bearer, e.sellReceipt),
		r("GET", "/api/v1/receipts/{}", bearer, e.getReceipt),
		r("GET", "/api/v1/tax", licence, e.listTaxes),
		r("GET", "/api/v1/goods", bearer, e.listGoods),
		r("POST", "/api/v1/goods", bearer, e.createGood),
		r("GET", "/api/v1/goods/by-code/{}", bearer, e.goodByCode),
		r("POST", "/api/v1/goods/leftovers-by-id", bearer, e.leftovers),
		r("POST", "/api/v1/goods/import/upload", bearer, e.importUpload),
		r("GET", "/api/v1/goods/import/task_status/{}", bearer, e.importStatus),
		r("POST", "/api/v1/goods/import/apply_changes/{}", bearer, e.importApply),
		r("GET", "/api/v1/goods/{}", bearer, e.getGood),
		r("PUT", "/api/v1/goods/{}", bearer, e.editGood),
		r("DELETE", "/api/v1/goods/{}", bearer, e.deleteGood),
		r("GET", "/api/v1/webhook", bearerLicence, e.getWebhook),
		r("POST", "/api/v1/webhook", bearerLicence, e.setWebhook),
		r("DELETE", "/api/v1/webhook", bearerLicence, e.deleteWebhook),
	}
}

// match finds the route for method and path. Literal segments win over "{}" ones, as in FastAPI's
// route order for these paths. A path known under other methods gets 405, an unknown one 404.
func (e *Emulator) match(method, path string) (route, []string, reply, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best *route
	var bestParams []string
	pathKnown := false
	for i := range e.routes {
		rt := &e.routes[i]
		params, ok := matchPattern(rt.pattern, segs)
		if !ok {
			continue
		}
		pathKnown = true
		if rt.method != method {
			continue
		}
		if best == nil || len(params) < len(bestParams) {
			best, bestParams = rt, params
		}
	}
	switch {
	case best != nil:
		return *best, bestParams, reply{}, true
	case pathKnown:
		return route{}, nil, messageReply(http.StatusMethodNotAllowed, "Method Not Allowed"), false
	default:
		return route{}, nil, notFound("Not Found"), false
	}
}

func matchPattern(pattern, segs []string) ([]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var params []string
	for i, p := range pattern {
		switch {
		case p == "{}":
			if segs[i] == "" {
				return nil, false
			}
			params = append(params, segs[i])
		case p != segs[i]:
			return nil, false
		}
	}
	return params, true
}

// authorize checks the bearer token first (FastAPI resolves the security dependency before the
// parameters), then the headers every call or this call requires.
func (e *Emulator) authorize(a access, c *call) (reply, bool) {
	if a == bearer || a == bearerLicence {
		s, rep, ok := e.session(c.r)
		if !ok {
			return rep, false
		}
		c.sess = s
	}
	var errs []fieldError
	if a != health && !e.cfg.AllowNoClientName && c.r.Header.Get("X-Client-Name") == "" {
		errs = append(errs, missing("header", "x-client-name"))
	}
	key := c.r.Header.Get("X-License-Key")
	if (a == licence || a == bearerLicence) && key == "" {
		errs = append(errs, missing("header", "x-license-key"))
	}
	if len(errs) > 0 {
		return invalid(errs), false
	}
	if a == licence || a == bearerLicence {
		c.reg = e.registerByKey(key)
		if c.reg == nil {
			return messageReply(http.StatusForbidden, "Невірний ключ ліцензії каси"), false
		}
	}
	return reply{}, true
}

// status is GET /status, Checkbox's public health check (docs/checkbox-rest.md §1).
func (e *Emulator) status(*call) reply {
	return jsonReply(http.StatusOK, struct {
		Status    string  `json:"status"`
		Timestamp isoTime `json:"timestamp"`
	}{"ok", isoTime{e.now()}})
}
