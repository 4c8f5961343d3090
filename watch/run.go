package watch

import (
	"context"
	"errors"
	"time"

	"github.com/fsnotify/fsnotify"

	"obmin/drop"
)

// Run scans every Interval and calls fn for each complete drop, one at a time, until ctx is done; then it
// returns nil. An error from fn is logged and the drop is offered again at the next scan, so a failed
// ingest is retried. With Notify on a LocalDir it also scans shortly after file events, and again when a
// settling drop is due; an event-queue overflow means "scan now"; Chmod events are ignored (antivirus and
// indexers send floods of them). If events cannot be set up (network shares, inotify limits) it says so
// once and polls.
func (w *Watcher) Run(ctx context.Context, fn func(context.Context, drop.Drop) error) error {
	if fn == nil {
		return errors.New("watcher: nil func")
	}
	n := w.startNotify()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if n != nil {
		defer n.w.Close()
		events, errs = n.w.Events, n.w.Errors
	}

	timer := time.NewTimer(0) // scan at once
	defer timer.Stop()
	due := time.Now()
	// schedule moves the next scan earlier, never later.
	schedule := func(d time.Duration) {
		if t := time.Now().Add(d); due.IsZero() || t.Before(due) {
			timer.Reset(d)
			due = t
		}
	}
	st := &runState{failed: map[string]failedDrop{}}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			due = time.Time{}
			w.runScan(ctx, fn, n, st)
			if ctx.Err() != nil {
				return nil
			}
			next := w.cfg.Interval
			if n != nil {
				// Events say a file changed; come back when its drop may be complete.
				w.mu.Lock()
				ready := w.readyAt
				w.mu.Unlock()
				if !ready.IsZero() {
					next = min(next, max(ready.Sub(w.cfg.Clock()), notifyDelay))
				}
			}
			schedule(next)
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				delete(n.watched, ev.Name) // the kernel dropped the watch of a removed folder
			}
			if ev.Has(fsnotify.Create) {
				n.addTree(ev.Name)
			}
			schedule(notifyDelay)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Info("file events overflowed; scanning the whole folder now")
				schedule(0)
				continue
			}
			w.log.WithError(err).Warn("file events; polling continues")
		}
	}
}

// runState is what Run remembers between scans, so that a repeated error is logged once rather
// than every Interval (a share that is down, a file name the spool refuses, a full disk).
type runState struct {
	scanErr string                // the last Scan error, "" after a good scan
	failed  map[string]failedDrop // by folder: how fn last failed for it
}

type failedDrop struct {
	cause  string    // the innermost error (errorCause)
	logged time.Time // when it was last logged as a warning
}

// remindEvery is how often an error that goes on is logged again as a warning.
const remindEvery = time.Hour

// errorCause is the innermost error of a chain: what stays the same while the messages around it change
// with every attempt ("ingest 20250301-…-1a: write …/tmp/…: no space left on device").
func errorCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// runScan does one scan and hands its drops to fn.
func (w *Watcher) runScan(ctx context.Context, fn func(context.Context, drop.Drop) error, n *notifier, st *runState) {
	drops, err := w.Scan(ctx)
	if err != nil {
		if ctx.Err() == nil && err.Error() != st.scanErr {
			w.log.WithError(err).Warn("cannot list the folder; will keep trying")
		}
		st.scanErr = err.Error()
		return
	}
	if st.scanErr != "" {
		w.log.Info("folder readable again")
		st.scanErr = ""
	}
	if n != nil {
		n.addListed(w)
	}
	for _, d := range drops {
		if ctx.Err() != nil {
			return
		}
		err := fn(ctx, d)
		if err == nil {
			if _, failed := st.failed[d.Dir]; failed {
				w.log.WithField("folder", d.Dir).Info("drop taken after earlier failures")
			}
			delete(st.failed, d.Dir)
			continue
		}
		w.Forget(d)
		if ctx.Err() != nil {
			return
		}
		log := w.log.WithError(err).WithField("folder", d.Dir)
		now, cause := w.cfg.Clock(), errorCause(err)
		if f, ok := st.failed[d.Dir]; ok && f.cause == cause && now.Sub(f.logged) < remindEvery {
			log.Debug("drop still not taken; will try again")
			continue
		}
		log.Warn("drop not taken; will try again")
		st.failed[d.Dir] = failedDrop{cause: cause, logged: now}
	}
}
