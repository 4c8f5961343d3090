package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"

	"obmin/checkbox"
	"obmin/spool"
)

// What staff may do from the staff page (and obmin replay): put a failed drop back, decide about a held
// receipt. Each is logged with who asked.

// ReplayDrop puts drop id from failed/ back into inbox/ and records it as taken again: the drop loop
// applies it at its next pass. It works beside a running obmin (obmin replay), which picks the drop up
// within schedule.retry_drops.
func ReplayDrop(ctx context.Context, sp *spool.Spool, st *spool.Store, id string) error {
	if err := sp.Replay(id); err != nil {
		return err
	}
	if err := st.SetDropState(ctx, id, spool.DropStateInbox, ""); err != nil && !errors.Is(err, spool.ErrStoreNotFound) {
		return err
	}
	return nil
}

// Replay is ReplayDrop by the running agent, which applies the drop at once; who is logged.
func (a *Agent) Replay(ctx context.Context, id, who string) error {
	err := ReplayDrop(ctx, a.Spool, a.Store, id)
	a.Log.WithFields(logrus.Fields{"drop": id, "by": who, "ok": err == nil}).Info("staff: failed drop put back for another try")
	if err != nil {
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
func (a *Agent) ReleaseHeld(ctx context.Context, id, who string) (still string, err error) {
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
	log := a.Log.WithFields(logrus.Fields{"receipt": id, "by": who})
	if state == StateHeld {
		log.WithField("reason", reason).Info("staff: held receipt looked at again; still held")
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
	log.WithField("state", state).Info("staff: held receipt released")
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
	a.Log.WithFields(logrus.Fields{"receipt": id, "by": who}).Info("staff: held receipt dropped; to be entered in BAS by hand")
	_, err = a.Sales.WriteHeld(ctx)
	return err
}
