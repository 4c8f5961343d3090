package winservice

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/exchange"
)

func TestNewServiceSpec(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "obmin.yaml")
	if err := os.WriteFile(cfg, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "Program Files", "obmin", "obmin.exe")
	tmp := filepath.Join(dir, "tmp")

	// A relative config path is made absolute against the working folder: the service starts elsewhere.
	t.Chdir(dir)
	spec, err := newServiceSpec("obmin", exe, "obmin.yaml", tmp)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"run", "-config", cfg}; strings.Join(spec.Args, "|") != strings.Join(want, "|") {
		t.Errorf("args %q, want %q", spec.Args, want)
	}
	if spec.Exe != exe || spec.Name != "obmin" || !strings.Contains(spec.Description, "BAS") || !strings.Contains(spec.Description, "Обмін") {
		t.Errorf("spec %+v", spec)
	}
	if got, want := spec.CommandLine(), `"`+exe+`" run -config `+cfg; got != want {
		t.Errorf("command line %s, want %s", got, want)
	}
	if other, _ := newServiceSpec("obmin-shop2", exe, cfg, tmp); other.DisplayName == spec.DisplayName {
		t.Errorf("two services would have the same display name %q", other.DisplayName)
	}

	for _, tc := range []struct{ name, exe, config, wantErr string }{
		{"missing config", exe, "nope.yaml", filepath.Join(dir, "nope.yaml")},
		{"config is a folder", exe, dir, "not a file"},
		{"no config", exe, "", "-config"},
		{"relative exe", "obmin.exe", cfg, "not absolute"},
		{"go run build", filepath.Join(tmp, "go-build123", "b001", "exe", "obmin"), cfg, "temporary build"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := newServiceSpec("obmin", tc.exe, tc.config, tmp); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
}

// TestWindowsCommandLine: what the SCM runs, quoted as Windows parses it (service_windows_test.go checks
// the quoting against syscall.EscapeArg on Windows itself).
func TestWindowsCommandLine(t *testing.T) {
	for _, tc := range []struct {
		exe  string
		args []string
		want string
	}{
		{`C:\obmin\obmin.exe`, []string{"run", "-config", `C:\obmin\obmin.yaml`},
			`C:\obmin\obmin.exe run -config C:\obmin\obmin.yaml`},
		{`C:\Program Files\obmin\obmin.exe`, []string{"run", "-config", `C:\ProgramData\obmin\obmin.yaml`},
			`"C:\Program Files\obmin\obmin.exe" run -config C:\ProgramData\obmin\obmin.yaml`},
		{`C:\Program Files\obmin\obmin.exe`, []string{"run", "-config", `D:\Обмін BAS\obmin.yaml`},
			`"C:\Program Files\obmin\obmin.exe" run -config "D:\Обмін BAS\obmin.yaml"`},
		{`\\server\share\obmin.exe`, []string{"run"}, `\\server\share\obmin.exe run`},
		{`C:\obmin\obmin.exe`, []string{""}, `C:\obmin\obmin.exe ""`},
		// Backslashes are doubled only before a quote, including the closing one.
		{`C:\obmin\obmin.exe`, []string{`C:\a dir\`}, `C:\obmin\obmin.exe "C:\a dir\\"`},
		{`C:\obmin\obmin.exe`, []string{`say "hi"`}, `C:\obmin\obmin.exe "say \"hi\""`},
		{`C:\obmin\obmin.exe`, []string{`a\"b`}, `C:\obmin\obmin.exe a\\\"b`},
		{`C:\obmin\obmin.exe`, []string{"tab\there"}, "C:\\obmin\\obmin.exe \"tab\there\""},
	} {
		if got := windowsCommandLine(tc.exe, tc.args...); got != tc.want {
			t.Errorf("windowsCommandLine(%q, %q)\n got %s\nwant %s", tc.exe, tc.args, got, tc.want)
		}
	}
}

// recorder collects what a supervised service reports.
type recorder struct {
	mu     sync.Mutex
	states []serviceState
	points []uint32
	change chan struct{}
}

func newRecorder() *recorder { return &recorder{change: make(chan struct{}, 1000)} }

func (r *recorder) report(s serviceState, checkpoint uint32) {
	r.mu.Lock()
	r.states = append(r.states, s)
	r.points = append(r.points, checkpoint)
	r.mu.Unlock()
	r.change <- struct{}{}
}

func (r *recorder) count(s serviceState) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.states {
		if x == s {
			n++
		}
	}
	return n
}

// waitFor waits until cond holds, for at most 10 s.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-r.change:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; states %v", what, r.states)
		}
	}
}

func TestSuperviseServiceStopsGracefully(t *testing.T) {
	rec := newRecorder()
	stop := make(chan struct{})
	cancelled, finish := make(chan struct{}), make(chan struct{})
	fn := func(ctx context.Context) error {
		<-ctx.Done() // the agent runs until asked to stop…
		close(cancelled)
		<-finish // …then finishes its running job
		return nil
	}
	done := make(chan serviceResult, 1)
	go func() { done <- superviseService(context.Background(), fn, stop, rec.report, time.Millisecond) }()

	rec.waitFor(t, "running", func() bool { return rec.count(stateRunning) == 1 })
	select {
	case <-cancelled:
		t.Fatal("the run was cancelled before a stop request")
	default:
	}
	close(stop)
	<-cancelled
	// While the job finishes, the SCM is told again and again that obmin is stopping, with a new checkpoint.
	rec.waitFor(t, "stop pending checkpoints", func() bool { return rec.count(stateStopPending) >= 3 })
	close(finish)
	res := <-done
	if res.Err != nil || !res.Asked || res.ExitCode() != 0 {
		t.Fatalf("result %+v, exit %d", res, res.ExitCode())
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.states[0] != stateStartPending || rec.states[1] != stateRunning {
		t.Errorf("states %v: want start pending, running, then stop pending", rec.states)
	}
	for i := 2; i < len(rec.states); i++ {
		if rec.states[i] != stateStopPending || rec.points[i] != uint32(i-1) {
			t.Errorf("report %d: %v checkpoint %d, want stop pending checkpoint %d", i, rec.states[i], rec.points[i], i-1)
		}
	}
}

func TestSuperviseServiceResults(t *testing.T) {
	bad := errors.New("config obmin.yaml: checkbox.login: Checkbox credentials are missing")
	for _, tc := range []struct {
		name      string
		stopFirst bool
		fn        func(context.Context) error
		wantErr   error
		wantAsked bool
		wantExit  uint32
	}{
		// Stopping on its own with an error is a failure: Windows restarts the service.
		{name: "fails at start", fn: func(context.Context) error { return bad }, wantErr: bad, wantExit: 1},
		{name: "ends cleanly", fn: func(context.Context) error { return nil }},
		// Stopped while still starting: the run reports the cancellation, which is what was asked.
		{name: "stopped while starting", stopFirst: true, fn: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, wantAsked: true},
		// An error on the way out after a stop request is reported but must not restart the service.
		{name: "error while stopping", stopFirst: true, fn: func(ctx context.Context) error { <-ctx.Done(); return bad }, wantErr: bad, wantAsked: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stop := make(chan struct{})
			if tc.stopFirst {
				close(stop)
			}
			rec := newRecorder()
			res := superviseService(context.Background(), tc.fn, stop, rec.report, time.Millisecond)
			if !errors.Is(res.Err, tc.wantErr) || (tc.wantErr == nil) != (res.Err == nil) || res.Asked != tc.wantAsked || res.ExitCode() != tc.wantExit {
				t.Fatalf("result %+v exit %d; want err %v asked %v exit %d", res, res.ExitCode(), tc.wantErr, tc.wantAsked, tc.wantExit)
			}
			if rec.states[0] != stateStartPending || rec.states[1] != stateRunning {
				t.Errorf("states %v", rec.states)
			}
		})
	}
}

// TestEventLogHook: Event Viewer gets errors and the start and stop lines, nothing else.
func TestEventLogHook(t *testing.T) {
	type event struct {
		level logrus.Level
		msg   string
	}
	var got []event
	hook := eventLogHook{write: func(l logrus.Level, msg string) error { got = append(got, event{l, msg}); return nil }}
	ctx := withLogHooks(context.Background(), hook)
	l := logrus.New()
	l.SetOutput(io.Discard)
	for _, h := range LogHooks(ctx) {
		l.AddHook(h)
	}
	log := logrus.NewEntry(l)
	log.WithFields(logrus.Fields{exchange.LogLifecycle: "start", "emulated_checkbox": false}).Info("obmin started")
	log.WithField("part", "catalog").Info("drop applied")
	log.WithField("part", "sales").Warn("first receipts pull failed; the schedule will retry")
	log.WithField("part", "watcher").WithError(errors.New(`open \\bas\export: access denied`)).Error("watcher stopped")
	log.WithField(exchange.LogLifecycle, "start").Debug("obmin started") // below the level: not logged at all
	log.Info("obmin stopped, said by someone else")                      // not the agent's line: not sent
	log.WithField(exchange.LogLifecycle, "stop").Info("obmin stopped")
	want := []event{
		{logrus.InfoLevel, "obmin started emulated_checkbox=false lifecycle=start"},
		{logrus.ErrorLevel, `watcher stopped error=open \\bas\export: access denied part=watcher`},
		{logrus.InfoLevel, "obmin stopped lifecycle=stop"},
	}
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if n := len(LogHooks(withLogHooks(ctx, hook))); n != 2 {
		t.Errorf("hooks accumulate in the context: %d, want 2", n)
	}
	if n := len(LogHooks(context.Background())); n != 0 {
		t.Errorf("no hooks by default: %d", n)
	}
}
