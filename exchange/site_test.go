package exchange_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"obmin/checkbox/emulator"
	"obmin/commerceml"
	"obmin/exchange"
	"obmin/internal/demo"
	"obmin/store"
)

func writeUpload(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestIngestDirAndPendingOrders(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	now := time.Now()

	// Nothing pending: a root-only document, never an empty body.
	o, err := r.agent.Sales.PendingOrders(ctx)
	if data := ordersBody(t, &o); err != nil || len(o.Numbers) != 0 || !bytes.HasPrefix(data, []byte("<?xml")) ||
		!bytes.Contains(data, []byte("КоммерческаяИнформация")) || o.Charset != "utf-8" {
		t.Fatalf("empty orders: %v %q %v", o.Numbers, data, err)
	}

	// An upload whose XML lies one folder down (as a zip from 1C unpacks) becomes one drop.
	up := t.TempDir()
	writeUpload(t, up, map[string][]byte{"webdata/import.xml": demo.Catalog(demo.Books, now), "webdata/offers.xml": demo.Offers(demo.Books, now),
		"webdata/import_files/a.jpg": []byte("jpg")})
	id, err := r.agent.IngestDir(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.agent.ProcessDrops(ctx); err != nil {
		t.Fatal(err)
	}
	if d, ok, err := r.agent.Drop(ctx, id); err != nil || !ok || d.State != store.DropStateDone {
		t.Fatalf("drop %s: %+v %v %v", id, d, ok, err)
	}
	// The same content again is the same drop, not applied twice.
	if again, err := r.agent.IngestDir(ctx, up); err != nil || again != id {
		t.Fatalf("same upload again: %q %v, want %q", again, err, id)
	}
	// XML in two folders is refused as bad input.
	bad := t.TempDir()
	writeUpload(t, bad, map[string][]byte{"a/import.xml": demo.Catalog(demo.Books, now), "b/offers.xml": demo.Offers(demo.Books, now)})
	var in *exchange.InputError
	if _, err := r.agent.IngestDir(ctx, bad); !errors.As(err, &in) {
		t.Fatalf("two folders: %v", err)
	}
	if _, err := r.agent.IngestDir(ctx, t.TempDir()); !errors.As(err, &in) {
		t.Fatalf("empty upload: %v", err)
	}

	// Receipts: PendingOrders carries exactly the pending numbers; ConfirmOrders takes them out.
	for _, code := range []string{"KN-0001", "KN-0002"} {
		if _, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: code, Quantity: 1000}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.agent.PullReceipts(ctx); err != nil {
		t.Fatal(err)
	}
	o, err = r.agent.Sales.PendingOrders(ctx)
	if err != nil || len(o.Numbers) != 2 {
		t.Fatalf("pending: %v %v", o.Numbers, err)
	}
	var inDoc []string
	if _, err := commerceml.Read(bytes.NewReader(ordersBody(t, &o)), "orders", commerceml.Handler{Document: func(d commerceml.Document) error {
		inDoc = append(inDoc, d.Number)
		return nil
	}}); err != nil || len(inDoc) != 2 || inDoc[0] != o.Numbers[0] || inDoc[1] != o.Numbers[1] {
		t.Fatalf("document numbers %v, listed %v (%v)", inDoc, o.Numbers, err)
	}
	if n, err := r.agent.ConfirmOrders(ctx, o.Numbers[:1]); err != nil || n != 1 {
		t.Fatalf("confirm: %d %v", n, err)
	}
	if o, _ = r.agent.Sales.PendingOrders(ctx); len(o.Numbers) != 1 {
		t.Fatalf("after confirming one: %v", o.Numbers)
	}
	o.Close()

	// A receipt accepted again (webhook after pull) changes nothing.
	rcs := r.emu.Receipts()
	if added, _, err := r.agent.AcceptReceipt(ctx, rcs[0]); err != nil || added {
		t.Fatalf("accept again: %v %v", added, err)
	}
}

// ordersBody is what a mode=query answers with; the Orders are closed, their temporary file removed.
func ordersBody(t *testing.T, o *exchange.Orders) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := o.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
