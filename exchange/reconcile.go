package exchange

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/checkbox"
	"obmin/commerceml"
	"obmin/internal/voice"
	"obmin/reconcile"
	"obmin/store"
)

// What obmin gives reconciliation (package reconcile): the channels receipts reach BAS through, BAS's own
// view of its orders, and the repairs (goods sent again, receipts offered again).

// ReconcileStore is what the channels read from the state (store.Store).
type ReconcileStore interface {
	ReceiptsSoldSince(ctx context.Context, since time.Time, fn func(store.ReceiptRecord) error, states ...store.ReceiptState) error
	ReceiptByNumber(ctx context.Context, number string) (store.ReceiptRecord, bool, error)
	BASOrdersSold(ctx context.Context, from, to time.Time, fn func(store.BASOrder) error) error
	PutBASOrders(ctx context.Context, orders []store.BASOrder) error
}

// OrdersFileChannel is the orders file as a channel: what obmin wrote into it for each receipt (its
// ledger) and every order number it gave (the numbers journal, which survives a lost state). A sale counts
// as delivered once it has a number and a document; a return once it is listed for staff or applied to its
// sale's order; a held receipt is said to be held. A receipt missing from it is accepted again and the file
// rewritten (Repair).
func (s *Sales) OrdersFileChannel(st ReconcileStore) reconcile.Channel {
	return reconcile.Channel{
		Name:  "orders-file",
		Title: "Файл замовлень BAS",
		Expects: func(r checkbox.Receipt) bool {
			return r.Type == checkbox.ReceiptSell || r.Type == checkbox.ReceiptReturn
		},
		Delivered: func(ctx context.Context, from, to time.Time, fn func(reconcile.Delivery) error) error {
			return s.ordersDelivered(ctx, st, from, to, fn)
		},
		Repair: s.reoffer,
	}
}

func (s *Sales) ordersDelivered(ctx context.Context, st ReconcileStore, from, to time.Time, fn func(reconcile.Delivery) error) error {
	inLedger := map[string]string{} // receipt id → number, as the ledger has it
	err := st.ReceiptsSoldSince(ctx, from, func(r store.ReceiptRecord) error {
		if !r.When.Before(to) {
			return nil
		}
		d := reconcile.Delivery{ReceiptID: r.ID, FiscalCode: receiptFiscalCode(r.Raw), Sold: r.When}
		switch r.State {
		case StateHeld:
			d.Held = r.Reason + "."
		case StatePending, StateConfirmed, StateDelivered:
			if r.Number == "" {
				return nil // not numbered yet: it goes into the file at the next write
			}
			d.Ref = r.Number
			inLedger[r.ID] = r.Number
			if sum, amended, ok := documentSum(r.Document); ok && !amended {
				d.Sum = &sum
			}
		case StateListed, StateAmended, StateReturn:
			// A return: listed for staff to enter in BAS, or applied to its sale's order.
		default:
			return nil // skipped: not a finished sale as obmin last saw it
		}
		return fn(d)
	}, StateHeld, StatePending, StateConfirmed, StateDelivered, StateListed, StateAmended, StateReturn)
	if err != nil {
		return err
	}
	// The journal: numbers given that the ledger does not hold (a lost or restored state, or a receipt given
	// a second number) are orders BAS may hold all the same.
	for y := from.In(voice.Kyiv).Year(); y <= to.Add(-time.Nanosecond).In(voice.Kyiv).Year(); y++ {
		err := s.journal().each(y, func(e journalEntry) error {
			if e.sold.Before(from) || !e.sold.Before(to) || inLedger[e.receipt] == e.number {
				return nil
			}
			return fn(reconcile.Delivery{ReceiptID: e.receipt, FiscalCode: e.fiscal, Ref: e.number, Sold: e.sold})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// documentSum is the total of a stored document in kopecks, and whether a return changed it
// (sales.returns: amend): its sum is then the sale's less the return, not the receipt's.
func documentSum(doc []byte) (sum int64, amended, ok bool) {
	if len(doc) == 0 {
		return 0, false, false
	}
	var d commerceml.Document
	if json.Unmarshal(doc, &d) != nil {
		return 0, false, false
	}
	k, err := Kopecks(d.Total)
	return k, strings.Contains(d.Comment, "повернення: чек"), err == nil
}

// reoffer accepts receipts again (a missed pull, a status that moved on after the pull's window) and
// rewrites the orders file: reconciliation's repair of the orders-file channel.
func (s *Sales) reoffer(ctx context.Context, receipts []checkbox.Receipt) (string, error) {
	added := 0
	for _, r := range receipts {
		ok, _, err := s.Accept(ctx, r)
		if err != nil {
			return "", err
		}
		if ok {
			added++
		}
	}
	if _, err := s.WriteOrders(ctx); err != nil {
		return "", err
	}
	if _, err := s.WriteHeld(ctx); err != nil {
		return "", err
	}
	return fmt.Sprintf("Чеків передано у файл замовлень BAS знову: %d з %d (решта вже були в obmin; файл переписано)", added, len(receipts)), nil
}

// BASOrdersChannel is BAS's own view: the orders its orders export showed (recorded by RecordBASOrders). It
// shows only what BAS chose to export, so a receipt it does not show is no difference; what it shows is
// compared: an order for a receipt twice, a sum that is not the receipt's.
func BASOrdersChannel(st ReconcileStore) reconcile.Channel {
	return reconcile.Channel{
		Name:    "bas-orders-export",
		Title:   "Вивантаження замовлень з BAS",
		Partial: true,
		Delivered: func(ctx context.Context, from, to time.Time, fn func(reconcile.Delivery) error) error {
			return st.BASOrdersSold(ctx, from, to, func(o store.BASOrder) error {
				d := reconcile.Delivery{FiscalCode: o.Fiscal, Ref: o.Number, Sum: o.Total, Sold: o.When}
				rec, ok, err := st.ReceiptByNumber(ctx, o.Number)
				if err != nil {
					return err
				}
				if ok {
					// BAS should hold what obmin sent: the document's sum (a sale less a return applied to
					// it, with sales.returns: amend).
					d.ReceiptID = rec.ID
					if sum, _, ok := documentSum(rec.Document); ok {
						d.Want = &sum
					}
				}
				return fn(d)
			})
		},
	}
}

// RecordBASOrders keeps the orders of one of BAS's own orders exports (a file of a drop, or one BAS sent
// over HTTP) for reconciliation. source names where it came from (a drop's id).
func (a *Agent) RecordBASOrders(ctx context.Context, path, source string) error {
	orders, err := ReadBASOrders(path)
	if err != nil {
		return err
	}
	for i := range orders {
		orders[i].DropID, orders[i].SeenAt = source, a.now()
	}
	if err := a.Store.PutBASOrders(ctx, orders); err != nil {
		return err
	}
	if len(orders) > 0 {
		a.log().WithFields(logrus.Fields{"orders": len(orders), "from": source}).Debug("BAS's orders recorded for reconciliation")
	}
	return nil
}

// fiscalInComment finds the fiscal code in the comment obmin writes («Checkbox: чек <code>, каса …»).
var fiscalInComment = regexp.MustCompile(`Checkbox: чек ([^\s,]+)`)

// ReadBASOrders reads the orders of a BAS orders export: Номер, BAS's Ид, time, sum, and the Checkbox
// fiscal code the order names (obmin's requisite «Фіскальний номер Checkbox», or its comment). A document
// without lines gives no sum.
func ReadBASOrders(path string) ([]store.BASOrder, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []store.BASOrder
	_, err = commerceml.Read(f, filepath.Base(path), commerceml.Handler{Document: func(d commerceml.Document) error {
		if d.Number == "" {
			return nil
		}
		o := store.BASOrder{Number: d.Number, BASID: d.ID, When: d.Time}
		for _, r := range d.Requisites {
			if r.Name == reqFiscal {
				o.Fiscal = strings.TrimSpace(r.Value)
			}
		}
		if m := fiscalInComment.FindStringSubmatch(d.Comment); o.Fiscal == "" && m != nil {
			o.Fiscal = m[1]
		}
		if len(d.Lines) > 0 || !d.Total.IsZero() {
			if k, err := Kopecks(d.Total); err == nil {
				o.Total = &k
			}
		}
		out = append(out, o)
		return nil
	}})
	if err != nil {
		return nil, badInput(err)
	}
	return out, nil
}

// journalEntry is one line of the numbers journal.
type journalEntry struct {
	number, receipt, fiscal string
	sold                    time.Time
}

// each calls fn for every readable line of year's journal, in order.
func (j numberJournal) each(year int, fn func(journalEntry) error) error {
	if j.dir == "" {
		return nil
	}
	f, err := os.Open(j.path(year))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("numbers journal: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) < 4 {
			continue // a line cut by a crash
		}
		if y, _, ok := ParseOrderNumber(fields[0]); !ok || y != year {
			continue
		}
		sold, err := time.ParseInLocation("2006-01-02 15:04:05", fields[3], voice.Kyiv)
		if err != nil {
			continue
		}
		if err := fn(journalEntry{number: fields[0], receipt: fields[1], fiscal: fields[2], sold: sold}); err != nil {
			return err
		}
	}
	return sc.Err()
}

// Repush sends goods to Checkbox again as the ledger says Checkbox should hold them, through the same code
// a drop uses (planned in a Stage, sent one by one, stock through the stock step), and sets the stock given:
// reconciliation's repair. A good whose only difference is its stock gets its stock alone.
func (c *Catalog) Repush(ctx context.Context, goods []reconcile.RepushGood) (reconcile.RepushResult, error) {
	st, err := store.OpenStage(ctx)
	if err != nil {
		return reconcile.RepushResult{}, err
	}
	defer st.Close()
	var forget []store.GoodRecord // goods whose Checkbox count is not what the ledger says obmin set
	for _, g := range goods {
		rec := g.Rec
		var p checkbox.GoodPayload
		if len(rec.PushedPayload) == 0 || json.Unmarshal(rec.PushedPayload, &p) != nil {
			continue // nothing known to send again
		}
		pl := plan{rec: rec, payload: p, hash: payloadHash(p), stock: g.Stock}
		if g.Stock != nil {
			// The stock is set now: sales before now are in it (store.Store.NetSoldSinceStock). The stock step
			// sends a stock the ledger does not hold as sent, without reading the count again.
			pl.rec.UpdatedAt = c.now()
			pl.rec.PushedStock = nil
			forget = append(forget, pl.rec)
		}
		kind := planUnchanged
		if !g.StockOnly {
			pl.rec.PushedHash = "" // no longer what the ledger says Checkbox holds: sent again
			kind = planTodo
		}
		if _, err := stagePlan(ctx, st, pl, kind); err != nil {
			return reconcile.RepushResult{}, err
		}
	}
	if err := c.Store.PutGoods(ctx, forget); err != nil {
		return reconcile.RepushResult{}, fmt.Errorf("ledger: %w", err)
	}
	var rep DropReport
	if err := c.push(ctx, st, &rep, false); err != nil {
		return reconcile.RepushResult{}, err
	}
	if err := c.settle(ctx, st, &rep, 0, nil); err != nil {
		return reconcile.RepushResult{}, err
	}
	return reconcile.RepushResult{Created: rep.Created, Updated: rep.Updated, Stock: rep.StockSent, Rejected: rep.Rejected}, nil
}
