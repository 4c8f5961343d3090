package exchange

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/drop"
)

// BAS gives no acknowledgement for an orders file it loads in directory mode, and its own orders export
// leaves out what it loaded in that run (docs/bas-orders.md, «Скільки чек лежить у файлі»). What obmin can
// see is BAS's runs: each run empties its «webdata - <node>» folder in the export folder and writes it
// again, and loads the orders file in between. RunWatcher reads them off the watcher's listings; a receipt
// leaves the orders file once it has been there across enough of them.

// runMergeWindow: a change that only adds files to the last state recorded, within this time, is the same
// run going on (BAS writes goods first, its own orders export after loading ours), not a new one.
const runMergeWindow = 10 * time.Minute

// RunWatcher watches listings of BAS's export folder for exchange runs. It is safe for concurrent use.
type RunWatcher struct {
	Store interface {
		RecordBASRun(ctx context.Context, folder string, startedAfter, seenAt time.Time) error
	}
	Own *OwnFiles // obmin's own files, never part of a run
	Log *logrus.Entry
	// OnRun is called after each run is recorded (the agent rewrites the orders file: BAS may have lost it).
	OnRun func()

	mu      sync.Mutex
	folders map[string]*runFolder
}

// runFolder is what the watcher knows of one «webdata - …» folder.
type runFolder struct {
	recorded     map[string]string // path → size and mtime, as last recorded
	recordedSeen time.Time         // the last listing that still showed the recorded state
	recordedAt   time.Time         // when that state was recorded
	candidate    string            // fingerprint of a new state seen once
}

// Observe takes one listing of the export folder made at at.
func (w *RunWatcher) Observe(at time.Time, files []drop.File) {
	groups := map[string]map[string]string{}
	for _, f := range files {
		top, _, ok := strings.Cut(f.Path, "/")
		switch {
		case w.Own.Is(f.Path):
			continue
		case !ok:
			top = "." // bas.export_dir may name the «webdata - …» folder itself
		case !isBASFolder(top):
			continue
		}
		if groups[top] == nil {
			groups[top] = map[string]string{}
		}
		groups[top][f.Path] = fmt.Sprintf("%d/%d", f.Size, f.ModTime.UnixNano())
	}
	w.mu.Lock()
	if w.folders == nil {
		w.folders = map[string]*runFolder{}
	}
	type run struct {
		folder string
		after  time.Time
	}
	var runs []run
	for name := range groups {
		if w.folders[name] == nil {
			// Whatever the folder holds now was written before obmin looked: not a run it can count.
			w.folders[name] = &runFolder{recorded: groups[name], recordedSeen: at, recordedAt: at}
		}
	}
	for name, f := range w.folders {
		now := groups[name] // nil: the folder is empty or gone
		fp := fingerprint(now)
		switch {
		case fp == fingerprint(f.recorded):
			f.recordedSeen, f.candidate = at, ""
		case fp != f.candidate:
			f.candidate = fp // seen once: wait for the next listing, BAS may still be writing
		default:
			if !(onlyAdds(f.recorded, now) && at.Sub(f.recordedAt) < runMergeWindow) {
				runs = append(runs, run{name, f.recordedSeen})
			}
			f.recorded, f.recordedSeen, f.recordedAt, f.candidate = now, at, at, ""
		}
	}
	w.mu.Unlock()
	for _, r := range runs {
		if err := w.Store.RecordBASRun(context.Background(), r.folder, r.after, at); err != nil {
			if w.Log != nil {
				w.Log.WithError(err).Warn("record BAS's exchange run")
			}
			continue
		}
		if w.Log != nil {
			w.Log.WithFields(logrus.Fields{"folder": r.folder, "started_after": r.after.Format(time.RFC3339)}).Info("BAS exchange run seen")
		}
		if w.OnRun != nil {
			w.OnRun()
		}
	}
}

// isBASFolder says whether a top-level folder of the export folder is one BAS's node writes: «webdata - <node id>».
func isBASFolder(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "webdata")
}

func fingerprint(files map[string]string) string {
	if len(files) == 0 {
		return ""
	}
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%s\n", k, files[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// onlyAdds says whether now is before plus new files, every file of before unchanged.
func onlyAdds(before, now map[string]string) bool {
	for p, v := range before {
		if now[p] != v {
			return false
		}
	}
	return len(now) > len(before)
}

// OrdersFileMarker starts the comment obmin writes at the head of every orders file, and tells obmin's
// own file from BAS's wherever it turns up (docs/folders.md).
const OrdersFileMarker = "obmin-orders-file"

// ordersFileComment is the whole comment.
const ordersFileComment = OrdersFileMarker + ": written by obmin for BAS's site exchange; obmin never takes it as an export of BAS"

// OwnFiles are obmin's own files inside BAS's export folder, by path relative to it (slash-separated),
// when its orders file is kept there. The watcher's drops and the run watcher leave them out. A nil
// *OwnFiles holds none.
type OwnFiles struct {
	paths map[string]bool
}

// NewOwnFiles records the paths (relative to the export folder; "" and paths outside are ignored).
func NewOwnFiles(paths ...string) *OwnFiles {
	o := &OwnFiles{paths: map[string]bool{}}
	for _, p := range paths {
		if p == "" || p == "." || strings.HasPrefix(p, "../") || p == ".." {
			continue
		}
		o.paths[strings.ToLower(path.Clean(p))] = true
	}
	return o
}

// Is says whether the path (relative to the export folder) is one of obmin's files. Case does not count:
// Windows and SMB shares ignore it.
func (o *OwnFiles) Is(p string) bool {
	return o != nil && o.paths[strings.ToLower(path.Clean(p))]
}

// isOwnFile says whether a file is obmin's own orders file, by the comment at its head.
func isOwnFile(name string) (bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return false, err
	}
	return bytes.Contains(head[:n], []byte("<!-- "+OrdersFileMarker)), nil
}
