package exchange_test

import (
	"context"
	"testing"
	"time"

	"obmin/notify"
	"obmin/reconcile"
)

// fixedReconciler hands out the reports a test prepared, one per run.
type fixedReconciler struct{ next []*reconcile.Report }

func (f *fixedReconciler) Run(ctx context.Context, o reconcile.Options) (*reconcile.Report, error) {
	rep := f.next[0]
	f.next = f.next[1:]
	return rep, nil
}

// TestReconcileRaisesAndClearsItsNotification: a reconciliation that leaves differences raises
// ReconcileDiffer for its day; one that finds the day clean clears it; goods count only in the newest report.
func TestReconcileRaisesAndClearsItsNotification(t *testing.T) {
	r := newRig(t, nil)
	rec := &recorder{}
	r.agent.Notifier = rec
	dir := r.agent.ReconcileDir()
	now := time.Now()
	report := func(date string, at time.Time, counts map[string]int) *reconcile.Report {
		rep := &reconcile.Report{Date: date, Finished: at, CountsByKind: counts, Dir: dir + "/" + date}
		if err := rep.Write(rep.Dir); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	day1, day2 := reconcile.Yesterday(now.AddDate(0, 0, -1)), reconcile.Yesterday(now)
	fr := &fixedReconciler{next: []*reconcile.Report{
		report(day1, now.Add(-time.Hour), map[string]int{"receipts.missing": 2, "goods.price": 5}),
		report(day2, now, map[string]int{"goods.price": 1}),
	}}
	r.agent.Reconciler = fr
	for range 2 {
		if _, err := r.agent.Reconcile(context.Background(), reconcile.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	open, _ := rec.last(notify.ReconcileDiffer)
	// day1: its receipts (goods are the newest report's); day2: its goods.
	if len(open) != 2 || open[0].Key != day1 || open[0].Count != 2 || open[1].Key != day2 || open[1].Count != 1 {
		t.Fatalf("open: %+v", open)
	}
	// Both days reconciled again, clean.
	fr.next = []*reconcile.Report{report(day1, now.Add(time.Minute), nil), report(day2, now.Add(2*time.Minute), nil)}
	for range 2 {
		if _, err := r.agent.Reconcile(context.Background(), reconcile.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if open, _ := rec.last(notify.ReconcileDiffer); len(open) != 0 {
		t.Fatalf("a clean reconciliation must clear the notification: %+v", open)
	}
}
