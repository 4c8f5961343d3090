package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"

	"obmin/checkbox"
	"obmin/spool"
	"obmin/store"
)

// What staff may do from the staff page (and obmin replay): put a failed drop back, decide about a held
// receipt. The page records each with who asked (RecordStaffAction).

// ReplayDrop puts drop id from failed/ back into inbox/ and records it as taken again: the drop loop
// applies it at its next pass. It works beside a running obmin (obmin replay), which picks the drop up
// within schedule.retry_drops.
func ReplayDrop(ctx context.Context, sp *spool.Spool, st *store.Store, id string) error {
	if err := sp.Replay(id); err != nil {
		return err
	}
	if err := st.SetDropState(ctx, id, store.DropStateInbox, ""); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// Replay is ReplayDrop by the running agent, which applies the drop at once.
func (a *Agent) Replay(ctx context.Context, id string) error {
	if err := ReplayDrop(ctx, a.Spool, a.Store, id); err != nil {
		return err
	}
	select {
	case a.wakeCh() <- struct{}{}:
	default:
	}
	a.notifyFailed(ctx)
	return nil
}

// ErrNotHeld is the answer about a receipt that is not held (any more).
var ErrNotHeld = errors.New("the receipt is not held")

// ReleaseHeld looks at a held receipt again now (after its goods were exported from BAS, or the mapping
// was fixed): when its goods are known it goes into the orders file; still is the reason when it stays held.
func (a *Agent) ReleaseHeld(ctx context.Context, id string) (still string, err error) {
	rec, ok, err := a.Store.Receipt(ctx, id)
	if err != nil {
		return "", err
	}
	if !ok || rec.State != StateHeld {
		return "", ErrNotHeld
	}
	var r checkbox.Receipt
	if err := json.Unmarshal(rec.Raw, &r); err != nil {
		return "", fmt.Errorf("receipt %s: stored receipt: %w", id, err)
	}
	doc, state, reason, err := a.Sales.document(ctx, r)
	if err != nil {
		return "", err
	}
	if state == StateHeld {
		return reason, nil
	}
	rec.State, rec.Reason = state, reason
	if doc != nil {
		if rec.Document, err = json.Marshal(doc); err != nil {
			return "", err
		}
	}
	if err := a.Store.UpdateReceipt(ctx, rec); err != nil {
		return "", err
	}
	return "", a.refreshOrders(ctx)
}

// DropHeld stops holding a receipt staff will enter in BAS by hand: it is never sent (state skipped, the
// reason saying who decided), and its file leaves held/.
func (a *Agent) DropHeld(ctx context.Context, id, who string) error {
	rec, ok, err := a.Store.Receipt(ctx, id)
	if err != nil {
		return err
	}
	if !ok || rec.State != StateHeld {
		return ErrNotHeld
	}
	rec.State = StateSkipped
	rec.Reason = fmt.Sprintf("знято з затримки персоналом (%s): внести в BAS вручну; було: %s", who, rec.Reason)
	rec.Document = nil
	if err := a.Store.UpdateReceipt(ctx, rec); err != nil {
		return err
	}
	_, err = a.Sales.WriteHeld(ctx)
	return err
}

// StaffJob is the job name staff actions are recorded under, so the staff page lists the recent ones.
const StaffJob = "staff"

// StaffAction is one thing staff did, as recorded.
type StaffAction struct {
	Who    string `json:"who"`
	What   string `json:"what"`   // replay, release, drop, reconcile
	Target string `json:"target"` // a drop's id, a receipt's id, a day
	Result string `json:"result"` // in Ukrainian
}

// RecordStaffAction keeps what staff did in the job history (and the log): who, what, on what, and how it
// went.
func (a *Agent) RecordStaffAction(ctx context.Context, act StaffAction, err error) {
	b, _ := json.Marshal(act)
	run := store.JobRun{Name: StaffJob, Start: a.now(), End: a.now(), Summary: string(b)}
	if err != nil {
		run.Err = err.Error()
	}
	a.log().WithFields(logrus.Fields{"by": act.Who, "action": act.What, "target": act.Target, "ok": err == nil}).Info("staff action")
	if rerr := a.Store.RecordJob(ctx, run); rerr != nil {
		a.log().WithError(rerr).Warn("record staff action")
	}
}
