package exchange

import (
	"cmp"
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"obmin/notify"
	"obmin/store"
)

// What staff see and do about the retail sales reports held back or refused by BAS: the staff page's
// list and its «try again now», the notification about them, and held-shifts/ kept to what is held.

// HeldShiftsDir is the spool's folder describing each shift whose retail sales report is held or refused.
const HeldShiftsDir = "held-shifts"

// HeldShift is a shift whose retail sales report waits for a person: held back (a good BAS never
// exported, an unmapped VAT rate or register) or refused by BAS.
type HeldShift struct {
	ShiftID string
	Title   string // the shift as staff read it: number, register, hours
	Reason  string
	Advice  string
	Refused bool      // BAS refused it (the rest are held back by obmin)
	Since   time.Time // when the shift closed: since then its sales are not in BAS
}

// HeldShifts lists the shifts whose reports are held or refused, oldest first; none when the reports are off.
func (a *Agent) HeldShifts(ctx context.Context) ([]HeldShift, error) {
	if a.Retail == nil {
		return nil, nil
	}
	var out []HeldShift
	err := a.Store.ReportsInState(ctx, func(r store.ReportRecord) error {
		out = append(out, HeldShift{ShiftID: r.ShiftID, Title: shiftName(r), Reason: r.Reason, Advice: retailAdvice(r),
			Refused: r.State == store.ReportStateError, Since: heldSince(r)})
		return nil
	}, store.ReportStateHeld, store.ReportStateError)
	return out, err
}

// heldSince is when a held report's sales stopped reaching BAS: its shift's close.
func heldSince(r store.ReportRecord) time.Time {
	if r.ClosedAt.IsZero() {
		return r.CreatedAt
	}
	return r.ClosedAt
}

// ErrShiftNotHeld is the answer about a shift whose report is not held or refused (any more).
var ErrShiftNotHeld = errors.New("the shift's report is not held")

// RetryShift tries a held or refused shift's report again now (after the goods were exported from BAS,
// BAS's problem fixed, or the mapping changed): still is the reason when it stays held or refused.
func (a *Agent) RetryShift(ctx context.Context, shiftID string) (still string, err error) {
	if a.Retail == nil {
		return "", ErrShiftNotHeld
	}
	rec, ok, err := a.Store.Report(ctx, shiftID)
	if err != nil {
		return "", err
	}
	if !ok || (rec.State != store.ReportStateHeld && rec.State != store.ReportStateError) {
		return "", ErrShiftNotHeld
	}
	if err := a.requeueShifts(ctx, []string{rec.ShiftID}); err != nil {
		return "", err
	}
	if _, err := a.ReportShifts(ctx); err != nil {
		return "", err
	}
	if rec, _, err = a.Store.Report(ctx, shiftID); err != nil {
		return "", err
	}
	switch rec.State {
	case store.ReportStateHeld, store.ReportStateError:
		return cmp.Or(rec.Reason, "звіт досі затримано"), nil
	case store.ReportStatePending:
		return cmp.Or(rec.Reason, "звіт у черзі"), nil
	}
	return "", nil
}

// heldShiftsAlert is the condition of held and refused reports for notifications: how many, and since
// when the oldest one's shift closed.
func (a *Agent) heldShiftsAlert(ctx context.Context) ([]notify.Event, error) {
	held, err := a.HeldShifts(ctx)
	if err != nil || len(held) == 0 {
		return nil, err
	}
	e := notify.Event{Kind: notify.HeldReports, Count: len(held), Since: held[0].Since, Where: filepath.Join(a.Spool.Root, HeldShiftsDir)}
	for _, h := range held[1:] {
		if h.Since.Before(e.Since) {
			e.Since = h.Since
		}
	}
	return []notify.Event{e}, nil
}

// forgetHeldShifts empties held-shifts/ when the reports are off: nothing there is held any more.
func (a *Agent) forgetHeldShifts() error {
	if a.Retail != nil || a.Spool == nil {
		return nil
	}
	dir := filepath.Join(a.Spool.Root, HeldShiftsDir)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return syncStaffFiles(dir, nil)
}
