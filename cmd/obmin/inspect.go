package main

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"obmin/drop"
	"obmin/inspect"
)

// cmdInspect tells what files and export folders hold, without touching any state: for staff and for the
// BAS administrator checking an export before pointing obmin at it (inspect.Run does the work). It
// fails (exit code 1) when any file is refused or broken, after listing everything.
func cmdInspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlags("inspect", stderr)
	asJSON := fl.Bool("json", false, "print the report as JSON, with every good, offer and document as a record (prices and quantities as decimal strings)")
	maxProblems := fl.Int("problems", 10, "show at most `N` problems per file")
	giveUp := fl.Duration("incomplete-timeout", drop.DefaultGiveUpAfter, "bas.incomplete_timeout of the service: how long a folder's unfinished files may stay unchanged before its drop goes to failed/")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fl.NArg() == 0 {
		return usageError{"inspect takes one or more PATHs: a CommerceML file, a feed, a .zip or an export folder"}
	}
	if *maxProblems < 0 {
		return usageError{"-problems must be 0 or more"}
	}
	if *giveUp <= 0 {
		return usageError{"-incomplete-timeout must be positive"}
	}
	w := bufio.NewWriter(stdout)
	t, err := inspect.Run(ctx, w, fl.Args(), inspect.Options{MaxProblems: *maxProblems, JSON: *asJSON, GiveUpAfter: *giveUp})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	switch {
	case err != nil:
		return err // it names the path
	case t.Files == 0:
		return fmt.Errorf("nothing to inspect: no .xml or .zip files in %v", fl.Args())
	case t.Failed() > 0:
		return fmt.Errorf("%d of %d files refused or broken", t.Failed(), t.Files)
	}
	return nil
}
