// Command readrss measures one way of reading a CommerceML catalogue (or offers package) in a process
// of its own, so that the peak resident set size it prints belongs to that reader alone: the kernel's
// maxrss is a per-process high-water mark. scripts/bench runs it once per (method, N).
//
//	readrss -write import.xml -n 100000               # generate the file (internal/gen), then exit
//	readrss -method obmin -file import.xml -n 100000  # read it, print one line of figures
//	readrss -method etree -n 10000                    # generate into a temporary file first
//
// The line reads: method=obmin kind=catalog n=100000 bytes=… seconds=… mb_s=… goods_s=… peak_rss_mib=…
// (peak_rss_mib=n/a where the platform has no getrusage maxrss, e.g. Windows).
//
// It imports internal/gen, internal/gen/readers and internal/ctxio.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"obmin/internal/ctxio"
	"obmin/internal/gen"
	"obmin/internal/gen/threeway/readers"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "readrss:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("readrss", flag.ContinueOnError)
	method := fs.String("method", "obmin", "how to read: obmin, token, etree, gosax, xmltokenizer")
	n := fs.Int("n", 10000, "number of goods in the file (checked after reading)")
	file := fs.String("file", "", "file to read; empty: generate a temporary one")
	write := fs.String("write", "", "only generate the file at this path and exit")
	kind := fs.String("kind", "catalog", "what to generate: catalog or offers")
	seed := fs.Uint64("seed", 0, "generator seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opt := gen.Options{Seed: *seed}
	if *write != "" {
		return generate(*write, *kind, *n, opt)
	}
	m, err := readers.Lookup(*method)
	if err != nil {
		return err
	}
	path := *file
	if path == "" {
		dir, err := os.MkdirTemp("", "readrss-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, *kind+".xml")
		if err := generate(path, *kind, *n, opt); err != nil {
			return err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	start := time.Now()
	got, err := m.Read(ctxio.Reader(ctx, f))
	elapsed := time.Since(start)
	if err != nil {
		return fmt.Errorf("%s: read %s: %w", m.Name, path, err)
	}
	if got != *n {
		return fmt.Errorf("%s: read %d goods from %s, want %d", m.Name, got, path, *n)
	}
	rss := "n/a"
	if kib, ok := peakRSSKiB(); ok {
		rss = fmt.Sprintf("%.1f", float64(kib)/1024)
	}
	_, err = fmt.Fprintf(stdout, "method=%s kind=%s n=%d bytes=%d seconds=%.3f mb_s=%.1f goods_s=%.0f peak_rss_mib=%s\n",
		m.Name, *kind, *n, st.Size(), elapsed.Seconds(), float64(st.Size())/1e6/elapsed.Seconds(),
		float64(*n)/elapsed.Seconds(), rss)
	return err
}

// generate writes a catalogue or offers file of n goods atomically enough for a scratch file: to a
// temporary name beside it, then renamed.
func generate(path, kind string, n int, opt gen.Options) error {
	write := gen.Catalog
	switch kind {
	case "catalog":
	case "offers":
		write = gen.Offers
	default:
		return fmt.Errorf("-kind %q: want catalog or offers", kind)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".readrss-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	if err := errors.Join(write(tmp, n, opt), tmp.Close()); err != nil {
		return fmt.Errorf("generate %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
