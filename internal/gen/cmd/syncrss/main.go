// Command syncrss measures obmin's catalogue sync and receipts pull end to end: the obmin binary (`obmin
// once`) runs as a child process against the Checkbox emulator, which this program serves with a rate
// limit and a latency of its own, so that the peak resident set size printed belongs to obmin alone (the
// kernel's maxrss of the child) and the calls are those the emulator answered. scripts/bench runs it.
//
//	syncrss -obmin ./obmin -n 100000                      # first load, then 1 % of prices changed
//	syncrss -obmin ./obmin -receipts -registers 50 -per-register 500
//
// Each case prints one line:
//
//	case=first n=100000 calls=… uploads=… polls=… applies=… pages=… lookups=… writes=… leftovers=… receipts=… other=… throttled=… seconds=… peak_rss_mib=… baseline_calls=… baseline_seconds=…
//
// baseline_* is the naive sync worked out, not measured: one call per good and no ledger, so every good
// goes again on every export (at -rps requests a second). peak_rss_mib is n/a off Linux.
//
// It imports internal/gen and checkbox/emulator: it drives the obmin binary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"obmin/checkbox/emulator"
	"obmin/internal/gen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "syncrss:", err)
		os.Exit(1)
	}
}

// Emulator credentials for the child's configuration.
const (
	login    = "syncrss"
	password = "syncrss-password"
)

type options struct {
	obmin             string
	n, reprice        int
	rps, serverRPS    float64
	latency           time.Duration
	dir               string
	receipts          bool
	registers, perReg int
	showCalls         bool
	logLevel          string
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("syncrss", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.obmin, "obmin", "", "the obmin binary to measure (go build ./cmd/obmin)")
	fs.IntVar(&o.n, "n", 10000, "goods in the generated BAS export")
	fs.IntVar(&o.reprice, "reprice", 100, "the incremental export changes the price of every reprice-th good (100: 1 %)")
	fs.Float64Var(&o.rps, "rps", 5, "obmin's client-side limit (checkbox.requests_per_second)")
	fs.Float64Var(&o.serverRPS, "server-rps", 10, "the emulator answers 429 beyond this many requests a second")
	fs.DurationVar(&o.latency, "latency", 20*time.Millisecond, "added to every answer of the emulator")
	fs.StringVar(&o.dir, "dir", "", "working folder; empty: a temporary one, removed at the end")
	fs.BoolVar(&o.receipts, "receipts", false, "measure a chain's day of receipts pulled in one run instead of the catalogue")
	fs.IntVar(&o.registers, "registers", 50, "cash registers, with -receipts")
	fs.IntVar(&o.perReg, "per-register", 500, "receipts per register, with -receipts")
	fs.BoolVar(&o.showCalls, "calls", false, "also print when each kind of call began and ended")
	fs.StringVar(&o.logLevel, "log", "warn", "obmin's log level (its log is obmin.log in the working folder)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.obmin == "" {
		return errors.New("-obmin: the obmin binary to measure is required")
	}
	if o.n <= 0 || o.rps <= 0 {
		return errors.New("-n and -rps must be positive")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.dir == "" {
		dir, err := os.MkdirTemp("", "syncrss-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.dir = dir
	}
	r := &rig{o: o, stdout: stdout}
	if err := r.start(ctx); err != nil {
		return err
	}
	defer r.close()
	if o.receipts {
		return r.receiptsDay(ctx)
	}
	return r.catalogue(ctx)
}

// rig is the emulator, the folders and the configuration obmin runs with.
type rig struct {
	o      options
	stdout io.Writer
	emu    *emulator.Emulator
	stop   func(context.Context) error
	cfg    string
	export string
}

func (r *rig) start(ctx context.Context) error {
	cfg := emulator.Config{Login: login, Password: password, Seed: 12}
	if r.o.receipts {
		cfg.Registers = make([]emulator.Register, r.o.registers)
	}
	r.emu = emulator.New(cfg)
	url, stop, err := r.emu.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		return err
	}
	r.stop = stop
	if r.o.serverRPS > 0 {
		r.emu.SetRateLimit(int(r.o.serverRPS), time.Second)
	}
	if r.o.latency > 0 {
		r.emu.InjectFault(emulator.Fault{Latency: r.o.latency, Times: -1})
	}
	r.export = filepath.Join(r.o.dir, "bas", "export")
	for _, d := range []string{r.export, filepath.Join(r.o.dir, "bas", "orders")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	r.cfg = filepath.Join(r.o.dir, "obmin.yaml")
	yaml := fmt.Sprintf(`spool_dir: %q
state_file: %q
log: {format: text, level: %s, file: %q}
bas:
  export_dir: %q
  orders_file: %q
  poll_interval: 100ms
  min_age: 100ms
checkbox:
  base_url: %q
  login: %q
  requests_per_second: %g
mapping:
  stock: true
  vat: {"20": [1], "7": [2], "0": [3]}
sales:
  first_pull: 48h
schedule:
  retention: "off"
`, filepath.Join(r.o.dir, "spool"), filepath.Join(r.o.dir, "state.db"), r.o.logLevel, filepath.Join(r.o.dir, "obmin.log"),
		r.export, filepath.Join(r.o.dir, "bas", "orders", "orders.xml"), url, login, r.o.rps)
	return os.WriteFile(r.cfg, []byte(yaml), 0o600)
}

func (r *rig) close() {
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.emu.Close()
	_ = r.stop(sctx)
}

// catalogue measures a first load of n goods and then BAS's next export with 1/reprice of the prices
// changed.
func (r *rig) catalogue(ctx context.Context) error {
	if err := r.writeExport(r.o.n, gen.Options{}); err != nil {
		return err
	}
	if err := r.once(ctx, "first", float64(r.o.n)); err != nil {
		return err
	}
	if got := r.emu.CountGoods(); got != r.o.n {
		return fmt.Errorf("first load: %d goods in the emulator, want %d (see %s)", got, r.o.n, filepath.Join(r.o.dir, "obmin.log"))
	}
	if err := r.writeExport(r.o.n, gen.Options{Reprice: r.o.reprice}); err != nil {
		return err
	}
	// Without a ledger every good goes again: the baseline is n calls for any change.
	return r.once(ctx, "incremental", float64(r.o.n))
}

// writeExport is BAS emptying its folder and writing its next export: catalogue and offers of n goods.
func (r *rig) writeExport(n int, opt gen.Options) error {
	dir := filepath.Join(r.export, "webdata - 1")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, write := range map[string]func(io.Writer, int, gen.Options) error{"import.xml": gen.Catalog, "offers.xml": gen.Offers} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := errors.Join(write(f, n, opt), f.Close()); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	// Old enough for the watcher to take at once.
	old := time.Now().Add(-time.Minute)
	for _, name := range []string{"import.xml", "offers.xml"} {
		if err := os.Chtimes(filepath.Join(dir, name), old, old); err != nil {
			return err
		}
	}
	return nil
}

// receiptsDay fills the emulator with a chain's trading day (registers × per-register sales of a
// catalogue of 2,000 goods obmin loaded first) and measures the one run that pulls them all and writes
// the orders file.
func (r *rig) receiptsDay(ctx context.Context) error {
	const goods = 2000
	if err := r.writeExport(goods, gen.Options{}); err != nil {
		return err
	}
	if _, err := r.runOnce(ctx); err != nil {
		return fmt.Errorf("load the catalogue: %w", err)
	}
	if err := os.RemoveAll(filepath.Join(r.export, "webdata - 1")); err != nil {
		return err
	}
	regs := r.emu.Registers()
	rnd := rand.New(rand.NewPCG(3, 4))
	total := len(regs) * r.o.perReg
	open := time.Now().Add(-13 * time.Hour)
	for i := range total {
		s := emulator.Sale{RegisterID: regs[i%len(regs)].ID, At: open.Add(12 * time.Hour * time.Duration(i) / time.Duration(total))}
		if rnd.IntN(2) == 0 {
			s.Payment = "CASHLESS"
		}
		for range 1 + rnd.IntN(4) {
			s.Lines = append(s.Lines, emulator.SaleLine{Code: gen.ItemAt(rnd.IntN(goods), gen.Options{}).Article, Quantity: int64(1000 * (1 + rnd.IntN(2)))})
		}
		if _, err := r.emu.Sell(s); err != nil {
			return fmt.Errorf("sale %d: %w", i, err)
		}
	}
	// The naive pull: one call per receipt (GET /receipts/{id}) besides the search pages.
	r.o.n = total
	if err := r.once(ctx, "receipts-day", float64(total)); err != nil {
		return err
	}
	fi, err := os.Stat(filepath.Join(r.o.dir, "bas", "orders", "orders.xml"))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(r.stdout, "case=receipts-file registers=%d receipts=%d bytes=%d\n", len(regs), total, fi.Size())
	return err
}

// once runs `obmin once` and prints its line; baseline is how many calls the naive way makes.
func (r *rig) once(ctx context.Context, name string, baseline float64) error {
	from := len(r.emu.Calls())
	res, err := r.runOnce(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	calls := r.emu.Calls()[from:]
	c := classify(calls)
	rss := "n/a"
	if res.rssKiB > 0 {
		rss = fmt.Sprintf("%.1f", float64(res.rssKiB)/1024)
	}
	_, err = fmt.Fprintf(r.stdout, "case=%s n=%d calls=%d uploads=%d polls=%d applies=%d pages=%d lookups=%d writes=%d leftovers=%d receipts=%d other=%d throttled=%d seconds=%.1f peak_rss_mib=%s baseline_calls=%.0f baseline_seconds=%.0f\n",
		name, r.o.n, len(calls), c["upload"], c["poll"], c["apply"], c["page"], c["lookup"], c["write"], c["leftovers"], c["receipts"], c["other"], c["throttled"],
		res.wall.Seconds(), rss, baseline, baseline/r.o.rps)
	if r.o.showCalls {
		// When each kind of call began and ended, from the emulator's clock, seconds after the first call.
		first, last := map[string]time.Time{}, map[string]time.Time{}
		for _, cl := range calls {
			k := kind(cl)
			if _, ok := first[k]; !ok {
				first[k] = cl.At
			}
			last[k] = cl.At
		}
		for k, t := range first {
			fmt.Fprintf(r.stdout, "  %-10s %6.1f … %6.1f s\n", k, t.Sub(calls[0].At).Seconds(), last[k].Sub(calls[0].At).Seconds())
		}
	}
	return err
}

// classify counts calls by what they are for.
func classify(calls []emulator.Call) map[string]int {
	c := map[string]int{}
	for _, cl := range calls {
		if cl.Status == 429 {
			c["throttled"]++
		}
		c[kind(cl)]++
	}
	return c
}

// kind is what a call is for.
func kind(cl emulator.Call) string {
	p := cl.Path
	switch {
	case strings.HasPrefix(p, "/api/v1/goods/import/upload"):
		return "upload"
	case strings.HasPrefix(p, "/api/v1/goods/import/task_status/"):
		return "poll"
	case strings.HasPrefix(p, "/api/v1/goods/import/apply_changes/"):
		return "apply"
	case p == "/api/v1/goods" && cl.Method == "GET":
		return "page"
	case strings.HasPrefix(p, "/api/v1/goods/leftovers-by-id"):
		return "leftovers"
	case strings.HasPrefix(p, "/api/v1/goods") && cl.Method == "GET":
		return "lookup"
	case strings.HasPrefix(p, "/api/v1/goods"):
		return "write"
	case strings.HasPrefix(p, "/api/v1/receipts") || strings.HasPrefix(p, "/api/v1/cash-registers"):
		return "receipts"
	}
	return "other"
}

type result struct {
	wall   time.Duration
	rssKiB int64
}

// runOnce runs `obmin once` in a process of its own.
func (r *rig) runOnce(ctx context.Context) (result, error) {
	cmd := exec.CommandContext(ctx, r.o.obmin, "once", "-config", r.cfg)
	cmd.Env = append(os.Environ(), "OBMIN_CHECKBOX_PASSWORD="+password)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	peak := watchPeakRSS(cmd.Process.Pid)
	err := cmd.Wait()
	res := result{wall: time.Since(start), rssKiB: peak()}
	if err != nil {
		return res, fmt.Errorf("obmin once: %w\n%s(log: %s)", err, out.String(), filepath.Join(r.o.dir, "obmin.log"))
	}
	return res, nil
}
