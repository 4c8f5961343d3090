package winservice

// The part that is the same on every OS. The calls into the SCM and the Event Log are in scm_windows.go;
// scm_other.go says where to look instead (configs/obmin.service, a systemd unit).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/exchange"
)

const DefaultName = "obmin"

// Op is one `obmin service` command line.
type Op struct {
	Action  string // install | uninstall | start | stop | status
	Name    string // the service name; also the Event Log source
	Config  string // as given; install makes it absolute
	Account string // install: "" (the virtual account NT SERVICE\<name>) or "LocalSystem"
	FixACL  bool   // install: lock the program's and config's folders down instead of refusing
}

// serviceSpec is what `obmin service install` registers.
type serviceSpec struct {
	Name        string
	DisplayName string
	Description string
	Exe         string   // absolute path of obmin.exe
	Args        []string // after Exe: run -config <absolute path>
}

const serviceDescription = "Обмін між BAS Малий бізнес і касою Checkbox: товари, ціни й залишки в Checkbox, чеки в BAS. " +
	"Syncs BAS Small Business with the Checkbox cash register: goods, prices and stock to Checkbox, receipts to BAS."

// serviceRecovery is what Windows does when the service fails (stops on its own, or with an error): restart
// it after a minute, three times; the count resets after a day without failures (serviceRecoveryReset).
var serviceRecovery = []time.Duration{time.Minute, time.Minute, time.Minute}

const serviceRecoveryReset = 24 * time.Hour

// newServiceSpec checks what install is given and makes it absolute: a service starts in
// C:\Windows\System32, so a relative config path would name a file there.
func newServiceSpec(name, exe, configPath, tempDir string) (serviceSpec, error) {
	if !filepath.IsAbs(exe) {
		return serviceSpec{}, fmt.Errorf("the program's own path %q is not absolute", exe)
	}
	if tempDir != "" && isUnder(exe, tempDir) {
		return serviceSpec{}, fmt.Errorf("%s is a temporary build (go run?): build obmin.exe, put it where it stays (e.g. C:\\obmin) and install from there", exe)
	}
	cfg, err := absConfigPath(configPath)
	if err != nil {
		return serviceSpec{}, err
	}
	display := "obmin (BAS ↔ Checkbox)"
	if name != DefaultName {
		display += " " + name
	}
	return serviceSpec{
		Name: name, DisplayName: display, Description: serviceDescription,
		Exe: exe, Args: []string{"run", "-config", cfg},
	}, nil
}

// absConfigPath is the config file's absolute path; the file must exist and be a file.
func absConfigPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("-config: the configuration file is required")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("-config %s: %w", p, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("-config %s: %w (the service needs a configuration file; copy configs/example.yaml)", abs, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("-config %s: not a file", abs)
	}
	return abs, nil
}

func isUnder(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// CommandLine is the command line the SCM runs, quoted as Windows parses it.
func (s serviceSpec) CommandLine() string { return windowsCommandLine(s.Exe, s.Args...) }

// windowsCommandLine joins a program and its arguments into one Windows command line, each quoted as
// syscall.EscapeArg does (which mgr.CreateService applies): a path with spaces, such as
// C:\Program Files\obmin\obmin.exe, is quoted, so Windows cannot take C:\Program.exe for the program.
func windowsCommandLine(exe string, args ...string) string {
	parts := []string{escapeWindowsArg(exe)}
	for _, a := range args {
		parts = append(parts, escapeWindowsArg(a))
	}
	return strings.Join(parts, " ")
}

// escapeWindowsArg is syscall.EscapeArg, which exists only on Windows: quotes around an argument with
// spaces or tabs; a quote is escaped with a backslash, and backslashes are doubled only before a quote.
func escapeWindowsArg(s string) string {
	if s == "" {
		return `""`
	}
	if !strings.ContainsAny(s, "\"\\ \t") {
		return s
	}
	hasSpace := strings.ContainsAny(s, " \t")
	if !strings.ContainsAny(s, `"\`) {
		return `"` + s + `"`
	}
	var b strings.Builder
	if hasSpace {
		b.WriteByte('"')
	}
	slashes := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(c)
	}
	if hasSpace {
		b.WriteString(strings.Repeat(`\`, slashes))
		b.WriteByte('"')
	}
	return b.String()
}

// serviceState is what a service reports to the SCM.
type serviceState int

const (
	stateStartPending serviceState = iota
	stateRunning
	stateStopPending
)

func (s serviceState) String() string {
	return [...]string{"start pending", "running", "stop pending"}[s]
}

// serviceResult is how a supervised run ended.
type serviceResult struct {
	Err   error
	Asked bool // the SCM asked obmin to stop (Stop or Shutdown)
}

// ExitCode is the service's exit code: 0 when it stopped because it was asked to, or ended cleanly;
// 1 when it stopped on its own with an error, which Windows counts as a failure and answers with the
// recovery actions (restart). An error while stopping on request must not restart the service.
func (r serviceResult) ExitCode() uint32 {
	if r.Err == nil || r.Asked {
		return 0
	}
	return 1
}

// superviseService runs fn as a service: it reports start pending, then running once fn is under way;
// when stop is closed it cancels fn's context and reports stop pending, with a growing checkpoint every
// tick so the SCM keeps waiting while the agent finishes its running job; it returns when fn returns.
func superviseService(ctx context.Context, fn func(context.Context) error, stop <-chan struct{}, report func(serviceState, uint32), tick time.Duration) serviceResult {
	report(stateStartPending, 0)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	report(stateRunning, 0)
	select {
	case err := <-done:
		return serviceResult{Err: err}
	case <-stop:
	}
	cancel()
	t := time.NewTicker(tick)
	defer t.Stop()
	for checkpoint := uint32(1); ; checkpoint++ {
		report(stateStopPending, checkpoint)
		select {
		case err := <-done:
			if errors.Is(err, context.Canceled) {
				err = nil // stopped while starting: that is what was asked
			}
			return serviceResult{Err: err, Asked: true}
		case <-t.C:
		}
	}
}

// Logger hooks travel in the context from the service wrapper to startApp, which builds the logger.
type logHooksKey struct{}

func withLogHooks(ctx context.Context, hooks ...logrus.Hook) context.Context {
	return context.WithValue(ctx, logHooksKey{}, append(LogHooks(ctx), hooks...))
}

func LogHooks(ctx context.Context) []logrus.Hook {
	h, _ := ctx.Value(logHooksKey{}).([]logrus.Hook)
	return slices.Clone(h)
}

// eventLogHook sends what an administrator must see in Event Viewer to write: every entry at Error level
// or worse, and the agent's start and stop lines. Everything else stays in log.file.
type eventLogHook struct {
	write func(level logrus.Level, msg string) error
}

func (h eventLogHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h eventLogHook) Fire(e *logrus.Entry) error {
	if _, lifecycle := e.Data[exchange.LogLifecycle]; e.Level > logrus.ErrorLevel && !lifecycle {
		return nil
	}
	return h.write(e.Level, eventMessage(e))
}

// eventMessage is an entry as one Event Log message: the message, then its fields as key=value, sorted.
func eventMessage(e *logrus.Entry) string {
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(e.Message)
	for _, k := range keys {
		v := e.Data[k]
		if err, ok := v.(error); ok {
			v = err.Error()
		}
		fmt.Fprintf(&b, " %s=%v", k, v)
	}
	return b.String()
}
