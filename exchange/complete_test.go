package exchange_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/drop"
	"obmin/exchange"
	"obmin/folder"
	"obmin/inspect"
	"obmin/internal/demo"
	"obmin/internal/testenv"
	"obmin/watch"
)

// clocked gives the rig a watcher on clock c, as the service builds it (with the spool, for files that do
// not open).
func (r *rig) clocked(c *testenv.Clock) {
	r.t.Helper()
	log := logrus.New()
	log.SetOutput(os.Stderr)
	log.SetLevel(logrus.PanicLevel)
	w, err := watch.New(watch.Config{Source: folder.LocalDir(r.export), Interval: 10 * time.Millisecond, MinAge: time.Second,
		Clock: c.Now, Spool: r.spool, Logger: logrus.NewEntry(log)})
	if err != nil {
		r.t.Fatal(err)
	}
	r.agent.Watcher = w
}

// writeAged writes a drop folder whose files were last changed at.
func (r *rig) writeAged(folder string, files map[string][]byte, at time.Time) string {
	r.t.Helper()
	dir := r.writeDrop(folder, files)
	for name := range files {
		if err := os.Chtimes(filepath.Join(dir, name), at, at); err != nil {
			r.t.Fatal(err)
		}
	}
	return dir
}

// outcome is what the service did with the drop of one pass: apply, wait or fail.
func (r *rig) outcome(err error) string {
	r.t.Helper()
	counts, cerr := r.spool.Counts()
	if cerr != nil {
		r.t.Fatal(cerr)
	}
	var pe *exchange.PassError
	switch {
	case counts["failed"] > 0:
		return "fail"
	case counts["done"] > 0 && err == nil:
		return "apply"
	case errors.As(err, &pe) && strings.Contains(err.Error(), "waits"):
		return "wait"
	}
	r.t.Fatalf("no outcome: spool %v, pass %v", counts, err)
	return ""
}

// inspectVerdict is what `obmin inspect` says of the folder, at the clock's time.
func inspectVerdict(t *testing.T, dir string, c *testenv.Clock) (verdict, because string) {
	t.Helper()
	var buf bytes.Buffer
	if _, err := inspect.Run(context.Background(), &buf, []string{dir}, inspect.Options{JSON: true, Now: c.Now}); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Drops []struct{ Verdict, Because string } `json:"drops"`
	}
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil || len(out.Drops) != 1 {
		t.Fatalf("inspect: %v, %d drops\n%s", err, len(out.Drops), buf.String())
	}
	return out.Drops[0].Verdict, out.Drops[0].Because
}

// TestInspectAgreesWithTheService: for drops shaped like BAS's real exports (and like what goes wrong with
// them), `obmin inspect` announces what the service then does: apply, wait, or fail (failed/ with a note).
func TestInspectAgreesWithTheService(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	cat, off := demo.Catalog(demo.Books[:4], now), demo.Offers(demo.Books[:4], now)
	truncated := cat[:len(cat)*2/3]
	z := zipOf(t, map[string][]byte{"import.xml": cat, "offers.xml": off})
	for _, tc := range []struct {
		name   string
		files  map[string][]byte
		age    time.Duration // since the files last changed
		want   string
		reason string // in failed/'s note
	}{
		{"a BAS export", map[string][]byte{"import.xml": cat, "offers.xml": off}, time.Minute, "apply", ""},
		{"a comment after the root element", map[string][]byte{"import.xml": cat, "offers.xml": append(append([]byte(nil), off...), "<!-- BAS -->\r\n"...)}, time.Minute, "apply", ""},
		{"processing instructions and blank lines after the root", map[string][]byte{"import.xml": append(append([]byte(nil), cat...), "<?bas done?>\r\n\r\n\t"...), "offers.xml": off}, time.Minute, "apply", ""},
		{"variants and barcodes in requisites", map[string][]byte{"import.xml": demo.Catalog(demo.Editions, now), "offers.xml": demo.Offers(demo.Editions, now)}, time.Minute, "apply", ""},
		{"truncated, just stopped changing", map[string][]byte{"import.xml": truncated, "offers.xml": off}, time.Minute, "wait", ""},
		{"truncated, unchanged past the bound", map[string][]byte{"import.xml": truncated, "offers.xml": off}, 6 * time.Minute, "fail", "XML не закрито"},
		{"not XML", map[string][]byte{"import.xml": []byte("Помилка вивантаження: немає доступу\r\n"), "offers.xml": off}, time.Minute, "fail", "це не XML"},
		{"empty file past the bound", map[string][]byte{"import.xml": cat, "offers.xml": nil}, 6 * time.Minute, "fail", "порожній"},
		{"a copy not filled yet", map[string][]byte{"import.xml": cat, "offers.xml": make([]byte, 4096)}, time.Minute, "wait", ""},
		{"a bad price", map[string][]byte{"import.xml": cat, "offers.xml": bytes.Replace(off, []byte("<ЦенаЗаЕдиницу>420.00<"), []byte("<ЦенаЗаЕдиницу>420,0x<"), 1)}, time.Minute, "fail", "ЦенаЗаЕдиницу"},
		{"a zip being written", map[string][]byte{"v8_2C7E_125d5b.zip": z[:len(z)/2]}, time.Minute, "wait", ""},
		{"a whole zip", map[string][]byte{"v8_2C7E_125d5b.zip": z}, time.Minute, "apply", ""},
		{"a feed without shop or offers", map[string][]byte{"epicentr.xml": []byte("<?xml version=\"1.0\"?>\n<yml_catalog date=\"2026-03-01 10:00\"></yml_catalog>\n")}, time.Minute, "fail", "the feed has no offers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			c := testenv.NewClock(now)
			r.clocked(c)
			dir := r.writeAged(demo.FolderName, tc.files, now.Add(-tc.age))
			verdict, because := inspectVerdict(t, dir, c)
			got := r.outcome(r.agent.Once(context.Background(), 5*time.Millisecond))
			if verdict != tc.want || got != tc.want {
				t.Fatalf("inspect says %s (%s), the service did %s; want %s (failed: %s)", verdict, because, got, tc.want, r.failedReasons())
			}
			if tc.reason != "" && !strings.Contains(r.failedReasons(), tc.reason) {
				t.Errorf("failed/ note does not say %q:\n%s", tc.reason, r.failedReasons())
			}
		})
	}
}

// TestUnfinishedDropEndsInFailed: a drop whose file BAS never finished waits, visibly (status: age and
// reason; `obmin once` fails saying which), and once nothing has changed for the bound it goes to failed/
// with a note naming the file and where it breaks off, its files copied there. It is not recorded again
// by the next passes, which still say it was refused.
func TestUnfinishedDropEndsInFailed(t *testing.T) {
	r := newRig(t, nil)
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	c := testenv.NewClock(start)
	r.clocked(c)
	cat := demo.Catalog(demo.Books[:3], start)
	r.writeAged(demo.FolderName, map[string][]byte{"import.xml": cat[:len(cat)/2], "offers.xml": demo.Offers(demo.Books[:3], start)}, start.Add(-30*time.Second))

	err := r.agent.Once(context.Background(), 5*time.Millisecond)
	var pe *exchange.PassError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), demo.FolderName) || !strings.Contains(err.Error(), "import.xml: XML не закрито") {
		t.Fatalf("once: %v; want it to say the export waits and why", err)
	}
	st, serr := r.agent.Snapshot(context.Background())
	if serr != nil || len(st.Waiting) != 1 || !st.Waiting[0].Since.Equal(start.Add(-30*time.Second)) || !st.Waiting[0].GiveUpAt.Equal(start.Add(-30*time.Second+drop.DefaultGiveUpAfter)) {
		t.Fatalf("status: %+v %v", st.Waiting, serr)
	}
	var text strings.Builder
	st.At = start
	st.Text(&text)
	if !strings.Contains(text.String(), "чекає 30 с") || !strings.Contains(text.String(), "XML не закрито") || !strings.Contains(text.String(), "піде до failed/") {
		t.Errorf("status text:\n%s", text.String())
	}

	c.Add(5 * time.Minute)
	err = r.agent.Once(context.Background(), 5*time.Millisecond)
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("once after the bound: %v", err)
	}
	counts, _ := r.spool.Counts()
	if counts["failed"] != 1 || counts["done"] != 0 {
		t.Fatalf("spool %v", counts)
	}
	note := r.failedReasons()
	for _, want := range []string{demo.FolderName, "import.xml: XML не закрито", "import.xml:", "5 хв"} {
		if !strings.Contains(note, want) {
			t.Errorf("note does not say %q:\n%s", want, note)
		}
	}
	copies, _ := filepath.Glob(filepath.Join(r.spool.Dir("failed"), "*", "import.xml"))
	if len(copies) != 1 {
		t.Errorf("the files are not copied into failed/: %v", copies)
	}
	if st, _ := r.agent.Snapshot(context.Background()); len(st.Waiting) != 0 {
		t.Errorf("still waiting: %+v", st.Waiting)
	}

	// A new process (a new watcher), the same files: not recorded twice, still said.
	r.clocked(c)
	err = r.agent.Once(context.Background(), 5*time.Millisecond)
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "refused before") {
		t.Fatalf("the next once: %v", err)
	}
	if counts, _ := r.spool.Counts(); counts["failed"] != 1 {
		t.Errorf("recorded again: %v", counts)
	}
	// BAS exports again: taken.
	r.writeAged(demo.FolderName, map[string][]byte{"import.xml": cat, "offers.xml": demo.Offers(demo.Books[:3], start)}, c.Now().Add(-time.Minute))
	if err := r.agent.Once(context.Background(), 5*time.Millisecond); err != nil {
		t.Fatalf("the next export: %v", err)
	}
}

// TestMissingExportFolderIsAnError: an export folder that is not there (mistyped, or a share that dropped)
// fails `once` naming the key, and is shown in status until it lists again.
func TestMissingExportFolderIsAnError(t *testing.T) {
	r := newRig(t, nil)
	if err := os.Rename(r.export, r.export+".gone"); err != nil {
		t.Fatal(err)
	}
	err := r.agent.Once(context.Background(), 5*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), exchange.FolderExport) {
		t.Fatalf("once without the export folder: %v", err)
	}
	st, _ := r.agent.Snapshot(context.Background())
	if len(st.Problems) != 1 || st.Problems[0].Key != exchange.FolderExport {
		t.Fatalf("status problems %+v", st.Problems)
	}
	var text strings.Builder
	st.Text(&text)
	if !strings.Contains(text.String(), "ПОМИЛКА ТЕКИ bas.export_dir") {
		t.Errorf("status text:\n%s", text.String())
	}
	if err := os.Rename(r.export+".gone", r.export); err != nil {
		t.Fatal(err)
	}
	r.pass()
	if st, _ := r.agent.Snapshot(context.Background()); len(st.Problems) != 0 {
		t.Errorf("after it came back: %+v", st.Problems)
	}
}

// goneTarget is BAS's orders folder on a share that dropped: every write fails as a missing path does.
type goneTarget struct {
	folder.Target
	mu   sync.Mutex
	gone bool
}

func (g *goneTarget) WriteFile(ctx context.Context, name string, data []byte) error {
	if g.isGone() {
		return &os.PathError{Op: "open", Path: filepath.Join(g.String(), name), Err: os.ErrNotExist}
	}
	return g.Target.WriteFile(ctx, name, data)
}

func (g *goneTarget) WriteFrom(ctx context.Context, name string, write func(io.Writer) error) error {
	if g.isGone() {
		return &os.PathError{Op: "open", Path: filepath.Join(g.String(), name), Err: os.ErrNotExist}
	}
	return g.Target.WriteFrom(ctx, name, write)
}

func (g *goneTarget) isGone() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.gone
}

// TestOrdersFolderGoneIsShown: an orders folder that cannot take the file is a folder problem in status
// until a write succeeds again.
func TestOrdersFolderGoneIsShown(t *testing.T) {
	r := newRig(t, nil)
	gt := &goneTarget{Target: r.agent.Sales.Cfg.Out, gone: true}
	r.agent.Sales.Cfg.Out = gt
	if _, err := r.agent.PullReceipts(context.Background()); err == nil {
		t.Fatal("the pull wrote the orders file into a folder that is gone")
	}
	st, _ := r.agent.Snapshot(context.Background())
	if len(st.Problems) != 1 || st.Problems[0].Key != exchange.FolderOrders {
		t.Fatalf("problems %+v", st.Problems)
	}
	gt.mu.Lock()
	gt.gone = false
	gt.mu.Unlock()
	if _, err := r.agent.PullReceipts(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.agent.Snapshot(context.Background()); len(st.Problems) != 0 {
		t.Errorf("after the folder came back: %+v", st.Problems)
	}
}
