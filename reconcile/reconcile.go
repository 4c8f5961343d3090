// Package reconcile proves that BAS and Checkbox agree, or says where they do not: the goods Checkbox
// holds against what BAS last exported (the ledger of what obmin sent), and one day's receipts in Checkbox
// against what reached BAS through each channel (obmin's orders file, BAS's retail reports) and against
// BAS's own view where it gives one (its orders export). It writes a report for staff (text and HTML, in
// Ukrainian, Kyiv time) and for machines (JSON) under the spool, by day, and with Repair fixes what obmin
// can fix: goods sent again through the catalogue's own code, receipts offered to BAS again.
//
// It reads Checkbox's goods list once, as a stream: the codes seen go to the state (store.Store.SeeGoods)
// in batches, so memory does not grow with the catalogue.
//
// It imports store (the ledger), checkbox (what Checkbox holds), internal/atomicfile, internal/quietlog and internal/voice;
// exchange gives it the channels through which receipts reach BAS.
package reconcile

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/checkbox"
	"obmin/internal/quietlog"
	"obmin/internal/voice"
	"obmin/store"
)

// Checkbox is what reconciliation reads from Checkbox.
type Checkbox interface {
	AllGoods(ctx context.Context, fn func(checkbox.Good) error) error
	SearchReceipts(ctx context.Context, q checkbox.ReceiptQuery, fn func(checkbox.Receipt) error) error
	CashRegisters(ctx context.Context) ([]checkbox.CashRegister, error)
}

// Ledger is the part of obmin's state reconciliation reads (store.Store).
type Ledger interface {
	Good(ctx context.Context, code string) (store.GoodRecord, bool, error)
	ForgetSeenGoods(ctx context.Context) error
	SeeGoods(ctx context.Context, codes []string) error
	PushedGoodsNotSeen(ctx context.Context, fn func(store.GoodRecord) error) error
	NetSoldSinceStock(ctx context.Context) (map[string]int64, error)
	Cursor(ctx context.Context, registerID string) (time.Time, bool, error)
}

// GoodsRepair sends goods to Checkbox again as the ledger says Checkbox should hold them (exchange.Catalog).
type GoodsRepair interface {
	Repush(ctx context.Context, goods []RepushGood) (RepushResult, error)
}

// RepushGood is one good to send again: its ledger record and, when its stock is to be set, the stock
// Checkbox should hold (thousandths). StockOnly: the rest of the good is as it should be.
type RepushGood struct {
	Rec       store.GoodRecord
	Stock     *int64
	StockOnly bool
}

// RepushResult says what sending goods again did.
type RepushResult struct {
	Created, Updated, Stock int
	Rejected                []string // Checkbox refused these, with its words
}

// Reconciler runs reconciliations. Create it with its fields set; it is safe for one run at a time.
type Reconciler struct {
	Checkbox Checkbox
	Ledger   Ledger
	// Channels are the ways receipts reach BAS; a partial one (BAS's own orders export) is checked only
	// for what it shows.
	Channels []Channel
	Goods    GoodsRepair // nil: goods are not repaired
	// Stock compares stock (mapping.stock: obmin sends stock to Checkbox).
	Stock bool
	// Registers are the cash registers whose receipts are compared; empty: every register of the account.
	Registers []string
	// Dir is where reports are kept: Dir/<date>/report.{txt,html,json}.
	Dir string
	// MaxListed bounds the differences of each kind a report lists (all are counted); 0 is 1000.
	MaxListed int
	Log       *logrus.Entry
	Now       func() time.Time
}

// Options choose one run.
type Options struct {
	Date   string // the Kyiv day whose receipts are compared, 2006-01-02; "" is yesterday
	Repair bool
}

// channelRepair runs one repair of a channel and records what it did, marking the differences it covered.
func (r *Reconciler) channelRepair(rep *Report, ch Channel, which []*Difference, failed string, run func() (string, error)) {
	said, err := run()
	if err != nil {
		r.log().WithError(err).WithField("channel", ch.Name).Warn("reconciliation: " + failed)
		rep.Repair.Errors = append(rep.Repair.Errors, ch.Title+": "+voice.Explain(err.Error()))
		return
	}
	for _, d := range which {
		d.Repaired = true
	}
	rep.Repair.Done = append(rep.Repair.Done, said)
}

// Yesterday is the Kyiv day before now's, the day a nightly reconciliation checks.
func Yesterday(now time.Time) string {
	k := now.In(voice.Kyiv)
	return time.Date(k.Year(), k.Month(), k.Day()-1, 12, 0, 0, 0, voice.Kyiv).Format(voice.DateLayout)
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) log() *logrus.Entry { return quietlog.Or(r.Log) }

// Run reconciles, repairs when asked, and writes the report. With Repair, what could be fixed is fixed
// and everything is compared again: the report lists what was found, what was done about each, and what is
// left. Report.Clean says whether BAS and Checkbox agree at the end. An error means the comparison could
// not be made (Checkbox unreachable, say); the report is not written then.
func (r *Reconciler) Run(ctx context.Context, o Options) (*Report, error) {
	if o.Date == "" {
		o.Date = Yesterday(r.now())
	}
	from, to, err := voice.Day(o.Date)
	if err != nil {
		return nil, fmt.Errorf("reconcile: date %q: want 2006-01-02", o.Date)
	}
	rep := &Report{Date: o.Date, From: from, To: to, Started: r.now(), StockCompared: r.Stock}
	if err := r.compare(ctx, rep); err != nil {
		return nil, err
	}
	if o.Repair {
		rep.Repair = &RepairReport{}
		if err := r.repair(ctx, rep); err != nil {
			return nil, err
		}
		// Compared again: what is left is what the report says is left.
		after := &Report{Date: o.Date, From: from, To: to, StockCompared: r.Stock}
		if err := r.compare(ctx, after); err != nil {
			return nil, fmt.Errorf("reconcile after repair: %w", err)
		}
		rep.Repair.Left = after.Differences()
		rep.Repair.LeftCounts = after.Counts()
	}
	rep.Finished = r.now()
	rep.Dir = filepath.Join(r.Dir, o.Date)
	if r.Dir != "" {
		if err := rep.Write(rep.Dir); err != nil {
			return rep, err
		}
	}
	r.log().WithFields(logrus.Fields{"date": o.Date, "differences": len(rep.Differences()), "left": rep.Left(),
		"repair": o.Repair, "report": rep.Dir}).Info("reconciliation done")
	return rep, nil
}

func (r *Reconciler) compare(ctx context.Context, rep *Report) error {
	if err := r.goods(ctx, rep); err != nil {
		return fmt.Errorf("reconcile goods: %w", err)
	}
	if err := r.receipts(ctx, rep); err != nil {
		return fmt.Errorf("reconcile receipts: %w", err)
	}
	return nil
}

// repair fixes what obmin can: BAS's documents made right and receipts offered to BAS again by their
// channel first (a receipt taken now counts in the stock Checkbox should hold), then goods compared afresh
// and sent again.
func (r *Reconciler) repair(ctx context.Context, rep *Report) error {
	for _, ch := range r.Channels {
		var keys []string
		var receipts []checkbox.Receipt
		var docs, rcpts []*Difference
		for i := range rep.Receipts.Differences {
			d := &rep.Receipts.Differences[i]
			switch {
			case d.Channel != ch.Name || !d.Fixable:
			case d.doc != "":
				if !slices.Contains(keys, d.doc) {
					keys = append(keys, d.doc)
				}
				docs = append(docs, d)
			case d.receipt != nil:
				receipts = append(receipts, *d.receipt)
				rcpts = append(rcpts, d)
			}
		}
		if len(keys) > 0 && ch.RepairDocuments != nil {
			r.channelRepair(rep, ch, docs, "BAS's documents not made right again", func() (string, error) { return ch.RepairDocuments(ctx, keys) })
		}
		if len(receipts) > 0 && ch.Repair != nil {
			r.channelRepair(rep, ch, rcpts, "receipts not offered again", func() (string, error) { return ch.Repair(ctx, receipts) })
		}
	}
	if r.Goods == nil {
		return nil
	}
	fresh := &Report{Date: rep.Date, From: rep.From, To: rep.To, StockCompared: r.Stock}
	if err := r.goods(ctx, fresh); err != nil {
		return fmt.Errorf("reconcile goods before repair: %w", err)
	}
	// One entry per good, whatever differs in it.
	var todo []RepushGood
	at := map[string]int{}
	for _, d := range fresh.Goods.Differences {
		if !d.Fixable || d.rec == nil {
			continue
		}
		i, seen := at[d.Code]
		if !seen {
			i = len(todo)
			at[d.Code] = i
			todo = append(todo, RepushGood{Rec: *d.rec, StockOnly: true})
		}
		if d.stock != nil {
			todo[i].Stock = d.stock
		}
		if d.Kind != GoodStock {
			todo[i].StockOnly = false
		}
	}
	if len(todo) == 0 {
		return nil
	}
	res, err := r.Goods.Repush(ctx, todo)
	if err != nil {
		r.log().WithError(err).Warn("reconciliation: goods not sent again")
		rep.Repair.Errors = append(rep.Repair.Errors, "Товари: "+voice.Explain(err.Error()))
		return nil
	}
	for i := range rep.Goods.Differences {
		if d := &rep.Goods.Differences[i]; d.Fixable {
			_, d.Repaired = at[d.Code]
		}
	}
	rep.Repair.Done = append(rep.Repair.Done, fmt.Sprintf("Товари надіслано в Checkbox знову: %d (створено %d, оновлено %d, залишків поставлено %d)",
		len(todo), res.Created, res.Updated, res.Stock))
	for _, rj := range res.Rejected {
		rep.Repair.Errors = append(rep.Repair.Errors, "Checkbox відхилив: "+voice.Explain(rj))
	}
	return nil
}
