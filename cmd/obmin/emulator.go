package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"obmin/checkbox/emulator"
)

// adminPrefix is where the emulator's control endpoints live, on the same listener as the API. Checkbox has
// no path under it, so nothing a client calls is shadowed.
const adminPrefix = "/_emulator/"

// cmdEmulator runs the Checkbox emulator as a process of its own: for the torture harness and for trying
// obmin against a Checkbox that can be made to fail. It listens on loopback only, prints its base URL on
// stdout and stops on SIGTERM or Ctrl+C.
//
// With OBMIN_EMULATOR_ADMIN_TOKEN set, /_emulator/ answers control calls carrying
// "Authorization: Bearer <token>" (see docs/torture.md); without it, those calls get 404.
func cmdEmulator(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("emulator", stderr)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to listen on")
	login := fs.String("login", envOr(getenv, "OBMIN_EMULATOR_LOGIN", "emulator"), "cashier login (or $OBMIN_EMULATOR_LOGIN)")
	seed := fs.Int64("seed", 1, "seed for ids, keys and fiscal codes")
	tokenTTL := fs.Duration("token-ttl", 8*time.Hour, "lifetime of access tokens")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	password := envOr(getenv, "OBMIN_EMULATOR_PASSWORD", "emulator")
	emu := emulator.New(emulator.Config{Login: *login, Password: password, TokenTTL: *tokenTTL, Seed: *seed})
	defer emu.Close()

	ln, err := listenLoopback(ctx, *listen)
	if err != nil {
		return err
	}
	h := &emulatorAdmin{emu: emu, token: getenv("OBMIN_EMULATOR_ADMIN_TOKEN")}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())

	select {
	case err := <-served:
		return fmt.Errorf("emulator: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	return nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// listenLoopback listens on addr, which must be a loopback address: a fake fiscal service must never be
// reachable from the shop's network.
func listenLoopback(ctx context.Context, addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, usageError{fmt.Sprintf("emulator: -listen %q: %v", addr, err)}
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, usageError{fmt.Sprintf("emulator: -listen %q is not a loopback address", addr)}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: listen on %s: %w", addr, err)
	}
	return ln, nil
}

// emulatorAdmin serves the control endpoints under adminPrefix and passes everything else to the emulator.
type emulatorAdmin struct {
	emu   *emulator.Emulator
	token string
}

// faultJSON is emulator.Fault on the wire, durations in milliseconds.
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
	SaleID string              `json:"sale_id"`
	Lines  []emulator.SaleLine `json:"lines"`
}

type goodStockJSON struct {
	Code  string `json:"code"`
	Stock *int64 `json:"stock"` // thousandths; null when the good has none
}

func (a *emulatorAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, adminPrefix) {
		a.emu.ServeHTTP(w, r)
		return
	}
	if a.token == "" {
		http.NotFound(w, r)
		return
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) != 1 {
		adminReply(w, http.StatusUnauthorized, map[string]string{"message": "admin token required"})
		return
	}
	body := http.MaxBytesReader(w, r.Body, 1<<20)
	decode := func(v any) bool {
		if err := json.NewDecoder(body).Decode(v); err != nil && !errors.Is(err, io.EOF) {
			adminReply(w, http.StatusBadRequest, map[string]string{"message": "bad JSON: " + err.Error()})
			return false
		}
		return true
	}
	ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
	what := r.Method + " " + strings.TrimPrefix(r.URL.Path, adminPrefix)
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
				adminReply(w, http.StatusBadRequest, map[string]string{"message": "count: " + err.Error()})
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
		a.emu.InjectFault(emulator.Fault{
			Method: f.Method, PathPrefix: f.PathPrefix, Status: f.Status, GatewayHTML: f.GatewayHTML, Times: f.Times,
			RetryAfter: ms(f.RetryAfterMS), Latency: ms(f.LatencyMS), DropConnection: f.DropConnection, AfterHandling: f.AfterHandling,
		})
		adminReply(w, http.StatusOK, map[string]string{"ok": "fault injected"})
	case "DELETE faults":
		a.emu.ClearFaults()
		a.emu.SetRateLimit(0, 0)
		adminReply(w, http.StatusOK, map[string]string{"ok": "faults and rate limit cleared"})
	case "POST expire-tokens":
		a.emu.ExpireTokens()
		adminReply(w, http.StatusOK, map[string]string{"ok": "tokens expired"})
	case "POST rate-limit":
		var rl rateJSON
		if !decode(&rl) {
			return
		}
		a.emu.SetRateLimit(rl.N, ms(rl.PerMS))
		adminReply(w, http.StatusOK, map[string]string{"ok": "rate limit set"})
	case "POST sales":
		var s salesJSON
		if !decode(&s) {
			return
		}
		made, err := a.emu.GenerateSales(rand.New(rand.NewPCG(s.Seed, 0x70_27_75_72)), s.N, s.ReturnsEvery)
		a.answer(w, made, err)
	case "POST sell":
		var s emulator.Sale
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
		adminReply(w, http.StatusOK, a.emu.Goods())
	case "POST goods":
		var payload json.RawMessage
		if !decode(&payload) {
			return
		}
		g, err := a.emu.AddGoodByHand(payload)
		a.answer(w, g, err)
	case "GET stock":
		var out []goodStockJSON
		for _, g := range a.emu.Goods() {
			gs := goodStockJSON{Code: g.Code}
			if q, ok := a.emu.Stock(g.Code); ok {
				gs.Stock = &q
			}
			out = append(out, gs)
		}
		adminReply(w, http.StatusOK, out)
	case "GET receipts":
		adminReply(w, http.StatusOK, a.emu.Receipts())
	case "GET shifts":
		adminReply(w, http.StatusOK, a.emu.Shifts())
	case "POST close-shifts":
		a.emu.CloseShifts()
		adminReply(w, http.StatusOK, map[string]string{"ok": "open shifts closed"})
	default:
		adminReply(w, http.StatusNotFound, map[string]string{"message": "no admin call " + what})
	}
}

func (a *emulatorAdmin) answer(w http.ResponseWriter, v any, err error) {
	if err != nil {
		adminReply(w, http.StatusUnprocessableEntity, map[string]string{"message": err.Error()})
		return
	}
	adminReply(w, http.StatusOK, v)
}

func adminReply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
