package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/shopspring/decimal"

	"obmin/basodata"
	"obmin/internal/emuadmin"
)

// adminPrefix is where the control endpoints live, beside the service root.
const adminPrefix = emuadmin.Prefix

// The admin API lets a test or the torture harness drive an emulator running in another process. It
// answers only with SetAdminToken called, to "Authorization: Bearer <token>"; otherwise 404.
//
//	POST   /_emulator/faults   a Fault as JSON (latency in nanoseconds)
//	DELETE /_emulator/faults   clear every fault
//	GET    /_emulator/stock    []Balance
//	GET    /_emulator/reports  every report, as the base would answer a GET of each
//	GET    /_emulator/calls    []Call
//	POST   /_emulator/goods    a Good: add it (with stock)
//
// and what a person does to a report in BAS's forms (byhand.go), {ref} being its Ref_Key:
//
//	DELETE /_emulator/reports/{ref}               delete it outright
//	POST   /_emulator/reports/{ref}/unpost        cancel its posting
//	POST   /_emulator/reports/{ref}/mark-deleted  mark it for deletion
//	PATCH  /_emulator/reports/{ref}               a RowChange: a row's quantity typed anew

// SetAdminToken turns the admin API on with this bearer token ("" turns it off).
func (e *Emulator) SetAdminToken(token string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.adminToken = token
}

func (e *Emulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	token := e.adminToken
	e.mu.Unlock()
	if !emuadmin.Authorize(w, r, token) {
		return
	}
	decode := emuadmin.Decoder(w, r)
	switch what := r.Method + " " + strings.TrimPrefix(r.URL.Path, adminPrefix); what {
	case "POST faults":
		var f Fault
		if decode(&f) {
			e.InjectFault(f)
			emuadmin.Reply(w, http.StatusOK, map[string]string{"ok": "fault injected"})
		}
	case "DELETE faults":
		e.ClearFaults()
		emuadmin.Reply(w, http.StatusOK, map[string]string{"ok": "faults cleared"})
	case "GET stock":
		emuadmin.Reply(w, http.StatusOK, e.Stock())
	case "GET calls":
		emuadmin.Reply(w, http.StatusOK, e.Calls())
	case "GET reports":
		w.Header().Set("Content-Type", "application/json")
		w.Write(e.reportsJSON()) //nolint:errcheck // the client went away
	case "POST goods":
		var g Good
		if decode(&g) {
			if err := e.AddGood(g); err != nil {
				emuadmin.Reply(w, http.StatusUnprocessableEntity, map[string]string{"message": err.Error()})
				return
			}
			emuadmin.Reply(w, http.StatusOK, map[string]string{"ok": "good added"})
		}
	default:
		if !e.serveReportByHand(w, r.Method, strings.TrimPrefix(r.URL.Path, adminPrefix), decode) {
			emuadmin.Reply(w, http.StatusNotFound, map[string]string{"message": "no admin call " + what})
		}
	}
}

// RowChange is a report row's quantity typed anew by hand (ChangeReportRow).
type RowChange struct {
	Line     int             `json:"line"`
	Quantity decimal.Decimal `json:"quantity"`
}

// serveReportByHand answers the admin calls on one report; false when path is none of them.
func (e *Emulator) serveReportByHand(w http.ResponseWriter, method, path string, decode func(any) bool) bool {
	rest, ok := strings.CutPrefix(path, "reports/")
	if !ok {
		return false
	}
	ref, action, _ := strings.Cut(rest, "/")
	if !isGUID(ref) {
		return false
	}
	var err error
	switch method + " " + action {
	case "DELETE ":
		err = e.DeleteReport(ref)
	case "POST unpost":
		err = e.UnpostReport(ref)
	case "POST mark-deleted":
		err = e.MarkReportDeleted(ref)
	case "PATCH ":
		var c RowChange
		if !decode(&c) {
			return true
		}
		err = e.ChangeReportRow(ref, c.Line, c.Quantity)
	default:
		return false
	}
	if err != nil {
		emuadmin.Reply(w, http.StatusUnprocessableEntity, map[string]string{"message": err.Error()})
		return true
	}
	emuadmin.Reply(w, http.StatusOK, map[string]string{"ok": "report changed by hand"})
	return true
}

// reportsJSON is every report, each as a GET of it answers.
func (e *Emulator) reportsJSON() []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	set := e.sets[docSet]
	var b bytes.Buffer
	b.WriteByte('[')
	for i, o := range set.order {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(render(set.t, e.view(set.t, o), nil, ""))
	}
	b.WriteByte(']')
	return b.Bytes()
}

// Reports returns every report as the client's type reads it.
func (e *Emulator) Reports() []basodata.Report {
	var out []basodata.Report
	if err := json.Unmarshal(e.reportsJSON(), &out); err != nil {
		panic(fmt.Sprintf("basodata emulator: reports do not read back as basodata.Report: %v", err))
	}
	return out
}

// AdminClient drives an emulator's admin API over HTTP.
type AdminClient struct {
	BaseURL string // scheme://host:port of the emulator, without a path
	Token   string
	HTTP    *http.Client // default http.DefaultClient
}

func (a *AdminClient) call(ctx context.Context, method, path string, in, out any) error {
	return emuadmin.Call(ctx, a.HTTP, a.BaseURL, a.Token, "basodata emulator admin", method, path, in, out)
}

// InjectFault adds a fault.
func (a *AdminClient) InjectFault(ctx context.Context, f Fault) error {
	return a.call(ctx, http.MethodPost, "faults", f, nil)
}

// ClearFaults removes every fault.
func (a *AdminClient) ClearFaults(ctx context.Context) error {
	return a.call(ctx, http.MethodDelete, "faults", nil, nil)
}

// Stock returns the stock balance.
func (a *AdminClient) Stock(ctx context.Context) ([]Balance, error) {
	var out []Balance
	return out, a.call(ctx, http.MethodGet, "stock", nil, &out)
}

// Reports returns every report.
func (a *AdminClient) Reports(ctx context.Context) ([]basodata.Report, error) {
	var out []basodata.Report
	return out, a.call(ctx, http.MethodGet, "reports", nil, &out)
}

// Calls returns every request the emulator answered.
func (a *AdminClient) Calls(ctx context.Context) ([]Call, error) {
	var out []Call
	return out, a.call(ctx, http.MethodGet, "calls", nil, &out)
}

// AddGood adds a good.
func (a *AdminClient) AddGood(ctx context.Context, g Good) error {
	return a.call(ctx, http.MethodPost, "goods", g, nil)
}

// DeleteReport deletes a report outright, as a person in BAS may.
func (a *AdminClient) DeleteReport(ctx context.Context, ref string) error {
	return a.call(ctx, http.MethodDelete, "reports/"+ref, nil, nil)
}

// UnpostReport cancels a report's posting, as a person in BAS may.
func (a *AdminClient) UnpostReport(ctx context.Context, ref string) error {
	return a.call(ctx, http.MethodPost, "reports/"+ref+"/unpost", nil, nil)
}

// MarkReportDeleted marks a report for deletion, as a person in BAS may.
func (a *AdminClient) MarkReportDeleted(ctx context.Context, ref string) error {
	return a.call(ctx, http.MethodPost, "reports/"+ref+"/mark-deleted", nil, nil)
}

// ChangeReportRow types a report row's quantity anew, as a person in BAS may.
func (a *AdminClient) ChangeReportRow(ctx context.Context, ref string, c RowChange) error {
	return a.call(ctx, http.MethodPatch, "reports/"+ref, c, nil)
}
