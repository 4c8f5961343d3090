package staff

import (
	"context"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/exchange"
	"obmin/reconcile"
	"obmin/store"
)

// Agent is what the page reads and does; *exchange.Agent is the one obmin runs.
type Agent interface {
	// What the page shows.
	Snapshot(ctx context.Context) (exchange.Status, error)
	RecentDrops(ctx context.Context, limit int) ([]store.DropRecord, error)
	Drop(ctx context.Context, id string) (store.DropRecord, bool, error)
	FailedDrops() ([]string, error)
	FailedDir() string
	HeldReceipts(ctx context.Context, fn func(store.ReceiptRecord) error) error
	JobHistory(ctx context.Context, limit int) ([]store.JobRun, error)
	NextRuns() map[string]time.Time
	ReconcileDir() string
	CheckboxEmulated() bool
	Logger() *logrus.Entry

	// What staff may do.
	Replay(ctx context.Context, id string) error
	ReleaseHeld(ctx context.Context, id string) (still string, err error)
	DropHeld(ctx context.Context, id, who string) error
	Reconcile(ctx context.Context, o reconcile.Options) (*reconcile.Report, error)
	RecordStaffAction(ctx context.Context, act exchange.StaffAction, err error)
}

var _ Agent = (*exchange.Agent)(nil)
