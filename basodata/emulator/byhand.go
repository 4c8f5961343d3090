package emulator

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// What a person does to a report in BAS's own forms, not through OData: delete it, cancel its posting,
// mark it for deletion, change a row. Tests and the torture harness plant drift with these (also over the
// admin API), and reconciliation must find it.

// report returns the stored report with this key; e.mu is held.
func (e *Emulator) report(ref string) (obj, error) {
	o := e.sets[docSet].byRef[strings.ToLower(ref)]
	if o == nil {
		return nil, fmt.Errorf("basodata emulator: no report %s", ref)
	}
	return o, nil
}

// DeleteReport deletes a report outright, its movements with it.
func (e *Emulator) DeleteReport(ref string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.report(ref); err != nil {
		return err
	}
	_, bad := e.remove(e.sets[docSet], strings.ToLower(ref))
	if bad != nil {
		return fmt.Errorf("basodata emulator: delete report %s: %s", ref, bad.msg)
	}
	return nil
}

// UnpostReport cancels a report's posting («Отменить проведение»): its movements go.
func (e *Emulator) UnpostReport(ref string) error {
	return e.byHand(ref, func(o obj) error {
		e.clearMovements(o.str("Ref_Key"))
		o["Posted"] = false
		return nil
	})
}

// MarkReportDeleted marks a report for deletion, which also cancels its posting, as the platform does.
func (e *Emulator) MarkReportDeleted(ref string) error {
	return e.byHand(ref, func(o obj) error {
		e.clearMovements(o.str("Ref_Key"))
		o["Posted"], o["DeletionMark"] = false, true
		return nil
	})
}

// ChangeReportRow sets the quantity of row line (1-based) of a report's Запасы as a person typing in the
// form does: Сумма and Всего follow the price and the row's discount, СуммаНДС its rate, the document's
// total the rows; a posted report is posted again («Записать и провести»).
func (e *Emulator) ChangeReportRow(ref string, line int, qty decimal.Decimal) error {
	return e.byHand(ref, func(o obj) error {
		rows := o.rows("Запасы")
		if line < 1 || line > len(rows) {
			return fmt.Errorf("basodata emulator: report %s has no row %d", ref, line)
		}
		r := rows[line-1]
		if qty.IsZero() {
			return fmt.Errorf("basodata emulator: report %s row %d: a quantity of 0 is refused by the form", ref, line)
		}
		sum := r.num("Цена").Mul(qty).Mul(decimal.NewFromInt(100).Sub(r.num("ПроцентСкидкиНаценки"))).Div(decimal.NewFromInt(100)).Round(2)
		rate := decimal.Zero
		if vat := e.sets["Catalog_СтавкиНДС"].byRef[r.str("СтавкаНДС_Key")]; vat != nil {
			rate = vat.num("Ставка")
		}
		r["Количество"], r["Сумма"], r["Всего"] = qty, sum, sum
		r["СуммаНДС"] = sum.Mul(rate).Div(decimal.NewFromInt(100).Add(rate)).Round(2)
		if qty.IsNegative() {
			r["Возврат"] = qty.Neg()
		}
		if bad := e.beforeWrite(o, nil, false); bad != nil {
			return fmt.Errorf("basodata emulator: report %s: %s", ref, bad.msg)
		}
		if posted, _ := o["Posted"].(bool); !posted {
			return nil
		}
		e.clearMovements(o.str("Ref_Key"))
		if e.fullPosting(o) {
			if bad := e.writeMovements(o); bad != nil {
				return fmt.Errorf("basodata emulator: report %s: %s", ref, bad.msg)
			}
		}
		return nil
	})
}

// byHand changes a copy of the report with change and stores it with a new DataVersion.
func (e *Emulator) byHand(ref string, change func(obj) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	cur, err := e.report(ref)
	if err != nil {
		return err
	}
	next := cur.clone()
	if err := change(next); err != nil {
		return err
	}
	next["DataVersion"] = e.nextVersion()
	e.sets[docSet].replace(next.str("Ref_Key"), next)
	return nil
}
