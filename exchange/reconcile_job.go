package exchange

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"obmin/notify"
	"obmin/reconcile"
)

// Reconciler runs one reconciliation (reconcile.Reconciler).
type Reconciler interface {
	Run(ctx context.Context, o reconcile.Options) (*reconcile.Report, error)
}

// ReconcileDirName is the folder of the spool reconciliation reports are kept in, one folder per day.
const ReconcileDirName = "reconcile"

// ReconcileDir is where this agent's reconciliation reports are.
func (a *Agent) ReconcileDir() string { return filepath.Join(a.Spool.Root, ReconcileDirName) }

// reconcileMu keeps reconciliations of one process one at a time: the scheduled one, the staff page's.
var reconcileMu sync.Mutex

// Reconcile is the "reconcile" job: a reconciliation (of yesterday, unless o says which day), recorded as a
// job run, its differences told to the notifier. Differences are no error: the report and the job's
// summary say them; an error is a reconciliation that could not be made.
func (a *Agent) Reconcile(ctx context.Context, o reconcile.Options) (*reconcile.Report, error) {
	reconcileMu.Lock()
	defer reconcileMu.Unlock()
	start := a.now()
	rep, err := a.Reconciler.Run(ctx, o)
	var summary any
	if rep != nil {
		summary = rep.Summary()
	}
	a.recordJob(ctx, "reconcile", start, err, summary)
	if err == nil {
		a.notifyReconcile(ctx)
	}
	return rep, err
}

// reconcileDays is how far back reports keep a reconciliation's differences open for notifications.
const reconcileDays = 14

// reconcileAlerts are the open reconciliation differences: for each day of the last two weeks, its newest
// report's receipts left unresolved, and the goods the newest report of all left (goods are compared as
// they are now, so only the newest report speaks for them).
func (a *Agent) reconcileAlerts(now time.Time) ([]notify.Event, error) {
	dir := a.ReconcileDir()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cutoff := reconcile.Yesterday(now.AddDate(0, 0, -reconcileDays+1))
	var reports []*reconcile.Report
	for _, e := range entries {
		if !e.IsDir() || e.Name() < cutoff {
			continue
		}
		if rep, err := reconcile.ReadReport(filepath.Join(dir, e.Name())); err == nil {
			reports = append(reports, rep)
		}
	}
	sort.Slice(reports, func(i, j int) bool { return reports[i].Finished.Before(reports[j].Finished) })
	var events []notify.Event
	for i, rep := range reports {
		left := 0
		for k, n := range rep.LeftCounts() {
			if strings.HasPrefix(k, reconcile.AreaReceipts+".") || i == len(reports)-1 {
				left += n
			}
		}
		if left > 0 {
			events = append(events, notify.Event{Kind: notify.ReconcileDiffer, Key: rep.Date, Since: rep.Finished, Count: left,
				Where: filepath.Join(dir, rep.Date, "report.txt")})
		}
	}
	return events, nil
}

// notifyReconcile tells the notifier, if there is one, the reconciliation differences open now.
func (a *Agent) notifyReconcile(ctx context.Context) {
	if a.Notifier == nil {
		return
	}
	events, err := a.reconcileAlerts(a.now())
	if err == nil {
		err = a.Notifier.Sync(ctx, notify.ReconcileDiffer, events)
	}
	if err != nil && ctx.Err() == nil {
		a.log().WithError(err).Warn("notify about reconciliation differences")
	}
}

// schedule remembers the running scheduler's entries by job name.
type schedule struct {
	mu   sync.Mutex
	c    *cron.Cron
	jobs map[string]cron.EntryID
}

func (s *schedule) set(c *cron.Cron) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c, s.jobs = c, map[string]cron.EntryID{}
}

func (s *schedule) add(name string, id cron.EntryID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[name] = id
}

// NextRuns are the next scheduled runs of each job while the service runs (empty otherwise): by job name.
func (a *Agent) NextRuns() map[string]time.Time {
	s := &a.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Time{}
	if s.c == nil {
		return out
	}
	for name, id := range s.jobs {
		if e := s.c.Entry(id); e.Valid() && !e.Next.IsZero() {
			out[name] = e.Next
		}
	}
	return out
}
