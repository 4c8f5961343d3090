package httpapi

import (
	"context"
	"time"

	"obmin/checkbox"
	"obmin/exchange"
	"obmin/store"
)

// Agent is what the endpoints ask of the exchange layer; *exchange.Agent is the one obmin runs.
type Agent interface {
	Site
	StatusSource
}

// Site is what BAS's site exchange (mode=checkauth…success) and Checkbox's webhook need.
type Site interface {
	// IngestDir takes an uploaded drop folder into the spool and returns its id.
	IngestDir(ctx context.Context, dir string) (string, error)
	// Drop is the record of a drop taken before (ok false: none with that id).
	Drop(ctx context.Context, id string) (store.DropRecord, bool, error)
	// ProcessDrops applies the drops waiting in the spool.
	ProcessDrops(ctx context.Context) error
	// PendingOrders is the orders document mode=query answers with.
	PendingOrders(ctx context.Context) (exchange.Orders, error)
	// ConfirmOrders marks the orders with these numbers as held by BAS; it returns how many were.
	ConfirmOrders(ctx context.Context, numbers []string) (int, error)
	// RecordBASOrders records the orders BAS sent back in its own document (path), from source.
	RecordBASOrders(ctx context.Context, path, source string) error
	// TakesRegister says whether receipts of this cash register are obmin's to take.
	TakesRegister(id string) bool
	// AcceptReceipt records a receipt delivered by webhook, once.
	AcceptReceipt(ctx context.Context, r checkbox.Receipt) (added bool, state store.ReceiptState, err error)
	// SpoolRoot is the spool's folder.
	SpoolRoot() string
}

// StatusSource is what /status, /status.json and /metrics read.
type StatusSource interface {
	Snapshot(ctx context.Context) (exchange.Status, error)
	WriteStatus(ctx context.Context) error
	CheckboxEmulated() bool
	OldestPending(ctx context.Context) (first time.Time, ok bool, err error)
	LastSuccesses(ctx context.Context) (map[string]time.Time, error)
}

var _ Agent = (*exchange.Agent)(nil)
