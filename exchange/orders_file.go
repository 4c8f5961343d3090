package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"obmin/commerceml"
	"obmin/folder"
	"obmin/store"
)

// BAS's orders file is written as a stream: its documents are read from the state a page at a time and
// written straight into the temporary file of the atomic replace, so memory stays bounded whatever the
// number of orders (a day of a chain pulled at once is 25,000 orders, over 100 MB; docs/performance.md).

// fileOrdersPage is how many orders are read from the state at a time.
const fileOrdersPage = 256

// writeOrdersFile replaces BAS's orders file with the orders of the state, oldest sale first, unless the
// file already holds exactly that. It returns the receipt ids of the orders in the file. Called with mu
// held, after prepare: nothing changes the orders of the file meanwhile.
func (s *Sales) writeOrdersFile(ctx context.Context) ([]string, error) {
	name := s.Cfg.OrdersFile
	opts, err := s.fileOptions(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	render := func(w io.Writer) error {
		ids = ids[:0]
		return s.renderOrders(ctx, w, opts, func(id string, _ commerceml.Document) { ids = append(ids, id) })
	}
	// The file is written only when its content changes, or when it is missing: BAS and staff see a new file
	// time only for new data, and a file someone (or BAS, in a wrong layout) deleted comes back. What the
	// file would hold is compared by its size and SHA-256, rendered once without being kept.
	var want folder.ContentSum
	if err := render(&want); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	if s.fileHolds(ctx, name, &want) {
		return ids, nil
	}
	if err := s.Cfg.Out.WriteFrom(ctx, name, render); err != nil {
		return nil, fmt.Errorf("write %s to %s: %w", name, s.Cfg.Out, err)
	}
	return ids, nil
}

// renderOrders writes the orders of the file to w, a page at a time, telling each to seen.
func (s *Sales) renderOrders(ctx context.Context, w io.Writer, opts commerceml.WriterOptions, seen func(id string, d commerceml.Document)) error {
	dw, err := commerceml.NewDocumentWriter(w, opts)
	if err != nil {
		return err
	}
	err = s.eachFileOrder(ctx, func(id string, d commerceml.Document) error {
		seen(id, d)
		return dw.Write(d)
	})
	if err != nil {
		return err
	}
	return dw.Close()
}

// fileOptions are the writer's options for the file: ДатаФормирования is the newest document's time, so
// the same documents always give the same bytes.
func (s *Sales) fileOptions(ctx context.Context) (commerceml.WriterOptions, error) {
	opts := commerceml.WriterOptions{Encoding: s.Cfg.Encoding, Indent: true, Comment: ordersFileComment,
		Generated: time.Date(2000, 1, 1, 0, 0, 0, 0, kyiv)}
	last, ok, err := s.Store.LastFileOrder(ctx)
	if err != nil || !ok {
		return opts, err
	}
	var d commerceml.Document
	if err := json.Unmarshal(last.Document, &d); err != nil {
		return opts, fmt.Errorf("receipt %s: stored document: %w", last.ID, err)
	}
	opts.Generated = d.Time
	return opts, nil
}

// eachFileOrder calls fn with every order of the file, oldest sale first, numbered.
func (s *Sales) eachFileOrder(ctx context.Context, fn func(id string, d commerceml.Document) error) error {
	var key store.FileOrderKey
	for {
		next, n, err := s.Store.FileOrders(ctx, key, fileOrdersPage, func(r store.ReceiptRecord) error {
			var d commerceml.Document
			if err := json.Unmarshal(r.Document, &d); err != nil {
				return fmt.Errorf("receipt %s: stored document: %w", r.ID, err)
			}
			d.Number = r.Number
			return fn(r.ID, d)
		})
		if err != nil {
			return err
		}
		if n < fileOrdersPage {
			return nil
		}
		key = next
	}
}

// fileHolds says whether the file name in the orders folder holds exactly what want summed. A file that
// cannot be read does not: it is written again.
func (s *Sales) fileHolds(ctx context.Context, name string, want *folder.ContentSum) bool {
	f, err := s.Cfg.Out.Open(ctx, name)
	if err != nil {
		return false
	}
	defer f.Close()
	var got folder.ContentSum
	if _, err := io.Copy(&got, io.LimitReader(f, want.Size()+1)); err != nil {
		return false
	}
	return got.Equal(want)
}
