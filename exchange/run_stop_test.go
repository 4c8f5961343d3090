package exchange_test

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"obmin/checkbox/emulator"
	"obmin/exchange"
	"obmin/internal/demo"
	"obmin/notify"
)

// TestRunStopsUnderLoad stops the service while a drop is being applied, new exports are being taken and
// a receipts pull waits on Checkbox: Run returns within its bound (StopWait, not ErrStopTimeout), nothing
// it started is left running, and nothing is lost: the drops are applied on the next pass.
func TestRunStopsUnderLoad(t *testing.T) {
	r := newRig(t, nil)
	before := agentGoroutines()
	// Every call to Checkbox hangs until its context ends: whatever runs at the stop is in the middle of one.
	r.emu.InjectFault(emulator.Fault{Latency: time.Hour, Times: -1})
	r.agent.Schedules = exchange.Schedules{PullReceipts: "@every 1s", Retention: "off", RetryDrops: 10 * time.Millisecond}
	r.agent.StopWait = 10 * time.Second // a bound for the test, not a timing: a stop that overran it fails
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.agent.Run(ctx) }()
	r.drop(demo.Books, time.Now())
	waitFor(t, 5*time.Second, "the first drop is being applied", func() bool {
		counts, _ := r.spool.Counts()
		return counts["processing"] == 1
	})
	books := slices.Clone(demo.Books)
	books[0].Price = "421.00"
	r.drop(books, time.Now().Add(time.Minute))
	waitFor(t, 5*time.Second, "the second export is taken while the first waits", func() bool {
		counts, _ := r.spool.Counts()
		return counts["inbox"] == 1
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if left := newGoroutines(before); len(left) > 0 {
		t.Fatalf("Run returned with %d goroutines of its own still running:\n%s", len(left), strings.Join(left, "\n\n"))
	}
	r.emu.ClearFaults()
	if err := r.agent.ProcessDrops(context.Background()); err != nil {
		t.Fatal(err)
	}
	if counts, _ := r.spool.Counts(); counts["done"] != 2 || counts["inbox"]+counts["processing"]+counts["failed"] != 0 {
		t.Errorf("spool after the restart: %v, want both drops done", counts)
	}
	drops, err := r.store.RecentDrops(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range drops {
		if d.State != "done" {
			t.Errorf("drop %s recorded as %s, want done", d.ID, d.State)
		}
	}
}

// stuckNotifier ignores its context: the job calling it cannot be cancelled.
type stuckNotifier struct{ entered, release chan struct{} }

func (n stuckNotifier) Notify(context.Context, notify.Event) error { return nil }
func (n stuckNotifier) Sync(context.Context, notify.Kind, []notify.Event) error {
	select {
	case n.entered <- struct{}{}:
	default:
	}
	<-n.release
	return nil
}

// A job that does not end when cancelled does not hold the stop: Run warns after StopWait and returns
// ErrStopTimeout after twice as long.
func TestRunStopIsBounded(t *testing.T) {
	r := newRig(t, nil)
	before := agentGoroutines()
	n := stuckNotifier{entered: make(chan struct{}, 1), release: make(chan struct{})}
	r.agent.Notifier = n
	r.agent.Schedules = exchange.Schedules{PullReceipts: "off", Retention: "off"}
	r.agent.StopWait = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.agent.Run(ctx) }()
	r.drop(demo.Books, time.Now())
	<-n.entered // the drop pass is in the notifier, which ignores the stop
	cancel()
	if err := <-done; !errors.Is(err, exchange.ErrStopTimeout) {
		t.Fatalf("run: %v, want ErrStopTimeout", err)
	}
	close(n.release)
	if left := newGoroutines(before); len(left) > 0 {
		t.Fatalf("the stuck job, once free, left %d goroutines:\n%s", len(left), strings.Join(left, "\n\n"))
	}
}

// A schedule that does not parse stops Run before anything starts.
func TestRunBadScheduleStartsNothing(t *testing.T) {
	r := newRig(t, nil)
	before := agentGoroutines()
	r.agent.Schedules = exchange.Schedules{PullReceipts: "every minute", Retention: "off"}
	err := r.agent.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "schedule.pull_receipts") {
		t.Fatalf("run: %v, want the schedule's error", err)
	}
	if left := newGoroutines(before); len(left) > 0 {
		t.Fatalf("a failed start left %d goroutines:\n%s", len(left), strings.Join(left, "\n\n"))
	}
	if counts, _ := r.spool.Counts(); counts["inbox"]+counts["processing"] != 0 {
		t.Errorf("a failed start took drops: %v", counts)
	}
}

var goroutineID = regexp.MustCompile(`^goroutine (\d+) `)

// agentGoroutines returns the stacks of the running goroutines that run the agent's code (its jobs, the
// watcher, the scheduler), by goroutine id; the caller's own is left out.
func agentGoroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for i, g := range strings.Split(string(buf), "\n\n") {
		m := goroutineID.FindStringSubmatch(g)
		if i == 0 || m == nil {
			continue // the caller
		}
		for _, mark := range []string{"obmin/exchange.", "obmin/spool.", "robfig/cron", "fsnotify"} {
			if strings.Contains(g, mark) {
				out[m[1]] = g
				break
			}
		}
	}
	return out
}

// newGoroutines returns the agent's goroutines that were not running at before. A goroutine that has
// been told to end may need a moment to be scheduled and return, so the check is repeated for up to a
// second, as goleak does, before it reports.
func newGoroutines(before map[string]string) []string {
	var left []string
	for wait := time.Millisecond; ; wait *= 2 {
		left = left[:0]
		for id, g := range agentGoroutines() {
			if _, ok := before[id]; !ok {
				left = append(left, g)
			}
		}
		if len(left) == 0 || wait > time.Second {
			return left
		}
		time.Sleep(wait)
	}
}

// An agent given no loggers is quiet, not a panic: every part falls back to quietlog.Discard.
func TestNilLoggersAreQuiet(t *testing.T) {
	r := newRig(t, nil)
	r.agent.Log, r.agent.Catalog.Log, r.agent.Sales.Log = nil, nil, nil
	r.drop(demo.Books, time.Now())
	r.pass()
	if counts, _ := r.spool.Counts(); counts["done"] != 1 {
		t.Errorf("spool %v, want the drop done", counts)
	}
}
