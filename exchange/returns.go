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
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"obmin/checkbox"
	"obmin/commerceml"
	"obmin/internal/atomicfile"
	"obmin/internal/voice"
	"obmin/store"
)

// Returns (docs/bas-orders.md, «Повернення»). BAS cannot store a negative order, and its site exchange
// loads «Заказ товара» only, so a return never goes into the orders file as a document of its own:
//   - ReturnsList (default): every return is listed for staff, who enter it in BAS — in a text file beside
//     the orders file, a text file per return in the spool's returns/ folder, and in the status;
//   - ReturnsAmend: while the sale is still in the orders file (its order not completed in BAS), the return
//     changes the sale's order there: a full return sends it with «Отменен» = true, a partial one with what
//     is left; a return whose sale has left the file is listed as above.
const (
	ReturnsList  = "list"
	ReturnsAmend = "amend"
)

// returnsListDays is how far back the returns file beside the orders file reaches.
const returnsListDays = 31

// processReturns settles every return not handled yet: amends its sale's order, or lists it.
func (s *Sales) processReturns(ctx context.Context) error {
	var waiting []store.ReceiptRecord
	if err := s.Store.ReceiptsInState(ctx, StateReturn, func(r store.ReceiptRecord) error {
		waiting = append(waiting, r)
		return nil
	}); err != nil {
		return err
	}
	// A return an earlier obmin wrote as a negative order, still in the file: BAS stores it as zeros.
	if err := s.Store.ReceiptsInState(ctx, StatePending, func(r store.ReceiptRecord) error {
		if r.Type == checkbox.ReceiptReturn {
			r.Document, r.Number = nil, ""
			waiting = append(waiting, r)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, rec := range waiting {
		var r checkbox.Receipt
		if err := json.Unmarshal(rec.Raw, &r); err != nil {
			return fmt.Errorf("receipt %s: stored receipt: %w", rec.ID, err)
		}
		why := ""
		if s.Cfg.Returns == ReturnsAmend {
			done, reason, err := s.amend(ctx, rec, r)
			if err != nil {
				return err
			}
			if done {
				continue
			}
			why = reason
		}
		rec.State, rec.Reason = StateListed, why
		if err := s.writeReturnNote(ctx, rec, r); err != nil {
			return err
		}
		if err := s.Store.UpdateReceipt(ctx, rec); err != nil {
			return err
		}
		if s.Log != nil {
			s.Log.WithField("receipt", rec.ID).Info("return listed for staff to enter in BAS")
		}
	}
	return nil
}

// amend applies a return to its sale's order while the sale is still in the orders file. done is false,
// with the reason in Ukrainian, when it cannot: the return is then listed.
func (s *Sales) amend(ctx context.Context, ret store.ReceiptRecord, r checkbox.Receipt) (done bool, reason string, err error) {
	if r.RelatedReceiptID == "" {
		return false, "у чеку повернення немає посилання на чек продажу", nil
	}
	sale, ok, err := s.Store.Receipt(ctx, r.RelatedReceiptID)
	if err != nil {
		return false, "", err
	}
	switch {
	case !ok:
		return false, "чек продажу obmin не бачив", nil
	case sale.State != StatePending || len(sale.Document) == 0:
		return false, "продаж уже вийшов із файлу замовлень (BAS його завантажив), тож замовлення змінює працівник", nil
	}
	var doc commerceml.Document
	if err := json.Unmarshal(sale.Document, &doc); err != nil {
		return false, "", fmt.Errorf("receipt %s: stored document: %w", sale.ID, err)
	}
	lines, missing, err := s.receiptLines(ctx, r)
	if err != nil {
		return false, "", err
	}
	if len(missing) > 0 {
		return false, "товару повернення немає у вивантаженні BAS: " + strings.Join(missing, ", "), nil
	}
	for _, rl := range lines {
		matched := false
		for i := range doc.Lines {
			dl := &doc.Lines[i]
			if dl.ID == rl.good.BASID && dl.Quantity.GreaterThanOrEqual(rl.qty) {
				dl.Quantity = dl.Quantity.Sub(rl.qty)
				dl.Sum = decimal.Max(dl.Sum.Sub(rl.net), decimal.Zero)
				matched = true
				break
			}
		}
		if !matched {
			return false, fmt.Sprintf("у замовленні немає %s «%s» для повернення", rl.qty, rl.good.Name), nil
		}
	}
	note := "повернення: чек " + r.FiscalCode + " від " + r.When().In(kyiv).Format("02.01.2006 15:04")
	var left []receiptLine
	for _, dl := range doc.Lines {
		if dl.Quantity.IsPositive() {
			left = append(left, lineOf(dl))
		}
	}
	if len(left) == 0 {
		// Everything came back: the order as it was sold, cancelled.
		var sr checkbox.Receipt
		if err := json.Unmarshal(sale.Raw, &sr); err != nil {
			return false, "", fmt.Errorf("receipt %s: stored receipt: %w", sale.ID, err)
		}
		orig, missing, err := s.receiptLines(ctx, sr)
		if err != nil {
			return false, "", err
		}
		if len(missing) > 0 {
			return false, "товару продажу вже немає у вивантаженні BAS: " + strings.Join(missing, ", "), nil
		}
		doc = *s.saleDocument(sr, orig)
		doc.Requisites = append(doc.Requisites, commerceml.Requisite{Name: reqCancelled, Value: "true"})
		doc.Comment += "; повністю повернено, " + note
	} else {
		s.fillLines(&doc, left)
		doc.Comment += "; " + note
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return false, "", err
	}
	why := "застосовано до замовлення продажу (чек " + sale.ID + ")"
	if err := s.Store.AmendSale(ctx, sale.ID, data, ret.ID, why); errors.Is(err, store.ErrNotFound) {
		return false, "продаж уже вийшов із файлу замовлень", nil
	} else if err != nil {
		return false, "", err
	}
	if s.Log != nil {
		s.Log.WithFields(map[string]any{"return": ret.ID, "sale": sale.ID, "cancelled": len(left) == 0}).Info("return applied to its sale's order in the orders file")
	}
	return true, "", nil
}

// lineOf turns a document line back into a receipt line, to total it again.
func lineOf(dl commerceml.DocumentLine) receiptLine {
	vat := ""
	if len(dl.Taxes) > 0 && dl.Taxes[0].Rate != rateNoVAT {
		vat = dl.Taxes[0].Rate
	}
	return receiptLine{
		good: store.GoodRecord{BASID: dl.ID, Article: dl.Article, Name: dl.Name,
			UnitCode: dl.Unit.Code, UnitName: dl.Unit.Name, UnitFullName: dl.Unit.FullName, UnitIntl: dl.Unit.Intl},
		qty: dl.Quantity, price: dl.PricePerUnit, net: dl.Sum, vat: vat,
	}
}

// returnText describes a return for staff, in Ukrainian and Kyiv time: which order, which goods, how much.
func (s *Sales) returnText(ctx context.Context, rec store.ReceiptRecord, r checkbox.Receipt) (string, error) {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\r\n", a...) }
	p("Повернення %s (за київським часом), чек Checkbox %s, каса %s",
		voice.Time(r.When()), r.FiscalCode, r.Shift.CashRegister.FiscalNumber)
	sale, ok := store.ReceiptRecord{}, false
	if r.RelatedReceiptID != "" {
		var err error
		if sale, ok, err = s.Store.Receipt(ctx, r.RelatedReceiptID); err != nil {
			return "", err
		}
	}
	switch {
	case !ok:
		p("  Продаж: чека продажу %s obmin не бачив — знайдіть замовлення в BAS за фіскальним номером у коментарі.", emDash(r.RelatedReceiptID))
	case sale.Number == "":
		p("  Продаж: чек %s від %s ще не передано в BAS (%s).", receiptFiscalCode(sale.Raw), voice.Time(sale.When), emDash(sale.Reason))
	default:
		_, n, _ := ParseOrderNumber(sale.Number)
		p("  Продаж: чек %s від %s — замовлення BAS з номером …-%06d (номер на сайті %s).",
			receiptFiscalCode(sale.Raw), voice.Time(sale.When), n, sale.Number)
	}
	p("  Повернуто:")
	for _, l := range r.Goods {
		art := l.Good.Code
		if g, ok, err := s.Store.Good(ctx, l.Good.Code); err != nil {
			return "", err
		} else if ok && g.Article != "" {
			art = g.Article
		}
		p("    - %s (арт. %s): %s × %s = %s грн", l.Good.Name, art, Quantity(abs64(l.Quantity)), UAH(abs64(l.Good.Price)).StringFixed(2), UAH(abs64(l.Sum)).StringFixed(2))
	}
	p("  Разом повернуто покупцеві: %s грн", UAH(abs64(r.TotalSum)).StringFixed(2))
	if rec.Reason != "" {
		p("  Замовлення не змінено автоматично: %s.", rec.Reason)
	}
	p("  Що зробити в BAS: оформіть «Повернення від покупця» на ці товари на підставі замовлення продажу.")
	return b.String(), nil
}

func emDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// writeReturnNote leaves the return's description in the spool's returns/ folder.
func (s *Sales) writeReturnNote(ctx context.Context, rec store.ReceiptRecord, r checkbox.Receipt) error {
	if s.Cfg.ReturnsDir == "" {
		return nil
	}
	text, err := s.returnText(ctx, rec, r)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.Cfg.ReturnsDir, 0o750); err != nil {
		return err
	}
	name := r.When().In(kyiv).Format("2006-01-02") + "-" + safeName(receiptFiscalCode(rec.Raw)) + ".txt"
	return atomicfile.WriteFile(filepath.Join(s.Cfg.ReturnsDir, name), 0o640, func(w io.Writer) error {
		_, err := io.WriteString(w, "\ufeff"+text)
		return err
	})
}

// ReturnNote is one listed return, for the status.
type ReturnNote struct {
	At     time.Time `json:"at"`
	Fiscal string    `json:"fiscal_code"`
	Sum    string    `json:"sum"`
	Sale   string    `json:"sale_number,omitempty"`
}

// listedReturns returns the listed returns sold since since, newest first.
func (s *Sales) listedReturns(ctx context.Context, since time.Time) ([]store.ReceiptRecord, error) {
	var out []store.ReceiptRecord
	err := s.Store.ReceiptsSoldSince(ctx, since, func(r store.ReceiptRecord) error {
		out = append(out, r)
		return nil
	}, StateListed)
	return out, err
}

// writeReturnsFile writes the list of the last month's listed returns beside the orders file, where BAS's
// administrator looks; only when it changed.
func (s *Sales) writeReturnsFile(ctx context.Context) error {
	if s.Cfg.Out == nil || s.Cfg.ReturnsFile == "" {
		return nil
	}
	recs, err := s.listedReturns(ctx, s.now().AddDate(0, 0, -returnsListDays))
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("\ufeffПовернення за касами Checkbox, які треба внести в BAS вручну (за останній місяць, нові вгорі).\r\n")
	b.WriteString("Файл пише obmin; не редагуйте його — він оновлюється сам.\r\n\r\n")
	if len(recs) == 0 {
		b.WriteString("Повернень немає.\r\n")
	}
	for _, rec := range recs {
		var r checkbox.Receipt
		if err := json.Unmarshal(rec.Raw, &r); err != nil {
			return fmt.Errorf("receipt %s: stored receipt: %w", rec.ID, err)
		}
		text, err := s.returnText(ctx, rec, r)
		if err != nil {
			return err
		}
		b.WriteString(text + "\r\n")
	}
	data := []byte(b.String())
	if old, err := s.Cfg.Out.ReadFile(ctx, s.Cfg.ReturnsFile); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := s.Cfg.Out.WriteFile(ctx, s.Cfg.ReturnsFile, data); err != nil {
		return fmt.Errorf("write %s to %s: %w", s.Cfg.ReturnsFile, s.Cfg.Out, err)
	}
	return nil
}

// returnNotes is the status's view of the listed returns of the last days.
func (s *Sales) returnNotes(ctx context.Context, since time.Time) ([]ReturnNote, error) {
	recs, err := s.listedReturns(ctx, since)
	if err != nil {
		return nil, err
	}
	out := make([]ReturnNote, 0, len(recs))
	for _, rec := range recs {
		var r checkbox.Receipt
		if err := json.Unmarshal(rec.Raw, &r); err != nil {
			return nil, fmt.Errorf("receipt %s: stored receipt: %w", rec.ID, err)
		}
		n := ReturnNote{At: rec.When, Fiscal: receiptFiscalCode(rec.Raw), Sum: UAH(abs64(rec.TotalSum)).StringFixed(2)}
		if r.RelatedReceiptID != "" {
			if sale, ok, err := s.Store.Receipt(ctx, r.RelatedReceiptID); err != nil {
				return nil, err
			} else if ok {
				n.Sale = sale.Number
			}
		}
		out = append(out, n)
	}
	return out, nil
}
