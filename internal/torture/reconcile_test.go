package torture

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"obmin/checkbox"
	"obmin/exchange"
	"obmin/internal/voice"
	"obmin/reconcile"
)

// obmin's own reconciliation under torture: after each check (at checkpoints and at the end), with obmin
// stopped and everything settled, `obmin reconcile -date D -json` (the real binary, against the same emulators) runs for every
// Kyiv day the run's receipts were sold on. The harness has just proved that nothing was lost and nothing
// was sent twice, so reconciliation must agree: every difference it reports is a violation, except a
// receipt obmin holds on purpose — a sale of a good BAS never exported, on the orders file's channel, and
// every receipt of a shift that made such a sale, on the retail reports' channel — which it must report as
// held, each one, and nothing more.

// reconcileDays are the Kyiv days of the emulator's finished sales and returns, and today's (goods are
// compared whatever the day), sorted.
func (h *harness) reconcileDays() []string {
	all, err := h.admin().Receipts(context.Background())
	h.must(err)
	days := []string{time.Now().In(voice.Kyiv).Format(voice.DateLayout)}
	for _, r := range all {
		if r.Status != checkbox.StatusDone || (r.Type != checkbox.ReceiptSell && r.Type != checkbox.ReceiptReturn) {
			continue
		}
		if d := r.When().In(voice.Kyiv).Format(voice.DateLayout); !slices.Contains(days, d) {
			days = append(days, d)
		}
	}
	slices.Sort(days)
	return days
}

// heldKey is one receipt held on a channel.
type heldKey struct{ channel, receipt string }

// expectedHeld are the receipts reconciliation must report held, by Kyiv day: on the orders file's channel
// the sales of a good BAS never exported; on the retail reports' channel every finished sale and return of
// a shift that sold such a good (its report waits).
func (h *harness) expectedHeld() map[string]map[heldKey]bool {
	out := map[string]map[heldKey]bool{}
	add := func(r checkbox.Receipt, channel string) {
		day := r.When().In(voice.Kyiv).Format(voice.DateLayout)
		if out[day] == nil {
			out[day] = map[heldKey]bool{}
		}
		out[day][heldKey{channel, r.ID}] = true
	}
	_, held, _ := h.expectedReceipts()
	for _, r := range held {
		add(r, "orders-file")
	}
	for _, rs := range h.shiftReceipts() {
		if !heldShift(rs) {
			continue
		}
		for _, r := range rs {
			if r.Status == checkbox.StatusDone && (r.Type == checkbox.ReceiptSell || r.Type == checkbox.ReceiptReturn) {
				add(r, exchange.RetailChannelName)
			}
		}
	}
	return out
}

// reconcile runs `obmin reconcile` for each day of the run and judges its report against what the harness
// knows; obmin must be stopped.
func (h *harness) reconcile() {
	want := h.expectedHeld()
	for _, day := range h.reconcileDays() {
		rep, code, stderr := h.runReconcile(day)
		if rep == nil {
			h.violate("obmin reconcile -date %s: exit %d, no report: %s", day, code, lastLines(stderr, 5))
			continue
		}
		h.counter.reconciled++
		got := map[heldKey]bool{}
		for _, d := range rep.Differences() {
			k := heldKey{d.Channel, d.ReceiptID}
			if d.Area == reconcile.AreaReceipts && d.Kind == reconcile.ReceiptHeld && want[day][k] {
				if got[k] {
					h.violate("obmin reconcile -date %s: receipt %s is reported held on %s twice", day, k.receipt, k.channel)
				}
				got[k] = true
				h.counter.reconcileHeld++
				continue
			}
			h.counter.reconcileDiffs++
			h.violate("obmin reconcile -date %s: %s", day, describe(d))
		}
		// obmin caught up before it stopped: every receipt of the day is judged, none left as not pulled yet.
		if rep.Receipts.NotPulled > 0 {
			h.violate("obmin reconcile -date %s: %d receipts not judged, as sold after obmin's last pull", day, rep.Receipts.NotPulled)
		}
		if listed := len(rep.Differences()); listed != rep.Found() {
			h.violate("obmin reconcile -date %s: %d differences found, %d listed", day, rep.Found(), listed)
		}
		for k := range want[day] {
			if !got[k] {
				h.violate("obmin reconcile -date %s: receipt %s is held on %s, but reconciliation does not say so", day, k.receipt, k.channel)
			}
		}
		// Exit 0 when BAS and Checkbox agree, 3 when something is left (the held receipts need a person).
		if wantCode := map[bool]int{true: 0, false: 3}[rep.Left() == 0]; code != wantCode {
			h.violate("obmin reconcile -date %s: exit %d with %d differences left, want exit %d", day, code, rep.Left(), wantCode)
		}
		h.t.Logf("%sreconcile %s: %d receipts in Checkbox, %d goods compared, %d differences, %d of them held as expected, exit %d",
			h.stage, day, rep.Receipts.InCheckbox, rep.Goods.Compared, rep.Found(), len(got), code)
	}
}

// runReconcile runs obmin reconcile for one day and decodes its JSON report (nil when none was printed).
func (h *harness) runReconcile(day string) (*reconcile.Report, int, string) {
	cmd := exec.Command(h.bin, "reconcile", "-config", h.cfg, "-date", day, "-json")
	cmd.Env = h.appEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		h.t.Fatalf("obmin reconcile: %v", err)
	}
	if log, err := os.OpenFile(filepath.Join(h.dir, "obmin.log"), os.O_APPEND|os.O_WRONLY, 0); err == nil {
		fmt.Fprintf(log, "--- obmin reconcile -date %s: exit %d\n%s", day, code, stderr.Bytes())
		log.Close()
	}
	var rep reconcile.Report
	if stdout.Len() == 0 || json.Unmarshal(stdout.Bytes(), &rep) != nil {
		return nil, code, stderr.String()
	}
	return &rep, code, stderr.String()
}

// describe is one difference as a violation names it.
func describe(d reconcile.Difference) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s.%s", d.Area, d.Kind)
	for _, f := range []struct{ k, v string }{{"channel", d.Channel}, {"good", d.Code}, {"name", d.Name}, {"receipt", d.ReceiptID},
		{"fiscal", d.Fiscal}, {"bas", d.Want}, {"checkbox", d.Got}, {"documents", strings.Join(d.Refs, ",")}} {
		if f.v != "" {
			fmt.Fprintf(&b, " %s=%q", f.k, f.v)
		}
	}
	if !d.At.IsZero() {
		fmt.Fprintf(&b, " sold=%s", d.At.In(voice.Kyiv).Format("2006-01-02T15:04:05"))
	}
	return b.String() + ": " + d.Note
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}
