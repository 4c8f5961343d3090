// Package app wires obmin together from a validated configuration: the spool, the state store, BAS's
// folders (local or SFTP) and their watcher, the Checkbox client (or the built-in emulator), BAS's OData
// interface, the agent with its jobs, the HTTP endpoints, notifications, the logger; and `obmin demo`.
// cmd/obmin parses the command line and calls it.
//
// It may import every package of obmin (it is the one place that knows them all); only cmd/obmin
// imports it.
package app
