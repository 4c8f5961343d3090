package exchange_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"obmin/commerceml"
	"obmin/exchange"
	"obmin/store"
)

// The orders file is written a page of orders at a time, yet holds exactly what rendering every order at
// once gives (pages of 256: 600 orders are three), and is replaced only when that changes: the same orders
// leave the very same file in place, a file someone deleted comes back, a new order replaces it.
func TestOrdersFileStreamedExactlyAndOnlyWhenChanged(t *testing.T) {
	ctx := context.Background()
	r := newPullRig(t, 1)
	for range 600 {
		r.now = r.now.Add(time.Minute)
		r.sell(0, time.Time{}, false)
	}
	r.now = r.now.Add(time.Minute)
	r.pull()
	n, err := r.sales.WriteOrders(ctx)
	if err != nil || n != 600 {
		t.Fatalf("WriteOrders = %d, %v; want 600", n, err)
	}
	path := filepath.Join(r.sales.Cfg.Out.String(), r.sales.Cfg.OrdersFile)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := renderAtOnce(t, r.store); !bytes.Equal(got, want) {
		t.Fatalf("streamed file (%d bytes) differs from the file rendered at once (%d bytes)", len(got), len(want))
	}

	before, _ := os.Stat(path)
	if _, err := r.sales.WriteOrders(ctx); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(path); !os.SameFile(before, after) {
		t.Error("the same orders replaced the file")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := r.sales.WriteOrders(ctx); err != nil {
		t.Fatal(err)
	}
	if again, err := os.ReadFile(path); err != nil || !bytes.Equal(again, got) {
		t.Fatalf("the deleted file did not come back as it was (%v)", err)
	}
	r.sell(0, time.Time{}, false)
	r.now = r.now.Add(time.Minute)
	r.pull()
	if n, err := r.sales.WriteOrders(ctx); err != nil || n != 601 {
		t.Fatalf("after a new sale: %d, %v", n, err)
	}
	if next, _ := os.ReadFile(path); bytes.Equal(next, got) {
		t.Error("a new order did not reach the file")
	}
}

// renderAtOnce renders every order of the file in memory, as obmin did before it streamed the file.
func renderAtOnce(t *testing.T, st *store.Store) []byte {
	t.Helper()
	var docs []commerceml.Document
	err := st.ReceiptsInState(context.Background(), exchange.StatePending, func(r store.ReceiptRecord) error {
		var d commerceml.Document
		if err := json.Unmarshal(r.Document, &d); err != nil {
			return err
		}
		d.Number = r.Number
		docs = append(docs, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	opts := commerceml.WriterOptions{Encoding: commerceml.EncodingUTF8BOM, Indent: true, Generated: docs[len(docs)-1].Time,
		Comment: exchange.OrdersFileMarker + ": written by obmin for BAS's site exchange; obmin never takes it as an export of BAS"}
	if err := commerceml.WriteDocuments(&buf, opts, docs); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
