package emulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"obmin/checkbox"
)

// Cash registers, shifts and the tax table (docs/checkbox-rest.md §3, §4.3, §7).

// shiftFor returns the open shift of c on reg, opening one when needed. Another cashier's open shift
// on reg is closed first, as a handover at the till would.
func (e *Emulator) shiftFor(reg *register, c *cashier) *shift {
	if s := reg.open; s != nil {
		if s.cashier == c {
			return s
		}
		e.closeShift(s)
	}
	return e.openShiftOn(reg, c, "")
}

// openShiftOn opens a shift for c on reg (which has none open), with the client's id when given.
func (e *Emulator) openShiftOn(reg *register, c *cashier, id string) *shift {
	if id == "" {
		id = e.newID()
	}
	now := e.now()
	reg.lastShift++
	s := &shift{id: id, serial: reg.lastShift, status: "OPENED", reg: reg, cashier: c, openedAt: now, createdAt: now, updatedAt: now}
	reg.open = s
	e.shifts = append(e.shifts, s)
	e.notifyShift(s)
	return s
}

func (e *Emulator) closeShift(s *shift) {
	now := e.now()
	s.status, s.closedAt, s.updatedAt = "CLOSED", now, now
	s.reg.open = nil
	e.notifyShift(s)
}

// Shifts returns every shift, oldest first, as GET /api/v1/shifts/{shift_id} answers it.
func (e *Emulator) Shifts() []checkbox.ShiftDetail {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]checkbox.ShiftDetail, 0, len(e.shifts))
	for _, s := range e.shifts {
		var d checkbox.ShiftDetail
		mustRoundTrip(shiftWire(s, true, true), &d)
		out = append(out, d)
	}
	return out
}

// CloseShifts closes every open shift, as Checkbox's automatic closing at the end of the day does
// (docs/checkbox-rest.md §7).
func (e *Emulator) CloseShifts() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.registers {
		if r.open != nil {
			e.closeShift(r.open)
		}
	}
}

func (e *Emulator) openShiftOf(c *cashier) *shift {
	for _, r := range e.registers {
		if r.open != nil && r.open.cashier == c {
			return r.open
		}
	}
	return nil
}

// cashierShift is GET /api/v1/cashier/shift: the cashier's open shift, or null.
func (e *Emulator) cashierShift(c *call) reply {
	s := e.openShiftOf(c.sess.cashier)
	if s == nil {
		return reply{status: http.StatusOK, raw: []byte("null"), contentType: "application/json"}
	}
	return jsonReply(http.StatusOK, shiftWire(s, true, false))
}

var shiftStatuses = []string{"CREATED", "OPENING", "OPENED", "CLOSING", "CLOSED"}

// listShifts is GET /api/v1/shifts: the signed-in cashier's shifts.
func (e *Emulator) listShifts(c *call) reply {
	q := c.r.URL.Query()
	var v checker
	limit := v.queryInt(q, "limit", 25, true, 1000)
	offset := v.queryInt(q, "offset", 0, false, 0)
	desc := v.queryBool(q, "desc", false)
	from, to := v.queryTime(q, "from_date"), v.queryTime(q, "to_date")
	var statuses []string
	for i, s := range q["statuses"] {
		if !slices.Contains(shiftStatuses, s) {
			v.add([]any{"query", "statuses", i}, "enum", "Input should be "+quoteList(shiftStatuses))
		}
		statuses = append(statuses, s)
	}
	if len(v.errs) > 0 {
		return invalid(v.errs)
	}
	var found []*shift
	for _, s := range e.shifts {
		if s.cashier != c.sess.cashier || (len(statuses) > 0 && !slices.Contains(statuses, s.status)) || !inWindow(s.openedAt, from, to) {
			continue
		}
		found = append(found, s)
	}
	if desc {
		slices.Reverse(found)
	}
	out := pageJSON[shiftJSON]{Meta: metaJSON{Limit: limit, Offset: offset}, Results: []shiftJSON{}}
	for _, s := range page(found, offset, limit) {
		out.Results = append(out.Results, shiftWire(s, true, false))
	}
	return jsonReply(http.StatusOK, out)
}

// openShift is POST /api/v1/shifts with X-License-Key: 202 with the shift still "OPENING", as the
// service opens it asynchronously; it reads OPENED afterwards.
func (e *Emulator) openShift(c *call) reply {
	var v checker
	id := ""
	if len(c.body) > 0 {
		if o, ok := v.body(c.body); ok {
			id, _ = o.uuid("id", false)
		}
	}
	if len(v.errs) > 0 {
		return invalid(v.errs)
	}
	if e.openShiftOf(c.sess.cashier) != nil {
		return refused("Касир вже працює з відкритою зміною")
	}
	if c.reg.open != nil {
		return refused("Касу вже використовує інший касир", "header", "x-license-key")
	}
	for _, s := range e.shifts {
		if s.id == id {
			return refused("Зміна з таким ідентифікатором вже існує", "body", "id")
		}
	}
	s := e.openShiftOn(c.reg, c.sess.cashier, id)
	out := shiftWire(s, true, true)
	out.Status = "OPENING"
	return jsonReply(http.StatusAccepted, out)
}

// getShift is GET /api/v1/shifts/{shift_id}.
func (e *Emulator) getShift(c *call) reply {
	var v checker
	id, ok := v.uuidValue(c.params[0], []any{"path", "shift_id"})
	if !ok {
		return invalid(v.errs)
	}
	for _, s := range e.shifts {
		if s.id == id {
			return jsonReply(http.StatusOK, shiftWire(s, true, true))
		}
	}
	return notFound("Зміну не знайдено")
}

// listRegisters is GET /api/v1/cash-registers: in_use true lists registers with an open shift,
// false those without.
func (e *Emulator) listRegisters(c *call) reply {
	q := c.r.URL.Query()
	var v checker
	limit := v.queryInt(q, "limit", 25, true, 1000)
	offset := v.queryInt(q, "offset", 0, false, 0)
	_, hasInUse := q["in_use"]
	inUse := v.queryBool(q, "in_use", false)
	if len(v.errs) > 0 {
		return invalid(v.errs)
	}
	fiscal := q.Get("fiscal_number")
	var found []*register
	for _, r := range e.registers {
		if (hasInUse && inUse != (r.open != nil)) || (fiscal != "" && r.FiscalNumber != fiscal) {
			continue
		}
		found = append(found, r)
	}
	out := pageJSON[detailedRegisterJSON]{Meta: metaJSON{Limit: limit, Offset: offset}, Results: []detailedRegisterJSON{}}
	for _, r := range page(found, offset, limit) {
		d := detailedRegisterJSON{
			ID: r.ID, FiscalNumber: r.FiscalNumber, Active: true, CreatedAt: isoTime{r.createdAt}, Number: r.Number,
			IsTest: true, Address: r.Address,
		}
		if r.open != nil {
			s := shiftWire(r.open, false, true)
			d.Shift = &s
		}
		out.Results = append(out.Results, d)
	}
	return jsonReply(http.StatusOK, out)
}

// registerInfo is GET /api/v1/cash-registers/info, by licence key alone.
func (e *Emulator) registerInfo(c *call) reply {
	r := c.reg
	return jsonReply(http.StatusOK, deviceJSON{
		ID: r.ID, OrganizationID: e.org.id, FiscalNumber: r.FiscalNumber, CreatedAt: isoTime{r.createdAt},
		Number: r.Number, Address: r.Address, Title: r.Title, HasShift: r.open != nil,
		// Z-reports are the only reports the emulator makes: one per closed shift.
		DocumentsState: documentsObj{LastReceiptCode: r.lastReceipt, LastReportCode: r.closedShifts(e.shifts), LastZReportCode: r.closedShifts(e.shifts)},
		IsTest:         true,
	})
}

func (r *register) closedShifts(all []*shift) int64 {
	var n int64
	for _, s := range all {
		if s.reg == r && s.status == "CLOSED" {
			n++
		}
	}
	return n
}

// listTaxes is GET /api/v1/tax, by licence key alone: ExtendedTaxModel rows, rates written as
// numbers (20.0) as Python does.
func (e *Emulator) listTaxes(*call) reply {
	out := make([]extendedTaxJSON, 0, len(e.taxes))
	for _, t := range e.taxes {
		rate := json.Number(strconv.FormatInt(t.rate, 10) + ".0")
		out = append(out, extendedTaxJSON{
			ID: t.id, Code: t.code, Label: t.label, Symbol: t.symbol, Rate: rate, Included: true,
			CreatedAt: isoTime{e.org.createdAt}, NoVAT: t.noVAT, DecimalRate: rate, Type: "INCLUDED",
		})
	}
	return jsonReply(http.StatusOK, out)
}

// inWindow reports whether t is in [from, to); a zero bound is open.
func inWindow(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
}
