package torture

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/charmap"

	basemu "obmin/basodata/emulator"
	"obmin/checkbox"
	cbemu "obmin/checkbox/emulator"
	"obmin/commerceml"
	"obmin/exchange"
	"obmin/internal/demo"
	"obmin/store"
)

var (
	flagIterations = flag.Int("torture.iterations", 0, "kill/restart iterations; 0 skips the harness")
	flagSeed       = flag.Uint64("torture.seed", 0, "random seed; 0 takes one from the clock (printed)")
	flagOutage     = flag.Duration("torture.outage", 0, "a Checkbox outage this long in the middle of the run (0: none)")
	flagKeep       = flag.String("torture.dir", "", "work in this folder and keep it (default: a temporary one)")
	flagCheckpoint = flag.Int("torture.checkpoint", 0, "check the invariants mid-run every N iterations (0: only at the end)")
)

const (
	adminToken = "torture-admin-token"
	cbLogin    = "torture-cashier"
	cbPassword = "torture-password"
)

// harness is one run: the processes, the folders and what was done to them.
type harness struct {
	t    *testing.T
	r    *rand.Rand
	dir  string
	bin  string
	cfg  string
	emu  *proc
	app  *proc
	base string

	// BAS's OData side (retail_test.go): the BAS emulator process, its service root and admin client,
	// and the shop's stock in it at the start, by item.
	basProc   *proc
	basRoot   string
	bas       *basemu.AdminClient
	basStock0 map[string]decimal.Decimal
	// basDown is true while BAS answers every request with 503.
	basDown bool

	exportDir, ordersFile, spoolDir, stateFile string

	books  []demo.Book // the catalogue BAS exported last
	lastIn *input      // the last catalogue drop
	// inOutage is true while Checkbox answers every request with 503.
	inOutage bool
	inputs   []*input
	sold     int // handmade-good sales (held receipts)
	// confirmed are the receipts (by id) whose orders an orders export of "BAS" named.
	confirmed map[string]bool
	counter   struct {
		iterations, kills, terms, faults, inputs, checks int
		basFaults, closes, late, reports, heldShifts     int
		// reconciled: runs of obmin reconcile judged (one per day of the run, at each check); reconcileHeld:
		// receipts they reported held, as expected; reconcileDiffs: any other difference (each a violation).
		reconciled, reconcileHeld, reconcileDiffs int
	}
	// stage names where the run is ("iteration 37: ", "checkpoint at iteration 50: "); violations carry it.
	stage      string
	violations []string
}

// input is one folder dropped into BAS's export folder and what must become of it.
type input struct {
	kind  string
	dir   string            // relative to exportDir
	files map[string][]byte // by name
	// expect: "taken" (done/ or failed/), "done", "failed", "waits" (not complete: not taken while it may
	// still change, and in failed/ once unchanged for the bound, incompleteTimeout).
	expect string
	at     time.Time // when it was written
	found  bool
	// reported: a violation about this input was recorded; later checks do not repeat it.
	reported bool
}

// incompleteTimeout is obmin's bas.incomplete_timeout here: an input that never becomes whole must be in
// failed/ once it has been unchanged that long, plus incompleteGrace for a restart's two scans.
const (
	incompleteTimeout = time.Minute
	incompleteGrace   = 30 * time.Second
)

type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

func TestTorture(t *testing.T) {
	if *flagIterations <= 0 {
		t.Skip("the torture harness runs with -torture.iterations=N (scripts/torture)")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the harness kills obmin with SIGKILL and stops it with SIGTERM: POSIX only")
	}
	seed := *flagSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (-torture.seed=%d repeats the choices)", seed, seed)
	h := &harness{t: t, r: rand.New(rand.NewPCG(seed, 5))}
	h.setup()
	h.loop(*flagIterations, *flagOutage, *flagCheckpoint)
	h.stage = "final check: "
	h.settle()
	h.resolveInputs(final)
	h.check()
	h.reconcile()
	c := h.counter
	summary := fmt.Sprintf("torture: iterations=%d kills=%d graceful=%d faults=%d bas_faults=%d inputs=%d shifts_closed=%d late_receipts=%d reports=%d held_shifts=%d checks=%d reconciled=%d reconcile_held=%d reconcile_differences=%d violations=%d seed=%d",
		c.iterations, c.kills, c.terms, c.faults, c.basFaults, c.inputs, c.closes, c.late, c.reports, c.heldShifts, c.checks,
		c.reconciled, c.reconcileHeld, c.reconcileDiffs, len(h.violations), seed)
	fmt.Println(summary)
	if len(h.violations) > 0 {
		for _, v := range h.violations {
			t.Error(v)
		}
		t.Logf("logs and folders: %s", h.dir)
	}
}

func (h *harness) violate(format string, args ...any) {
	h.violations = append(h.violations, time.Now().Format("15:04:05 ")+h.stage+fmt.Sprintf(format, args...))
}

func (h *harness) setup() {
	t := h.t
	h.dir = *flagKeep
	if h.dir == "" {
		h.dir = t.TempDir()
	} else if err := errors.Join(os.RemoveAll(h.dir), os.MkdirAll(h.dir, 0o755)); err != nil {
		t.Fatal(err)
	}
	h.bin = filepath.Join(h.dir, "obmin")
	build := exec.Command("go", "build", "-o", h.bin, "obmin/cmd/obmin")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build obmin: %v\n%s", err, out)
	}
	h.exportDir = filepath.Join(h.dir, "bas", "export")
	h.ordersFile = filepath.Join(h.dir, "bas", "orders.xml")
	h.spoolDir = filepath.Join(h.dir, "spool")
	h.stateFile = filepath.Join(h.dir, "state.db")
	if err := os.MkdirAll(h.exportDir, 0o755); err != nil {
		t.Fatal(err)
	}

	// The emulator, as its own process; its first line on stdout is its base URL.
	emuLog := h.logFile("emulator.log")
	cmd := exec.Command(h.bin, "emulator", "-listen", "127.0.0.1:0", "-login", cbLogin, "-seed", fmt.Sprint(h.r.Int64()))
	cmd.Env = append(os.Environ(), "OBMIN_EMULATOR_PASSWORD="+cbPassword, "OBMIN_EMULATOR_ADMIN_TOKEN="+adminToken)
	cmd.Stderr = emuLog
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.emu = start(t, cmd)
	t.Cleanup(func() { h.emu.stop(syscall.SIGTERM) })
	h.base = strings.TrimSpace(firstLine(t, out))
	if !strings.HasPrefix(h.base, "http://127.0.0.1:") {
		t.Fatalf("emulator URL %q", h.base)
	}
	h.startBAS()

	cfg := fmt.Sprintf(`spool_dir: %q
state_file: %q
log: {format: text, level: info}
bas:
  export_dir: %q
  orders_file: %q
  poll_interval: 100ms
  min_age: 200ms
  incomplete_timeout: %s
  notify: true
  odata:
    url: %q
    user: odata.user
    # Short, so that an answer held back after the write (a fault) runs into it.
    timeout: 3s
    untaxed_rate: без ПДВ
    registers:
      - checkbox: TEST400001
        till: "00-000001"
        terminal: "0000000001"
        card_kinds: {Картка: Visa}
checkbox:
  base_url: %q
  requests_per_second: 200
  workers: 4
  # A drop changing more than 4 goods goes through the goods import file, 3 goods a file: kills land in
  # both ways of sending goods, and between the files of one drop.
  bulk_threshold: 4
  bulk_batch: 3
mapping:
  stock: true
sales:
  # Both channels: the orders file, and a retail sales report per shift in the BAS emulator.
  to: both
  # Orders leave the file when BAS names them in its own export; the harness's runs never add up to this.
  keep_runs: 1000000
  first_pull: 48h
schedule:
  pull_receipts: "@every 1s"
  retention: "off"
  retention_keep: 0s
  retry_drops: 1s
`, h.spoolDir, h.stateFile, h.exportDir, h.ordersFile, incompleteTimeout, h.basRoot, h.base)
	h.cfg = filepath.Join(h.dir, "obmin.yaml")
	if err := os.WriteFile(h.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	h.books = slices.Clone(demo.Books)
	t.Cleanup(func() {
		if h.app != nil {
			h.app.stop(syscall.SIGKILL)
		}
	})
}

func (h *harness) logFile(name string) *os.File {
	f, err := os.OpenFile(filepath.Join(h.dir, name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { f.Close() })
	return f
}

func start(t *testing.T, cmd *exec.Cmd) *proc {
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p
}

// stop signals the process and waits for it; after 30 s it is killed.
func (p *proc) stop(sig syscall.Signal) {
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (h *harness) startApp() {
	if h.app != nil {
		select {
		case <-h.app.done:
			h.violate("obmin exited by itself (see obmin.log)")
		default:
			return
		}
	}
	cmd := exec.Command(h.bin, "run", "-config", h.cfg)
	cmd.Env = h.appEnv()
	log := h.logFile("obmin.log")
	cmd.Stdout, cmd.Stderr = log, log
	h.app = start(h.t, cmd)
}

// appEnv is obmin's environment: the Checkbox account and BAS's OData password.
func (h *harness) appEnv() []string {
	return append(os.Environ(), "OBMIN_CHECKBOX_LOGIN="+cbLogin, "OBMIN_CHECKBOX_PASSWORD="+cbPassword, "OBMIN_BAS_ODATA_PASSWORD="+basPassword)
}

// loop runs the iterations: a few actions, then a kill at a random moment and a restart; every checkEvery
// iterations (0: never), a checkpoint.
func (h *harness) loop(n int, outage time.Duration, checkEvery int) {
	h.startApp()
	// The shop's catalogue is in Checkbox before the till sells anything.
	h.goodDrop()
	if !h.waitTaken(h.lastIn, 90*time.Second, false) {
		h.violate("the first catalogue drop was not applied within 90 s")
	}
	var outageEnd time.Time
	checkDue := false
	// BAS is down for a stretch of iterations in the first half, before the Checkbox outage.
	basDown, basUp := n/4, n/4+max(2, n/8)
	for i := range n {
		h.counter.iterations++
		h.stage = fmt.Sprintf("iteration %d: ", i+1)
		switch {
		case i == basDown && basUp < n/2:
			h.basOutage()
			h.basDown = true
			h.t.Logf("iteration %d: BAS outage until iteration %d", i+1, basUp)
		case i == basUp && h.basDown:
			h.basRecover()
			h.basDown = false
		}
		if outage > 0 && i == n/2 {
			h.fault(cbemu.Fault{Status: 503, Times: -1})
			outageEnd = time.Now().Add(outage)
			h.t.Logf("iteration %d: Checkbox outage for %s", i+1, outage)
		}
		if !outageEnd.IsZero() && time.Now().After(outageEnd) {
			h.must(h.admin().ClearFaults(context.Background()))
			outageEnd = time.Time{}
		}
		h.inOutage = !outageEnd.IsZero()
		inOutage := h.inOutage
		for range 1 + h.r.IntN(3) {
			switch k := h.r.IntN(12); {
			case k < 2:
				h.goodDrop()
			case k < 4:
				h.badInput()
			case k < 7:
				h.sales()
			case k == 7:
				h.closeShifts()
			case k == 8:
				if !h.basDown {
					h.basFault()
				}
			default:
				if !inOutage {
					h.randomFault()
				}
			}
		}
		h.resolveInputs(noting)
		time.Sleep(time.Duration(h.r.IntN(1500)) * time.Millisecond)
		if h.r.IntN(8) == 0 {
			h.app.stop(syscall.SIGTERM)
			h.counter.terms++
		} else {
			h.app.stop(syscall.SIGKILL)
			h.counter.kills++
		}
		h.app = nil
		h.startApp()
		// Outages run their length even when the iterations end first.
		for inOutage && i == n-1 && time.Now().Before(outageEnd) {
			time.Sleep(time.Second)
		}
		// A checkpoint falls due every checkEvery iterations. It waits for the end of the planned outage
		// (clearing the faults would cut it short), and the last iteration leaves it to the final check.
		checkDue = checkDue || checkEvery > 0 && (i+1)%checkEvery == 0
		if checkDue && outageEnd.IsZero() && i < n-1 {
			h.checkpoint(i + 1)
			checkDue = false
		}
	}
	if !outageEnd.IsZero() {
		h.must(h.admin().ClearFaults(context.Background()))
	}
	h.inOutage = false
}

// admin is the emulator's control API.
func (h *harness) admin() *cbemu.AdminClient {
	return &cbemu.AdminClient{BaseURL: h.base, Token: adminToken}
}

// must fails the run when a control call failed.
func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

// errOf is a call's error, its answer dropped.
func errOf[T any](_ T, err error) error { return err }

func (h *harness) fault(f cbemu.Fault) {
	h.must(h.admin().InjectFault(context.Background(), f))
	h.counter.faults++
}

func (h *harness) randomFault() {
	switch h.r.IntN(8) {
	case 0: // a burst of server errors, some from the gateway in front of the service
		h.fault(cbemu.Fault{Status: []int{500, 502, 503, 504}[h.r.IntN(4)], GatewayHTML: h.r.IntN(2) == 0, Times: 2 + h.r.IntN(6)})
	case 1: // a burst of 429s
		h.fault(cbemu.Fault{Status: 429, RetryAfter: time.Second, Times: 2 + h.r.IntN(4)})
	case 2: // slow answers
		h.fault(cbemu.Fault{Latency: time.Duration(300+h.r.IntN(2000)) * time.Millisecond, Times: 2 + h.r.IntN(8)})
	case 3: // an answer that never comes (the client times out, or obmin is killed first)
		h.fault(cbemu.Fault{Latency: time.Minute, Times: 1})
	case 4: // the connection drops
		h.fault(cbemu.Fault{DropConnection: true, Times: 1 + h.r.IntN(3)})
	case 5: // the good is created or changed, but its answer is lost
		h.fault(cbemu.Fault{Method: []string{"POST", "PUT"}[h.r.IntN(2)], PathPrefix: "/api/v1/goods", Status: 502, AfterHandling: true, Times: 1})
	case 6: // tokens expire
		h.must(h.admin().ExpireTokens(context.Background()))
		h.counter.faults++
	case 7: // a rate limit for a while (cleared with the other faults)
		h.must(h.admin().SetRateLimit(context.Background(), 5, time.Second))
		h.counter.faults++
	}
}

// newPrices changes the catalogue as BAS does between exports: prices and stock, now and then a name.
func (h *harness) newPrices() {
	for i := range h.books {
		b := &h.books[i]
		if b.NoPrice || h.r.IntN(3) == 0 {
			continue
		}
		b.Price = fmt.Sprintf("%d.%02d", 10+h.r.IntN(900), h.r.IntN(100))
		if b.Weight {
			b.Stock = fmt.Sprintf("%d.%03d", h.r.IntN(20), h.r.IntN(1000))
		} else {
			b.Stock = fmt.Sprint(h.r.IntN(50))
		}
		if h.r.IntN(10) == 0 {
			b.Name = strings.SplitN(demo.Books[i].Name, " (вид.", 2)[0] + fmt.Sprintf(" (вид. %d)", 1+h.r.IntN(9))
		}
	}
}

// goodDrop writes BAS's next catalogue export, after the previous one was taken (BAS exports every few
// minutes; obmin must take each one before the next empties the folder). Now and then BAS also writes its
// orders export confirming what the orders file holds, or writes a file slowly.
func (h *harness) goodDrop() {
	if h.lastIn != nil && !h.waitTaken(h.lastIn, 30*time.Second, true) {
		h.violate("catalogue drop %s was not taken within 30 s while obmin ran", h.lastIn.dir)
	}
	// BAS exports every few minutes, and applying an export takes seconds: unless Checkbox is down, the
	// previous export is applied before the next one comes. After an outage the drops taken meanwhile go
	// first, each taking seconds (more with slow answers), hence the generous limit.
	if h.lastIn != nil && !h.inOutage && !h.waitTaken(h.lastIn, 5*time.Minute, false) {
		h.violate("catalogue drop %s was not applied within 5 minutes while Checkbox answered", h.lastIn.dir)
	}
	h.newPrices()
	at := time.Now()
	in := &input{kind: "catalogue", dir: demo.FolderName, expect: "done", files: map[string][]byte{
		"import.xml": demo.Catalog(h.books, at), "offers.xml": demo.Offers(h.books, at),
	}}
	if h.r.IntN(3) == 0 {
		if docs, err := h.fileOrders(); err == nil && len(docs) > 0 {
			// BAS's orders keep the Номер, Дата, Время, Сумма and Комментарий of the documents it loaded.
			var orders []demo.Order
			for _, d := range docs {
				orders = append(orders, demo.Order{Number: d.Number, Sum: d.Total.StringFixed(2), Comment: d.Comment, At: d.Time})
				if h.confirmed == nil {
					h.confirmed = map[string]bool{}
				}
				h.confirmed[d.ID] = true
			}
			in.files["orders-5d0e_1.xml"] = demo.OrdersExportOf(orders, at)
		}
	}
	dir := filepath.Join(h.exportDir, in.dir)
	if err := os.RemoveAll(dir); err != nil {
		h.t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		h.t.Fatal(err)
	}
	slow := h.r.IntN(4) == 0
	for _, name := range sortedKeys(in.files) {
		data := in.files[name]
		if slow { // still being written: half now, the rest after the minimum age has passed
			cut := len(data) / 2
			writeFile(h.t, filepath.Join(dir, name), data[:cut])
			time.Sleep(time.Duration(300+h.r.IntN(500)) * time.Millisecond)
			f, err := os.OpenFile(filepath.Join(dir, name), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				h.t.Fatal(err)
			}
			if _, err := f.Write(data[cut:]); err != nil {
				h.t.Fatal(err)
			}
			f.Close()
			continue
		}
		writeFile(h.t, filepath.Join(dir, name), data)
	}
	if slow {
		in.kind += " (written slowly)"
	}
	h.lastIn = in
	h.inputs = append(h.inputs, in)
	h.counter.inputs++
}

// badInput drops a bad or tricky folder beside BAS's export.
func (h *harness) badInput() {
	n := h.counter.inputs
	at := time.Now()
	cat := demo.Catalog(h.books, at)
	utf8Decl := []byte(`encoding="UTF-8"`)
	var in *input
	switch h.r.IntN(9) {
	case 0:
		in = &input{kind: "not XML", expect: "failed", files: map[string][]byte{"import.xml": []byte("це не XML, а текст\r\n</КоммерческаяИнформация>\r\n")}}
	case 1:
		in = &input{kind: "zip bytes named .xml", expect: "failed", files: map[string][]byte{"import.xml": []byte("PK\x03\x04 zip, not xml")}}
	case 2:
		in = &input{kind: "truncated", expect: "waits", files: map[string][]byte{"import.xml": cat[:len(cat)/3+h.r.IntN(len(cat)/3)]}}
	case 3:
		in = &input{kind: "empty", expect: "waits", files: map[string][]byte{"import.xml": {}}}
	case 4: // says windows-1251, holds UTF-8: the Cyrillic element names do not survive, so it must fail
		in = &input{kind: "windows-1251 declared, UTF-8 inside", expect: "failed", files: map[string][]byte{"import.xml": bytes.Replace(cat, utf8Decl, []byte(`encoding="windows-1251"`), 1)}}
	case 8: // says UTF-8, holds windows-1251 bytes
		cp, err := charmap.Windows1251.NewEncoder().Bytes(bytes.TrimPrefix(cat, []byte("\ufeff")))
		if err != nil {
			h.t.Fatal(err)
		}
		in = &input{kind: "UTF-8 declared, windows-1251 inside", expect: "failed", files: map[string][]byte{"import.xml": cp}}
	case 5: // a reserved Windows device name
		in = &input{kind: "name con.xml", expect: "failed", files: map[string][]byte{"con.xml": cat}}
	case 6: // brackets in the file name
		in = &input{kind: "name with brackets", expect: "failed", files: map[string][]byte{"import[1].xml": cat}}
	case 7: // dots and brackets in the folder name; the file itself is fine
		in = &input{kind: "folder ..[копія] (1)..", expect: "done", files: map[string][]byte{"import.xml": cat}}
	}
	// Each input's content is its own, so finding it in the spool by content says where this one went.
	for name, data := range in.files {
		in.files[name] = bytes.Replace(data, []byte("<КоммерческаяИнформация "), []byte(fmt.Sprintf("<!-- input %d -->\n<КоммерческаяИнформация ", n)), 1)
	}
	in.at = at
	in.dir = fmt.Sprintf("bad-%03d", n)
	if strings.HasPrefix(in.kind, "folder") {
		in.dir = fmt.Sprintf("x..[копія] (%d)..y", n)
	}
	for name, data := range in.files {
		writeFile(h.t, filepath.Join(h.exportDir, in.dir, name), data)
	}
	h.inputs = append(h.inputs, in)
	h.counter.inputs++
}

func writeFile(t *testing.T, path string, data []byte) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// sales makes receipts at the till: a batch with returns, an offline sale, or a good typed in by hand.
func (h *harness) sales() {
	goods, err := h.admin().Goods(context.Background())
	h.must(err)
	if len(goods) == 0 {
		return
	}
	switch h.r.IntN(7) {
	case 6:
		h.lateReceipt(goods)
	case 0:
		h.must(errOf(h.admin().Sell(context.Background(), cbemu.Sale{Offline: true, At: time.Now().Add(-time.Duration(1+h.r.IntN(20)) * time.Hour),
			Lines: []cbemu.SaleLine{{Code: goods[h.r.IntN(len(goods))].Code, Quantity: 1000}}})))
	case 1:
		if h.sold < 2 {
			h.must(errOf(h.admin().Sell(context.Background(), cbemu.Sale{Payment: "CASHLESS",
				Lines: []cbemu.SaleLine{{Code: "PK-1", Name: "Пакет паперовий", Price: 500, Quantity: 1000}}})))
			h.sold++
		}
	default:
		h.must(errOf(h.admin().GenerateSales(context.Background(), 1+h.r.IntN(5), 3, h.r.Uint64())))
	}
}

// spoolIndex maps the SHA-256 of every file under the spool's inbox, processing, done and failed folders to
// the drop folders holding it.
func (h *harness) spoolIndex() map[string][]string {
	idx := map[string][]string{}
	for _, top := range []string{"inbox", "processing", "done", "failed"} {
		root := filepath.Join(h.spoolDir, top)
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			idx[sum(b)] = append(idx[sum(b)], filepath.Dir(p))
			return nil
		})
	}
	return idx
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// where says which spool folders hold every file of in, or nil.
func (in *input) where(idx map[string][]string) []string {
	var dirs []string
	for i, name := range sortedKeys(in.files) {
		got := idx[sum(in.files[name])]
		if i == 0 {
			dirs = got
			continue
		}
		dirs = slices.DeleteFunc(slices.Clone(dirs), func(d string) bool { return !slices.Contains(got, d) })
	}
	return dirs
}

// waitTaken waits until obmin has taken in into its spool (anyWhere) or finished it (done/ or failed/).
func (h *harness) waitTaken(in *input, limit time.Duration, anyWhere bool) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		for _, d := range in.where(h.spoolIndex()) {
			rel, _ := filepath.Rel(h.spoolDir, d)
			if top := strings.Split(filepath.ToSlash(rel), "/")[0]; anyWhere || top == "done" || top == "failed" {
				return true
			}
		}
		h.startApp()
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// resolveMode says what resolveInputs may demand of the inputs.
type resolveMode int

const (
	// noting: obmin is at work; the inputs that arrived are noted, nothing is demanded.
	noting resolveMode = iota
	// midRun: obmin caught up and was stopped gracefully at a checkpoint. An input still in inbox/ or
	// processing/ is pending: obmin goes on with it after the restart, and a later check sees where it
	// ended. Anything else is demanded as at the end.
	midRun
	// final: the run is over; every complete input must be where it belongs.
	final
)

// resolveInputs notes the stray folders obmin took into done/ or failed/, or described in failed/, and
// removes them from BAS's folder as staff would; midRun and final report those that went wrong, each input
// once.
func (h *harness) resolveInputs(mode resolveMode) {
	idx := h.spoolIndex()
	notes := h.failedNotes()
	for _, in := range h.inputs {
		if in.found || in.reported || in.dir == demo.FolderName && mode == noting {
			continue
		}
		bad := func(format string, args ...any) {
			if mode != noting {
				h.violate(format, args...)
				in.reported = true
			}
		}
		dirs := in.where(idx)
		var settled []string
		pending := false
		for _, d := range dirs {
			rel, _ := filepath.Rel(h.spoolDir, d)
			top := strings.Split(filepath.ToSlash(rel), "/")[0]
			switch {
			case top == "done":
				settled = append(settled, "done")
			case top == "failed":
				if _, err := os.Stat(d + ".error.txt"); err == nil {
					settled = append(settled, "failed")
				} else {
					bad("%s input %s: in %s without an .error.txt reason", in.kind, in.dir, d)
				}
			case top == "inbox" || top == "processing":
				pending = mode == midRun
			}
		}
		if len(settled) == 0 {
			// A file obmin may not copy under its own name must at least be named in a reason.
			for _, name := range sortedKeys(in.files) {
				for _, n := range notes {
					if strings.Contains(n, name) && strings.Contains(n, in.dir) {
						settled = append(settled, "failed")
					}
				}
			}
		}
		expect := in.expect
		if expect == "waits" && time.Since(in.at) >= incompleteTimeout+incompleteGrace {
			expect = "failed" // unchanged past the bound: given up
		}
		switch {
		case expect == "waits":
			if len(dirs) > 0 && (time.Since(in.at) < incompleteTimeout || slices.Contains(settled, "done")) {
				bad("%s input %s was taken into %v; it should wait for BAS to finish it, then fail", in.kind, in.dir, dirs)
			}
			if len(settled) == 0 {
				continue
			}
		case len(settled) == 0:
			if !pending {
				bad("%s input %s is in neither done/ nor failed/ (spool: %v)", in.kind, in.dir, dirs)
			}
			continue
		case expect != "taken" && expect != "waits" && !slices.Contains(settled, expect):
			bad("%s input %s: want it in %s/, found in %v", in.kind, in.dir, expect, settled)
			continue
		}
		in.found = true
		if in.dir != demo.FolderName {
			_ = os.RemoveAll(filepath.Join(h.exportDir, in.dir))
		}
	}
}

func (h *harness) failedNotes() []string {
	paths, _ := filepath.Glob(filepath.Join(h.spoolDir, "failed", "*.error.txt"))
	var out []string
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			out = append(out, string(b))
		}
	}
	return out
}

// checkpoint pauses the chaos after the given iteration: obmin catches up and stops as at the end, the
// invariants are checked, and obmin starts again.
func (h *harness) checkpoint(iteration int) {
	began, before := time.Now(), len(h.violations)
	h.stage = fmt.Sprintf("checkpoint at iteration %d: ", iteration)
	h.settle()
	h.resolveInputs(midRun)
	h.check()
	h.reconcile()
	h.startApp()
	h.t.Logf("checkpoint at iteration %d: %d violations, %s", iteration, len(h.violations)-before, time.Since(began).Round(time.Second))
}

// settle ends the faults, lets BAS export once more and confirm, and waits until obmin has caught up;
// then stops it gracefully. (Sales move Checkbox's stock away from BAS's last figures: only BAS's next
// export brings them back, hence the export.)
func (h *harness) settle() {
	h.must(h.admin().ClearFaults(context.Background()))
	h.basRecover()
	h.basDown = false
	h.closeShifts()
	h.startApp()
	h.goodDrop()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		h.startApp()
		idle := h.lastIn.where(h.spoolIndex()) != nil && h.spoolEmpty("inbox") && h.spoolEmpty("processing")
		if idle && h.ordersComplete() && h.reportsComplete() {
			break
		}
		if time.Now().After(deadline) {
			h.violate("obmin did not catch up within 3 minutes after the faults ended")
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // one more pull and one more scan
	h.app.stop(syscall.SIGTERM)
	if h.app.err != nil {
		h.violate("obmin's graceful stop: %v", h.app.err)
	}
	h.app = nil
}

func (h *harness) spoolEmpty(name string) bool {
	entries, err := os.ReadDir(filepath.Join(h.spoolDir, name))
	return err == nil && len(entries) == 0
}

// expectedReceipts returns, by receipt id, the sales whose orders must reach the orders file, those that
// must be held (a good BAS never exported) and the returns (listed for staff, never an order).
func (h *harness) expectedReceipts() (sales, held, returns map[string]checkbox.Receipt) {
	all, err := h.admin().Receipts(context.Background())
	h.must(err)
	sales, held, returns = map[string]checkbox.Receipt{}, map[string]checkbox.Receipt{}, map[string]checkbox.Receipt{}
	codes := map[string]bool{}
	for _, b := range h.books {
		codes[b.Article] = true
	}
	for _, r := range all {
		if r.Status != checkbox.StatusDone {
			continue
		}
		switch r.Type {
		case checkbox.ReceiptReturn:
			returns[r.ID] = r
			continue
		case checkbox.ReceiptSell:
		default:
			continue
		}
		known := true
		for _, l := range r.Goods {
			known = known && codes[l.Good.Code]
		}
		if known {
			sales[r.ID] = r
		} else {
			held[r.ID] = r
		}
	}
	return sales, held, returns
}

// fileOrders reads the orders file's documents.
func (h *harness) fileOrders() ([]commerceml.Document, error) {
	f, err := os.Open(h.ordersFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var docs []commerceml.Document
	_, err = commerceml.Read(f, "orders.xml", commerceml.Handler{Document: func(d commerceml.Document) error {
		docs = append(docs, d)
		return nil
	}})
	return docs, err
}

func (h *harness) ordersComplete() bool {
	sales, _, _ := h.expectedReceipts()
	docs, err := h.fileOrders()
	if err != nil {
		return len(sales) == 0
	}
	have := map[string]bool{}
	for _, d := range docs {
		have[d.ID] = true
	}
	for id := range sales {
		if !have[id] && !h.confirmed[id] {
			return false
		}
	}
	return true
}

// check tests the invariants on the folders, the emulator and the ledger, with obmin stopped.
func (h *harness) check() {
	h.counter.checks++
	h.checkReceipts()
	h.checkGoods()
	h.checkTemp()
	h.checkLedger()
	h.checkReports()
}

// checkReceipts: every sale is in the orders file once, or BAS has it (confirmed by its export); a return is
// never an order and is listed for staff; a held receipt is described in held/.
func (h *harness) checkReceipts() {
	sales, held, returns := h.expectedReceipts()
	docs, err := h.fileOrders()
	if err != nil && len(sales) > 0 {
		h.violate("orders file %s: %v", h.ordersFile, err)
		return
	}
	st, err := store.Open(context.Background(), h.stateFile)
	if err != nil {
		h.violate("open the state: %v", err)
		return
	}
	defer st.Close()
	count := map[string]int{}
	for _, d := range docs {
		count[d.ID]++
	}
	for id, c := range count {
		_, ok := sales[id]
		switch {
		case c > 1:
			h.violate("receipt %s is %d times in the orders file", id, c)
		case !ok:
			h.violate("the orders file holds %s, which is no sale of the emulator (or must be held)", id)
		}
	}
	for id, r := range sales {
		if count[id] > 0 {
			continue
		}
		rec, ok, err := st.Receipt(context.Background(), id)
		if err != nil || !ok || (rec.State != exchange.StateConfirmed && rec.State != exchange.StateDelivered) {
			h.violate("sale %s (%s) is neither in the orders file nor held by BAS: %+v %v", id, r.FiscalCode, rec.State, err)
		}
	}
	for _, r := range held {
		if _, err := os.Stat(filepath.Join(h.spoolDir, "held", r.FiscalCode+".txt")); err != nil {
			h.violate("receipt %s of a good BAS never exported is not described in held/: %v", r.ID, err)
		}
	}
	list, _ := os.ReadFile(filepath.Join(filepath.Dir(h.ordersFile), "returns.txt"))
	for _, r := range returns {
		if !strings.Contains(string(list), r.FiscalCode) {
			h.violate("return %s (%s) is not listed for staff in returns.txt", r.ID, r.FiscalCode)
		}
	}
	h.t.Logf("receipts: %d in the orders file, %d held, %d returns", len(docs), len(held), len(returns))
}

func (h *harness) checkGoods() {
	goods, err := h.admin().Goods(context.Background())
	h.must(err)
	stock, err := h.admin().Stock(context.Background())
	h.must(err)
	byCode := map[string][]checkbox.Good{}
	for _, g := range goods {
		byCode[g.Code] = append(byCode[g.Code], g)
	}
	stockOf := map[string]*int64{}
	for _, s := range stock {
		stockOf[s.Code] = s.Stock
	}
	for _, b := range h.books {
		gs := byCode[b.Article]
		delete(byCode, b.Article)
		if b.NoPrice {
			if len(gs) > 0 {
				h.violate("good %s has no retail price in BAS but is in Checkbox", b.Article)
			}
			continue
		}
		if len(gs) != 1 {
			h.violate("good %s is %d times in Checkbox, want once", b.Article, len(gs))
			continue
		}
		g := gs[0]
		if g.Name != b.Name || g.Price != kopecks(b.Price) || g.Barcode != b.Barcode {
			h.violate("good %s in Checkbox: %q %d %q; the last catalogue says %q %s %q", b.Article, g.Name, g.Price, g.Barcode, b.Name, b.Price, b.Barcode)
		}
		if st := stockOf[b.Article]; st == nil {
			h.violate("good %s: no stock in Checkbox, the last offers say %s", b.Article, b.Stock)
		} else if *st != thousandths(b.Stock) {
			h.violate("good %s: stock in Checkbox %d thousandths, the last offers say %s", b.Article, *st, b.Stock)
		}
	}
	for code := range byCode {
		h.violate("good %s is in Checkbox but in no catalogue", code)
	}
}

// kopecks and thousandths read BAS's decimal strings ("365.05", "7.014") in base 10; fmt's scanning would
// take "014" for an octal number.
func kopecks(s string) int64 { return fixed(s, 2) }

func thousandths(s string) int64 { return fixed(s, 3) }

func fixed(s string, places int) int64 {
	whole, frac, _ := strings.Cut(s, ".")
	frac = (frac + strings.Repeat("0", places))[:places]
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	scale := int64(1)
	for range places {
		scale *= 10
	}
	return w*scale + f
}

func TestFixed(t *testing.T) {
	for _, tt := range []struct {
		s      string
		places int
		want   int64
	}{{"7.014", 3, 7014}, {"18", 3, 18000}, {"0.5", 3, 500}, {"365.05", 2, 36505}, {"960.00", 2, 96000}, {"12.7", 2, 1270}} {
		if got := fixed(tt.s, tt.places); got != tt.want {
			t.Errorf("fixed(%q, %d) = %d, want %d", tt.s, tt.places, got, tt.want)
		}
	}
}

// checkTemp looks for temporary files a kill left behind and nobody removed.
func (h *harness) checkTemp() {
	for _, root := range []string{h.spoolDir, filepath.Dir(h.ordersFile)} {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() {
				if rel == "tmp" {
					if entries, _ := os.ReadDir(p); len(entries) > 0 {
						h.violate("%s holds %d entries after a clean stop", p, len(entries))
					}
				}
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") && strings.HasSuffix(d.Name(), ".tmp") {
				h.violate("temporary file left behind: %s", p)
			}
			return nil
		})
	}
}

// checkLedger compares the state database with the emulator and the orders file.
func (h *harness) checkLedger() {
	ctx := context.Background()
	st, err := store.Open(ctx, h.stateFile)
	if err != nil {
		h.violate("open the state: %v", err)
		return
	}
	defer st.Close()
	goods, err := h.admin().Goods(context.Background())
	h.must(err)
	price := map[string]int64{}
	for _, g := range goods {
		price[g.Code] = g.Price
	}
	err = st.ForEachGood(ctx, func(g store.GoodRecord) error {
		if g.PushedHash == "" {
			return nil
		}
		if p, ok := price[g.Code]; !ok {
			h.violate("ledger: good %s pushed, but not in Checkbox", g.Code)
		} else if p != g.PushedPrice {
			h.violate("ledger: good %s pushed at %d, Checkbox has %d", g.Code, g.PushedPrice, p)
		}
		return nil
	})
	if err != nil {
		h.violate("ledger goods: %v", err)
	}
	sales, held, _ := h.expectedReceipts()
	docs, _ := h.fileOrders()
	inFile := map[string]bool{}
	for _, d := range docs {
		inFile[d.ID] = true
	}
	for _, set := range []map[string]checkbox.Receipt{sales, held} {
		for id := range set {
			if _, ok, err := st.Receipt(ctx, id); err != nil || !ok {
				h.violate("ledger: receipt %s unknown: %v", id, err)
			}
		}
	}
	if err := st.ReceiptsInState(ctx, exchange.StatePending, func(r store.ReceiptRecord) error {
		if !inFile[r.ID] {
			h.violate("ledger: receipt %s is pending but not in the orders file", r.ID)
		}
		return nil
	}); err != nil {
		h.violate("ledger receipts: %v", err)
	}
	for _, state := range []store.ReceiptState{exchange.StateConfirmed, exchange.StateDelivered} {
		if err := st.ReceiptsInState(ctx, state, func(r store.ReceiptRecord) error {
			if inFile[r.ID] {
				h.violate("ledger: receipt %s is %s but still in the orders file", r.ID, state)
			}
			return nil
		}); err != nil {
			h.violate("ledger receipts: %v", err)
		}
	}
	if err := st.ReceiptsInState(ctx, exchange.StateHeld, func(r store.ReceiptRecord) error {
		if _, ok := held[r.ID]; !ok {
			h.violate("ledger: receipt %s held, but all its goods are in the catalogue", r.ID)
		}
		return nil
	}); err != nil {
		h.violate("ledger receipts: %v", err)
	}
}
