package exchange_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"obmin/exchange"
	"obmin/internal/demo"
	"obmin/notify"
)

// recorder is a notify.Notifier that keeps what the agent told it.
type recorder struct {
	mu    sync.Mutex
	syncs map[notify.Kind][][]notify.Event
}

func (r *recorder) Notify(ctx context.Context, e notify.Event) error { return nil }
func (r *recorder) Sync(ctx context.Context, k notify.Kind, open []notify.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.syncs == nil {
		r.syncs = map[notify.Kind][][]notify.Event{}
	}
	r.syncs[k] = append(r.syncs[k], open)
	return nil
}

func (r *recorder) last(k notify.Kind) ([]notify.Event, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.syncs[k]
	if len(s) == 0 {
		return nil, 0
	}
	return s[len(s)-1], len(s)
}

func writeBrokenDrop(t *testing.T, export string) {
	t.Helper()
	dir := filepath.Join(export, "webdata - broken")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(demo.Offers(demo.Books, time.Now())), "<ЦенаЗаЕдиницу>420.00<", "<ЦенаЗаЕдиницу>420,0x<", 1)
	if err := os.WriteFile(filepath.Join(dir, "offers.xml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFailedDropIsToldAtOnceAndByTheCheck(t *testing.T) {
	r := newRig(t, nil)
	rec := &recorder{}
	r.agent.Notifier = rec
	writeBrokenDrop(t, r.export)
	r.passFails("420,0x")
	got, n := rec.last(notify.DropFailed)
	if n != 1 || len(got) != 1 {
		t.Fatalf("after the pass: %d syncs, last %+v; want the failed drop told at once", n, got)
	}
	e := got[0]
	if e.Key == "" || !strings.Contains(e.Reason, "420,0x") || e.Since.IsZero() ||
		e.Where != filepath.Join(r.spool.Dir("failed"), e.Key+".error.txt") {
		t.Errorf("event %+v", e)
	}
	if _, err := os.Stat(e.Where); err != nil {
		t.Errorf("the event points at the reason's file: %v", err)
	}

	// The periodic check sees the same; once staff remove the drop, it sees none.
	alerts, err := r.agent.Alerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f := alerts[notify.DropFailed]; len(f) != 1 || f[0].Key != e.Key {
		t.Errorf("check: %+v", alerts)
	}
	if _, ok := alerts[notify.HeldReceipts]; !ok {
		t.Error("the check covers held receipts, none held")
	}
	os.RemoveAll(filepath.Join(r.spool.Dir("failed"), e.Key))
	os.Remove(e.Where)
	if alerts, _ = r.agent.Alerts(context.Background()); len(alerts[notify.DropFailed]) != 0 {
		t.Errorf("after removal: %+v", alerts)
	}
}

func TestDropsJobIsRecordedForEveryPass(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	// The service: a folder drop applied by the drop loop leaves a drops entry, like `once` does.
	r.agent.Schedules = exchange.Schedules{PullReceipts: "off", Retention: "off", RetryDrops: time.Hour}
	r.agent.Watcher = newWatcher(t, r.export)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.agent.Run(runCtx) }()
	r.drop(demo.Books, time.Now())
	waitFor(t, 10*time.Second, "the drop is applied", func() bool {
		c, _ := r.spool.Counts()
		return c["done"] == 1
	})
	waitFor(t, 5*time.Second, "the drops job records the pass that applied it", func() bool {
		j, ok, _ := r.store.LastJob(ctx, "drops")
		return ok && j.Err == "" && j.Summary == `{"drops":1}`
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st, err := r.agent.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range st.Jobs {
		names = append(names, j.Name)
	}
	if !strings.Contains(strings.Join(names, ","), "drops") {
		t.Errorf("status jobs %v lack drops", names)
	}
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// checkJSON walks a JSON document: every object key snake_case, no string that is itself JSON.
func checkJSON(t *testing.T, path string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if !snakeCase.MatchString(k) && !strings.HasPrefix(path, ".spool") && !strings.HasPrefix(path, ".receipts") {
				t.Errorf("%s: key %q is not snake_case", path, k)
			}
			checkJSON(t, path+"."+k, x)
		}
	case []any:
		for i, x := range v {
			checkJSON(t, fmt.Sprintf("%s[%d]", path, i), x)
		}
	case string:
		if s := strings.TrimSpace(v); (strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")) && json.Valid([]byte(s)) {
			t.Errorf("%s: JSON inside a string: %s", path, v)
		}
	}
}

func TestStatusJSONIsSnakeCaseAndNested(t *testing.T) {
	r := newRig(t, nil)
	r.drop(demo.Books, time.Now())
	writeBrokenDrop(t, r.export)
	r.passFails("420,0x")
	st, err := r.agent.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	checkJSON(t, "", doc)
	jobs, _ := doc["jobs"].([]any)
	var pull map[string]any
	for _, j := range jobs {
		if m := j.(map[string]any); m["name"] == "pull-receipts" {
			pull = m
		}
	}
	if _, ok := pull["summary"].(map[string]any); !ok || pull["ok"] != true {
		t.Errorf("a job's summary is an object: %s", b)
	}
	drops, _ := doc["recent_drops"].([]any)
	if len(drops) != 2 {
		t.Fatalf("recent_drops: %s", b)
	}
	for _, d := range drops {
		if m := d.(map[string]any); m["id"] == "" || m["state"] == "" {
			t.Errorf("drop %v", m)
		}
	}
}
