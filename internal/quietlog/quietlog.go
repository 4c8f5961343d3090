// Package quietlog keeps obmin's log readable through an outage: a warning or error repeated within a
// window is written once, then as one summary line per window ("… (repeated 19 times in 1m0s)"), instead
// of a line per retry. Info and debug lines are never held back.
//
// Two entries are the same when their level, message and subject fields (part, drop, job, file, key)
// are: fields that change on every retry (attempt, wait, error, path) do not make a line new. The
// summary carries the fields of the last entry it stands for.
//
// obmin's logging convention, which this package's fields rely on:
//   - logrus, one logger made by the wiring (internal/app) and passed in (a Log or Logger field, or an argument); no
//     package makes its own or logs to logrus's standard logger. A part given none is quiet: Or(nil) is
//     Discard, the one logger that writes nothing, and a nil logger never panics.
//   - Messages are English, lower case, and say what happened; staff's Ukrainian words go in files, not logs.
//   - Fields are lower snake_case and name one thing the same way everywhere: "part" (which piece of
//     obmin: "http", "staff", "notify"), "drop" (a drop's id), "job", "file" (a file's name), "folder"
//     (a folder's path), "path" (a request path), "receipt" (a Checkbox receipt id), "register", "report",
//     "key", "kind", "state", "reason" (what staff read), "attempt" and "wait" (retries), and counts in the
//     plural ("files", "goods", "receipts", "orders"). Errors go in with WithError ("error").
//
// It imports no other package of obmin.
package quietlog

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// SubjectFields are the fields that tell two otherwise equal warnings apart.
var SubjectFields = []string{"part", "drop", "job", "file", "key", "kind"}

// RepeatField is the field of a summary line: how many entries it stands for.
const RepeatField = "repeated"

// maxKeys bounds the entries remembered; beyond it the oldest window is summarised and forgotten.
const maxKeys = 1000

// collapser decides, entry by entry, what gets through.
type collapser struct {
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	seen map[string]*repeat
}

type repeat struct {
	start time.Time     // when the current window began
	count int           // entries held back in it
	last  *logrus.Entry // the last entry seen
	order int64         // for eviction: when first seen
}

func newCollapser(window time.Duration, now func() time.Time) *collapser {
	if now == nil {
		now = time.Now
	}
	return &collapser{window: window, now: now, seen: map[string]*repeat{}}
}

func entryKey(e *logrus.Entry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\x00%s", e.Level, e.Message)
	for _, f := range SubjectFields {
		if v, ok := e.Data[f]; ok {
			fmt.Fprintf(&b, "\x00%s=%v", f, v)
		}
	}
	return b.String()
}

// admit says whether e gets through, and returns the summaries of windows that ended, to be written
// before it.
func (c *collapser) admit(e *logrus.Entry) (pass bool, summaries []*logrus.Entry) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	summaries = c.expire(now)
	if c.window <= 0 || e.Level > logrus.WarnLevel {
		return true, summaries
	}
	k := entryKey(e)
	if r, ok := c.seen[k]; ok {
		r.count++
		r.last = e
		return false, summaries
	}
	if len(c.seen) >= maxKeys {
		summaries = append(summaries, c.evictOldest()...)
	}
	c.seen[k] = &repeat{start: now, last: e, order: now.UnixNano()}
	return true, summaries
}

// expire ends the windows older than the window: one with entries held back yields its summary and
// starts a new window (the repeats go on being held back, one summary a window); a quiet one is
// forgotten, so the next such entry is written again.
func (c *collapser) expire(now time.Time) []*logrus.Entry {
	var out []*logrus.Entry
	keys := make([]string, 0, len(c.seen))
	for k := range c.seen {
		keys = append(keys, k)
	}
	sort.Strings(keys) // summaries in a stable order
	for _, k := range keys {
		r := c.seen[k]
		if now.Sub(r.start) < c.window {
			continue
		}
		if r.count == 0 {
			delete(c.seen, k)
			continue
		}
		out = append(out, summary(r, now))
		r.start, r.count = now, 0
	}
	return out
}

func (c *collapser) evictOldest() []*logrus.Entry {
	var oldest string
	for k, r := range c.seen {
		if oldest == "" || r.order < c.seen[oldest].order {
			oldest = k
		}
	}
	r := c.seen[oldest]
	delete(c.seen, oldest)
	if r.count == 0 {
		return nil
	}
	return []*logrus.Entry{summary(r, c.now())}
}

// flush ends every window now.
func (c *collapser) flush() []*logrus.Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*logrus.Entry
	keys := make([]string, 0, len(c.seen))
	for k := range c.seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if r := c.seen[k]; r.count > 0 {
			out = append(out, summary(r, c.now()))
		}
	}
	clear(c.seen)
	return out
}

// summary is the line that stands for a window's held-back entries: the last one's level, message and
// fields, the count, and the time of writing.
func summary(r *repeat, now time.Time) *logrus.Entry {
	e := r.last.Dup() // Dup keeps the fields and the logger, not the time, level or message
	e.Time, e.Level = now, r.last.Level
	e.Message = fmt.Sprintf("%s (repeated %d times in %s)", r.last.Message, r.count, now.Sub(r.start).Round(time.Second))
	e.Data[RepeatField] = r.count
	return e
}

// Formatter wraps a logrus.Formatter: held-back entries format to nothing (logrus then writes nothing),
// and summaries are written before the entry that found their window ended. Use it as the logger's
// formatter; call Flush at the end to write what is still held back.
type Formatter struct {
	next logrus.Formatter
	c    *collapser
}

// NewFormatter collapses repeats within window (0: none) around next.
func NewFormatter(next logrus.Formatter, window time.Duration) *Formatter {
	return &Formatter{next: next, c: newCollapser(window, nil)}
}

// Format implements logrus.Formatter.
func (f *Formatter) Format(e *logrus.Entry) ([]byte, error) {
	pass, sums := f.c.admit(e)
	var out []byte
	for _, s := range sums {
		b, err := f.next.Format(s)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	if !pass {
		return out, nil
	}
	b, err := f.next.Format(e)
	if err != nil {
		return nil, err
	}
	return append(out, b...), nil
}

// Flush returns the summaries of every window with entries held back, formatted, and forgets them: the
// last lines to write before the log is closed.
func (f *Formatter) Flush() []byte {
	var out []byte
	for _, s := range f.c.flush() {
		if b, err := f.next.Format(s); err == nil {
			out = append(out, b...)
		}
	}
	return out
}

// Hook wraps a logrus.Hook (the Windows Event Log) the same way, with its own windows: held-back entries
// do not reach it, summaries do.
func Hook(h logrus.Hook, window time.Duration) logrus.Hook {
	return &hook{next: h, c: newCollapser(window, nil)}
}

type hook struct {
	next logrus.Hook
	c    *collapser
}

func (h *hook) Levels() []logrus.Level { return h.next.Levels() }

func (h *hook) Fire(e *logrus.Entry) error {
	pass, sums := h.c.admit(e)
	var first error
	for _, s := range sums {
		if err := h.next.Fire(s); err != nil && first == nil {
			first = err
		}
	}
	if pass {
		if err := h.next.Fire(e); err != nil && first == nil {
			first = err
		}
	}
	return first
}
