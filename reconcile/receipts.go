package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"obmin/checkbox"
)

// Kinds of differences in receipts.
const (
	ReceiptMissing    = "missing"    // a finished receipt of the day that did not reach BAS through the channel
	ReceiptDuplicated = "duplicated" // one receipt reached BAS more than once (two orders, two report lines)
	ReceiptSum        = "sum"        // what reached BAS differs in sum from the receipt
	ReceiptExtra      = "extra"      // BAS has something for a receipt Checkbox does not list for the day
	ReceiptHeld       = "held"       // held back by obmin: a good BAS never exported (held/ says which)

	// Differences in BAS's documents that carry many receipts (a shift's retail sales report), as BAS
	// itself holds them (Channel.Documents).
	DocumentMissing  = "document-missing"  // obmin delivered it; BAS has none, or holds it marked for deletion
	DocumentUnposted = "document-unposted" // obmin posted it; BAS holds it unposted (someone cancelled the posting)
	DocumentDiffers  = "document-differs"  // BAS's document accounts for other sums or goods than its receipts
)

// Channel is one way receipts reach BAS, or one view BAS gives of them. A new channel plugs in with its
// Delivered function alone.
type Channel struct {
	Name  string // "orders-file", "retail-report", "bas-orders-export": in the JSON report
	Title string // how staff call it, in Ukrainian
	// Delivered calls fn for everything the channel carried to BAS for receipts sold in [from, to): one
	// Delivery per order, report line or listing. Several for one receipt are duplicates.
	Delivered func(ctx context.Context, from, to time.Time, fn func(Delivery) error) error
	// Expects says whether a finished receipt must reach BAS through this channel; nil: sales (SELL) only.
	Expects func(r checkbox.Receipt) bool
	// Partial marks a view that shows only part of what BAS holds (BAS's orders export leaves out orders
	// nobody changed): a receipt it does not show is no difference.
	Partial bool
	// Repair, when set, offers the given receipts, missing from the channel, to BAS again and says, in
	// Ukrainian, what it did.
	Repair func(ctx context.Context, receipts []checkbox.Receipt) (string, error)
	// Documents, when set, reads back from BAS the documents that carry many receipts of [from, to) (a
	// shift's retail sales report) and calls fn for each, as BAS holds it: one look-up per document.
	Documents func(ctx context.Context, from, to time.Time, fn func(Document) error) error
	// RepairDocuments, when set, makes the documents with these keys (Document.Key) right in BAS again
	// and says, in Ukrainian, what it did.
	RepairDocuments func(ctx context.Context, keys []string) (string, error)
}

// Delivery is one thing a channel carried to BAS for one receipt.
type Delivery struct {
	ReceiptID  string // the Checkbox receipt id; or, when unknown, FiscalCode says which receipt
	FiscalCode string
	Ref        string    // what carries it in BAS: an order's Номер, a report's number; "" for a listing
	Sum        *int64    // kopecks as it reached BAS (a return's as a positive sum); nil: not known or not a sum
	Want       *int64    // what Sum should be when not the receipt's total (what obmin sent, for BAS's own view)
	Sold       time.Time // when the receipt was sold, as the channel knows it
	Held       string    // not delivered: obmin holds it back, and why
	Advice     string    // what to do about a held one; "" says what the orders file needs (export the goods)
	Waiting    string    // not delivered yet but on its way, and why (its shift is still open): no difference
	Fixable    bool      // a held receipt the channel's Repair can send (a missing one always can, with Repair)
}

// Document is one of BAS's documents that carries many receipts (a shift's retail sales report), read back
// from BAS and judged against the receipts obmin put in it.
type Document struct {
	Key      string    // the channel's own key of it (a shift's id), for RepairDocuments
	Ref      string    // its number in BAS
	Name     string    // how staff call it, in Ukrainian: «звіт зміни №12 каси 4000000001 (…)»
	At       time.Time // its date
	Missing  bool      // obmin delivered it; BAS has no such document
	Deleted  bool      // BAS holds it marked for deletion
	Unposted bool      // obmin posted it; BAS holds it unposted
	Sum      *int64    // its total in BAS, kopecks; nil when BAS holds none
	Want     int64     // what its total should be: the sum of its receipts (returns less)
	// Lines says that it accounts for other goods or quantities, or other card payments, than its
	// receipts, in Ukrainian; "" when they agree.
	Lines   string
	Fixable bool // RepairDocuments can make it right
}

// cbReceipt is what reconciliation keeps of one Checkbox receipt of the day.
type cbReceipt struct {
	r       checkbox.Receipt
	pending bool // newer than anything obmin's pulls of its register saw: not taken yet, no difference
}

// receipts compares the day's finished receipts in Checkbox with what each channel carried to BAS.
func (r *Reconciler) receipts(ctx context.Context, rep *Report) error {
	regs := r.Registers
	if len(regs) == 0 {
		all, err := r.Checkbox.CashRegisters(ctx)
		if err != nil {
			return fmt.Errorf("list cash registers: %w", err)
		}
		for _, c := range all {
			regs = append(regs, c.ID)
		}
	}
	byID := map[string]*cbReceipt{}
	byFiscal := map[string]*cbReceipt{}
	var order []string
	for _, reg := range regs {
		cursor, pulled, err := r.Ledger.Cursor(ctx, reg)
		if err != nil {
			return err
		}
		q := checkbox.ReceiptQuery{From: rep.From, To: rep.To, CashRegisterIDs: []string{reg}}
		err = r.Checkbox.SearchReceipts(ctx, q, func(c checkbox.Receipt) error {
			when := c.When()
			if when.Before(rep.From) || !when.Before(rep.To) || c.Status != checkbox.StatusDone || byID[c.ID] != nil {
				return nil
			}
			if c.Type != checkbox.ReceiptSell && c.Type != checkbox.ReceiptReturn {
				return nil // service receipts (cash in and out) are not sales
			}
			cr := &cbReceipt{r: c, pending: !pulled || when.After(cursor)}
			byID[c.ID] = cr
			if c.FiscalCode != "" {
				byFiscal[c.FiscalCode] = cr
			}
			order = append(order, c.ID)
			return nil
		})
		if err != nil {
			return fmt.Errorf("receipts of register %s: %w", reg, err)
		}
	}
	rep.Receipts.InCheckbox = len(order)
	for _, id := range order {
		if byID[id].pending {
			rep.Receipts.NotPulled++
		}
	}
	for _, ch := range r.Channels {
		cs := ChannelSummary{Name: ch.Name, Title: ch.Title, Partial: ch.Partial}
		got := map[string][]Delivery{} // by receipt id
		var extra []Delivery
		err := ch.Delivered(ctx, rep.From, rep.To, func(d Delivery) error {
			cs.Deliveries++
			cr := byID[d.ReceiptID]
			if cr == nil && d.FiscalCode != "" {
				cr = byFiscal[d.FiscalCode]
			}
			if cr == nil {
				extra = append(extra, d)
				return nil
			}
			got[cr.r.ID] = append(got[cr.r.ID], d)
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: %w", ch.Name, err)
		}
		expects := ch.Expects
		if expects == nil {
			expects = func(c checkbox.Receipt) bool { return c.Type == checkbox.ReceiptSell }
		}
		for _, id := range order {
			cr := byID[id]
			if !expects(cr.r) && len(got[id]) == 0 {
				continue
			}
			cs.Expected++
			r.compareReceipt(rep, ch, cr, got[id])
		}
		if ch.Documents != nil {
			err := ch.Documents(ctx, rep.From, rep.To, func(d Document) error {
				cs.Documents++
				r.compareDocument(rep, ch, d)
				return nil
			})
			if err != nil {
				return fmt.Errorf("%s: BAS's documents: %w", ch.Name, err)
			}
		}
		for _, d := range extra {
			rc := Difference{Kind: ReceiptExtra, Channel: ch.Name, ReceiptID: d.ReceiptID, Fiscal: d.FiscalCode, At: d.Sold, Refs: refs([]Delivery{d})}
			if d.Sum != nil {
				rc.Want = money(*d.Sum)
			}
			rc.Note = "У BAS є документ для чека, якого Checkbox за цей день не показує: перевірте документ у BAS."
			r.addReceipt(rep, rc)
		}
		rep.Receipts.Channels = append(rep.Receipts.Channels, cs)
	}
	return nil
}

// compareReceipt judges one receipt against what one channel carried for it.
func (r *Reconciler) compareReceipt(rep *Report, ch Channel, cr *cbReceipt, ds []Delivery) {
	c := cr.r
	base := Difference{Channel: ch.Name, ReceiptID: c.ID, Fiscal: c.FiscalCode, At: c.When(), Got: money(c.TotalSum)}
	if c.Type == checkbox.ReceiptReturn {
		base.Name = "повернення"
	}
	var delivered []Delivery
	for _, d := range ds {
		switch {
		case d.Waiting != "":
			// On its way (its shift is still open): no difference yet.
		case d.Held != "":
			diff := base
			advice := cmp.Or(d.Advice, "вивантажте ці товари з BAS — чек піде сам (або вирішіть на сторінці obmin).")
			diff.Kind, diff.Note = ReceiptHeld, fmt.Sprintf("Чек затримано (%s): %s Що зробити: %s", ch.Title, d.Held, advice)
			if d.Fixable && ch.Repair != nil {
				cc := c
				diff.Fixable, diff.receipt = true, &cc
			}
			r.addReceipt(rep, diff)
		default:
			delivered = append(delivered, d)
		}
	}
	if len(delivered) == 0 {
		if ch.Partial || cr.pending || len(ds) > 0 {
			return // not shown by a partial view, not pulled yet, on its way, or held (said above)
		}
		diff := base
		cc := c
		diff.Kind, diff.Fixable, diff.receipt = ReceiptMissing, ch.Repair != nil, &cc
		diff.Note = fmt.Sprintf("Чек не дійшов до BAS (%s).", ch.Title)
		if diff.Fixable {
			diff.Note += " obmin може передати його знову (виправлення)."
		}
		r.addReceipt(rep, diff)
		return
	}
	if rs := refs(delivered); len(rs) > 1 {
		diff := base
		diff.Kind, diff.Refs, diff.Got = ReceiptDuplicated, rs, ""
		diff.Note = fmt.Sprintf("Чек потрапив у BAS %d рази (%s): залиште один документ, інші видаліть у BAS.", len(rs), strings.Join(rs, ", "))
		r.addReceipt(rep, diff)
	}
	for _, d := range delivered {
		want := c.TotalSum
		if d.Want != nil {
			want = *d.Want
		}
		if d.Sum != nil && *d.Sum != want {
			diff := base
			diff.Kind, diff.Want, diff.Got, diff.Refs = ReceiptSum, money(*d.Sum), money(want), refs([]Delivery{d})
			diff.Note = fmt.Sprintf("Сума документа %s у BAS (%s) не така, як має бути за чеком Checkbox (%s): виправте документ у BAS.", d.Ref, money(*d.Sum), money(want))
			r.addReceipt(rep, diff)
		}
	}
}

// compareDocument judges one of BAS's documents as BAS holds it.
func (r *Reconciler) compareDocument(rep *Report, ch Channel, d Document) {
	base := Difference{Channel: ch.Name, Name: d.Name, At: d.At, Got: money(d.Want), doc: d.Key}
	if d.Ref != "" {
		base.Refs = []string{d.Ref}
	}
	if d.Sum != nil {
		base.Want = money(*d.Sum)
	}
	fix := d.Fixable && ch.RepairDocuments != nil
	again := func(note, what string) string {
		if fix {
			return note + " obmin може " + what + " (виправлення)."
		}
		return note
	}
	switch {
	case d.Missing:
		diff := base
		diff.Kind, diff.Fixable, diff.Want = DocumentMissing, fix, ""
		diff.Note = again("Документа немає в BAS, хоча obmin його передав (його видалено в BAS?).", "створити й провести його знову")
		r.addReceipt(rep, diff)
		return
	case d.Deleted:
		diff := base
		diff.Kind = DocumentMissing
		diff.Note = "Документ у BAS позначено на вилучення: зніміть позначку (obmin перепише й проведе його) або видаліть його остаточно — тоді obmin створить його знову (виправлення)."
		r.addReceipt(rep, diff)
		return
	}
	if d.Unposted {
		diff := base
		diff.Kind, diff.Fixable = DocumentUnposted, fix
		diff.Note = again("Документ є в BAS, але його проведення скасовано: залишки й виручка в BAS його не враховують.", "провести його знову")
		r.addReceipt(rep, diff)
	}
	if (d.Sum != nil && *d.Sum != d.Want) || d.Lines != "" {
		diff := base
		diff.Kind, diff.Fixable = DocumentDiffers, fix
		note := "Документ у BAS змінено: він не такий, як чеки, з яких obmin його склав."
		if d.Lines != "" {
			note += " " + d.Lines
		}
		diff.Note = again(note, "переписати його за чеками й провести знову")
		r.addReceipt(rep, diff)
	}
}

// refs are the distinct BAS documents among deliveries, sorted; a delivery with no document counts once.
func refs(ds []Delivery) []string {
	var out []string
	for _, d := range ds {
		ref := d.Ref
		if ref == "" {
			ref = "—"
		}
		if !slices.Contains(out, ref) {
			out = append(out, ref)
		}
	}
	sort.Strings(out)
	return out
}

func (r *Reconciler) addReceipt(rep *Report, d Difference) {
	d.Area = AreaReceipts
	rep.add(&rep.Receipts.Differences, d, r.maxListed())
}
