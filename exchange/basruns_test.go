package exchange

import (
	"context"
	"testing"
	"time"

	"obmin/drop"
)

type runsRecorded struct{ runs []time.Time }

func (r *runsRecorded) RecordBASRun(_ context.Context, _ string, startedAfter, _ time.Time) error {
	r.runs = append(r.runs, startedAfter)
	return nil
}

// TestRunWatcher: a run is counted once, when a «webdata» folder has changed and held still for two
// listings; it started after the last listing that showed the folder as before.
func TestRunWatcher(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	file := func(p string, size int64, mod int) drop.File {
		return drop.File{Path: p, Size: size, ModTime: at(mod)}
	}
	const w = "webdata - 1/"
	export := []drop.File{file(w+"import.xml", 100, 0), file(w+"offers.xml", 50, 0)}
	rec := &runsRecorded{}
	rw := &RunWatcher{Store: rec, Own: NewOwnFiles("orders.xml")}
	list := func(min int, files ...drop.File) { rw.Observe(at(min), files) }

	list(1, export...) // what was there before obmin looked: no run
	list(2, export...)
	list(3, append(export, file("orders.xml", 10, 3), file("other/x.xml", 1, 3))...) // obmin's own file, another folder
	if len(rec.runs) != 0 {
		t.Fatalf("runs before any change: %v", rec.runs)
	}
	// BAS's run: the folder emptied, then written anew.
	list(20)
	next := []drop.File{file(w+"import.xml", 120, 20), file(w+"offers.xml", 50, 20)}
	list(21, next...)
	list(22, next...)
	if len(rec.runs) != 1 || !rec.runs[0].Equal(at(3)) {
		t.Fatalf("one run after the last listing of the old state (%v): %v", at(3), rec.runs)
	}
	// BAS adds its own orders export after loading ours: the same run.
	more := append(next, file(w+"orders-1.xml", 30, 23))
	list(23, more...)
	list(24, more...)
	if len(rec.runs) != 1 {
		t.Fatalf("files added within the run counted as a new run: %v", rec.runs)
	}
	// A run that writes nothing leaves the folder empty: still a run.
	list(40)
	list(41)
	if len(rec.runs) != 2 || !rec.runs[1].Equal(at(24)) {
		t.Fatalf("an emptied folder is a run: %v", rec.runs)
	}
	// A change seen once (BAS still writing) is not a run yet.
	list(60, file(w+"import.xml", 10, 60))
	list(61, file(w+"import.xml", 200, 61))
	if len(rec.runs) != 2 {
		t.Fatalf("a folder still being written counted: %v", rec.runs)
	}
	list(62, file(w+"import.xml", 200, 61))
	if len(rec.runs) != 3 {
		t.Fatalf("the written folder, settled: %v", rec.runs)
	}
	// bas.export_dir naming the «webdata» folder itself: files at the root are BAS's.
	root := &runsRecorded{}
	rw = &RunWatcher{Store: root}
	rw.Observe(at(1), []drop.File{file("import.xml", 1, 0)})
	rw.Observe(at(20), []drop.File{file("import.xml", 2, 20)})
	rw.Observe(at(21), []drop.File{file("import.xml", 2, 20)})
	if len(root.runs) != 1 {
		t.Errorf("runs in the root: %v", root.runs)
	}
}
