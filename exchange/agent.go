package exchange

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/sirupsen/logrus"
	"golang.org/x/sync/errgroup"

	"obmin/commerceml"
	"obmin/drop"
	"obmin/folder"
	"obmin/internal/atomicfile"
	"obmin/internal/cronspec"
	"obmin/internal/quietlog"
	"obmin/internal/voice"
	"obmin/notify"
	"obmin/reconcile"
	"obmin/spool"
	"obmin/store"
	"obmin/watch"
)

// Schedules are cron specs (robfig/cron/v3 standard 5-field syntax, or "@every 1m"), in Europe/Kyiv time.
type Schedules struct {
	PullReceipts  string        // default "@every 1m"
	Retention     string        // default "30 2 * * *": 02:30 Kyiv, outside the 03:00–04:00 DST hour (docs/reliability.md §8)
	RetentionKeep time.Duration // done/ folders older than this are deleted; failed/ is never deleted
	RetryDrops    time.Duration // how often a drop that hit an outage is tried again; default 30s
	Reconcile     string        // reconciliation of the day before (reconcile_job.go); "" or "off": none
}

// Agent runs obmin: it takes BAS's drops into the spool, applies them to Checkbox, pulls receipts and keeps
// BAS's orders file current.
type Agent struct {
	// Notifier, when set, is told which drops are in failed/ after every pass that took any up.
	Notifier notify.Notifier
	// Reconciler, when set, reconciles BAS and Checkbox on Schedules.Reconcile and on demand
	// (reconcile_job.go).
	Reconciler Reconciler

	Spool     *spool.Spool
	Store     *store.Store
	Source    folder.Source // BAS's export folder
	Watcher   *watch.Watcher
	Catalog   *Catalog
	Sales     *Sales
	Retail    *Retail // BAS's retail sales reports (retail.go); nil when sales.to leaves them out
	Schedules Schedules
	Log       *logrus.Entry
	Now       func() time.Time
	// Emulated is true when Checkbox is the built-in emulator: said at start and in every status.
	Emulated bool
	// Own are obmin's own files in BAS's export folder, when its orders file is kept there: never a drop.
	Own *OwnFiles
	// StopWait overrides the package's StopWait (tests); zero means StopWait.
	StopWait time.Duration

	mu      sync.Mutex   // one drop pass at a time
	takeMu  sync.Mutex   // one drop taken into inbox/ at a time (take): a copy is recognised as one
	pullMu  sync.Mutex   // one receipts pull at a time: the schedule's, or a drop's before its stock
	seq     atomic.Int64 // drop ids taken by this process; not under mu, so taking never waits for a pass
	taken   atomic.Int64 // drops taken up by passes (dropsJob counts a pass's)
	tag     string       // random, per process: part of every drop id (newDropID)
	tagOnce sync.Once
	wake    chan struct{}
	wakeMux sync.Once
	runs    chan struct{} // BAS ran: rewrite the orders file (it may have gone) and let go what BAS has had
	runsMux sync.Once
	watch   watchState // what the watcher last reported, as written to the state
	pass    passLog    // what went wrong in the current `obmin once` pass
	sched   schedule   // the running scheduler's entries, for NextRuns
}

// log is Log, or a logger that writes nothing (quietlog.Or).
func (a *Agent) log() *logrus.Entry { return quietlog.Or(a.Log) }

func (a *Agent) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Agent) wakeCh() chan struct{} {
	a.wakeMux.Do(func() { a.wake = make(chan struct{}, 1) })
	return a.wake
}

func (a *Agent) runsCh() chan struct{} {
	a.runsMux.Do(func() { a.runs = make(chan struct{}, 1) })
	return a.runs
}

// BASRunSeen tells the running agent that BAS ran an exchange (RunWatcher.OnRun): the orders file is
// written again soon, without waiting for the next pull.
func (a *Agent) BASRunSeen() {
	select {
	case a.runsCh() <- struct{}{}:
	default:
	}
}

// Ingest copies a complete drop out of BAS's folder into the spool inbox (BAS empties its folder before
// its next export, so the drop is taken at once). A drop whose content was taken before is dropped here.
func (a *Agent) Ingest(ctx context.Context, d drop.Drop) error {
	if a.Own != nil {
		kept := d.Files[:0:0]
		for _, f := range d.Files {
			if !a.Own.Is(f.Path) {
				kept = append(kept, f)
			}
		}
		if len(kept) == 0 {
			return nil // obmin's own orders file, alone in its folder: never a drop
		}
		d.Files = kept
	}
	if len(d.GiveUp) > 0 {
		return a.refuseIncomplete(ctx, d)
	}
	id := a.newDropID(d)
	fp, err := a.Spool.Stage(ctx, a.Source, d, id)
	if errors.Is(err, spool.ErrBadDrop) {
		return a.reject(ctx, d, id, err)
	}
	if err != nil {
		return fmt.Errorf("take drop %q: %w", d.Dir, err)
	}
	_, err = a.take(ctx, id, fp, d.Dir, len(d.Files))
	return err
}

// take hands a staged drop (Spool.Stage) to inbox/ and records it, or discards it when it is a copy of
// a drop taken before (one that failed is taken again: the fix may have been a configuration change).
// The copy is recognised before it reaches inbox/, so a drop pass never claims a drop being discarded.
// It returns the id of the drop that carries the content.
func (a *Agent) take(ctx context.Context, id, fp, from string, files int) (string, error) {
	a.takeMu.Lock()
	defer a.takeMu.Unlock()
	if prev, seen, err := a.Store.DropByFingerprint(ctx, fp); err != nil {
		a.Spool.Discard(id)
		return "", err
	} else if seen && prev.State != store.DropStateFailed {
		a.log().WithFields(logrus.Fields{"drop": from, "same_as": prev.ID}).Info("drop already taken; same content, skipped")
		return prev.ID, a.Spool.Discard(id)
	}
	if err := a.Spool.Commit(id); err != nil {
		a.Spool.Discard(id)
		return "", fmt.Errorf("take drop %q: %w", from, err)
	}
	// The record after the folder: a kill in between leaves a drop in inbox/ without one, which is
	// applied all the same, never a record of a drop that is not there.
	rec := store.DropRecord{ID: id, Fingerprint: fp, Source: from, State: store.DropStateInbox, Files: files, CreatedAt: a.now(), UpdatedAt: a.now()}
	if err := a.Store.PutDrop(ctx, rec); err != nil {
		return "", err
	}
	a.log().WithFields(logrus.Fields{"drop": id, "files": files, "from": from}).Info("drop taken into inbox")
	select {
	case a.wakeCh() <- struct{}{}:
	default:
	}
	return id, nil
}

// reject records a drop the spool cannot take as it is (a file name Windows reserves or obmin may not use)
// in failed/ with the reason, once: taking it again would fail the same way, so retrying it on every scan
// would only hide it. The same files (names, sizes, times) are not rejected again after a restart; a
// renamed or rewritten file makes a new drop.
func (a *Agent) reject(ctx context.Context, d drop.Drop, id string, cause error) error {
	h := sha256.New()
	io.WriteString(h, "rejected\n")
	for _, f := range d.Files {
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", f.Path, f.Size, f.ModTime.UnixNano())
	}
	fp := hex.EncodeToString(h.Sum(nil))
	if prev, seen, err := a.Store.DropByFingerprint(ctx, fp); err != nil {
		return err
	} else if seen {
		a.log().WithFields(logrus.Fields{"drop": d.Dir, "same_as": prev.ID}).Debug("drop rejected before; still in failed/")
		a.pass.note(fmt.Sprintf("export %q in BAS's folder was refused before and is still there: see failed/%s.error.txt", folderName(d.Dir), prev.ID))
		return nil
	}
	reason := fmt.Sprintf("Пакет %q у теці BAS не взято: %v.\nПерейменуйте файл у теці вивантаження BAS (або вивантажте знову); "+
		"файли пакета лишилися там, де BAS їх записав.", d.Dir, cause)
	if _, err := a.Spool.Reject(id, reason); err != nil {
		return fmt.Errorf("take drop %q: %w", d.Dir, err)
	}
	// The record after the folder: a kill in between rejects the drop once more, never loses it.
	rec := store.DropRecord{ID: id, Fingerprint: fp, Source: d.Dir, State: store.DropStateFailed, Error: reason, Files: len(d.Files), CreatedAt: a.now(), UpdatedAt: a.now()}
	if err := a.Store.PutDrop(ctx, rec); err != nil {
		return err
	}
	a.log().WithFields(logrus.Fields{"drop": id, "from": d.Dir, "reason": cause.Error()}).Error("drop rejected; described in failed/")
	a.pass.note(fmt.Sprintf("export %q refused: %v (failed/%s.error.txt)", folderName(d.Dir), cause, id))
	return nil
}

// newDropID names a drop: the time, a hash of its files, this process's tag and a sequence number. The tag
// keeps a restarted obmin from reusing an id its predecessor gave the same files in the same second (found
// by the torture harness: the restarted process could not take the drop, "file already exists").
func (a *Agent) newDropID(d drop.Drop) string {
	a.tagOnce.Do(func() {
		b := make([]byte, 3)
		_, _ = rand.Read(b) // never fails (crypto/rand)
		a.tag = hex.EncodeToString(b)
	})
	n := a.seq.Add(1)
	h := sha256.New()
	for _, f := range d.Files {
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", f.Path, f.Size, f.ModTime.UnixNano())
	}
	return fmt.Sprintf("%s-%s-%s%d", a.now().In(voice.Kyiv).Format("20060102-150405"), hex.EncodeToString(h.Sum(nil))[:8], a.tag, n)
}

// processDrops is ProcessDrops's pass.
func (a *Agent) processDrops(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	resumed, err := a.Spool.InProcessing()
	if err != nil {
		return err
	}
	pending, err := a.Spool.Pending()
	if err != nil {
		return err
	}
	for _, id := range append(resumed, pending...) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		dir := filepath.Join(a.Spool.Dir("processing"), id)
		if !containsString(resumed, id) {
			if dir, err = a.Spool.Claim(id); err != nil {
				return err
			}
		}
		if err := a.processDrop(ctx, id, dir); err != nil {
			return err
		}
	}
	return nil
}

func (a *Agent) processDrop(ctx context.Context, id, dir string) error {
	a.taken.Add(1)
	log := a.log().WithField("drop", id)
	if err := a.Store.SetDropState(ctx, id, store.DropStateProcessing, ""); err != nil && !errors.Is(err, store.ErrNotFound) {
		// Nothing applied yet: the drop stays in processing/ and the next pass tries again.
		return fmt.Errorf("drop %s: record processing: %w", id, err)
	}
	rep, err := a.ApplyDrop(ctx, dir)
	var bad *InputError
	switch {
	case errors.As(err, &bad):
		reason := voice.Explain(bad.Error()) // staff read it: what to do first, the parser's words in brackets
		if _, ferr := a.Spool.Fail(id, reason); ferr != nil {
			return fmt.Errorf("move drop %s to failed: %w", id, ferr)
		}
		a.setDropState(ctx, log, id, store.DropStateFailed, reason)
		log.WithField("reason", reason).Error("drop failed; moved to failed/")
		a.pass.note(fmt.Sprintf("drop %s failed: %s (failed/%s.error.txt)", id, firstLine(reason), id))
		return nil
	case err != nil:
		a.setDropState(ctx, log, id, store.DropStateProcessing, err.Error())
		log.WithError(err).Warn("drop not finished; will retry")
		return err
	}
	if err := writeReport(dir, rep); err != nil {
		return err
	}
	if _, err := a.Spool.Done(id); err != nil {
		return fmt.Errorf("move drop %s to done: %w", id, err)
	}
	a.setDropState(ctx, log, id, store.DropStateDone, "")
	if a.Retail != nil {
		a.Retail.GoodsChanged() // held shifts are looked at again in the next pass
	}
	log.WithFields(logrus.Fields{
		"goods": rep.Goods, "created": rep.Created, "updated": rep.Updated, "unchanged": rep.Unchanged,
		"held": rep.Held, "rejected": len(rep.Rejected), "stock": rep.StockSent, "confirmed": rep.Confirmed,
	}).Info("drop applied")
	return nil
}

// setDropState records a drop's state once its folder has moved. The folder is what counts (a record is
// only a view of it), so a failure to record is logged, not allowed to undo the move. A drop without a
// record (left in inbox/ by a kill between the folder and the record) has none to change.
func (a *Agent) setDropState(ctx context.Context, log *logrus.Entry, id string, state store.DropState, errText string) {
	err := a.Store.SetDropState(context.WithoutCancel(ctx), id, state, errText) // a stop does not leave the record behind the folder
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		log.WithError(err).WithField("state", state).Error("drop state not recorded; the folder is right, the status may lag")
	}
}

// ApplyDrop applies one drop folder: BAS's orders export confirms receipts; catalogue and offers go to
// Checkbox; then held receipts are looked at again and the orders file is rewritten.
func (a *Agent) ApplyDrop(ctx context.Context, dir string) (DropReport, error) {
	var rep DropReport
	df, err := classify(dir)
	if err != nil {
		return rep, err
	}
	var numbers []string
	for _, name := range df.Documents {
		if own, err := isOwnFile(filepath.Join(dir, name)); err != nil {
			return rep, err
		} else if own {
			// obmin's own orders file, copied here somehow: never a confirmation (docs/folders.md).
			a.log().WithField("file", name).Warn("a drop holds obmin's own orders file; it confirms nothing and is ignored")
			continue
		}
		n, err := ReadOrderNumbers(filepath.Join(dir, name))
		if err != nil {
			return rep, err
		}
		numbers = append(numbers, n...)
		if err := a.RecordBASOrders(ctx, filepath.Join(dir, name), filepath.Base(dir)); err != nil {
			return rep, err
		}
	}
	if len(df.Catalog)+len(df.Offers) > 0 {
		if rep, err = a.Catalog.apply(ctx, dir, df, a.pullForStock); err != nil {
			return rep, err
		}
	}
	if rep.Confirmed, err = a.Sales.Confirm(ctx, numbers); err != nil {
		return rep, err
	}
	if err := a.refreshOrders(ctx); err != nil {
		return rep, err
	}
	return rep, nil
}

// refreshOrders re-examines held receipts and rewrites the orders file and the held list.
func (a *Agent) refreshOrders(ctx context.Context) error {
	if a.Sales.Cfg.NoOrdersFile {
		return nil
	}
	if n, err := a.Sales.Release(ctx); err != nil {
		return err
	} else if n > 0 {
		a.log().WithField("receipts", n).Info("held receipts released: their goods are now known")
	}
	_, err := a.Sales.WriteOrders(ctx)
	a.noteOrdersFolder(ctx, err)
	if err != nil {
		return err
	}
	_, err = a.Sales.WriteHeld(ctx)
	return err
}

// pullForStock pulls receipts before a drop's stock is compared with Checkbox's, so that the goods sold
// since the last pull are known (stock.go).
func (a *Agent) pullForStock(ctx context.Context) error {
	if a.Sales == nil {
		return nil
	}
	_, err := a.PullReceipts(ctx)
	return err
}

// PullReceipts is the scheduled receipts job.
func (a *Agent) PullReceipts(ctx context.Context) (PullReport, error) {
	a.pullMu.Lock()
	defer a.pullMu.Unlock()
	start := a.now()
	rep, err := a.Sales.Pull(ctx)
	if err == nil {
		err = a.refreshOrders(ctx)
	}
	a.recordJob(ctx, "pull-receipts", start, err, rep)
	_, _ = a.ReportShifts(ctx) // recorded as a job of its own
	if err != nil {
		return rep, err
	}
	if rep.New > 0 {
		a.log().WithFields(logrus.Fields{"new": rep.New, "pending": rep.Pending, "held": rep.Held, "skipped": rep.Skipped}).Info("receipts pulled")
	}
	return rep, nil
}

// Retain deletes old done/ folders.
func (a *Agent) Retain(ctx context.Context) error {
	start := a.now()
	n, err := a.Spool.Retain(ctx, a.Schedules.RetentionKeep)
	a.recordJob(ctx, "retention", start, err, map[string]int{"removed": n})
	return err
}

func (a *Agent) recordJob(ctx context.Context, name string, start time.Time, err error, summary any) {
	b, _ := json.Marshal(summary)
	run := store.JobRun{Name: name, Start: start, End: a.now(), Summary: string(b)}
	if err != nil {
		run.Err = err.Error()
		a.log().WithError(err).WithField("job", name).Error("job failed")
	}
	if rerr := a.Store.RecordJob(ctx, run); rerr != nil {
		a.log().WithError(rerr).Warn("record job run")
	}
	if werr := a.WriteStatus(ctx); werr != nil {
		a.log().WithError(werr).Warn("write status file")
	}
}

// Once does one full pass and returns: take complete drops, apply them, pull receipts, write the orders
// file, clean old archives. For running obmin from the system's scheduler instead of as a service.
func (a *Agent) Once(ctx context.Context, settle time.Duration) error {
	a.Watcher.OnReport(a.watchReport)
	if err := a.prepareRetail(ctx); err != nil {
		return err
	}
	a.pass.begin()
	issues := func() []string { return a.pass.end() }
	// Two scans a settle time apart: a drop counts as complete only when nothing changed in between. A
	// drop the first scan already finds complete (old enough, or seen by an earlier run) is taken at once:
	// the watcher offers each drop once, so one left out here would wait for the next run.
	var errs []error
	for i := range 2 {
		if i == 1 {
			select {
			case <-ctx.Done():
				issues()
				return ctx.Err()
			case <-time.After(settle):
			}
		}
		drops, err := a.Watcher.Scan(ctx)
		if err != nil {
			issues()
			return fmt.Errorf("%s: %w", FolderExport, err)
		}
		for _, d := range drops {
			if err := a.Ingest(ctx, d); err != nil {
				errs = append(errs, err)
			}
		}
	}
	errs = append(errs, a.dropsJob(ctx, true))
	if _, err := a.PullReceipts(ctx); err != nil {
		errs = append(errs, err)
	}
	if a.Schedules.RetentionKeep > 0 {
		errs = append(errs, a.Retain(ctx))
	}
	// Everything that did not end in done/ says so: failed drops, folders still waiting, errors.
	left := append(issues(), waitingIssues(a.Watcher.Last().Waiting, a.now())...)
	if err := errors.Join(errs...); err != nil {
		left = append(left, err.Error())
	}
	if len(left) > 0 {
		return &PassError{Issues: left}
	}
	return nil
}

// LogLifecycle is the log field ("start", "stop") of the service's start and stop lines: an operator's
// log (the Windows Event Log) picks them out by it.
const LogLifecycle = "lifecycle"

// StopWait is how long Run waits, once asked to stop, for the jobs still running (they are cancelled and
// end at their next call to Checkbox, BAS or the disk) before it warns; Run gives up and returns
// ErrStopTimeout after twice as long (docs/service.md). An unfinished job resumes on the next start.
const StopWait = 30 * time.Second

// ErrStopTimeout is returned by Run when its jobs did not end within twice StopWait of the stop.
var ErrStopTimeout = errors.New("jobs still running after the stop; left to resume on the next start")

// Run is the service: it watches BAS's folder, applies drops as they come, runs the scheduled jobs, and
// stops cleanly when ctx ends: every goroutine it starts is cancelled and waited for, within a bound.
func (a *Agent) Run(ctx context.Context) error {
	a.log().WithFields(logrus.Fields{LogLifecycle: "start", "emulated_checkbox": a.Emulated}).Info("obmin started")
	if a.Emulated {
		a.log().Warn("Checkbox is the built-in EMULATOR: nothing reaches a real cash register")
	}
	a.Watcher.OnReport(a.watchReport)
	if err := a.prepareRetail(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c, err := a.scheduler(ctx) // a bad schedule ends Run before anything starts
	if err != nil {
		return err
	}
	var g errgroup.Group
	// The watcher starts at once, beside the drop loop: BAS empties its folder at its next export, so a
	// new export must be taken even while drops a crash or an outage left behind are still being applied
	// (found by the torture harness: a restart during an outage took nothing new until Checkbox was back).
	// Order is kept by ProcessDrops: processing/ first, then inbox/ oldest first.
	g.Go(func() error {
		err := a.Watcher.Run(ctx, a.Ingest)
		if err != nil && ctx.Err() == nil {
			a.log().WithError(err).Error("watcher stopped")
		}
		return nil
	})
	g.Go(func() error {
		a.dropLoop(ctx)
		return nil
	})
	c.Start()
	// Missed runs are not caught up by cron (docs/reliability.md §8): pull once now.
	g.Go(func() error {
		if _, err := a.PullReceipts(ctx); err != nil && ctx.Err() == nil {
			a.log().WithError(err).Warn("first receipts pull failed; the schedule will retry")
		}
		return nil
	})
	<-ctx.Done()
	a.log().Info("stopping: waiting for running jobs")
	return a.stop(c, &g)
}

// stop waits for the scheduler's running jobs and Run's goroutines, all cancelled already: a warning after
// StopWait (Agent.StopWait in tests), ErrStopTimeout after twice as long.
func (a *Agent) stop(c *cron.Cron, g *errgroup.Group) error {
	wait := a.StopWait
	if wait <= 0 {
		wait = StopWait
	}
	done := make(chan struct{})
	go func() {
		<-c.Stop().Done()
		_ = g.Wait()
		close(done)
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	for warned := false; ; warned = true {
		select {
		case <-done:
			a.log().WithField(LogLifecycle, "stop").Info("obmin stopped")
			return nil
		case <-t.C:
		}
		if warned {
			a.log().WithField(LogLifecycle, "stop").Error("obmin stopped with a job still running; it resumes on the next start")
			return ErrStopTimeout
		}
		a.log().Warnf("a job did not finish within %s of the stop; waiting up to %s more", wait, wait)
		t.Reset(wait)
	}
}

// dropLoop applies drops: first whatever a crash or an outage left in processing/ and inbox/, then each
// drop as it is taken, and every RetryDrops what an outage stopped.
func (a *Agent) dropLoop(ctx context.Context) {
	retry := a.Schedules.RetryDrops
	if retry <= 0 {
		retry = 30 * time.Second
	}
	t := time.NewTicker(retry)
	defer t.Stop()
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-a.runsCh():
				if err := a.refreshOrders(ctx); err != nil && ctx.Err() == nil {
					a.log().WithError(err).Warn("rewrite the orders file after BAS's run")
				}
				continue
			case <-a.wakeCh():
			case <-t.C:
			}
		}
		if a.dropsJob(ctx, first); ctx.Err() != nil {
			return
		}
	}
}

func (a *Agent) scheduler(ctx context.Context) (*cron.Cron, error) {
	// SkipIfStillRunning outside, Recover inside: v3.0.1 leaks the skip token on a panic otherwise
	// (robfig/cron issue #366, docs/reliability.md §8).
	logger := cronLogger{a.log()}
	c := cron.New(cron.WithLocation(kyiv), cron.WithChain(cron.SkipIfStillRunning(logger), cron.Recover(logger)))
	add := func(name, spec string, job func()) error {
		sched, err := cronspec.Parse(spec) // the parser config validation uses: `obmin check` agrees with run
		if err != nil {
			return fmt.Errorf("schedule.%s: %w", name, err)
		}
		if sched != nil {
			a.sched.add(name, c.Schedule(sched, cron.FuncJob(job)))
		}
		return nil
	}
	a.sched.set(c)
	if err := add("pull_receipts", a.Schedules.PullReceipts, func() { _, _ = a.PullReceipts(ctx) }); err != nil {
		return nil, err
	}
	if err := add("retention", a.Schedules.Retention, func() { _ = a.Retain(ctx) }); err != nil {
		return nil, err
	}
	if a.Reconciler != nil {
		if err := add("reconcile", a.Schedules.Reconcile, func() { _, _ = a.Reconcile(ctx, reconcile.Options{}) }); err != nil {
			return nil, err
		}
	}
	return c, nil
}

type cronLogger struct{ log *logrus.Entry }

func (l cronLogger) Info(msg string, kv ...any) { l.log.WithFields(kvFields(kv)).Debug("cron: " + msg) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.WithError(err).WithFields(kvFields(kv)).Error("cron: " + msg)
}

func kvFields(kv []any) logrus.Fields {
	f := logrus.Fields{}
	for i := 0; i+1 < len(kv); i += 2 {
		f[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return f
}

// kindTitle names a file's kind as staff read it.
func kindTitle(k commerceml.Kind) string {
	switch k {
	case commerceml.KindCatalog:
		return "каталог товарів"
	case commerceml.KindOffers:
		return "пропозиції (ціни й залишки)"
	case commerceml.KindPrices:
		return "ціни"
	case commerceml.KindRests:
		return "залишки"
	case commerceml.KindDocuments:
		return "документи BAS (замовлення)"
	}
	return "невідомий вміст"
}

// explainEach puts Checkbox's words in items ("KN-1 «Кобзар»: checkbox: …") into what to do (voice.Explain),
// keeping the good in front.
func explainEach(items []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		if at := strings.Index(it, "»: "); at >= 0 {
			out[i] = it[:at+len("»: ")] + voice.Explain(it[at+len("»: "):])
		} else {
			out[i] = voice.Explain(it)
		}
	}
	return out
}

// writeReport leaves a readable account of what a drop did inside the drop folder, so it travels to
// done/ with the files.
func writeReport(dir string, rep DropReport) error {
	var b strings.Builder
	b.WriteString("\ufeffЗвіт obmin про обробку вивантаження BAS\r\n\r\n")
	for _, f := range rep.Files {
		if f.Feed != nil {
			fmt.Fprintf(&b, "Файл %s: фід маркетплейсу %s (%s), пропозицій %d, із залишком %d\r\n", f.Name, f.Source, f.Feed.Header.Format, f.Feed.Offers, f.Feed.WithStock)
			continue
		}
		fmt.Fprintf(&b, "Файл %s: %s, товарів %d, пропозицій %d\r\n", f.Name, kindTitle(f.Summary.Kind), f.Summary.Goods, f.Summary.Offers)
	}
	fmt.Fprintf(&b, "\r\nТоварів у вивантаженні: %d\r\nСтворено в Checkbox: %d\r\nОновлено: %d\r\nБез змін: %d\r\nНе передано за правилами obmin: %d\r\n",
		rep.Goods, rep.Created, rep.Updated, rep.Unchanged, rep.Held)
	if rep.StockSent > 0 {
		fmt.Fprintf(&b, "Залишки передано для %d товарів\r\n", rep.StockSent)
	}
	if rep.Confirmed > 0 {
		fmt.Fprintf(&b, "BAS підтвердив замовлень: %d\r\n", rep.Confirmed)
	}
	list := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(&b, "\r\n%s (%d):\r\n", title, len(items))
		for _, it := range items {
			fmt.Fprintf(&b, "  - %s\r\n", it)
		}
	}
	list("Без ціни потрібного типу — не передано (ціну 0 не надсилаємо)", rep.NoPrice)
	list("Без коду (артикула) — не передано", rep.NoCode)
	list("Не передано за правилами obmin", rep.Refused)
	list("Рядки фідів для товарів, які вивантажує BAS — не передано (товари BAS змінює лише BAS)", rep.FeedBehindBAS)
	list("Checkbox відхилив", explainEach(rep.Rejected))
	list("Товари з характеристиками — у Checkbox кожна характеристика окремим товаром, сам товар не передається", rep.Variants)
	list("Штрихкоди, яких не передано (товар передано з рештою штрихкодів)", rep.BadBarcodes)
	list("Позначено на вилучення в BAS — у Checkbox не змінювалося", rep.Deleted)
	list("Пропозиції для товарів, яких BAS не вивантажував", rep.UnknownOffr)
	list("Розпаковані архіви", rep.Unzipped)
	if len(rep.Missing) > 0 {
		list(fmt.Sprintf("Є в Checkbox, але немає в повному вивантаженні (дія: %s)", rep.MissingAction), rep.Missing)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "obmin-report.txt"), 0o644, func(w io.Writer) error {
		_, err := w.Write([]byte(b.String()))
		return err
	}); err != nil {
		return err
	}
	j, _ := json.MarshalIndent(rep, "", "  ")
	return atomicfile.WriteFile(filepath.Join(dir, "obmin-report.json"), 0o644, func(w io.Writer) error {
		_, err := w.Write(j)
		return err
	})
}
