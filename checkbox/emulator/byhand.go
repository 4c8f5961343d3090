package emulator

import (
	"encoding/json"
	"fmt"

	"obmin/checkbox"
)

// Changes a person makes in Checkbox's own web cabinet, behind obmin's back: for tests that plant drift
// between BAS and Checkbox (reconciliation) and for the emulator process's admin API. They pass the same
// checks as the API's own calls.

// EditGoodByHand changes the good with code as PUT /api/v1/goods/{id} would with edit (a JSON object of
// GoodPayload's fields, each optional), and sets its stock (thousandths) when stock is not nil.
func (e *Emulator) EditGoodByHand(code string, edit json.RawMessage, stock *int64) (checkbox.Good, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	g := e.goodByCodeLocked(code)
	if g == nil {
		return checkbox.Good{}, fmt.Errorf("emulator: no good with code %q", code)
	}
	if len(edit) > 0 {
		f, errs := parseGood(edit, false)
		if len(errs) > 0 {
			return checkbox.Good{}, fmt.Errorf("emulator: edit of %s: %v", code, errs)
		}
		codes, groupName, rep := e.checkGood(f, g)
		if rep != nil {
			return checkbox.Good{}, fmt.Errorf("emulator: edit of %s refused: %v", code, rep.body)
		}
		e.editGoodLocked(g, f, codes, groupName)
	}
	if stock != nil {
		q := *stock
		g.stock = &q
	}
	g.updatedAt = e.now()
	var cg checkbox.Good
	mustRoundTrip(e.goodJSON(g), &cg)
	return cg, nil
}

// RemoveGoodByHand deletes the good with code, as DELETE /api/v1/goods/{id} would.
func (e *Emulator) RemoveGoodByHand(code string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	g := e.goodByCodeLocked(code)
	if g == nil {
		return fmt.Errorf("emulator: no good with code %q", code)
	}
	e.removeGood(g)
	return nil
}

// AddGoodByHand creates a good from payload (CreateGoodPayload's JSON), as POST /api/v1/goods would.
func (e *Emulator) AddGoodByHand(payload json.RawMessage) (checkbox.Good, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, errs := parseGood(payload, true)
	if len(errs) > 0 {
		return checkbox.Good{}, fmt.Errorf("emulator: new good: %v", errs)
	}
	codes, groupName, rep := e.checkGood(f, nil)
	if rep != nil {
		return checkbox.Good{}, fmt.Errorf("emulator: new good refused: %v", rep.body)
	}
	g := &good{id: e.newID(), createdAt: e.now()}
	f.apply(g, codes, groupName)
	e.addGood(g)
	var cg checkbox.Good
	mustRoundTrip(e.goodJSON(g), &cg)
	return cg, nil
}
