// Package store is obmin's durable state in one SQLite file: the drops taken, the goods ledger (what
// Checkbox was last sent), the receipts pulled and where each stands on its way to BAS, the shifts' retail
// sales reports, pull cursors, job runs, notices, and what the watcher of BAS's folder last saw. Store is
// safe for concurrent use and every method is one transaction that survives kill -9 (see Store). Stage
// is a scratch SQLite database for one large catalogue, gone when closed.
//
// The schema is applied by forward-only migrations (migrations in store.go); testdata/schema.golden holds
// the schema they produce.
//
// It imports the standard library, SQLite (modernc.org/sqlite) and of obmin only the pure package drop.
package store
