package checkbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"obmin/internal/golden"
	"obmin/internal/testenv"
)

func sampleImportFile() ImportFile {
	left := decimal.RequireFromString("12.5")
	zero := decimal.Zero
	return ImportFile{Goods: []ImportGood{
		{Name: "Кобзар", Code: "978-966-03-4321-7", Group: "Книги", Barcode: "9789660343217", Barcodes: "9789660343217,4820000000017",
			Price: "250.00", Type: "good", Taxes: "З", Leftovers: &left},
		{Name: "Папір ваговий", Code: "PAPER", Price: "99.90", IsWeight: true, Type: "good", Taxes: "А Е", Leftovers: &zero},
		{Name: "Пакування", Code: "WRAP", Price: "5.00", Type: "service"},
	}}
}

func TestImportFileGolden(t *testing.T) {
	out, err := json.MarshalIndent(sampleImportFile(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "import_file.golden.json"), append(out, '\n'))
}

// TestImportFileMatchesCheckboxFixture checks the file against the goods JSON that the Python SDK
// uploads to Checkbox's test service: same keys, same value types, and it decodes back.
func TestImportFileMatchesCheckboxFixture(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.Shared(t, "checkbox/examples/dismine__checkbox-sdk/tests/test_data"), "checkbox_goods.json"))
	if err != nil {
		t.Fatal(err)
	}
	var theirs ImportFile
	if err := json.Unmarshal(raw, &theirs); err != nil {
		t.Fatalf("decode fixture: %v", err)
	}
	first := theirs.Goods[0]
	if len(theirs.Goods) != 2 || first.Name != "Сік яблучний" || first.Price != "51.00" || first.Taxes != "З" || first.Leftovers != nil || first.Type != "good" {
		t.Fatalf("fixture decoded as %+v", theirs)
	}

	keys := func(b []byte) map[string]string { // key → JSON type of its first good
		var f struct {
			Goods []map[string]any `json:"goods"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for k, v := range f.Goods[0] {
			out[k] = fmt.Sprintf("%T", v)
		}
		return out
	}
	ours, err := json.Marshal(sampleImportFile())
	if err != nil {
		t.Fatal(err)
	}
	want, got := keys(raw), keys(ours)
	want["leftovers"] = "float64" // null in the fixture; a number when set
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("our goods keys %v, Checkbox's %v", got, want)
	}
	var back ImportFile
	if err := json.Unmarshal(ours, &back); err != nil {
		t.Fatal(err)
	}
	if back.Goods[0].Leftovers == nil || back.Goods[0].Leftovers.String() != "12.5" || back.Goods[2].Leftovers != nil {
		t.Fatalf("round trip %+v", back.Goods)
	}
}

// importTask is a fake import task: it answers statuses from a script and records the uploads.
type importTask struct {
	t          *testing.T
	mu         sync.Mutex
	checking   []importStatus // task_status answers before apply; the last one repeats
	applying   []importStatus // after apply; the last one repeats
	polls      int
	applied    bool
	applyCalls int
	applyFail  []int // statuses apply_changes answers with before it works
	applyTaken bool  // whether a failed apply_changes took effect all the same
	uploadFail int   // status of the upload, 0: fine
	uploads    []ImportFile
	query      []string
}

func (it *importTask) routes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"POST /api/v1/goods/import/upload": func(w http.ResponseWriter, r *http.Request) {
			if it.uploadFail != 0 {
				writeJSON(w, it.uploadFail, map[string]any{"message": "bad file", "detail": []any{map[string]any{"loc": []any{"body", "file"}, "msg": "field required", "type": "missing"}}})
				return
			}
			f, fh, err := r.FormFile("file")
			if err != nil {
				it.t.Errorf("upload: %v", err)
				writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": err.Error()})
				return
			}
			defer f.Close()
			if !strings.HasSuffix(fh.Filename, ".json") || fh.Header.Get("Content-Type") != "application/json" {
				it.t.Errorf("upload part %q, %q", fh.Filename, fh.Header.Get("Content-Type"))
			}
			var file ImportFile
			b, _ := io.ReadAll(f)
			if err := json.Unmarshal(b, &file); err != nil {
				it.t.Errorf("uploaded file: %v", err)
			}
			it.mu.Lock()
			it.uploads = append(it.uploads, file)
			it.query = append(it.query, r.URL.RawQuery)
			it.mu.Unlock()
			writeJSON(w, http.StatusOK, map[string]string{"task_id": "task-1", "status": "pending"})
		},
		"GET /api/v1/goods/import/task_status/task-1": func(w http.ResponseWriter, r *http.Request) {
			it.mu.Lock()
			defer it.mu.Unlock()
			script := it.checking
			if it.applied {
				script = it.applying
			}
			st := script[min(it.polls, len(script)-1)]
			it.polls++
			if st.TaskID == "" {
				st.TaskID = "task-1"
			}
			writeJSON(w, http.StatusOK, st)
		},
		"POST /api/v1/goods/import/apply_changes/task-1": func(w http.ResponseWriter, r *http.Request) {
			it.mu.Lock()
			defer it.mu.Unlock()
			it.applyCalls++
			failing := it.applyCalls <= len(it.applyFail)
			if (!failing || it.applyTaken) && !it.applied {
				it.applied, it.polls = true, 0
			}
			if failing {
				writeJSON(w, it.applyFail[it.applyCalls-1], map[string]string{"message": "busy"})
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{"task_id": "task-1", "status": "processing"})
		},
	}
}

func TestImportGoods(t *testing.T) {
	done := importStatus{Status: "done", TotalItems: 3, ProcessedItems: 3}
	tests := []struct {
		name       string
		task       *importTask
		wantApply  int
		wantStatus string
		wantErr    []string // substrings of the error; none: success
		wantIssues int
	}{
		{
			name:       "happy path",
			task:       &importTask{checking: []importStatus{{Status: "pending"}, {Status: "processing"}, {Status: "completed", TotalItems: 3}}, applying: []importStatus{{Status: "processing"}, done}},
			wantApply:  1,
			wantStatus: "done",
		},
		{
			name:       "check fails",
			task:       &importTask{checking: []importStatus{{Status: "processing"}, {Status: "error", Errors: []ImportIssue{{Message: "Невірна ціна", Address: "goods.1.price"}}}}},
			wantStatus: "error", wantErr: []string{`status "error"`, "goods.1.price: Невірна ціна"}, wantIssues: 1,
		},
		{
			name:      "apply fails",
			task:      &importTask{checking: []importStatus{{Status: "completed"}}, applying: []importStatus{{Status: "error"}}},
			wantApply: 1, wantStatus: "error", wantErr: []string{`status "error" and no details`},
		},
		{
			name: "done with row problems",
			task: &importTask{
				checking: []importStatus{{Status: "completed", Errors: []ImportIssue{{Message: "Дублікат штрихкоду", Address: "A2"}}}},
				applying: []importStatus{{Status: "done", TotalItems: 3, ProcessedItems: 2, Errors: []ImportIssue{{Message: "Дублікат штрихкоду", Address: "A2"}}}},
			},
			wantApply: 1, wantStatus: "done", wantErr: []string{"A2: Дублікат штрихкоду"}, wantIssues: 1,
		},
		{
			name: "apply answer lost but taken: not applied twice",
			task: &importTask{
				checking:   []importStatus{{Status: "completed"}},
				applyFail:  []int{http.StatusBadGateway},
				applyTaken: true,
				applying:   []importStatus{{Status: "processing"}, done},
			},
			wantApply: 1, wantStatus: "done",
		},
		{
			name: "apply answer lost, taken, the task still says completed for a while: not applied twice",
			task: &importTask{
				checking:   []importStatus{{Status: "completed"}},
				applyFail:  []int{http.StatusGatewayTimeout},
				applyTaken: true,
				applying:   []importStatus{{Status: "completed"}, {Status: "completed"}, {Status: "processing"}, done},
			},
			wantApply: 1, wantStatus: "done",
		},
		{
			name: "apply refused by the rate limit: applied again",
			task: &importTask{
				checking:  []importStatus{{Status: "completed"}},
				applyFail: []int{http.StatusTooManyRequests},
				applying:  []importStatus{done},
			},
			wantApply: 2, wantStatus: "done",
		},
		{
			name: "apply failed, fate unknown, the task stays completed: not applied again",
			task: &importTask{
				checking:  []importStatus{{Status: "completed"}},
				applyFail: []int{http.StatusServiceUnavailable},
				applying:  []importStatus{done},
			},
			wantApply: 1, wantStatus: "completed", wantErr: []string{"may or may not have been taken", "503"},
		},
		{
			name:    "upload rejected",
			task:    &importTask{uploadFail: http.StatusUnprocessableEntity},
			wantErr: []string{"upload", "422", "body.file: field required"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := tt.task
			it.t = t
			api := newFakeAPI(t, it.routes())
			c, sl := newTestClient(t, api.URL, nil)
			res, err := c.ImportGoods(context.Background(), sampleImportFile(), ImportOptions{AutoSupply: true, IgnoreBarcodeDuplicates: true, PollInterval: 250 * time.Millisecond})
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("ImportGoods: %v", err)
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v, want it to contain %q", err, w)
				}
			}
			var ie *ImportError
			if tt.wantIssues > 0 && (!errors.As(err, &ie) || len(ie.Errors) != tt.wantIssues) {
				t.Errorf("error %#v, want an ImportError with %d issues", err, tt.wantIssues)
			}
			if res.Status != tt.wantStatus || len(res.Errors) != tt.wantIssues {
				t.Errorf("result %+v, want status %q and %d issues", res, tt.wantStatus, tt.wantIssues)
			}
			it.mu.Lock()
			defer it.mu.Unlock()
			if it.applyCalls != tt.wantApply {
				t.Errorf("apply_changes called %d times, want %d", it.applyCalls, tt.wantApply)
			}
			if tt.task.uploadFail != 0 {
				return
			}
			if len(it.uploads) != 1 || fmt.Sprint(it.uploads[0]) != fmt.Sprint(sampleImportFile()) {
				t.Errorf("uploads %+v", it.uploads)
			}
			q := parseQuery(t, it.query[0])
			if q.Get("auto_supply") != "true" || q.Get("ignore_barcode_duplicates") != "true" {
				t.Errorf("upload query %q", it.query[0])
			}
			for _, d := range sl.all() {
				// Polls (100 ms doubling up to 250 ms), and one back-off.
				if d != 100*time.Millisecond && d != 200*time.Millisecond && d != 250*time.Millisecond && d != 500*time.Millisecond {
					t.Errorf("slept %v", d)
				}
			}
		})
	}
}

func TestImportGoodsHappyPathRequests(t *testing.T) {
	it := &importTask{t: t, checking: []importStatus{{Status: "completed"}}, applying: []importStatus{{Status: "done", TotalItems: 3, ProcessedItems: 3}}}
	api := newFakeAPI(t, it.routes())
	c, _ := newTestClient(t, api.URL, nil)
	res, err := c.ImportGoods(context.Background(), sampleImportFile(), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res) != fmt.Sprint(ImportResult{TaskID: "task-1", Status: "done", TotalItems: 3, ProcessedItems: 3}) {
		t.Fatalf("result %+v", res)
	}
	want := []string{
		"POST /api/v1/cashier/signin",
		"POST /api/v1/goods/import/upload",
		"GET /api/v1/goods/import/task_status/task-1",
		"POST /api/v1/goods/import/apply_changes/task-1",
		"GET /api/v1/goods/import/task_status/task-1",
	}
	if got := paths(api.requests()); !slices.Equal(got, want) {
		t.Fatalf("requests %v, want %v", got, want)
	}
	q := parseQuery(t, api.requests()[1].RawQuery)
	if q.Get("auto_supply") != "false" || q.Get("ignore_barcode_duplicates") != "false" {
		t.Fatalf("upload query %v", q)
	}
}

// TestImportPollingBacksOff checks the waits between status checks: 100 ms first, doubling up to the
// configured interval, and starting again at 100 ms once the changes are applied.
func TestImportPollingBacksOff(t *testing.T) {
	pending := importStatus{Status: "pending"}
	it := &importTask{t: t,
		checking: []importStatus{pending, pending, pending, pending, pending, {Status: "completed"}},
		applying: []importStatus{pending, {Status: "done"}},
	}
	api := newFakeAPI(t, it.routes())
	c, sl := newTestClient(t, api.URL, nil)
	if _, err := c.ImportGoods(context.Background(), sampleImportFile(), ImportOptions{PollInterval: time.Second}); err != nil {
		t.Fatal(err)
	}
	ms := func(n ...int) (out []time.Duration) {
		for _, x := range n {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	if want := ms(100, 200, 400, 800, 1000, 1000, 100, 200); !slices.Equal(sl.all(), want) {
		t.Fatalf("waits %v, want %v", sl.all(), want)
	}
}

// TestImportPollingStopsOnCancel checks that a cancelled context ends the wait at once.
func TestImportPollingStopsOnCancel(t *testing.T) {
	it := &importTask{t: t, checking: []importStatus{{Status: "pending"}}}
	api := newFakeAPI(t, it.routes())
	c, _ := newTestClient(t, api.URL, nil)
	c.sleep = sleepCtx
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.ImportGoods(ctx, sampleImportFile(), ImportOptions{PollInterval: time.Hour})
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for { // wait until the task is being polled, then cancel
		it.mu.Lock()
		polled := it.polls > 0
		it.mu.Unlock()
		if polled || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ImportGoods did not return after cancel")
	}
}

func TestImportGoodsTimeout(t *testing.T) {
	it := &importTask{t: t, checking: []importStatus{{Status: "pending"}}}
	api := newFakeAPI(t, it.routes())
	c, _ := newTestClient(t, api.URL, nil)
	c.sleep = sleepCtx // a real wait, cut short by the import's own deadline
	_, err := c.ImportGoods(context.Background(), sampleImportFile(), ImportOptions{PollInterval: 10 * time.Millisecond, Timeout: 100 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `still "pending"`) {
		t.Fatalf("error %v, want a deadline while pending", err)
	}
}

func TestImportGoodsEmptyFile(t *testing.T) {
	api := newFakeAPI(t, nil)
	c, _ := newTestClient(t, api.URL, nil)
	if _, err := c.ImportGoods(context.Background(), ImportFile{}, ImportOptions{}); err == nil || len(api.requests()) != 0 {
		t.Fatalf("empty import: %v, requests %v", err, paths(api.requests()))
	}
}
