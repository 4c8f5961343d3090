package inspect

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	"obmin/drop"
	"obmin/exchange"
)

// Options says how Inspect reports.
type Options struct {
	// MaxProblems is how many problems are listed per file; the others are only counted.
	MaxProblems int
	// JSON writes {"files": [...], "drops": [...], "totals": {...}} with every record of every file,
	// instead of text for people.
	JSON bool
	// Now is the time a folder's files are judged at (how long they have been unchanged); nil is time.Now.
	Now func() time.Time
	// GiveUpAfter is the watcher's bound for an unfinished drop (bas.incomplete_timeout); 0 is
	// drop.DefaultGiveUpAfter.
	GiveUpAfter time.Duration
}

// Totals counts the files inspected (zip entries included) by status.
type Totals struct {
	Files   int `json:"files"`
	Read    int `json:"read"`
	Refused int `json:"refused"`
	Broken  int `json:"broken"`
}

// Failed is how many files obmin would not take: refused or broken.
func (t Totals) Failed() int { return t.Refused + t.Broken }

// Inspect tells what files and export folders hold, without touching any state: for each file its format
// and version, encoding, counts, whether it is a changes-only package, and its first problems with file,
// line, element and value; for a folder, also how obmin would apply each drop in it (the same rules as
// Catalog.Apply: the drop rules of package drop, ResolvePriceType). A zip is unpacked, with obmin's limits,
// into a temporary folder that is removed afterwards.
//
// Each file's report is written to w as soon as it is complete, and with opt.JSON every record as it is
// read, so memory stays flat however big a file is. What is wrong with a file goes into the report and the
// totals; the error is only for what stops the inspection itself (w, ctx, a folder that cannot be walked).
func Run(ctx context.Context, w io.Writer, paths []string, opt Options) (Totals, error) {
	var out inspectSink = &textSink{w: w}
	if opt.JSON {
		out = newJSONSink(w)
	}
	in := &inspector{maxProblems: max(opt.MaxProblems, 0), records: opt.JSON, sink: out, now: opt.Now, giveUpAfter: opt.GiveUpAfter}
	if in.now == nil {
		in.now = time.Now
	}
	if in.giveUpAfter <= 0 {
		in.giveUpAfter = drop.DefaultGiveUpAfter
	}
	var t Totals
	for _, p := range paths {
		reps, err := in.path(ctx, p)
		if err != nil {
			return t, err
		}
		for _, r := range reps {
			t.add(r)
		}
	}
	return t, out.finish(t)
}

func (t *Totals) add(r *fileReport) {
	t.Files++
	switch r.Status {
	case statusRead:
		t.Read++
	case statusRefused:
		t.Refused++
	default:
		t.Broken++
	}
}

// path inspects one argument: a folder as export drops, anything else as a file.
func (in *inspector) path(ctx context.Context, arg string) ([]*fileReport, error) {
	if info, err := os.Stat(arg); err == nil && info.IsDir() {
		return in.folder(ctx, arg)
	}
	in.resetDrop()
	return in.file(ctx, arg, arg)
}

// inspectSink receives what the inspector finds, file by file: records (for JSON) while a file is read,
// then its report. A zip's report comes before the reports of its entries; a drop's plan after its files.
type inspectSink interface {
	begin(display string) error
	record(kind string, v any) error
	end(rep *fileReport) error
	drop(p *dropPlan) error
	finish(t Totals) error
}

// inspector inspects files; it keeps nothing between drops but its settings.
type inspector struct {
	maxProblems int
	records     bool // call sink.record for every record
	sink        inspectSink
	// dropTypes are the price types (Ид → Наименование) the files of the current drop announced so far:
	// УТ packages announce them in import___*.xml and price offers in prices___*.xml (docs/commerceml.md §4.2).
	dropTypes   map[string]string
	now         func() time.Time
	giveUpAfter time.Duration
}

func (in *inspector) resetDrop() { in.dropTypes = map[string]string{} }

// file inspects one file at p, shown as display; for a zip it returns the archive's report, then its entries'.
func (in *inspector) file(ctx context.Context, p, display string) ([]*fileReport, error) {
	if err := in.sink.begin(display); err != nil {
		return nil, err
	}
	rep := &fileReport{Path: display, Problems: []problem{}}
	var entries []zipExtracted
	var tmp string
	err := in.fill(ctx, p, rep, &entries, &tmp)
	if tmp != "" {
		defer os.RemoveAll(tmp)
	}
	if err != nil {
		return nil, err
	}
	if rep.Status == "" {
		rep.Status = statusRead
	}
	if err := in.sink.end(rep); err != nil {
		return nil, err
	}
	reps := []*fileReport{rep}
	for _, e := range entries {
		sub, err := in.file(ctx, e.path, e.display)
		if err != nil {
			return nil, err
		}
		reps = append(reps, sub...)
	}
	return reps, nil
}

// add records a problem, keeping the first maxProblems.
func (in *inspector) add(rep *fileReport, p problem) {
	rep.ProblemsAll++
	if len(rep.Problems) < in.maxProblems {
		rep.Problems = append(rep.Problems, p)
	}
}

// fail marks the file refused or broken and records why as its first error.
func (in *inspector) fail(rep *fileReport, status, reason string, p problem) {
	p.Severity = "error"
	if rep.Status == statusRead || rep.Status == "" || (rep.Status == statusBroken && status == statusRefused) {
		rep.Status, rep.Reason = status, reason
	}
	if rep.Error == nil {
		msg := formatProblem(p)
		rep.Error = &msg
	}
	// The error goes first: it is what stopped the read.
	rep.ProblemsAll++
	rep.Problems = append([]problem{p}, rep.Problems...)
	if len(rep.Problems) > max(in.maxProblems, 1) {
		rep.Problems = rep.Problems[:max(in.maxProblems, 1)]
	}
}

// ioFailure records a file that could not be read at all.
func (in *inspector) ioFailure(rep *fileReport, err error) {
	in.fail(rep, statusBroken, reasonIO, problem{File: rep.Path, Message: ioMessage(err)})
}

func ioMessage(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// defaults is the configuration Run judges by: obmin's defaults, since it reads no config.
var defaults = exchange.DefaultMapping()
