package exchange_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/commerceml"
	"obmin/exchange"
	"obmin/folder"
	"obmin/internal/demo"
	"obmin/store"
)

// A drop whose import.xml hides a CDATA section bigger than the reader's token limit (with '<' all
// through it, which the old text bound did not see) fails with the file, element and line, and nothing
// of it reaches Checkbox.
func TestDropWithHugeCDATAFails(t *testing.T) {
	r := newRig(t, nil)
	cat := demo.Catalog(demo.Books, time.Now())
	open := regexp.MustCompile(`<Каталог[^>]*>`).FindIndex(cat)
	if open == nil {
		t.Fatal("no <Каталог> in the demo catalogue")
	}
	line := bytes.Count(cat[:open[1]], []byte("\n")) + 2
	hostile := append(append(append([]byte{}, cat[:open[1]]...), "\n<![CDATA["+strings.Repeat("<Товар>x</Товар>", 80000)+"]]>"...), cat[open[1]:]...)
	dir := filepath.Join(r.export, demo.FolderName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "import.xml"), hostile, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "offers.xml"), demo.Offers(demo.Books, time.Now()), 0o644); err != nil {
		t.Fatal(err)
	}
	r.passFails("CDATA")
	notes, _ := filepath.Glob(filepath.Join(r.spool.Dir("failed"), "*.error.txt"))
	if len(notes) != 1 {
		t.Fatalf("the drop did not fail: %v", notes)
	}
	note, _ := os.ReadFile(notes[0])
	for _, want := range []string{"import.xml:" + strconv.Itoa(line), "<Каталог>", "CDATA"} {
		if !strings.Contains(string(note), want) {
			t.Errorf("reason should say %q:\n%s", want, note)
		}
	}
	if n := len(r.emu.Goods()); n != 0 {
		t.Errorf("%d goods of the refused drop reached Checkbox", n)
	}
}

// salesRig is the sales side alone on real parts: the emulator over HTTP with its own clock (Checkbox's),
// the Checkbox client, SQLite state, and obmin's own clock, which tests may set wrong.
type salesRig struct {
	t          *testing.T
	emu        *emulator.Emulator
	store      *store.Store
	sales      *exchange.Sales
	checkbox   time.Time     // Checkbox's clock
	offset     time.Duration // how far obmin's clock is off
	registerID string
}

func newSalesRig(t *testing.T, overlap time.Duration) *salesRig {
	t.Helper()
	r := &salesRig{t: t, checkbox: time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)}
	r.emu = emulator.New(emulator.Config{Login: "cashier", Password: "pass", Seed: 3, Clock: func() time.Time { return r.checkbox }})
	srv := httptest.NewServer(r.emu)
	t.Cleanup(func() { srv.Close(); r.emu.Close() })
	client, err := checkbox.New(checkbox.Config{BaseURL: srv.URL, Login: "cashier", Password: "pass", ClientVersion: "test",
		RequestsPerSecond: 10000, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r.store, err = store.Open(context.Background(), filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.store.Close() })
	if err := r.store.PutGoods(context.Background(), []store.GoodRecord{{Code: "KN-1", BASID: "bas-kn-1", Article: "KN-1", Name: "Кобзар", UnitCode: "796", UnitName: "шт", UnitFullName: "Штука", UnitIntl: "PCE"}}); err != nil {
		t.Fatal(err)
	}
	r.sales = &exchange.Sales{API: client, Store: r.store, Now: func() time.Time { return r.checkbox.Add(r.offset) }, Cfg: exchange.SalesConfig{
		Out: folder.LocalTarget(dir), OrdersFile: "orders.xml", Encoding: commerceml.EncodingUTF8BOM, Returns: exchange.ReturnsList,
		Overlap: overlap, FirstPull: 24 * time.Hour, Currency: "грн", CustomerName: "Роздрібний покупець", NumberPrefix: "CB-",
	}}
	r.registerID = r.emu.Registers()[0].ID
	return r
}

func (r *salesRig) sell(status string) checkbox.Receipt {
	r.t.Helper()
	rc, err := r.emu.Sell(emulator.Sale{Status: status, Lines: []emulator.SaleLine{{Code: "KN-1", Name: "Кобзар", Price: 25000, Quantity: 1000}}})
	if err != nil {
		r.t.Fatal(err)
	}
	return rc
}

func (r *salesRig) receipt(id string) store.ReceiptRecord {
	r.t.Helper()
	rec, ok, err := r.store.Receipt(context.Background(), id)
	if err != nil || !ok {
		r.t.Fatalf("receipt %s: %v %v", id, ok, err)
	}
	return rec
}

// receiptStatuses is ReceiptStatus as Checkbox's OpenAPI document lists it, when the shared folder is
// there; the list of 2.105.1 otherwise.
func receiptStatuses(t *testing.T) []string {
	known := []string{"CREATED", "DONE", "ERROR", "CANCELLATION", "CANCELLED"}
	base := os.Getenv("OBMIN_SHARED")
	if base == "" {
		base = filepath.Join("..", "..", "shared")
	}
	b, err := os.ReadFile(filepath.Join(base, "checkbox", "openapi-2.105.1-subset.json"))
	if err != nil {
		t.Logf("OpenAPI document not available (%v): testing the statuses of 2.105.1", err)
		return known
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Enum []string `json:"enum"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	enum := doc.Components.Schemas["ReceiptStatus"].Enum
	if len(enum) == 0 {
		t.Fatal("no ReceiptStatus enum in the OpenAPI document")
	}
	return enum
}

// Every transition of ReceiptStatus, as a pull sees it: a receipt skipped as unfinished is judged again
// when its status moves on (CREATED → DONE reaches BAS, with the number its fiscal code gives); a
// finished one never goes back, whatever Checkbox says later; the new status is recorded either way.
func TestReceiptStatusTransitions(t *testing.T) {
	statuses := receiptStatuses(t)
	ctx := context.Background()
	for _, from := range statuses {
		for _, to := range statuses {
			t.Run(from+"→"+to, func(t *testing.T) {
				r := newSalesRig(t, time.Hour)
				status := from
				if from == checkbox.StatusDone {
					status = ""
				}
				rc := r.sell(status)
				r.checkbox = r.checkbox.Add(time.Minute)
				if _, err := r.sales.Pull(ctx); err != nil {
					t.Fatal(err)
				}
				first := r.receipt(rc.ID)
				if wantFirst := map[bool]store.ReceiptState{true: exchange.StatePending, false: exchange.StateSkipped}[from == checkbox.StatusDone]; first.State != wantFirst || first.Status != from {
					t.Fatalf("first seen as %s/%s, want %s/%s", first.Status, first.State, from, wantFirst)
				}
				if err := r.emu.SetReceiptStatus(rc.ID, to); err != nil {
					t.Fatal(err)
				}
				r.checkbox = r.checkbox.Add(time.Minute)
				rep, err := r.sales.Pull(ctx)
				if err != nil {
					t.Fatal(err)
				}
				got := r.receipt(rc.ID)
				want := exchange.StateSkipped
				if from == checkbox.StatusDone || to == checkbox.StatusDone {
					want = exchange.StatePending
				}
				if got.State != want || got.Status != to {
					t.Errorf("after %s: %s/%s (reason %q), want %s/%s", to, got.Status, got.State, got.Reason, to, want)
				}
				if advanced := from != checkbox.StatusDone && to == checkbox.StatusDone; advanced {
					whole := r.emu.Receipts()[0]
					if rep.New != 1 || rep.Pending != 1 || len(got.Document) == 0 || !got.FirstSeen.Equal(first.FirstSeen) {
						t.Errorf("advanced receipt: report %+v, document %d bytes", rep, len(got.Document))
					}
					n, err := r.sales.WriteOrders(ctx)
					if err != nil || n != 1 {
						t.Errorf("orders file: %d documents, %v", n, err)
					}
					// Its BAS number is given as it goes into the file, and the comment keeps the fiscal code.
					if got := r.receipt(rc.ID); !strings.HasPrefix(got.Number, "CB-") || !strings.Contains(string(got.Document), whole.FiscalCode) {
						t.Errorf("advanced receipt in the file: number %q, fiscal code %q in the document: %v", got.Number, whole.FiscalCode, strings.Contains(string(got.Document), whole.FiscalCode))
					}
				} else if rep.New != 0 {
					t.Errorf("report %+v: nothing new expected", rep)
				}
				if from == checkbox.StatusDone && (got.Number != first.Number || !bytes.Equal(got.Document, first.Document)) {
					t.Error("a finished receipt changed after it was recorded")
				}
			})
		}
	}
}

// The same through the webhook: CREATED is skipped, DONE a moment later is accepted and reaches the
// orders; a repeated DONE changes nothing.
func TestReceiptAdvancesByWebhookToo(t *testing.T) {
	r := newSalesRig(t, time.Hour)
	ctx := context.Background()
	rc := r.sell("CREATED")
	if added, state, err := r.sales.Accept(ctx, rc); err != nil || !added || state != exchange.StateSkipped {
		t.Fatalf("CREATED: %v %s %v", added, state, err)
	}
	if err := r.emu.SetReceiptStatus(rc.ID, checkbox.StatusDone); err != nil {
		t.Fatal(err)
	}
	done := r.emu.Receipts()[0]
	for i, want := range []bool{true, false} {
		added, state, err := r.sales.Accept(ctx, done)
		if err != nil || added != want || state != exchange.StatePending {
			t.Errorf("DONE delivery %d: added %v state %s %v", i+1, added, state, err)
		}
	}
}

// The sales clock can be wrong; Checkbox's is not. obmin's clock runs 72 hours ahead for five days and
// is then put right, while the shop sells every hour: every receipt is recorded, and no pull fails.
func TestClockJumpLosesNoReceipts(t *testing.T) {
	r := newSalesRig(t, time.Hour)
	ctx := context.Background()
	sold := map[string]bool{}
	for hour := range 24 * 7 {
		switch {
		case hour == 24:
			r.offset = 72 * time.Hour
		case hour == 24*6:
			r.offset = 0
		}
		if hour < 120 {
			sold[r.sell("").ID] = true
		}
		r.checkbox = r.checkbox.Add(time.Hour)
		if _, err := r.sales.Pull(ctx); err != nil {
			t.Fatalf("hour %d (clock off by %s): %v", hour, r.offset, err)
		}
	}
	counts, _ := r.store.ReceiptCounts(ctx)
	if counts[exchange.StatePending] != len(sold) {
		t.Errorf("%d of %d receipts recorded (%v)", counts[exchange.StatePending], len(sold), counts)
	}
	// The cursor is the newest receipt's time, never the clock's.
	cur, _, _ := r.store.Cursor(ctx, r.registerID)
	last := r.emu.Receipts()[len(r.emu.Receipts())-1]
	if !cur.Equal(last.CreatedAt.UTC()) {
		t.Errorf("cursor %s, want the newest receipt's %s", cur, last.CreatedAt)
	}
}

// A clock behind the newest receipt by more than the overlap makes an inverted window: the pull says so
// instead of reading nothing and calling it a success. Within the overlap it is no trouble.
func TestInvertedWindowIsAnError(t *testing.T) {
	r := newSalesRig(t, time.Hour)
	ctx := context.Background()
	r.sell("")
	r.checkbox = r.checkbox.Add(time.Minute)
	if _, err := r.sales.Pull(ctx); err != nil {
		t.Fatal(err)
	}
	r.offset = -30 * time.Minute
	if _, err := r.sales.Pull(ctx); err != nil {
		t.Errorf("clock 30 minutes behind, overlap 1h: %v", err)
	}
	r.offset = -72 * time.Hour
	_, err := r.sales.Pull(ctx)
	if err == nil || !strings.Contains(err.Error(), "clock") {
		t.Errorf("clock 72 hours behind: %v, want an error about the clock", err)
	}
	r.offset = 0
	r.sell("")
	r.checkbox = r.checkbox.Add(time.Minute)
	if rep, err := r.sales.Pull(ctx); err != nil || rep.New != 1 {
		t.Errorf("clock set right: %+v %v", rep, err)
	}
}

// The same upload again while drop passes run: the copy is recognised before it reaches inbox/, so a
// pass never tries to claim a drop that is being discarded ("claim …: no such file").
func TestDuplicateUploadNeverRacesTheDropPass(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	upload := t.TempDir()
	at := time.Now()
	for name, data := range map[string][]byte{"import.xml": demo.Catalog(demo.Books, at), "offers.xml": demo.Offers(demo.Books, at)} {
		if err := os.WriteFile(filepath.Join(upload, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	first, err := r.agent.IngestDir(ctx, upload)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.agent.ProcessDrops(ctx); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	passErr := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				passErr <- nil
				return
			default:
			}
			if err := r.agent.ProcessDrops(ctx); err != nil {
				passErr <- err
				return
			}
		}
	}()
	for i := range 60 {
		id, err := r.agent.IngestDir(ctx, upload)
		if err != nil || id != first {
			t.Errorf("upload %d: %s, %v; want the first drop %s", i, id, err, first)
		}
	}
	close(stop)
	if err := <-passErr; err != nil {
		t.Errorf("a drop pass failed beside the duplicate uploads: %v", err)
	}
	if n, _ := r.spool.Pending(); len(n) != 0 {
		t.Errorf("inbox holds %v", n)
	}
}

// Files with receipts are private: the orders file and status.txt are 0640, whatever the umask.
func TestReceiptFilesPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	r := newRig(t, nil)
	r.drop(demo.Books, time.Now())
	r.pass()
	if _, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}}}); err != nil {
		t.Fatal(err)
	}
	r.pass()
	for _, p := range []string{r.orders, filepath.Join(r.spool.Root, "status.txt")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("%s is %v, want 0640", filepath.Base(p), fi.Mode().Perm())
		}
	}
}
