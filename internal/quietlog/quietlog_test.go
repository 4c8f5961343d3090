package quietlog

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func lines(b *bytes.Buffer) []string     { return strings.Split(strings.TrimSpace(b.String()), "\n") }
func newTestLogger(f logrus.Formatter) (*logrus.Logger, *bytes.Buffer) {
	var out bytes.Buffer
	l := logrus.New()
	l.SetOutput(&out)
	l.SetFormatter(f)
	return l, &out
}

var text = &logrus.TextFormatter{DisableTimestamp: true, DisableColors: true}

// The friction this package removes: one Checkbox outage gave 20 warning lines in 6 seconds.
func TestOutageRetriesCollapse(t *testing.T) {
	clk := &clock{time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)}
	f := &Formatter{next: text, c: newCollapser(time.Minute, clk.now)}
	l, out := newTestLogger(f)
	cb := l.WithField("part", "checkbox")
	for i := range 20 {
		cb.WithFields(logrus.Fields{"attempt": i%4 + 1, "wait": "1s", "path": "/api/v1/goods/" + string(rune('a'+i)),
			"error": "dial tcp: connection refused"}).Warn("Checkbox request failed; retrying")
		clk.advance(300 * time.Millisecond)
	}
	if got := lines(out); len(got) != 1 || !strings.Contains(got[0], "attempt=1") {
		t.Fatalf("20 retries in 6s wrote:\n%s\nwant the first line only", out)
	}
	// Other warnings, and info lines, are not held back by it; info lines never are.
	l.WithFields(logrus.Fields{"part": "sales"}).Warn("Checkbox request failed; retrying")
	for range 3 {
		l.WithField("drop", "d1").Info("drop applied")
	}
	l.WithField("drop", "A").Error("drop failed; moved to failed/")
	l.WithField("drop", "B").Error("drop failed; moved to failed/")
	if got := lines(out); len(got) != 1+1+3+2 {
		t.Fatalf("wrote:\n%s", out)
	}

	// The window ends: the next line of any kind brings the summary first, with the last entry's fields.
	out.Reset()
	clk.advance(time.Minute)
	l.Info("receipts pulled")
	got := lines(out)
	if len(got) != 2 || !strings.Contains(got[0], "repeated 19 times in 1m") || !strings.Contains(got[0], "attempt=4") ||
		!strings.Contains(got[0], "level=warning") || !strings.Contains(got[0], "repeated=19") || !strings.Contains(got[1], "receipts pulled") {
		t.Fatalf("after the window:\n%s", out)
	}

	// The outage goes on: one summary a window, no new first line.
	out.Reset()
	for range 5 {
		cb.Warn("Checkbox request failed; retrying")
		clk.advance(10 * time.Second)
	}
	if out.Len() != 0 {
		t.Fatalf("repeats in the next window were written:\n%s", out)
	}
	out.Write(f.Flush())
	if got := lines(out); len(got) != 1 || !strings.Contains(got[0], "repeated 5 times") {
		t.Fatalf("flush:\n%s", out)
	}

	// A warning quiet for a whole window is new again.
	out.Reset()
	clk.advance(2 * time.Minute)
	cb.Warn("Checkbox request failed; retrying")
	if got := lines(out); len(got) != 1 || strings.Contains(got[0], "repeated") {
		t.Fatalf("after a quiet window:\n%s", out)
	}
}

func TestZeroWindowWritesEverything(t *testing.T) {
	l, out := newTestLogger(NewFormatter(text, 0))
	for range 5 {
		l.Warn("same")
	}
	if got := lines(out); len(got) != 5 {
		t.Fatalf("wrote %d lines", len(got))
	}
}

type recordHook struct{ msgs []string }

func (h *recordHook) Levels() []logrus.Level { return logrus.AllLevels }
func (h *recordHook) Fire(e *logrus.Entry) error {
	h.msgs = append(h.msgs, e.Message)
	return nil
}

func TestHookGetsTheSameVerdicts(t *testing.T) {
	clk := &clock{time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)}
	rec := &recordHook{}
	l, _ := newTestLogger(text)
	l.AddHook(&hook{next: rec, c: newCollapser(time.Minute, clk.now)})
	for range 10 {
		l.Error("job failed")
		clk.advance(time.Second)
	}
	clk.advance(time.Minute)
	l.Info("obmin stopped")
	want := []string{"job failed", "job failed (repeated 9 times in 1m10s)", "obmin stopped"}
	if strings.Join(rec.msgs, "|") != strings.Join(want, "|") {
		t.Fatalf("hook got %q, want %q", rec.msgs, want)
	}
}
