package exchange_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/checkbox/emulator"
	"obmin/drop"
	"obmin/exchange"
	"obmin/folder"
	"obmin/internal/demo"
	"obmin/watch"
)

// Found by the torture harness (internal/torture): a drop holding a file the spool may not take under its
// own name (con.xml, brackets) was retried on every scan, forever, and never reached failed/ with a reason.
func TestDropWithBadFileNameIsRejectedOnceWithReason(t *testing.T) {
	for _, name := range []string{"con.xml", "import[1].xml", "LPT1.xml"} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, nil)
			bad := filepath.Join(r.export, "bad-folder")
			if err := os.MkdirAll(bad, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(bad, name), demo.Catalog(demo.Books, time.Now()), 0o644); err != nil {
				t.Fatal(err)
			}
			r.drop(demo.Books, time.Now())
			r.passFails("refused", "bad-folder", "failed/") // the good drop is applied; the pass says which was not

			counts, _ := r.spool.Counts()
			if counts["failed"] != 1 || counts["done"] != 1 {
				t.Fatalf("spool %v: want the bad drop in failed/, the good one in done/", counts)
			}
			notes, _ := filepath.Glob(filepath.Join(r.spool.Dir("failed"), "*.error.txt"))
			if len(notes) != 1 {
				t.Fatalf("want one reason in failed/, got %v", notes)
			}
			note, _ := os.ReadFile(notes[0])
			for _, want := range []string{"bad-folder/" + name, "bad-folder"} {
				if !strings.Contains(string(note), want) {
					t.Errorf("the reason should name %q:\n%s", want, note)
				}
			}
			if _, err := os.Stat(filepath.Join(bad, name)); err != nil {
				t.Errorf("BAS's file must stay where it is: %v", err)
			}

			// A restart (a new watcher over the same state) does not reject the same files again.
			r.agent.Watcher = newWatcher(t, r.export)
			r.passFails("refused before and is still there")
			if counts, _ := r.spool.Counts(); counts["failed"] != 1 {
				t.Errorf("after a restart: %v; the same rejected drop must not pile up in failed/", counts)
			}
			// A changed file is a new drop, judged again.
			if err := os.WriteFile(filepath.Join(bad, name), demo.Catalog(demo.Books[:2], time.Now()), 0o644); err != nil {
				t.Fatal(err)
			}
			r.passFails("refused")
			if counts, _ := r.spool.Counts(); counts["failed"] != 2 {
				t.Errorf("after BAS rewrote the file: %v, want a second failed drop", counts)
			}
		})
	}
}

func newWatcher(t *testing.T, dir string) *watch.Watcher {
	t.Helper()
	log := logrus.New()
	log.SetOutput(io.Discard)
	w, err := watch.New(watch.Config{Source: folder.LocalDir(dir), Interval: 10 * time.Millisecond, MinAge: time.Millisecond, Logger: logrus.NewEntry(log)})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// brokenTarget is BAS's real orders folder, which can be made to fail as a full disk (ENOSPC) or a
// read-only mount (EROFS) does. Running as root, chmod cannot make a folder read-only, so the fault is
// injected here, below the exchange code, exactly where the operating system would report it.
type brokenTarget struct {
	folder.Target
	mu  sync.Mutex
	err error
}

func (b *brokenTarget) set(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.err = err
}

func (b *brokenTarget) WriteFile(ctx context.Context, name string, data []byte) error {
	if err := b.fault(name); err != nil {
		return err
	}
	return b.Target.WriteFile(ctx, name, data)
}

func (b *brokenTarget) WriteFrom(ctx context.Context, name string, write func(io.Writer) error) error {
	if err := b.fault(name); err != nil {
		return err
	}
	return b.Target.WriteFrom(ctx, name, write)
}

func (b *brokenTarget) fault(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return &os.PathError{Op: "write", Path: filepath.Join(b.Target.String(), "."+name+".123.tmp"), Err: b.err}
	}
	return nil
}

// A full disk or a read-only orders folder stops the job with an error naming the file and the cause; no
// receipt is lost, and the next run after the cause is gone writes them all, by itself.
func TestFullDiskOrReadOnlyOrdersFolderResumes(t *testing.T) {
	for _, cause := range []syscall.Errno{syscall.ENOSPC, syscall.EROFS} {
		t.Run(cause.Error(), func(t *testing.T) {
			var target *brokenTarget
			r := newRig(t, func(_ *exchange.Mapping, sc *exchange.SalesConfig) {
				target = &brokenTarget{Target: sc.Out}
				sc.Out = target
			})
			ctx := context.Background()
			r.drop(demo.Books, time.Now())
			r.pass()
			if _, err := r.emu.GenerateSales(rand.New(rand.NewPCG(3, 4)), 6, 3); err != nil {
				t.Fatal(err)
			}

			target.set(cause)
			_, err := r.agent.PullReceipts(ctx)
			if err == nil || !errors.Is(err, cause) || !strings.Contains(err.Error(), "orders.xml") {
				t.Fatalf("pull with the orders folder failing: %v; want an error naming orders.xml and %v", err, cause)
			}
			last, ok, _ := r.store.LastJob(ctx, "pull-receipts")
			if !ok || !strings.Contains(last.Err, cause.Error()) {
				t.Errorf("the job's record must carry the cause: %+v", last)
			}
			// A drop arriving meanwhile is applied to Checkbox but cannot finish: it stays for a retry,
			// never in failed/ (the drop is fine; the disk is not).
			r.drop(demo.Books[:3], time.Now())
			if err := r.agent.Once(ctx, 5*time.Millisecond); err == nil {
				t.Fatal("a pass with the orders folder failing must report it")
			}
			if counts, _ := r.spool.Counts(); counts["failed"] != 0 || counts["processing"] != 1 {
				t.Fatalf("spool %v: the drop must wait in processing/", counts)
			}

			target.set(nil) // space freed, the folder writable again
			if err := r.agent.ProcessDrops(ctx); err != nil {
				t.Fatalf("drops after the cause is gone: %v", err)
			}
			if _, err := r.agent.PullReceipts(ctx); err != nil {
				t.Fatalf("pull after the cause is gone: %v", err)
			}
			docs := r.ordersFile()
			sales := 0
			for _, rc := range r.emu.Receipts() {
				if rc.Type == "SELL" {
					sales++
				}
			}
			if len(docs) != sales {
				t.Errorf("orders file holds %d documents, the emulator %d sales", len(docs), sales)
			}
			if counts, _ := r.spool.Counts(); counts["processing"] != 0 || counts["done"] != 2 {
				t.Errorf("spool after recovery: %v", counts)
			}
		})
	}
}

// The service itself resumes: Run's scheduled pull writes the orders file once the folder is writable
// again, with nobody restarting obmin.
func TestRunResumesAfterDiskFault(t *testing.T) {
	var target *brokenTarget
	r := newRig(t, func(_ *exchange.Mapping, sc *exchange.SalesConfig) {
		target = &brokenTarget{Target: sc.Out}
		sc.Out = target
	})
	r.drop(demo.Books, time.Now())
	r.pass()
	if _, err := r.emu.GenerateSales(rand.New(rand.NewPCG(5, 6)), 3, 0); err != nil {
		t.Fatal(err)
	}
	target.set(syscall.ENOSPC)
	r.agent.Schedules = exchange.Schedules{PullReceipts: "@every 1s", Retention: "off", RetryDrops: 50 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.agent.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	waitFor(t, 5*time.Second, "the failing pull is recorded", func() bool {
		last, ok, _ := r.store.LastJob(context.Background(), "pull-receipts")
		return ok && strings.Contains(last.Err, "no space left")
	})
	target.set(nil)
	waitFor(t, 5*time.Second, "the orders file is written after the disk has room", func() bool {
		last, ok, _ := r.store.LastJob(context.Background(), "pull-receipts")
		return ok && last.Err == "" && len(r.ordersFile()) == 3
	})
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting until %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Found by the torture harness: after a restart, obmin took no new export from BAS's folder until every
// drop left in processing/ was applied, which during an outage or with a slow Checkbox takes minutes, and
// BAS empties its folder at its next export. The watcher must take new exports meanwhile.
func TestRunTakesNewDropsWhileLeftoversWait(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	r.emu.InjectFault(emulator.Fault{Method: "POST", PathPrefix: "/api/v1/goods", Status: 503, Times: -1})
	r.drop(demo.Books, time.Now())
	if err := r.agent.Once(ctx, 5*time.Millisecond); err == nil {
		t.Fatal("the outage must be reported")
	}
	if counts, _ := r.spool.Counts(); counts["processing"] != 1 {
		t.Fatalf("spool %v: the drop must wait in processing/", counts)
	}
	// "Restart" during the outage: a new watcher, and Checkbox answering slowly besides.
	r.agent.Watcher = newWatcher(t, r.export)
	r.emu.InjectFault(emulator.Fault{Latency: 300 * time.Millisecond, Times: -1})
	r.agent.Schedules = exchange.Schedules{PullReceipts: "off", Retention: "off", RetryDrops: 50 * time.Millisecond}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.agent.Run(runCtx) }()
	books := slices.Clone(demo.Books)
	books[0].Price = "421.00"
	r.drop(books, time.Now().Add(time.Minute))
	waitFor(t, 3*time.Second, "the new export is taken into inbox/ while the old drop waits", func() bool {
		counts, _ := r.spool.Counts()
		return counts["inbox"] == 1 && counts["processing"] == 1
	})
	r.emu.ClearFaults()
	waitFor(t, 10*time.Second, "both drops are applied once Checkbox is back", func() bool {
		counts, _ := r.spool.Counts()
		return counts["done"] == 2 && counts["inbox"] == 0 && counts["processing"] == 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if g, ok := r.emu.GoodByCode(books[0].Article); !ok || g.Price != 42100 {
		t.Errorf("the newer export must win: %+v", g)
	}
}

// Found by the torture harness: when Checkbox failed one drop and not the next (a burst of 5xx that ended
// between them), the pass went on to the newer drop and retried the older one after it, so Checkbox ended
// with the older prices. Drops must be applied in the order BAS exported them.
func TestOutageKeepsDropOrder(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	older, newer := slices.Clone(demo.Books), slices.Clone(demo.Books)
	older[0].Price, newer[0].Price = "100.00", "200.00"
	at := time.Now()
	for i, books := range [][]demo.Book{older, newer} {
		dir := filepath.Join(r.export, fmt.Sprintf("webdata - %d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		when := at.Add(time.Duration(i) * time.Minute)
		for name, data := range map[string][]byte{"import.xml": demo.Catalog(books, when), "offers.xml": demo.Offers(books, when)} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Creating a good fails just long enough for the first drop to give up (the client tries 5 times); the
	// second drop would find Checkbox back.
	r.agent.Catalog.Workers = 1
	r.emu.InjectFault(emulator.Fault{Method: "POST", PathPrefix: "/api/v1/goods", Status: 503, Times: 5})
	if err := r.agent.Once(ctx, 5*time.Millisecond); err == nil {
		t.Fatal("the failed drop must be reported")
	}
	r.emu.ClearFaults()
	if err := r.agent.ProcessDrops(ctx); err != nil {
		t.Fatal(err)
	}
	if counts, _ := r.spool.Counts(); counts["done"] != 2 {
		t.Fatalf("spool %v: want both drops done", counts)
	}
	if g, ok := r.emu.GoodByCode(demo.Books[0].Article); !ok || g.Price != 20000 {
		t.Errorf("Checkbox has %s at %d kopecks; the newer export says 200.00", demo.Books[0].Article, g.Price)
	}
}

// Found by the torture harness: a restarted obmin gave the same files, in the same second, the same drop id
// as the process it replaced, and could not take the drop ("file already exists").
func TestRestartedAgentNeverReusesDropID(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	r.drop(demo.Books, time.Now().Add(-time.Minute))
	files, err := r.agent.Source.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	drops := []drop.Drop{{Dir: demo.FolderName, Files: files}}
	second := time.Date(2026, 11, 27, 1, 2, 58, 0, time.UTC)
	r.agent.Now = func() time.Time { return second }
	if err := r.agent.Ingest(ctx, drops[0]); err != nil {
		t.Fatal(err)
	}
	// The process is killed after the drop reached inbox/ and before its record was written: the new
	// process finds the files again in the same second.
	restarted := &exchange.Agent{Spool: r.spool, Store: r.store, Source: r.agent.Source, Log: r.agent.Log, Now: r.agent.Now}
	if err := restarted.Ingest(ctx, drops[0]); err != nil {
		t.Fatalf("the restarted agent could not take the drop: %v", err)
	}
}
