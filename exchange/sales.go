package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/checkbox"
	"obmin/commerceml"
	"obmin/folder"
	"obmin/internal/voice"
	"obmin/store"
)

// ReceiptsAPI is what the sales pull needs from Checkbox.
type ReceiptsAPI interface {
	SearchReceipts(ctx context.Context, q checkbox.ReceiptQuery, fn func(checkbox.Receipt) error) error
	CashRegisters(ctx context.Context) ([]checkbox.CashRegister, error)
}

// SalesStore is the part of the state the sales side reads and writes.
type SalesStore interface {
	Good(ctx context.Context, code string) (store.GoodRecord, bool, error)
	AddReceipt(ctx context.Context, r store.ReceiptRecord) (bool, error)
	Receipt(ctx context.Context, id string) (store.ReceiptRecord, bool, error)
	AdvanceReceipt(ctx context.Context, r store.ReceiptRecord, fromStatus string) (bool, error)
	SetReceiptStatus(ctx context.Context, id, from, to string) (bool, error)
	UpdateReceipt(ctx context.Context, r store.ReceiptRecord) error
	ReceiptsInState(ctx context.Context, state store.ReceiptState, fn func(store.ReceiptRecord) error) error
	ConfirmedSince(ctx context.Context, since time.Time, fn func(store.ReceiptRecord) error) error
	ConfirmNumbers(ctx context.Context, numbers []string, now time.Time) (int, error)
	Cursor(ctx context.Context, registerID string) (time.Time, bool, error)
	SetCursor(ctx context.Context, registerID string, t time.Time) error

	// The orders file's lifetime, numbers and returns (store/orders.go).
	MarkInFile(ctx context.Context, ids []string, at time.Time) error
	ReleaseFromFile(ctx context.Context, notAfter time.Time, minRuns int, now time.Time) (int, error)
	BASRuns(ctx context.Context, since time.Time) (int, time.Time, error)
	AmendSale(ctx context.Context, saleID string, saleDocument []byte, returnID, reason string) error
	ReceiptsSoldSince(ctx context.Context, since time.Time, fn func(store.ReceiptRecord) error, states ...store.ReceiptState) error
	EachNumber(ctx context.Context, fn func(number string, sold time.Time) error) error
	TakeOrderNumbers(ctx context.Context, year, count, floor int) (int, error)
	OrderNumbersTaken(ctx context.Context, year int) (int, error)
	// The orders of the file a page at a time (store/orders_file.go).
	FileOrders(ctx context.Context, after store.FileOrderKey, limit int, fn func(store.ReceiptRecord) error) (store.FileOrderKey, int, error)
	LastFileOrder(ctx context.Context) (store.ReceiptRecord, bool, error)
	SetReceiptNumbers(ctx context.Context, numbers []store.ReceiptNumber) error
}

// Receipt states in the state store, defined there (store.ReceiptState).
const (
	StatePending   = store.ReceiptStatePending
	StateConfirmed = store.ReceiptStateConfirmed
	StateDelivered = store.ReceiptStateDelivered
	StateHeld      = store.ReceiptStateHeld
	StateSkipped   = store.ReceiptStateSkipped
	StateReturn    = store.ReceiptStateReturn
	StateAmended   = store.ReceiptStateAmended
	StateListed    = store.ReceiptStateListed
	StateRetail    = store.ReceiptStateRetail
)

// SalesConfig says how receipts become BAS documents.
type SalesConfig struct {
	Out         folder.Target // the folder BAS's exchange node reads its orders file from
	OrdersFile  string        // the name of that one file (ФайлЗагрузки) in Out; replaced atomically
	ReturnsFile string        // the staff's list of returns, a text file beside the orders file; "" = none
	HeldDir     string        // where held receipts are described for staff
	ReturnsDir  string        // where each listed return is described for staff
	NumbersDir  string        // the journal of order numbers given (numbers.go)
	Encoding    commerceml.Encoding
	Returns     string // ReturnsList (default) or ReturnsAmend
	// OrderStatus is the «Статус заказа» every order carries, which BAS's administrator maps to
	// «Завершений» in the node's settings, so that BAS skips an order it has on a re-load instead of
	// re-filling and unposting it. "" sends none; ReturnsAmend never sends it.
	OrderStatus string
	// PaymentRequisites sends «Метод оплаты», «Заказ оплачен», «Дата оплаты», «Номер платежного документа».
	// Off by default: with the node's online-payments option, BAS then creates a payment and queues a
	// second fiscal receipt for a sale the till fiscalised (docs/bas-orders.md).
	PaymentRequisites bool
	// A receipt stays in the orders file until it has been there across KeepRuns observed runs of BAS and
	// for KeepFor, whichever is later (docs/bas-orders.md). Zero KeepRuns: 3.
	KeepRuns int
	KeepFor  time.Duration
	Overlap  time.Duration // a deep pull re-reads this much before each cursor: offline receipts arrive late
	// RecentOverlap is what the pulls between two deep ones re-read before the cursors, and DeepEvery how
	// often a pull is deep (pull.go). Zero DeepEvery: every pull is deep.
	RecentOverlap, DeepEvery time.Duration
	// FirstPull is how far back the very first pull reaches.
	FirstPull    time.Duration
	Registers    []string // cash register ids to pull; empty = every register of the organisation
	Currency     string   // Валюта of documents, as BAS writes it in its price types ("грн")
	CustomerName string   // the retail counterparty all receipts go to
	NumberPrefix string   // prefix of the BAS Номер, default "CB-" (numbers.go)
	// NumberFirst and NumberLast bound the sequence numbers of a year (default 1 and 999999), so that
	// obmin can share BAS's number space with another site of the same node prefix.
	NumberFirst, NumberLast int
	// NoOrdersFile turns the orders file off (sales.to: retail-report): sales and returns reach BAS
	// only in their shifts' retail sales reports (retail.go), and are recorded in state StateRetail.
	NoOrdersFile bool
	// VATCodes maps a Checkbox tax code to BAS's VAT rate ("20", "7", "0"; "" for «no VAT»): the
	// configured mapping of BAS rates to Checkbox codes, read the other way.
	VATCodes map[int]string
}

// Sales pulls Checkbox receipts and keeps BAS's orders file up to date.
type Sales struct {
	API   ReceiptsAPI
	Store SalesStore
	Cfg   SalesConfig
	Log   *logrus.Entry
	Now   func() time.Time

	mu       sync.Mutex           // one writer of the orders file (and of numbers) at a time
	years    map[int]*yearNumbers // under mu
	upgraded bool                 // under mu: upgradeDocuments ran

	deepMu   sync.Mutex
	lastDeep time.Time // under deepMu: the end of the last deep pull's windows
}

// PullReport says what a pull found.
type PullReport struct {
	Registers int  `json:"registers"`
	Seen      int  `json:"seen"`
	New       int  `json:"new"`
	Pending   int  `json:"pending"`
	Held      int  `json:"held"`
	Skipped   int  `json:"skipped"`
	Deep      bool `json:"deep"` // it re-read sales.overlap (pull.go)
}

func (s *Sales) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Accept records one receipt, from a pull or a webhook, once. A receipt id seen before is left alone unless
// its Checkbox status moved on (nextStep): one skipped as unfinished is judged again, so CREATED then DONE
// reaches BAS (added is true then too); a finished one never goes back.
func (s *Sales) Accept(ctx context.Context, r checkbox.Receipt) (added bool, state store.ReceiptState, err error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return false, "", fmt.Errorf("receipt %s: %w", r.ID, err)
	}
	// The BAS number is given when the order first goes into the file (numbers.go).
	rec := store.ReceiptRecord{
		ID: r.ID, RegisterID: r.RegisterID(), Type: r.Type, Status: r.Status,
		When: r.When(), TotalSum: r.TotalSum, Raw: raw, FirstSeen: s.now(),
	}
	doc, state, reason, err := s.document(ctx, r)
	if err != nil {
		return false, "", err
	}
	rec.State, rec.Reason = state, reason
	if doc != nil {
		if rec.Document, err = json.Marshal(doc); err != nil {
			return false, "", fmt.Errorf("receipt %s: %w", r.ID, err)
		}
	}
	added, err = s.Store.AddReceipt(ctx, rec)
	if err != nil {
		return false, "", fmt.Errorf("record receipt %s: %w", r.ID, err)
	}
	if !added {
		return s.seenAgain(ctx, rec)
	}
	if state == StateHeld && s.Log != nil {
		s.Log.WithFields(logrus.Fields{"receipt": r.ID, "fiscal_code": r.FiscalCode}).Warn("receipt held back: " + reason)
	}
	return added, state, nil
}

var kyiv = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Kyiv"); err == nil {
		return loc
	}
	return time.FixedZone("EET", 2*3600)
}()

// document turns a receipt into the BAS document, or says why it is not one. A return has no document
// of its own: it is settled when the orders file is written (returns.go).
func (s *Sales) document(ctx context.Context, r checkbox.Receipt) (*commerceml.Document, store.ReceiptState, string, error) {
	if r.Status != checkbox.StatusDone {
		return nil, StateSkipped, fmt.Sprintf("status %s: not a finished fiscal receipt", r.Status), nil
	}
	if s.Cfg.NoOrdersFile && (r.Type == checkbox.ReceiptSell || r.Type == checkbox.ReceiptReturn) {
		return nil, StateRetail, "", nil
	}
	switch r.Type {
	case checkbox.ReceiptSell:
	case checkbox.ReceiptReturn:
		return nil, StateReturn, "", nil
	default:
		return nil, StateSkipped, fmt.Sprintf("type %s: not a sale", r.Type), nil
	}
	lines, missing, err := s.receiptLines(ctx, r)
	if err != nil {
		return nil, "", "", err
	}
	if len(missing) > 0 {
		return nil, StateHeld, "товар не вивантажувався з BAS: " + strings.Join(missing, ", "), nil
	}
	return s.saleDocument(r, lines), StatePending, "", nil
}

// paymentMethod names how a receipt was paid, in the words of the receipt's own payments.
func paymentMethod(r checkbox.Receipt) (string, bool) {
	var names []string
	for _, p := range r.Payments {
		label := p.Label
		if label == "" {
			switch p.Type {
			case "CASH":
				label = "Готівка"
			default:
				label = "Картка"
			}
		}
		if !containsString(names, label) {
			names = append(names, label)
		}
	}
	if len(names) == 0 {
		return "Готівка", true
	}
	return strings.Join(names, ", "), true
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Confirm marks the receipts whose Номер BAS's own orders export carries as held by BAS.
func (s *Sales) Confirm(ctx context.Context, numbers []string) (int, error) {
	if len(numbers) == 0 {
		return 0, nil
	}
	return s.Store.ConfirmNumbers(ctx, numbers, s.now())
}

// ReadOrderNumbers returns the Номер of every document in a BAS orders export.
func ReadOrderNumbers(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var numbers []string
	_, err = commerceml.Read(f, filepath.Base(path), commerceml.Handler{Document: func(d commerceml.Document) error {
		if d.Number != "" {
			numbers = append(numbers, d.Number)
		}
		return nil
	}})
	if err != nil {
		return nil, badInput(err)
	}
	return numbers, nil
}

// WriteOrders settles new returns, numbers new orders, lets go of the orders BAS has had across enough
// of its runs, and replaces BAS's orders file with the rest, oldest first. The file is replaced atomically,
// so BAS never reads half of it, and is always there (BAS fails its run without it), with no documents
// when there are none. It returns how many documents the file holds.
func (s *Sales) WriteOrders(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.prepare(ctx); err != nil {
		return 0, err
	}
	ids, err := s.writeOrdersFile(ctx)
	if err != nil {
		return 0, err
	}
	// Stamped after the write: a run of BAS that starts later surely reads these documents.
	if err := s.Store.MarkInFile(ctx, ids, s.now()); err != nil {
		return 0, err
	}
	if err := s.writeReturnsFile(ctx); err != nil {
		return 0, err
	}
	return len(ids), nil
}

// prepare brings the state up to date for the file: orders numbered, returns settled, orders BAS has
// had long enough released. Called with mu held.
func (s *Sales) prepare(ctx context.Context) error {
	if !s.upgraded {
		if err := s.upgradeDocuments(ctx); err != nil {
			return err
		}
		s.upgraded = true
	}
	if err := s.assignNumbers(ctx); err != nil {
		return err
	}
	if err := s.processReturns(ctx); err != nil {
		return err
	}
	runs := s.Cfg.KeepRuns
	if runs <= 0 {
		runs = 3
	}
	now := s.now()
	n, err := s.Store.ReleaseFromFile(ctx, now.Add(-s.Cfg.KeepFor), runs, now)
	if err != nil {
		return err
	}
	if n > 0 && s.Log != nil {
		s.Log.WithFields(logrus.Fields{"orders": n, "runs": runs}).Info("orders left the orders file: BAS has had them across its runs")
	}
	return nil
}

// upgradeDocuments rebuilds, from the receipt, the document of every order still in the file that an
// earlier obmin wrote (it carries the requisite «Финальный статус»): document discounts BAS ignores, no
// VAT, payment requisites. Its number is kept when BAS's field takes it, renewed otherwise
// (assignNumbers).
func (s *Sales) upgradeDocuments(ctx context.Context) error {
	var old []store.ReceiptRecord
	err := s.Store.ReceiptsInState(ctx, StatePending, func(r store.ReceiptRecord) error {
		if r.Type == checkbox.ReceiptSell && bytes.Contains(r.Document, []byte("Финальный статус")) {
			old = append(old, r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, rec := range old {
		var r checkbox.Receipt
		if err := json.Unmarshal(rec.Raw, &r); err != nil {
			return fmt.Errorf("receipt %s: stored receipt: %w", rec.ID, err)
		}
		doc, state, reason, err := s.document(ctx, r)
		if err != nil {
			return err
		}
		rec.State, rec.Reason, rec.Document = state, reason, nil
		if doc != nil {
			if rec.Document, err = json.Marshal(doc); err != nil {
				return err
			}
		}
		if err := s.Store.UpdateReceipt(ctx, rec); err != nil {
			return err
		}
	}
	if len(old) > 0 && s.Log != nil {
		s.Log.WithField("orders", len(old)).Info("orders written by an earlier obmin rebuilt the way BAS loads them")
	}
	return nil
}

// WriteHeld describes every held receipt in a file of its own in HeldDir, in words staff can act on, and
// removes the files of receipts no longer held.
func (s *Sales) WriteHeld(ctx context.Context) (int, error) {
	if s.Cfg.HeldDir == "" {
		return 0, nil
	}
	want := map[string]string{}
	err := s.Store.ReceiptsInState(ctx, StateHeld, func(r store.ReceiptRecord) error {
		want[safeName(receiptFiscalCode(r.Raw))+".txt"] = fmt.Sprintf("\ufeffЧек Checkbox %s (фіскальний номер %s) від %s на суму %s грн не передано в BAS.\r\n"+
			"Причина: %s\r\n"+
			"Що зробити: вивантажте цей товар з BAS (з артикулом, що збігається з кодом у Checkbox); obmin передасть чек сам.\r\n",
			r.ID, receiptFiscalCode(r.Raw), voice.Time(r.When), UAH(r.TotalSum).StringFixed(2), r.Reason)
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := syncStaffFiles(s.Cfg.HeldDir, want); err != nil {
		return 0, err
	}
	return len(want), nil
}

// Release re-examines held receipts after BAS exported more goods: those whose goods are now known become
// pending.
func (s *Sales) Release(ctx context.Context) (int, error) {
	var held []store.ReceiptRecord
	if err := s.Store.ReceiptsInState(ctx, StateHeld, func(r store.ReceiptRecord) error {
		held = append(held, r)
		return nil
	}); err != nil {
		return 0, err
	}
	n := 0
	for _, rec := range held {
		var r checkbox.Receipt
		if err := json.Unmarshal(rec.Raw, &r); err != nil {
			return n, fmt.Errorf("receipt %s: stored receipt: %w", rec.ID, err)
		}
		doc, state, reason, err := s.document(ctx, r)
		if err != nil {
			return n, err
		}
		if state == StateHeld {
			continue
		}
		rec.State, rec.Reason = state, reason
		if doc != nil {
			if rec.Document, err = json.Marshal(doc); err != nil {
				return n, err
			}
		}
		if err := s.Store.UpdateReceipt(ctx, rec); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// safeName keeps a receipt number usable as a file name on Windows and Linux.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == '*' || r == '?' || r == '"' || r == '<' || r == '>' || r == '|' || r < 32 {
			return '_'
		}
		return r
	}, s)
}
