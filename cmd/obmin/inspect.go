package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"obmin/commerceml"
)

// cmdInspect tells what CommerceML files hold, without touching any state: for staff and for the BAS
// administrator checking an export before pointing obmin at it.
func cmdInspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlags("inspect", stderr)
	asJSON := fl.Bool("json", false, "print every good, offer and document as JSON records (prices and quantities as decimal strings)")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fl.NArg() != 1 {
		return usageError{"inspect takes one PATH: a CommerceML file or a folder"}
	}
	files, err := xmlFiles(fl.Arg(0))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%s: no .xml files", fl.Arg(0))
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	failed := 0
	if *asJSON {
		fmt.Fprint(w, "{\"files\": [")
	}
	for i, f := range files {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var err error
		if *asJSON {
			if i > 0 {
				fmt.Fprint(w, ",")
			}
			err = inspectJSON(w, f)
		} else {
			err = inspectText(w, f)
		}
		if err != nil {
			failed++
		}
	}
	if *asJSON {
		fmt.Fprintln(w, "\n]}")
	} else if len(files) > 1 {
		fmt.Fprintf(w, "\n%d files, %d with errors\n", len(files), failed)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be read", failed, len(files))
	}
	return nil
}

// xmlFiles is the file itself, or every .xml file below a folder, sorted.
func xmlFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.EqualFold(filepath.Ext(p), ".xml") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func readFile(path string, h commerceml.Handler) (commerceml.Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return commerceml.Summary{}, err
	}
	defer f.Close()
	return commerceml.Read(f, path, h)
}

func inspectText(w io.Writer, path string) error {
	var noPrice, deleted, withQty int
	sum, err := readFile(path, commerceml.Handler{
		Good: func(g commerceml.Good) error {
			if g.Deleted {
				deleted++
			}
			return nil
		},
		Offer: func(o commerceml.Offer) error {
			if len(o.Prices) == 0 {
				noPrice++
			}
			if o.Deleted {
				deleted++
			}
			if o.Quantity != nil || len(o.Stocks) > 0 {
				withQty++
			}
			return nil
		},
	})
	fmt.Fprintf(w, "%s\n", path)
	if sum.Header.SchemaVersion != "" || sum.Kind != "" {
		ns := sum.Header.Namespace
		if ns == "" {
			ns = "(none)"
		}
		fmt.Fprintf(w, "  kind %s, schema %s, namespace %s, generated %s, only changes: %v\n",
			orDash(string(sum.Kind)), orDash(sum.Header.SchemaVersion), ns, orDash(sum.Header.Generated), sum.OnlyChanges)
		fmt.Fprintf(w, "  groups %d, price types %d, warehouses %d, goods %d, offers %d, documents %d\n",
			sum.Groups, sum.PriceTypes, sum.Warehouses, sum.Goods, sum.Offers, sum.Documents)
		if sum.Offers > 0 {
			fmt.Fprintf(w, "  offers without a price %d, with stock %d\n", noPrice, withQty)
		}
		if deleted > 0 {
			fmt.Fprintf(w, "  marked deleted %d\n", deleted)
		}
	}
	if err != nil {
		fmt.Fprintf(w, "  ERROR: %v\n", err)
	}
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// inspectJSON streams one file's records: memory stays flat however big the file is.
func inspectJSON(w io.Writer, path string) error {
	enc := json.NewEncoder(w)
	fmt.Fprintf(w, "\n{\"name\": %s, \"records\": [", quote(path))
	n := 0
	emit := func(kind string, v any) error {
		if n > 0 {
			fmt.Fprint(w, ",")
		}
		n++
		fmt.Fprintf(w, "\n  {\"type\": %q, \"record\": ", kind)
		if err := enc.Encode(v); err != nil {
			return err
		}
		fmt.Fprint(w, "}")
		return nil
	}
	sum, err := readFile(path, commerceml.Handler{
		Group:     func(g commerceml.Group) error { return emit("group", g) },
		PriceType: func(p commerceml.PriceType) error { return emit("price_type", p) },
		Warehouse: func(x commerceml.Warehouse) error { return emit("warehouse", x) },
		Good:      func(g commerceml.Good) error { return emit("good", g) },
		Offer:     func(o commerceml.Offer) error { return emit("offer", o) },
		Document:  func(d commerceml.Document) error { return emit("document", d) },
	})
	fmt.Fprint(w, "],\n \"summary\": ")
	if jerr := enc.Encode(sum); jerr != nil {
		return errors.Join(err, jerr)
	}
	errText := "null"
	if err != nil {
		errText = quote(err.Error())
	}
	fmt.Fprintf(w, ", \"error\": %s}", errText)
	return err
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
