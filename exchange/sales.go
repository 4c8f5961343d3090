package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/sirupsen/logrus"

	"obmin/checkbox"
	"obmin/commerceml"
	"obmin/spool"
)

// ReceiptsAPI is what the sales pull needs from Checkbox.
type ReceiptsAPI interface {
	SearchReceipts(ctx context.Context, q checkbox.ReceiptQuery, fn func(checkbox.Receipt) error) error
	CashRegisters(ctx context.Context) ([]checkbox.CashRegister, error)
}

// SalesStore is the part of the state the sales side reads and writes.
type SalesStore interface {
	Good(ctx context.Context, code string) (spool.GoodRecord, bool, error)
	AddReceipt(ctx context.Context, r spool.ReceiptRecord) (bool, error)
	Receipt(ctx context.Context, id string) (spool.ReceiptRecord, bool, error)
	AdvanceReceipt(ctx context.Context, r spool.ReceiptRecord, fromStatus string) (bool, error)
	SetReceiptStatus(ctx context.Context, id, from, to string) (bool, error)
	UpdateReceipt(ctx context.Context, r spool.ReceiptRecord) error
	ReceiptsInState(ctx context.Context, state string, fn func(spool.ReceiptRecord) error) error
	ConfirmedSince(ctx context.Context, since time.Time, fn func(spool.ReceiptRecord) error) error
	ConfirmNumbers(ctx context.Context, numbers []string, now time.Time) (int, error)
	Cursor(ctx context.Context, registerID string) (time.Time, bool, error)
	SetCursor(ctx context.Context, registerID string, t time.Time) error
}

// Receipt states in the state store.
const (
	StatePending   = "pending"   // in the orders file, BAS has not shown it holds it yet
	StateConfirmed = "confirmed" // BAS's own orders export carries its Номер
	StateHeld      = "held"      // a line's good BAS never exported: not sent, staff must act
	StateSkipped   = "skipped"   // not a sale: service receipts, unfinished receipts
)

// Returns modes: how a Checkbox RETURN receipt reaches BAS. No public source shows BAS's site exchange
// importing a «Возврат товара» document (commerceml.md §5.4), while an order is what it surely loads.
const (
	// ReturnsNegativeOrder (default) writes the return as its own order («Заказ товара») with negative
	// quantities and sums, its own Номер, and requisites naming the sale it returns. Totals in BAS net out;
	// nothing can be mistaken for a second sale.
	ReturnsNegativeOrder = "negative-order"
	// ReturnsSeparateFile writes returns to their own file beside the orders file, for BAS's administrator
	// to load or enter by hand; the orders file then carries sales only.
	ReturnsSeparateFile = "separate-file"
)

// SalesConfig says how receipts become BAS documents.
type SalesConfig struct {
	Out          spool.Target // the folder BAS's exchange node reads its orders file from
	OrdersFile   string       // the name of that one file (ФайлЗагрузки) in Out; replaced atomically
	ReturnsFile  string       // for ReturnsSeparateFile: its name in Out, default returns.xml
	HeldDir      string       // where held receipts are described for staff
	Encoding     commerceml.Encoding
	Returns      string        // ReturnsNegativeOrder or ReturnsSeparateFile
	ResendWindow time.Duration // confirmed receipts stay in the file this long, so a re-load is harmless
	Overlap      time.Duration // each pull re-reads this much before the cursor: offline receipts arrive late
	FirstPull    time.Duration // how far back the very first pull reaches
	Registers    []string      // cash register ids to pull; empty = every register of the organisation
	Currency     string        // Валюта of documents, as BAS writes it in its price types ("грн")
	CustomerName string        // the retail counterparty all receipts go to
	NumberPrefix string        // prefix of the BAS Номер, default "CB-"
}

// Sales pulls Checkbox receipts and keeps BAS's orders file up to date.
type Sales struct {
	API   ReceiptsAPI
	Store SalesStore
	Cfg   SalesConfig
	Log   *logrus.Entry
	Now   func() time.Time
}

// PullReport says what a pull found.
type PullReport struct {
	Registers int `json:"registers"`
	Seen      int `json:"seen"`
	New       int `json:"new"`
	Pending   int `json:"pending"`
	Held      int `json:"held"`
	Skipped   int `json:"skipped"`
}

func (s *Sales) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Pull reads receipts of every cash register from its cursor (minus the overlap window) to now. Each
// receipt id passes the state's exactly-once gate; a cursor moves only after its whole window was read.
//
// A cursor comes from Checkbox's own timestamps: it moves to the newest receipt the window held
// (cursorTime), never past it and never back, so this computer's clock only bounds the window's end. A
// clock that jumps ahead and back loses nothing; a window whose start is not before its end (the clock
// is behind the newest receipt by more than the overlap) is an error, not an empty success.
func (s *Sales) Pull(ctx context.Context) (PullReport, error) {
	var rep PullReport
	regs := s.Cfg.Registers
	if len(regs) == 0 {
		all, err := s.API.CashRegisters(ctx)
		if err != nil {
			return rep, fmt.Errorf("list cash registers: %w", err)
		}
		for _, r := range all {
			regs = append(regs, r.ID)
		}
	}
	rep.Registers = len(regs)
	to := s.now().UTC()
	for _, reg := range regs {
		cur, ok, err := s.Store.Cursor(ctx, reg)
		if err != nil {
			return rep, err
		}
		from := cur.Add(-s.Cfg.Overlap)
		if !ok {
			from = to.Add(-s.Cfg.FirstPull)
		}
		if !from.Before(to) {
			return rep, fmt.Errorf("receipts of register %s: nothing can be read from %s to %s: this computer's clock (%s) is behind "+
				"the newest receipt obmin has seen by more than sales.overlap (%s); set the clock right",
				reg, from.Format(time.RFC3339), to.Format(time.RFC3339), to.Format(time.RFC3339), s.Cfg.Overlap)
		}
		var newest time.Time
		q := checkbox.ReceiptQuery{From: from, To: to, CashRegisterIDs: []string{reg}}
		err = s.API.SearchReceipts(ctx, q, func(r checkbox.Receipt) error {
			rep.Seen++
			if t := cursorTime(r); t.After(newest) {
				newest = t
			}
			added, state, err := s.Accept(ctx, r)
			if err != nil {
				return err
			}
			if added {
				rep.New++
				switch state {
				case StatePending:
					rep.Pending++
				case StateHeld:
					rep.Held++
				case StateSkipped:
					rep.Skipped++
				}
			}
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("receipts of register %s: %w", reg, err)
		}
		next := cur
		switch {
		case newest.After(cur):
			next = newest
		case !ok:
			next = from // nothing yet: the next pull starts where this one did
		}
		if !next.Equal(cur) || !ok {
			if err := s.Store.SetCursor(ctx, reg, next); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

// Accept records one receipt, from a pull or a webhook, once. A receipt id seen before is left alone unless
// its Checkbox status moved on (nextStep): one skipped as unfinished is judged again, so CREATED then DONE
// reaches BAS (added is true then too); a finished one never goes back.
func (s *Sales) Accept(ctx context.Context, r checkbox.Receipt) (added bool, state string, err error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return false, "", fmt.Errorf("receipt %s: %w", r.ID, err)
	}
	rec := spool.ReceiptRecord{
		ID: r.ID, RegisterID: r.RegisterID(), Type: r.Type, Status: r.Status,
		Number: s.number(r), When: r.When(), TotalSum: r.TotalSum, Raw: raw, FirstSeen: s.now(),
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
		s.Log.WithFields(logrus.Fields{"receipt": r.ID, "number": rec.Number}).Warn("receipt held back: " + reason)
	}
	return added, state, nil
}

// number is the BAS Номер of a receipt: stable and unique without any state, so it survives a lost state
// file (BAS keys orders on it, bas-and-peers.md §0.3). The fiscal code is unique per receipt, offline ones too.
func (s *Sales) number(r checkbox.Receipt) string {
	prefix := s.Cfg.NumberPrefix
	if prefix == "" {
		prefix = "CB-"
	}
	if r.FiscalCode != "" {
		return prefix + r.FiscalCode
	}
	return prefix + r.ID
}

var kyiv = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Kyiv"); err == nil {
		return loc
	}
	return time.FixedZone("EET", 2*3600)
}()

// document turns a receipt into the BAS document, or says why it is not one.
func (s *Sales) document(ctx context.Context, r checkbox.Receipt) (*commerceml.Document, string, string, error) {
	if r.Status != checkbox.StatusDone {
		return nil, StateSkipped, fmt.Sprintf("status %s: not a finished fiscal receipt", r.Status), nil
	}
	var sign decimal.Decimal
	switch r.Type {
	case checkbox.ReceiptSell:
		sign = decimal.NewFromInt(1)
	case checkbox.ReceiptReturn:
		sign = decimal.NewFromInt(-1)
	default:
		return nil, StateSkipped, fmt.Sprintf("type %s: not a sale", r.Type), nil
	}
	var missing []string
	doc := &commerceml.Document{
		ID:        r.ID,
		Number:    s.number(r),
		Time:      r.When().In(kyiv),
		Operation: "Заказ товара",
		Role:      "Продавец",
		Currency:  s.Cfg.Currency,
		Rate:      decimal.NewFromInt(1),
		Counterparty: commerceml.Counterparty{
			ID: "obmin-retail-customer", Name: s.Cfg.CustomerName, FullName: s.Cfg.CustomerName, Role: "Покупатель",
		},
	}
	var linesTotal decimal.Decimal
	for _, l := range r.Goods {
		rec, ok, err := s.Store.Good(ctx, l.Good.Code)
		if err != nil {
			return nil, "", "", err
		}
		if !ok || rec.BASID == "" {
			missing = append(missing, fmt.Sprintf("«%s» (код %s)", l.Good.Name, l.Good.Code))
			continue
		}
		qty := Quantity(l.Quantity).Abs().Mul(sign)
		sum := UAH(l.Sum).Abs().Mul(sign)
		line := commerceml.DocumentLine{
			ID: rec.BASID, Article: rec.Article, Name: rec.Name,
			Unit:         commerceml.Unit{Code: rec.UnitCode, Name: rec.UnitName, FullName: rec.UnitFullName, Intl: rec.UnitIntl},
			PricePerUnit: UAH(l.Good.Price),
			Quantity:     qty,
			Sum:          sum,
		}
		for _, d := range l.Discounts {
			line.Discounts = append(line.Discounts, discount(d, sign))
		}
		linesTotal = linesTotal.Add(sum)
		doc.Lines = append(doc.Lines, line)
	}
	if len(missing) > 0 {
		return nil, StateHeld, "товар не вивантажувався з BAS: " + strings.Join(missing, ", "), nil
	}
	total := UAH(r.TotalSum).Abs().Mul(sign)
	for _, d := range r.Discounts {
		dd := discount(d, sign)
		dd.InTotal = true
		doc.Discounts = append(doc.Discounts, dd)
	}
	doc.Total = total
	if !linesTotal.Sub(sumDiscounts(doc.Discounts)).Equal(total) {
		// Receipt-level extra charges or rounding make the lines disagree with the total; BAS must get the
		// money that was really taken, so the difference is shown as one more document discount.
		diff := linesTotal.Sub(sumDiscounts(doc.Discounts)).Sub(total)
		doc.Discounts = append(doc.Discounts, commerceml.Discount{Name: "Округлення / надбавка", Sum: diff, InTotal: true})
	}
	payMethod, paid := paymentMethod(r)
	doc.Comment = fmt.Sprintf("Checkbox: чек %s, фіскальний номер %s, каса %s", r.ID, r.FiscalCode, r.Shift.CashRegister.FiscalNumber)
	when := r.When().In(kyiv).Format("2006-01-02 15:04:05")
	doc.Requisites = []commerceml.Requisite{
		{Name: "Метод оплаты", Value: payMethod},
		{Name: "Заказ оплачен", Value: fmt.Sprint(paid)},
		{Name: "Дата оплаты", Value: when},
		{Name: "Номер платежного документа", Value: r.FiscalCode},
		{Name: "Отменен", Value: "false"},
		{Name: "Финальный статус", Value: "true"},
	}
	if r.Type == checkbox.ReceiptReturn {
		doc.Comment = "Повернення. " + doc.Comment
		doc.Requisites = append(doc.Requisites,
			commerceml.Requisite{Name: "Повернення", Value: "true"},
			commerceml.Requisite{Name: "Чек продажу", Value: r.RelatedReceiptID})
	}
	return doc, StatePending, "", nil
}

func discount(d checkbox.Discount, sign decimal.Decimal) commerceml.Discount {
	sum := UAH(d.Sum).Abs()
	if d.Type == "EXTRA_CHARGE" {
		sum = sum.Neg()
	}
	out := commerceml.Discount{Name: d.Name, Sum: sum.Mul(sign), InTotal: true}
	if out.Name == "" {
		out.Name = "Знижка"
	}
	if d.Mode == "PERCENT" {
		p := decimal.NewFromFloat(d.Value)
		out.Percent = &p
	}
	return out
}

func sumDiscounts(ds []commerceml.Discount) decimal.Decimal {
	var t decimal.Decimal
	for _, d := range ds {
		t = t.Add(d.Sum)
	}
	return t
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

// WriteOrders replaces BAS's orders file with every receipt not yet confirmed plus those confirmed within
// the re-send window, oldest first. The file is replaced atomically, so BAS never reads half of it. It
// returns how many documents the file holds.
func (s *Sales) WriteOrders(ctx context.Context) (int, error) {
	var sales, returns []commerceml.Document
	collect := func(r spool.ReceiptRecord) error {
		if len(r.Document) == 0 {
			return nil
		}
		var d commerceml.Document
		if err := json.Unmarshal(r.Document, &d); err != nil {
			return fmt.Errorf("receipt %s: stored document: %w", r.ID, err)
		}
		if r.Type == checkbox.ReceiptReturn && s.Cfg.Returns == ReturnsSeparateFile {
			returns = append(returns, d)
		} else {
			sales = append(sales, d)
		}
		return nil
	}
	if err := s.Store.ReceiptsInState(ctx, StatePending, collect); err != nil {
		return 0, err
	}
	if s.Cfg.ResendWindow > 0 {
		if err := s.Store.ConfirmedSince(ctx, s.now().Add(-s.Cfg.ResendWindow), collect); err != nil {
			return 0, err
		}
	}
	byTime := func(ds []commerceml.Document) {
		sort.SliceStable(ds, func(i, j int) bool {
			if !ds[i].Time.Equal(ds[j].Time) {
				return ds[i].Time.Before(ds[j].Time)
			}
			return ds[i].Number < ds[j].Number
		})
	}
	byTime(sales)
	byTime(returns)
	if err := s.writeFile(ctx, s.Cfg.OrdersFile, sales); err != nil {
		return 0, err
	}
	if s.Cfg.Returns == ReturnsSeparateFile {
		if err := s.writeFile(ctx, s.returnsFile(), returns); err != nil {
			return 0, err
		}
	}
	return len(sales) + len(returns), nil
}

func (s *Sales) returnsFile() string {
	if s.Cfg.ReturnsFile != "" {
		return s.Cfg.ReturnsFile
	}
	return "returns.xml"
}

// writeFile renders the documents in memory first (a few thousand receipts are a few MB), and touches the
// file only when its content changes, so BAS and staff see a new file time only for new data.
func (s *Sales) writeFile(ctx context.Context, name string, docs []commerceml.Document) error {
	data, err := s.render(docs)
	if err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	if old, err := s.Cfg.Out.ReadFile(ctx, name); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := s.Cfg.Out.WriteFile(ctx, name, data); err != nil {
		return fmt.Errorf("write %s to %s: %w", name, s.Cfg.Out, err)
	}
	return nil
}

// render writes documents as BAS reads them. ДатаФормирования is the newest document's time, so the
// same documents always give the same bytes.
func (s *Sales) render(docs []commerceml.Document) ([]byte, error) {
	var buf bytes.Buffer
	opts := commerceml.WriterOptions{Encoding: s.Cfg.Encoding, Indent: true}
	if len(docs) > 0 {
		opts.Generated = docs[len(docs)-1].Time
	} else {
		opts.Generated = time.Date(2000, 1, 1, 0, 0, 0, 0, kyiv)
	}
	if err := commerceml.WriteDocuments(&buf, opts, docs); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteHeld describes every held receipt in a file of its own in HeldDir, in words staff can act on, and
// removes the files of receipts no longer held.
func (s *Sales) WriteHeld(ctx context.Context) (int, error) {
	if s.Cfg.HeldDir == "" {
		return 0, nil
	}
	if err := os.MkdirAll(s.Cfg.HeldDir, 0o755); err != nil {
		return 0, err
	}
	want := map[string]bool{}
	err := s.Store.ReceiptsInState(ctx, StateHeld, func(r spool.ReceiptRecord) error {
		name := safeName(r.Number) + ".txt"
		want[name] = true
		text := fmt.Sprintf("\ufeffЧек Checkbox %s (номер для BAS %s) від %s на суму %s грн не передано в BAS.\r\n"+
			"Причина: %s\r\n"+
			"Що зробити: вивантажте цей товар з BAS (з артикулом, що збігається з кодом у Checkbox); obmin передасть чек сам.\r\n",
			r.ID, r.Number, r.When.In(kyiv).Format("02.01.2006 15:04"), UAH(r.TotalSum).StringFixed(2), r.Reason)
		path := filepath.Join(s.Cfg.HeldDir, name)
		if old, err := os.ReadFile(path); err == nil && string(old) == text {
			return nil
		}
		return spool.WriteFileAtomic(path, 0o644, func(w io.Writer) error {
			_, err := w.Write([]byte(text))
			return err
		})
	})
	if err != nil {
		return 0, err
	}
	entries, err := os.ReadDir(s.Cfg.HeldDir)
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		if !want[e.Name()] && strings.HasSuffix(e.Name(), ".txt") {
			if err := os.Remove(filepath.Join(s.Cfg.HeldDir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return 0, err
			}
		}
	}
	return len(want), nil
}

// Release re-examines held receipts after BAS exported more goods: those whose goods are now known become
// pending.
func (s *Sales) Release(ctx context.Context) (int, error) {
	var held []spool.ReceiptRecord
	if err := s.Store.ReceiptsInState(ctx, StateHeld, func(r spool.ReceiptRecord) error {
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
