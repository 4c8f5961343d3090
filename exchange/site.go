package exchange

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"time"

	"obmin/checkbox"
	"obmin/commerceml"
	"obmin/drop"
	"obmin/folder"
	"obmin/store"
)

// This file is what obmin's HTTP side (package httpapi) needs from the exchange layer when BAS talks to
// obmin as to a "site" (docs/commerceml.md §6) and Checkbox delivers receipts by webhook (docs/checkbox-rest.md §8).

// RefreshOrders re-examines held receipts and rewrites BAS's orders file and the held list.
func (a *Agent) RefreshOrders(ctx context.Context) error { return a.refreshOrders(ctx) }

// AcceptReceipt records a receipt that arrived by webhook through the same exactly-once gate as a pull,
// and refreshes the orders file when it was new. A receipt seen before (by a pull or an earlier delivery)
// changes nothing.
func (a *Agent) AcceptReceipt(ctx context.Context, r checkbox.Receipt) (added bool, state store.ReceiptState, err error) {
	added, state, err = a.Sales.Accept(ctx, r)
	if err != nil || !added {
		return added, state, err
	}
	return added, state, a.refreshOrders(ctx)
}

// ConfirmOrders marks the receipts with these BAS numbers as held by BAS (1C's mode=success, or the
// numbers in its own orders document) and refreshes the orders file. It returns how many were confirmed.
func (a *Agent) ConfirmOrders(ctx context.Context, numbers []string) (int, error) {
	n, err := a.Sales.Confirm(ctx, numbers)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		a.log().WithField("orders", n).Info("BAS confirmed orders")
	}
	return n, a.refreshOrders(ctx)
}

// IngestDir hands the XML files of dir (one 1C upload, already complete: the protocol's import call says so,
// docs/commerceml.md §4.2) to the spool as one drop, exactly as a drop from BAS's folder, and wakes the drop
// loop. The XML files must lie in one folder (dir itself or one folder below it). It returns the id of the
// drop that carries this content: a new one, or the earlier drop with the same content, which is then not
// taken again (unless that one failed).
func (a *Agent) IngestDir(ctx context.Context, dir string) (id string, err error) {
	src := folder.LocalDir(dir)
	files, err := src.List(ctx)
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "", &InputError{Err: errors.New("the upload holds no XML file")}
	}
	folder := path.Dir(files[0].Path)
	for _, f := range files[1:] {
		if path.Dir(f.Path) != folder {
			return "", &InputError{Err: fmt.Errorf("the upload's XML files lie in several folders (%s, %s): one export per exchange", files[0].Path, f.Path)}
		}
	}
	if folder == "." {
		folder = ""
	}
	d := drop.Drop{Dir: folder, Files: files}
	id = a.newDropID(d)
	fp, err := a.Spool.Stage(ctx, src, d, id)
	if err != nil {
		return "", fmt.Errorf("take upload %s: %w", dir, err)
	}
	return a.take(ctx, id, fp, "http:"+dir, len(files))
}

// Drop returns the state record of a drop by id.
func (a *Agent) Drop(ctx context.Context, id string) (store.DropRecord, bool, error) {
	for _, limit := range []int{50, 0} {
		drops, err := a.Store.RecentDrops(ctx, limit)
		if err != nil {
			return store.DropRecord{}, false, err
		}
		for _, d := range drops {
			if d.ID == id {
				return d, true, nil
			}
		}
		if limit > 0 && len(drops) < limit {
			break
		}
	}
	return store.DropRecord{}, false, nil
}

// Orders is what one 1C mode=query receives: the document and exactly the Номер values in it, so a
// following mode=success confirms those and nothing that arrived in between. The document waits in a
// private temporary file, not in memory (a day of a chain's orders is over 100 MB): WriteTo sends it,
// Close removes it.
type Orders struct {
	Numbers []string
	Charset string // "utf-8" or "windows-1251", for Content-Type
	file    *os.File
}

// WriteTo writes the document to w.
func (o *Orders) WriteTo(w io.Writer) (int64, error) {
	if o.file == nil {
		return 0, errors.New("orders: closed")
	}
	if _, err := o.file.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return io.Copy(w, o.file)
}

// Close removes the document's temporary file.
func (o *Orders) Close() error {
	if o.file == nil {
		return nil
	}
	err := o.file.Close()
	if rerr := os.Remove(o.file.Name()); err == nil {
		err = rerr
	}
	o.file = nil
	return err
}

// PendingOrders renders every order BAS has not confirmed, oldest first, as one CommerceML document in
// BAS's encoding: the orders file's documents (returns settled and orders numbered first). Over HTTP the
// text goes without a byte order mark: BAS checks that the answer starts with «<?xml», and whether its
// text reader drops a BOM before that check is not documented (docs/http.md); the file keeps its BOM.
// With nothing pending it is a root-only document, never an empty body (docs/commerceml.md §7: 1C fails on
// one). The caller closes the Orders.
func (s *Sales) PendingOrders(ctx context.Context) (Orders, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.prepare(ctx); err != nil {
		return Orders{}, err
	}
	opts, err := s.fileOptions(ctx)
	if err != nil {
		return Orders{}, err
	}
	f, err := os.CreateTemp("", "obmin-orders-*.xml") // 0600: it holds receipts
	if err != nil {
		return Orders{}, fmt.Errorf("render orders: %w", err)
	}
	o := Orders{Charset: "utf-8", file: f}
	if s.Cfg.Encoding == commerceml.EncodingWindows1251 {
		o.Charset = "windows-1251"
	}
	bw := bufio.NewWriterSize(&trimBOM{w: f}, 64<<10)
	err = s.renderOrders(ctx, bw, opts, func(_ string, d commerceml.Document) { o.Numbers = append(o.Numbers, d.Number) })
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		o.Close()
		return Orders{}, fmt.Errorf("render orders: %w", err)
	}
	return o, nil
}

// PendingOrders is Sales.PendingOrders: what 1C's mode=query receives.
func (a *Agent) PendingOrders(ctx context.Context) (Orders, error) { return a.Sales.PendingOrders(ctx) }

// TakesRegister says whether receipts of this cash register are obmin's: every register when
// sales.registers names none.
func (a *Agent) TakesRegister(id string) bool {
	regs := a.Sales.Cfg.Registers
	return len(regs) == 0 || slices.Contains(regs, id)
}

// SpoolRoot is the spool's folder.
func (a *Agent) SpoolRoot() string { return a.Spool.Root }

// CheckboxEmulated is Emulated: Checkbox is the built-in emulator.
func (a *Agent) CheckboxEmulated() bool { return a.Emulated }

// OldestPending is when the oldest receipt still waiting for BAS was first seen (ok false: none waits).
func (a *Agent) OldestPending(ctx context.Context) (time.Time, bool, error) {
	return a.Store.OldestPending(ctx)
}

// LastSuccesses is when each job last ended without an error.
func (a *Agent) LastSuccesses(ctx context.Context) (map[string]time.Time, error) {
	return a.Store.LastSuccesses(ctx)
}

// trimBOM drops the byte order mark the writer puts first.
type trimBOM struct {
	w    io.Writer
	done bool
}

func (t *trimBOM) Write(p []byte) (int, error) {
	n := len(p)
	if !t.done {
		t.done = true
		p = bytes.TrimPrefix(p, []byte("\xEF\xBB\xBF"))
	}
	if _, err := t.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}
