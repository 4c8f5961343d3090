package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// cmdInspect tells what files and export folders hold, without touching any state: for staff and for the
// BAS administrator checking an export before pointing obmin at it. For each file: its format and version,
// encoding, counts, whether it is a changes-only package, and its first problems with file, line, element
// and value; for a folder, also how obmin would apply it. A zip is unpacked (with obmin's limits) into a
// temporary folder and its entries inspected. It fails (exit code 1) when any file is refused or broken,
// after listing everything.
func cmdInspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlags("inspect", stderr)
	asJSON := fl.Bool("json", false, "print the report as JSON, with every good, offer and document as a record (prices and quantities as decimal strings)")
	maxProblems := fl.Int("problems", 10, "show at most `N` problems per file")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fl.NArg() == 0 {
		return usageError{"inspect takes one or more PATHs: a CommerceML file, a feed, a .zip or an export folder"}
	}
	if *maxProblems < 0 {
		return usageError{"-problems must be 0 or more"}
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	var sink inspectSink
	var js *jsonSink
	if *asJSON {
		js = newJSONSink(w)
		sink = js
	} else {
		sink = &textSink{w: w}
	}
	in := &inspector{maxProblems: *maxProblems, records: *asJSON, sink: sink}
	var all []*fileReport
	for _, arg := range fl.Args() {
		reps, err := in.path(ctx, arg)
		if err != nil {
			return err
		}
		all = append(all, reps...)
	}
	t := countTotals(all)
	if js != nil {
		if err := js.finish(t); err != nil {
			return err
		}
	} else if t.Files > 1 {
		fmt.Fprintf(w, "\n%d files: %d read, %d refused, %d broken\n", t.Files, t.Read, t.Refused, t.Broken)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if t.Files == 0 {
		return fmt.Errorf("nothing to inspect: no .xml or .zip files in %v", fl.Args())
	}
	if t.Refused+t.Broken > 0 {
		return fmt.Errorf("%d of %d files refused or broken", t.Refused+t.Broken, t.Files)
	}
	return nil
}

// path inspects one argument: a folder as export drops, anything else as a file.
func (in *inspector) path(ctx context.Context, arg string) ([]*fileReport, error) {
	if info, err := os.Stat(arg); err == nil && info.IsDir() {
		return in.folder(ctx, arg)
	}
	in.resetDrop()
	return in.file(ctx, arg, arg)
}

// inspectTotals counts the files inspected (zip entries included) by status.
type inspectTotals struct {
	Files   int `json:"files"`
	Read    int `json:"read"`
	Refused int `json:"refused"`
	Broken  int `json:"broken"`
}

func countTotals(reps []*fileReport) inspectTotals {
	var t inspectTotals
	for _, r := range reps {
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
	return t
}

// jsonSink writes {"files": [...], "drops": [...], "totals": {...}}. Each file's records are streamed as
// they are read, so memory stays flat however big the file is; the file's report follows them.
type jsonSink struct {
	w       io.Writer
	files   int
	records int
	drops   []*dropPlan
	buf     bytes.Buffer
	enc     *json.Encoder
}

func newJSONSink(w io.Writer) *jsonSink {
	s := &jsonSink{w: w}
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetEscapeHTML(false)
	return s
}

// encode renders v as one line of JSON, without the trailing newline.
func (s *jsonSink) encode(v any) ([]byte, error) {
	s.buf.Reset()
	if err := s.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(s.buf.Bytes(), []byte("\n")), nil
}

func (s *jsonSink) begin(string) error {
	sep := ""
	if s.files == 0 {
		sep = "{\"files\": ["
	} else {
		sep = ","
	}
	s.files++
	s.records = 0
	_, err := fmt.Fprintf(s.w, "%s\n{\"records\": [", sep)
	return err
}

func (s *jsonSink) record(kind string, v any) error {
	b, err := s.encode(v)
	if err != nil {
		return err
	}
	sep := ""
	if s.records > 0 {
		sep = ","
	}
	s.records++
	_, err = fmt.Fprintf(s.w, "%s\n  {\"type\": %q, \"record\": %s}", sep, kind, b)
	return err
}

func (s *jsonSink) end(rep *fileReport) error {
	b, err := s.encode(rep)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.w, "],\n %s", b[1:]) // the report's fields follow "records" in the same object
	return err
}

func (s *jsonSink) drop(p *dropPlan) error {
	s.drops = append(s.drops, p)
	return nil
}

func (s *jsonSink) finish(t inspectTotals) error {
	if s.files == 0 {
		if _, err := io.WriteString(s.w, "{\"files\": ["); err != nil {
			return err
		}
	}
	if s.drops == nil {
		s.drops = []*dropPlan{}
	}
	d, err := s.encode(s.drops)
	if err != nil {
		return err
	}
	drops := string(d)
	tt, err := s.encode(t)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.w, "\n],\n\"drops\": %s,\n\"totals\": %s}\n", drops, tt)
	return err
}
