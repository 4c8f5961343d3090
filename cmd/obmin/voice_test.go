package main

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"obmin/checkbox/emulator"
	"obmin/internal/demo"
	"obmin/internal/voice"
)

var (
	// oneClock is the one way staff read a moment (voice.Layout); the others are other clocks or formats.
	oneClock    = regexp.MustCompile(`\b\d\d\.\d\d\.\d{4} \d\d:\d\d(:\d\d)?`)
	otherClocks = []*regexp.Regexp{
		regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d`),      // RFC 3339, SQL
		regexp.MustCompile(`\d\d:\d\d(:\d\d)? ?[+-]\d\d:?\d\d`), // an offset
		regexp.MustCompile(`\b(UTC|GMT|EET|EEST)\b`),
		regexp.MustCompile(`(^|[^.\d])\d\d\.\d\d \d\d:\d\d`), // a day without its year
	}
)

// TestStaffReadOneVoiceAndOneClock runs obmin end to end — a catalogue, sales, a return, a held receipt, a
// broken export, a reconciliation — and reads every file staff read: no English error text outside
// brackets (where the original is kept for an administrator), and every time in Kyiv time, in one format.
func TestStaffReadOneVoiceAndOneClock(t *testing.T) {
	start := time.Now().Add(-time.Second)
	var mu sync.Mutex
	told := map[string]string{} // notifications, by message id
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ ID, Text string }
		if json.NewDecoder(r.Body).Decode(&m) == nil {
			mu.Lock()
			told["notification "+m.ID] = m.Text
			mu.Unlock()
		}
	}))
	defer hook.Close()
	s := newShop(t, "notify:\n  held_after: 0s\n  webhook:\n    url: "+hook.URL+"/hook\n")
	if _, err := demo.WriteDrop(s.export, append(slices.Clone(demo.Books), demo.Editions...), time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.run("once"); err != nil {
		t.Fatal(err)
	}
	sale := s.sell(time.Time{}, "", emulator.SaleLine{Code: "KN-0001", Quantity: 2000})
	if _, err := s.emu.Return(sale.ID, []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}}); err != nil {
		t.Fatal(err)
	}
	s.sell(time.Time{}, "", emulator.SaleLine{Code: "NOT-IN-BAS", Name: "Листівка з каси", Price: 4500, Quantity: 1000})
	writeFile(t, filepath.Join(s.export, "webdata - 2", "import.xml"), "<html><body>not an export</body></html>")
	if _, err := s.run("once"); err == nil {
		t.Fatal("a pass with a broken export must say so")
	}
	if _, err := s.run("reconcile", "-date", voice.Date(time.Now())); exitCode(err) != 3 {
		t.Fatalf("the held receipt is a difference: %v", err)
	}
	status, err := s.run("status")
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(time.Second)

	read := map[string]string{"obmin status": status}
	mu.Lock()
	for k, v := range told {
		read[k] = v
	}
	for k, v := range told {
		t.Logf("%s:\n%s", k, v)
	}
	if len(told) == 0 {
		t.Error("no notification was sent: a failed drop, a held receipt and a reconciliation's differences are each one")
	}
	mu.Unlock()
	var kinds []string
	for _, root := range []string{filepath.Join(s.dir, "spool"), filepath.Dir(s.orders)} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Ext(p) != ".txt" || strings.Contains(p, string(filepath.Separator)+"numbers"+string(filepath.Separator)) {
				return err // the numbers journal is obmin's own record, not for staff
			}
			b, err := os.ReadFile(p)
			rel, _ := filepath.Rel(s.dir, p)
			read[rel] = string(b)
			kinds = append(kinds, filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"status.txt", ".error.txt", "held/", "returns/", "obmin-report.txt", "report.txt", "returns.txt"} {
		if !slices.ContainsFunc(kinds, func(k string) bool { return strings.Contains(k, want) }) {
			t.Errorf("the run left no %s to read: %v", want, kinds)
		}
	}
	for name, text := range read {
		for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
			if voice.HasEnglish(line) {
				t.Errorf("%s:%d reads English: %s", name, i+1, line)
			}
			for _, re := range otherClocks {
				if re.MatchString(line) {
					t.Errorf("%s:%d has a time not in the one format: %s", name, i+1, line)
				}
			}
			for _, m := range oneClock.FindAllStringSubmatch(line, -1) {
				if m[1] == "" {
					t.Errorf("%s:%d has a time without seconds: %s", name, i+1, line)
					continue
				}
				at, err := time.ParseInLocation(voice.Layout, m[0], voice.Kyiv)
				if err != nil || at.Before(start.Truncate(time.Second)) || at.After(end) {
					t.Errorf("%s:%d: %s is not Kyiv time of this run (%s…%s)", name, i+1, m[0], voice.Time(start), voice.Time(end))
				}
			}
		}
	}
	// done/<date> and drop ids go by the Kyiv day.
	days, _ := os.ReadDir(filepath.Join(s.dir, "spool", "done"))
	for _, d := range days {
		if d.Name() != voice.Date(start) && d.Name() != voice.Date(end) {
			t.Errorf("done/%s is not a Kyiv day of this run", d.Name())
		}
	}
	failed, _ := os.ReadDir(filepath.Join(s.dir, "spool", "failed"))
	for _, f := range failed {
		at, err := time.ParseInLocation("20060102-150405", strings.SplitN(f.Name(), "-", 3)[0]+"-"+strings.SplitN(f.Name(), "-", 3)[1], voice.Kyiv)
		if err != nil || at.Before(start.Truncate(time.Second)) || at.After(end) {
			t.Errorf("drop id %s does not begin with Kyiv time", f.Name())
		}
	}

	// The failed drop goes back with obmin replay, carrying its old reason inside.
	if len(failed) == 0 {
		t.Fatal("no failed drop")
	}
	id := strings.TrimSuffix(failed[0].Name(), ".error.txt")
	if out, err := s.run("replay", id); err != nil || !strings.Contains(out, "повернуто") {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "spool", "inbox", id, "obmin-previous-error.txt")); err != nil {
		t.Errorf("the replayed drop must be in inbox/ with its old reason: %v", err)
	}
	if _, err := s.run("replay", id); err == nil {
		t.Error("a drop not in failed/ cannot be replayed")
	}
}
