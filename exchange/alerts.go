package exchange

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"obmin/notify"
)

// Alerts is the periodic check behind notifications (notify.Config.Check): every drop in failed/, the
// held receipts with the oldest one's age, the held or refused shift reports likewise, and the
// reconciliation differences left open. The thresholds are notify's.
func (a *Agent) Alerts(ctx context.Context) (map[notify.Kind][]notify.Event, error) {
	failed, err := a.failedDrops(ctx)
	if err != nil {
		return nil, err
	}
	out := map[notify.Kind][]notify.Event{notify.DropFailed: failed, notify.HeldReceipts: nil, notify.HeldReports: nil}
	n, oldest, err := a.Store.HeldReceipts(ctx)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		out[notify.HeldReceipts] = []notify.Event{{Kind: notify.HeldReceipts, Count: n, Since: oldest, Where: a.Sales.Cfg.HeldDir}}
	}
	if out[notify.HeldReports], err = a.heldShiftsAlert(ctx); err != nil {
		return nil, err
	}
	if out[notify.ReconcileDiffer], err = a.reconcileAlerts(a.now()); err != nil {
		return nil, err
	}
	return out, nil
}

// failedDrops are the drops in failed/ as conditions: since when each is there, why, and where the
// reason is written.
func (a *Agent) failedDrops(ctx context.Context) ([]notify.Event, error) {
	ids, err := a.Spool.Failed()
	if err != nil {
		return nil, err
	}
	events := make([]notify.Event, 0, len(ids))
	for _, id := range ids {
		e := notify.Event{Kind: notify.DropFailed, Key: id, Where: filepath.Join(a.Spool.Dir("failed"), id+".error.txt")}
		if rec, ok, err := a.Store.Drop(ctx, id); err != nil {
			return nil, err
		} else if ok {
			e.Since, e.Reason = rec.UpdatedAt, rec.Error
		}
		if e.Since.IsZero() {
			if fi, err := os.Stat(filepath.Join(a.Spool.Dir("failed"), id)); err == nil {
				e.Since = fi.ModTime()
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		}
		events = append(events, e)
	}
	return events, nil
}

// notifyFailed tells the notifier, if there is one, which drops are in failed/ now: a drop that just
// failed is told at once, not at the next periodic check.
func (a *Agent) notifyFailed(ctx context.Context) {
	if a.Notifier == nil {
		return
	}
	events, err := a.failedDrops(ctx)
	if err == nil {
		err = a.Notifier.Sync(ctx, notify.DropFailed, events)
	}
	if err != nil && ctx.Err() == nil {
		a.log().WithError(err).Warn("notify about failed drops")
	}
}
