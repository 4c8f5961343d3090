package exchange

import (
	"context"
	"fmt"
	"strings"
	"time"

	"obmin/checkbox"
)

// The pull of receipts: deep pulls re-read sales.overlap (38 h by default) before each cash register's
// cursor, the pulls between them only sales.recent_overlap, so that a pull every few minutes costs calls
// that grow with the new receipts, not with the receipts of the overlap (docs/checkbox.md, «Receipts:
// frequent and deep pulls»).

// pullWindow is one search of a pull: the registers it covers and where it starts.
type pullWindow struct {
	regs []string
	from time.Time
}

// pullCursor is a register's cursor as the state holds it.
type pullCursor struct {
	at time.Time
	ok bool // false: the register was never pulled
}

// Pull reads receipts of every cash register from its cursor (minus the overlap window) to now. Each
// receipt id passes the state's exactly-once gate; a cursor moves only after its whole window was read.
//
// A cursor comes from Checkbox's own timestamps: it moves to the newest receipt the window held
// (cursorTime), never past it and never back, so this computer's clock only bounds the window's end. A
// clock that jumps ahead and back loses nothing; a window whose start is not before its end (the clock
// is behind the newest receipt by more than the overlap) is an error, not an empty success.
//
// A deep pull (the first of the process, then one every DeepEvery) reads each register from its cursor
// less Overlap. The pulls between read from the cursors less RecentOverlap: a few calls whatever the
// receipts of the overlap. The registers whose cursors are close to the newest one (those selling now) are
// read in one search together (pullWindows).
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
	cursors := make(map[string]pullCursor, len(regs))
	for _, reg := range regs {
		cur, ok, err := s.Store.Cursor(ctx, reg)
		if err != nil {
			return rep, err
		}
		cursors[reg] = pullCursor{cur, ok}
	}
	deep := s.deepDue(to)
	rep.Deep = deep
	for _, w := range s.pullWindows(regs, cursors, to, deep) {
		if err := s.pullWindow(ctx, w, cursors, to, &rep); err != nil {
			return rep, err
		}
	}
	if deep {
		s.deepMu.Lock()
		s.lastDeep = to
		s.deepMu.Unlock()
	}
	return rep, nil
}

// deepDue says whether the pull ending at to re-reads the whole overlap: the first of the process, one
// DeepEvery after the last (or after this computer's clock went back), every one when DeepEvery is zero or
// not shorter than Overlap (a receipt arriving late must still be within the overlap at the next deep pull).
func (s *Sales) deepDue(to time.Time) bool {
	s.deepMu.Lock()
	defer s.deepMu.Unlock()
	every := s.Cfg.DeepEvery
	return every <= 0 || every >= s.Cfg.Overlap || s.lastDeep.IsZero() || to.Before(s.lastDeep) || to.Sub(s.lastDeep) >= every
}

// pullWindows plans the searches of a pull. The registers never pulled are searched together from
// FirstPull back. The registers whose cursors are within RecentOverlap (at most Overlap) of the newest
// (those selling now) are searched together, from the oldest of their cursors less Overlap in a deep pull,
// less RecentOverlap otherwise; each of the others (a register offline, closed or idle: its cursor stays at
// its last receipt seen) alone, from its own cursor less the same. A recent window that would start at or
// after to (this computer's clock is behind the receipts) is read deep instead, as every pull once read it.
func (s *Sales) pullWindows(regs []string, cursors map[string]pullCursor, to time.Time, deep bool) []pullWindow {
	recent := min(s.Cfg.RecentOverlap, s.Cfg.Overlap)
	var newest time.Time
	for _, reg := range regs {
		if c := cursors[reg]; c.ok && c.at.After(newest) {
			newest = c.at
		}
	}
	var out []pullWindow
	first := pullWindow{from: to.Add(-s.Cfg.FirstPull)}
	var together pullWindow
	for _, reg := range regs {
		c := cursors[reg]
		back := recent
		if deep || !c.at.Add(-recent).Before(to) {
			back = s.Cfg.Overlap
		}
		from := c.at.Add(-back)
		switch {
		case !c.ok:
			first.regs = append(first.regs, reg)
		case !c.at.Before(newest.Add(-recent)):
			if len(together.regs) == 0 || from.Before(together.from) {
				together.from = from
			}
			together.regs = append(together.regs, reg)
		default:
			out = append(out, pullWindow{[]string{reg}, from})
		}
	}
	for _, w := range []pullWindow{first, together} {
		for len(w.regs) > 0 {
			n := min(len(w.regs), searchRegisters)
			out = append(out, pullWindow{w.regs[:n], w.from})
			w.regs = w.regs[n:]
		}
	}
	return out
}

// searchRegisters is the most registers one search names: each is a query parameter of about 55 bytes, and
// servers commonly refuse a request line over 8 KB.
const searchRegisters = 100

// pullWindow reads one search and moves the cursors of its registers to the newest receipt each had in it.
func (s *Sales) pullWindow(ctx context.Context, w pullWindow, cursors map[string]pullCursor, to time.Time, rep *PullReport) error {
	what := "register " + w.regs[0]
	if len(w.regs) > 1 {
		what = "registers " + strings.Join(w.regs, ", ")
	}
	if !w.from.Before(to) {
		return fmt.Errorf("receipts of %s: nothing can be read from %s to %s: this computer's clock (%s) is behind "+
			"the newest receipt obmin has seen by more than sales.overlap (%s); set the clock right",
			what, w.from.Format(time.RFC3339), to.Format(time.RFC3339), to.Format(time.RFC3339), s.Cfg.Overlap)
	}
	newest := map[string]time.Time{}
	q := checkbox.ReceiptQuery{From: w.from, To: to, CashRegisterIDs: w.regs}
	err := s.API.SearchReceipts(ctx, q, func(r checkbox.Receipt) error {
		rep.Seen++
		reg := w.regs[0]
		if len(w.regs) > 1 {
			// Together: a receipt moves its own register's cursor. One that does not say its register moves none.
			reg = r.RegisterID()
		}
		if t := cursorTime(r); t.After(newest[reg]) {
			newest[reg] = t
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
		return fmt.Errorf("receipts of %s: %w", what, err)
	}
	for _, reg := range w.regs {
		c := cursors[reg]
		next := c.at
		switch {
		case newest[reg].After(c.at):
			next = newest[reg]
		case !c.ok:
			next = w.from // nothing yet: the next pull starts where this one did
		}
		if !next.Equal(c.at) || !c.ok {
			if err := s.Store.SetCursor(ctx, reg, next); err != nil {
				return err
			}
		}
	}
	return nil
}
