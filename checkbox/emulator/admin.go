package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"obmin/checkbox"
	"obmin/internal/emuadmin"
)

// AdminPrefix is where the admin API lives, on the same listener as the API.
const AdminPrefix = emuadmin.Prefix

// AdminHandler serves the emulator with its admin API under AdminPrefix: the control calls a test or the
// torture harness makes to an emulator running in another process (AdminClient; docs/torture.md lists
// them). They answer only to "Authorization: Bearer <token>"; with token "" they get 404.
func AdminHandler(emu *Emulator, token string) http.Handler {
	return &admin{emu: emu, token: token}
}

type admin struct {
	emu   *Emulator
	token string
}

// faultJSON is Fault on the wire, durations in milliseconds.
type faultJSON struct {
	Method         string `json:"method"`
	PathPrefix     string `json:"path_prefix"`
	Status         int    `json:"status"`
	GatewayHTML    bool   `json:"gateway_html"`
	Times          int    `json:"times"`
	RetryAfterMS   int64  `json:"retry_after_ms"`
	LatencyMS      int64  `json:"latency_ms"`
	DropConnection bool   `json:"drop_connection"`
	AfterHandling  bool   `json:"after_handling"`
}

type rateJSON struct {
	N     int   `json:"n"`
	PerMS int64 `json:"per_ms"`
}

type salesJSON struct {
	N            int    `json:"n"`
	ReturnsEvery int    `json:"returns_every"`
	Seed         uint64 `json:"seed"`
}

type returnJSON struct {
	SaleID string     `json:"sale_id"`
	Lines  []SaleLine `json:"lines"`
}

// GoodStock is a good's stock as GET stock answers it.
type GoodStock struct {
	Code  string `json:"code"`
	Stock *int64 `json:"stock"` // thousandths; null when the good has none
}

func (a *admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, AdminPrefix) {
		a.emu.ServeHTTP(w, r)
		return
	}
	if !emuadmin.Authorize(w, r, a.token) {
		return
	}
	decode := emuadmin.Decoder(w, r)
	ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
	what := r.Method + " " + strings.TrimPrefix(r.URL.Path, AdminPrefix)
	if code, ok := strings.CutPrefix(what, "PATCH goods/"); ok {
		// A good changed by hand in Checkbox: the body is the API's edit payload, plus "count" (stock,
		// thousandths).
		var raw map[string]json.RawMessage
		if !decode(&raw) {
			return
		}
		var stock *int64
		if c, ok := raw["count"]; ok {
			stock = new(int64)
			if err := json.Unmarshal(c, stock); err != nil {
				emuadmin.Reply(w, http.StatusBadRequest, map[string]string{"message": "count: " + err.Error()})
				return
			}
			delete(raw, "count")
		}
		var edit json.RawMessage
		if len(raw) > 0 {
			edit, _ = json.Marshal(raw)
		}
		g, err := a.emu.EditGoodByHand(code, edit, stock)
		a.answer(w, g, err)
		return
	}
	if code, ok := strings.CutPrefix(what, "DELETE goods/"); ok {
		a.answer(w, map[string]string{"ok": "deleted " + code}, a.emu.RemoveGoodByHand(code))
		return
	}
	switch what {
	case "POST faults":
		var f faultJSON
		if !decode(&f) {
			return
		}
		a.emu.InjectFault(Fault{
			Method: f.Method, PathPrefix: f.PathPrefix, Status: f.Status, GatewayHTML: f.GatewayHTML, Times: f.Times,
			RetryAfter: ms(f.RetryAfterMS), Latency: ms(f.LatencyMS), DropConnection: f.DropConnection, AfterHandling: f.AfterHandling,
		})
		emuadmin.Reply(w, http.StatusOK, map[string]string{"ok": "fault injected"})
	case "DELETE faults":
		a.emu.ClearFaults()
		a.emu.SetRateLimit(0, 0)
		emuadmin.Reply(w, http.StatusOK, map[string]string{"ok": "faults and rate limit cleared"})
	case "POST expire-tokens":
		a.emu.ExpireTokens()
		emuadmin.Reply(w, http.StatusOK, map[string]string{"ok": "tokens expired"})
	case "POST rate-limit":
		var rl rateJSON
		if !decode(&rl) {
			return
		}
		a.emu.SetRateLimit(rl.N, ms(rl.PerMS))
		emuadmin.Reply(w, http.StatusOK, map[string]string{"ok": "rate limit set"})
	case "POST sales":
		var s salesJSON
		if !decode(&s) {
			return
		}
		made, err := a.emu.GenerateSales(rand.New(rand.NewPCG(s.Seed, 0x70_27_75_72)), s.N, s.ReturnsEvery)
		a.answer(w, made, err)
	case "POST sell":
		var s Sale
		if !decode(&s) {
			return
		}
		made, err := a.emu.Sell(s)
		a.answer(w, made, err)
	case "POST return":
		var rj returnJSON
		if !decode(&rj) {
			return
		}
		made, err := a.emu.Return(rj.SaleID, rj.Lines)
		a.answer(w, made, err)
	case "GET goods":
		emuadmin.Reply(w, http.StatusOK, a.emu.Goods())
	case "POST goods":
		var payload json.RawMessage
		if !decode(&payload) {
			return
		}
		g, err := a.emu.AddGoodByHand(payload)
		a.answer(w, g, err)
	case "GET stock":
		var out []GoodStock
		for _, g := range a.emu.Goods() {
			gs := GoodStock{Code: g.Code}
			if q, ok := a.emu.Stock(g.Code); ok {
				gs.Stock = &q
			}
			out = append(out, gs)
		}
		emuadmin.Reply(w, http.StatusOK, out)
	case "GET receipts":
		emuadmin.Reply(w, http.StatusOK, a.emu.Receipts())
	case "GET shifts":
		emuadmin.Reply(w, http.StatusOK, a.emu.Shifts())
	case "POST close-shifts":
		a.emu.CloseShifts()
		emuadmin.Reply(w, http.StatusOK, map[string]string{"ok": "open shifts closed"})
	default:
		emuadmin.Reply(w, http.StatusNotFound, map[string]string{"message": "no admin call " + what})
	}
}

func (a *admin) answer(w http.ResponseWriter, v any, err error) {
	if err != nil {
		emuadmin.Reply(w, http.StatusUnprocessableEntity, map[string]string{"message": err.Error()})
		return
	}
	emuadmin.Reply(w, http.StatusOK, v)
}

// AdminClient drives an emulator's admin API over HTTP (AdminHandler).
type AdminClient struct {
	BaseURL string // scheme://host:port of the emulator, without a path
	Token   string
	HTTP    *http.Client // default http.DefaultClient
}

func (a *AdminClient) call(ctx context.Context, method, path string, in, out any) error {
	return emuadmin.Call(ctx, a.HTTP, a.BaseURL, a.Token, "checkbox emulator admin", method, path, in, out)
}

// InjectFault adds a fault (durations go in whole milliseconds).
func (a *AdminClient) InjectFault(ctx context.Context, f Fault) error {
	return a.call(ctx, http.MethodPost, "faults", faultJSON{
		Method: f.Method, PathPrefix: f.PathPrefix, Status: f.Status, GatewayHTML: f.GatewayHTML, Times: f.Times,
		RetryAfterMS: f.RetryAfter.Milliseconds(), LatencyMS: f.Latency.Milliseconds(),
		DropConnection: f.DropConnection, AfterHandling: f.AfterHandling,
	}, nil)
}

// ClearFaults removes every fault and the rate limit.
func (a *AdminClient) ClearFaults(ctx context.Context) error {
	return a.call(ctx, http.MethodDelete, "faults", nil, nil)
}

// ExpireTokens makes every token issued so far get 401.
func (a *AdminClient) ExpireTokens(ctx context.Context) error {
	return a.call(ctx, http.MethodPost, "expire-tokens", nil, nil)
}

// SetRateLimit allows n requests per period (cleared with the faults).
func (a *AdminClient) SetRateLimit(ctx context.Context, n int, per time.Duration) error {
	return a.call(ctx, http.MethodPost, "rate-limit", rateJSON{N: n, PerMS: per.Milliseconds()}, nil)
}

// GenerateSales makes n receipts of catalogue goods, every returnsEvery-th followed by a return.
func (a *AdminClient) GenerateSales(ctx context.Context, n, returnsEvery int, seed uint64) ([]checkbox.Receipt, error) {
	var out []checkbox.Receipt
	return out, a.call(ctx, http.MethodPost, "sales", salesJSON{N: n, ReturnsEvery: returnsEvery, Seed: seed}, &out)
}

// Sell makes one sale.
func (a *AdminClient) Sell(ctx context.Context, s Sale) (checkbox.Receipt, error) {
	var out checkbox.Receipt
	return out, a.call(ctx, http.MethodPost, "sell", s, &out)
}

// Return returns lines of a sale.
func (a *AdminClient) Return(ctx context.Context, saleID string, lines []SaleLine) (checkbox.Receipt, error) {
	var out checkbox.Receipt
	return out, a.call(ctx, http.MethodPost, "return", returnJSON{SaleID: saleID, Lines: lines}, &out)
}

// Goods returns the goods Checkbox holds.
func (a *AdminClient) Goods(ctx context.Context) ([]checkbox.Good, error) {
	var out []checkbox.Good
	return out, a.call(ctx, http.MethodGet, "goods", nil, &out)
}

// Stock returns every good's stock.
func (a *AdminClient) Stock(ctx context.Context) ([]GoodStock, error) {
	var out []GoodStock
	return out, a.call(ctx, http.MethodGet, "stock", nil, &out)
}

// Receipts returns every receipt.
func (a *AdminClient) Receipts(ctx context.Context) ([]checkbox.Receipt, error) {
	var out []checkbox.Receipt
	return out, a.call(ctx, http.MethodGet, "receipts", nil, &out)
}

// Shifts returns every shift.
func (a *AdminClient) Shifts(ctx context.Context) ([]checkbox.ShiftDetail, error) {
	var out []checkbox.ShiftDetail
	return out, a.call(ctx, http.MethodGet, "shifts", nil, &out)
}

// CloseShifts closes every open shift, as Checkbox's automatic closing does.
func (a *AdminClient) CloseShifts(ctx context.Context) error {
	return a.call(ctx, http.MethodPost, "close-shifts", nil, nil)
}

// AddGood makes a good by hand (the API's create payload).
func (a *AdminClient) AddGood(ctx context.Context, payload json.RawMessage) (checkbox.Good, error) {
	var out checkbox.Good
	return out, a.call(ctx, http.MethodPost, "goods", payload, &out)
}

// EditGood changes a good by hand (Emulator.EditGoodByHand): edit is the API's edit payload (nil: none),
// stock the good's stock in thousandths (nil: unchanged).
func (a *AdminClient) EditGood(ctx context.Context, code string, edit json.RawMessage, stock *int64) (checkbox.Good, error) {
	body := map[string]json.RawMessage{}
	if len(edit) > 0 {
		if err := json.Unmarshal(edit, &body); err != nil {
			return checkbox.Good{}, fmt.Errorf("edit good %s: %w", code, err)
		}
	}
	if stock != nil {
		body["count"], _ = json.Marshal(*stock)
	}
	var out checkbox.Good
	return out, a.call(ctx, http.MethodPatch, "goods/"+code, body, &out)
}

// RemoveGood deletes a good by hand.
func (a *AdminClient) RemoveGood(ctx context.Context, code string) error {
	return a.call(ctx, http.MethodDelete, "goods/"+code, nil, nil)
}
