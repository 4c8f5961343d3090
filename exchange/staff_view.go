package exchange

import (
	"context"

	"github.com/sirupsen/logrus"

	"obmin/store"
)

// What the staff page (package httpapi/staff) reads beyond Snapshot.

// RecentDrops returns up to limit drops, newest first; limit <= 0 returns all.
func (a *Agent) RecentDrops(ctx context.Context, limit int) ([]store.DropRecord, error) {
	return a.Store.RecentDrops(ctx, limit)
}

// HeldReceipts calls fn for every receipt held back from BAS, oldest first.
func (a *Agent) HeldReceipts(ctx context.Context, fn func(store.ReceiptRecord) error) error {
	return a.Store.ReceiptsInState(ctx, StateHeld, fn)
}

// JobHistory returns the jobs' recorded runs, newest first; limit <= 0 returns all.
func (a *Agent) JobHistory(ctx context.Context, limit int) ([]store.JobRun, error) {
	return a.Store.JobHistory(ctx, limit)
}

// FailedDrops lists the drops in failed/; FailedDir is that folder.
func (a *Agent) FailedDrops() ([]string, error) { return a.Spool.Failed() }

// FailedDir is the spool's failed/ folder: each drop's folder and its .error.txt.
func (a *Agent) FailedDir() string { return a.Spool.Dir("failed") }

// Logger is the agent's logger (a quiet one when it has none): the parts beside it log under it.
func (a *Agent) Logger() *logrus.Entry { return a.log() }
