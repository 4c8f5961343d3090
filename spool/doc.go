// Package spool is obmin's own folder tree (see Spool): inbox/, processing/, done/, failed/, held/,
// outbox/ and tmp/. A drop enters it copied whole out of BAS's folder (Ingest, or Stage then Commit),
// moves between its folders only by same-volume renames (Claim, Done, Fail, Reject, Replay), and leaves
// done/ only when Retain deletes it, so every input ends in done/ or failed/ with the reason beside it.
//
// It imports the pure package drop (which names a drop may hold), folder (where a drop is copied from)
// and internal/atomicfile; never the state store, the watcher or the jobs.
package spool
