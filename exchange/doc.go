// Package exchange holds obmin's jobs, the rules that map one side onto the other, and the Agent that
// runs them: a drop of BAS's export applied to Checkbox's goods, prices and stock (Catalog, with the
// mapping of CommerceML and feed records onto goods), receipts pulled from Checkbox into BAS's orders
// file and returns listed for staff (Sales), each closed shift written as BAS's retail sales report
// (Retail), reconciliation, retention, and the status everything reports.
//
// It declares the small interfaces it consumes (the Checkbox API, BAS's OData) and imports the pure
// packages (commerceml, feed, retail, drop), the types of the outside systems' clients (checkbox,
// basodata), the state store, the spool and its folders, the watcher, notify and reconcile; never the
// HTTP side, the wiring or the command line, which import it.
package exchange
