//go:build windows

package winservice

// obmin and the Windows Service Control Manager: `obmin service …` (register, remove, start, stop, query)
// and `obmin run` when the SCM starts it. What can be tested away from Windows is in service.go.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"

	"obmin/internal/config"
)

// Event ids; the EventCreate message file that InstallAsEventCreate registers shows ids 1 to 1000.
const (
	eventInfo  = 1
	eventError = 2
)

// RunAsService runs `obmin run` inside svc.Run when the SCM started the process, and reports false
// otherwise (a console, the Task Scheduler), where `obmin run` is an ordinary process.
func RunAsService(ctx context.Context, run func(context.Context) error) (bool, error) {
	isService, err := svc.IsWindowsService()
	if err != nil || !isService {
		return false, nil
	}
	// A service gets CTRL_LOGOFF_EVENT whenever a user logs off, and Go's runtime turns it into SIGTERM,
	// which main's signal context would take for "stop" (golang/go#40167). Under the SCM only Stop and
	// Shutdown stop obmin; without a Go handler, Windows' own handler for services ignores the event.
	signal.Reset(os.Interrupt, syscall.SIGTERM)
	ctx = context.WithoutCancel(ctx)
	h := &serviceHandler{ctx: ctx, run: run}
	// The name is ignored for a service in its own process; Execute learns the real one from the SCM.
	return true, svc.Run(DefaultName, h)
}

type serviceHandler struct {
	ctx context.Context
	run func(context.Context) error
}

// Execute is called by svc.Run: it runs obmin, maps Stop and Shutdown to cancelling its context, and
// keeps the SCM told what state obmin is in.
func (h *serviceHandler) Execute(args []string, requests <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	name := DefaultName
	if len(args) > 0 && args[0] != "" {
		name = args[0] // the SCM passes the service's name first
	}
	ctx := h.ctx
	elog, err := eventlog.Open(name)
	if err == nil {
		defer elog.Close()
		ctx = withLogHooks(ctx, eventLogHook{write: func(level logrus.Level, msg string) error {
			if level <= logrus.ErrorLevel {
				return elog.Error(eventError, msg)
			}
			return elog.Info(eventInfo, msg)
		}})
	}

	report := func(state serviceState, checkpoint uint32) {
		switch state {
		case stateStartPending:
			status <- svc.Status{State: svc.StartPending, WaitHint: 30_000}
		case stateRunning:
			status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
		case stateStopPending:
			status <- svc.Status{State: svc.StopPending, CheckPoint: checkpoint, WaitHint: 10_000}
		}
	}
	stop := make(chan struct{})
	var stopOnce sync.Once
	done := make(chan serviceResult, 1)
	go func() { done <- superviseService(ctx, h.run, stop, report, 3*time.Second) }()
	for {
		select {
		case c := <-requests:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				stopOnce.Do(func() { close(stop) })
			}
		case res := <-done:
			// An error returned by run never reached the log if it came before the logger (a bad config).
			if res.Err != nil && elog != nil {
				elog.Error(eventError, "obmin stopped: "+res.Err.Error())
			}
			return res.ExitCode() != 0, res.ExitCode()
		}
	}
}

func Control(ctx context.Context, op Op, stdout io.Writer) error {
	switch op.Action {
	case "install":
		return installService(op, stdout)
	case "uninstall":
		return uninstallService(ctx, op.Name, stdout)
	case "start":
		return startService(ctx, op.Name, stdout)
	case "stop":
		return stopService(ctx, op.Name, stdout)
	case "status":
		return serviceStatus(op.Name, stdout)
	}
	return fmt.Errorf("service: unknown action %q", op.Action)
}

// scmError explains the two errors an administrator meets: not elevated, and no such service.
func scmError(name string, err error) error {
	switch {
	case errors.Is(err, windows.ERROR_ACCESS_DENIED):
		return fmt.Errorf("service %s: %w: run as administrator (Command Prompt or PowerShell → «Run as administrator» / «Запуск від імені адміністратора»)", name, err)
	case errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST):
		return fmt.Errorf("service %s is not installed (obmin service install -config FILE)", name)
	}
	return fmt.Errorf("service %s: %w", name, err)
}

func installService(op Op, stdout io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("service install: the program's own path: %w", err)
	}
	spec, err := newServiceSpec(op.Name, exe, op.Config, os.TempDir())
	if err != nil {
		return fmt.Errorf("service install: %w", err)
	}
	cfgPath := spec.Args[len(spec.Args)-1]
	cfg, err := config.Load(cfgPath, os.Getenv)
	if err != nil {
		return fmt.Errorf("service install: %w (obmin check -config %s says the same)", err, cfgPath)
	}
	svcSID, account := "", ""
	if op.Account == "" {
		svcSID, account = serviceSID(spec.Name), `NT SERVICE\`+spec.Name
	}
	if err := secureServicePaths(newServicePlan(spec.Exe, cfgPath, cfg), svcSID, op.FixACL, stdout); err != nil {
		return fmt.Errorf("service install: %w", err)
	}
	m, err := mgr.Connect()
	if err != nil {
		return scmError(spec.Name, err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService(spec.Name); err == nil {
		s.Close()
		return fmt.Errorf("service %s is already installed: `obmin service uninstall -name %s` first", spec.Name, spec.Name)
	}
	s, err := m.CreateService(spec.Name, spec.Exe, mgr.Config{
		DisplayName: spec.DisplayName, Description: spec.Description,
		StartType: mgr.StartAutomatic, DelayedAutoStart: true, ErrorControl: mgr.ErrorNormal,
		ServiceStartName: account, // "" is LocalSystem; NT SERVICE\<name> needs no password
	}, spec.Args...)
	if err != nil {
		return scmError(spec.Name, err)
	}
	defer s.Close()
	if err := setUpService(s, spec.Name); err != nil {
		s.Delete()
		return scmError(spec.Name, err)
	}
	fmt.Fprintf(stdout, "service %s installed: %s\n", spec.Name, spec.CommandLine())
	if account == "" {
		account = "LocalSystem"
	}
	fmt.Fprintf(stdout, "starts with Windows (delayed), runs as %s, restarts after 1 minute if it fails; errors go to Event Viewer → Windows Logs → Application, source %s\n", account, spec.Name)
	fmt.Fprintf(stdout, "start it now: obmin service start -name %s\n", spec.Name)
	return nil
}

// setUpService adds the recovery actions and the Event Log source to a service just created.
func setUpService(s *mgr.Service, name string) error {
	var actions []mgr.RecoveryAction
	for _, d := range serviceRecovery {
		actions = append(actions, mgr.RecoveryAction{Type: mgr.ServiceRestart, Delay: d})
	}
	// Windows repeats the last action for every further failure; after the restarts, do nothing.
	actions = append(actions, mgr.RecoveryAction{Type: mgr.NoAction})
	if err := s.SetRecoveryActions(actions, uint32(serviceRecoveryReset.Seconds())); err != nil {
		return fmt.Errorf("recovery actions: %w", err)
	}
	// Stopping on its own with a non-zero exit code (not only a crash) counts as a failure.
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
		return fmt.Errorf("recovery actions: %w", err)
	}
	eventlog.Remove(name) // left by an earlier install, if any
	if err := eventlog.InstallAsEventCreate(name, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil {
		return fmt.Errorf("event log source: %w", err)
	}
	return nil
}

func uninstallService(ctx context.Context, name string, stdout io.Writer) error {
	s, closeSCM, err := openService(name, windows.DELETE|windows.SERVICE_STOP|windows.SERVICE_QUERY_STATUS)
	if err != nil {
		return err
	}
	defer closeSCM()
	if st, err := s.Query(); err == nil && st.State != svc.Stopped {
		if err := stopAndWait(ctx, s); err != nil {
			return err
		}
	}
	if err := s.Delete(); err != nil {
		return scmError(name, err)
	}
	if err := eventlog.Remove(name); err != nil && !errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
		return fmt.Errorf("service %s removed; its event log source: %w", name, err)
	}
	fmt.Fprintf(stdout, "service %s removed (its log file, spool and state stay where they are)\n", name)
	return nil
}

func startService(ctx context.Context, name string, stdout io.Writer) error {
	s, closeSCM, err := openService(name, windows.SERVICE_START|windows.SERVICE_QUERY_STATUS)
	if err != nil {
		return err
	}
	defer closeSCM()
	if err := s.Start(); err != nil {
		return scmError(name, err)
	}
	if err := waitState(ctx, s, svc.Running, 60*time.Second); err != nil {
		return fmt.Errorf("service %s: %w; see Event Viewer → Windows Logs → Application, source %s, and log.file", name, err, name)
	}
	fmt.Fprintf(stdout, "service %s is running\n", name)
	return nil
}

func stopService(ctx context.Context, name string, stdout io.Writer) error {
	s, closeSCM, err := openService(name, windows.SERVICE_STOP|windows.SERVICE_QUERY_STATUS)
	if err != nil {
		return err
	}
	defer closeSCM()
	if err := stopAndWait(ctx, s); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "service %s stopped\n", name)
	return nil
}

// stopAndWait asks the service to stop and waits for it: obmin lets a running job finish (up to 30 s).
func stopAndWait(ctx context.Context, s *mgr.Service) error {
	// Not active: already stopped; cannot accept: already stopping.
	if _, err := s.Control(svc.Stop); err != nil && !errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE) && !errors.Is(err, windows.ERROR_SERVICE_CANNOT_ACCEPT_CTRL) {
		return scmError(s.Name, err)
	}
	if err := waitState(ctx, s, svc.Stopped, 90*time.Second); err != nil {
		return fmt.Errorf("service %s: %w", s.Name, err)
	}
	return nil
}

func serviceStatus(name string, stdout io.Writer) error {
	s, closeSCM, err := openService(name, windows.SERVICE_QUERY_STATUS|windows.SERVICE_QUERY_CONFIG)
	if err != nil {
		return err
	}
	defer closeSCM()
	st, err := s.Query()
	if err != nil {
		return scmError(name, err)
	}
	fmt.Fprintf(stdout, "service %s: %s", name, stateText(st.State))
	if st.ProcessId != 0 {
		fmt.Fprintf(stdout, " (pid %d)", st.ProcessId)
	}
	if st.State == svc.Stopped && (st.Win32ExitCode != 0 || st.ServiceSpecificExitCode != 0) {
		fmt.Fprintf(stdout, " (last exit code %d/%d: see Event Viewer)", st.Win32ExitCode, st.ServiceSpecificExitCode)
	}
	fmt.Fprintln(stdout)
	if c, err := s.Config(); err == nil {
		start := map[uint32]string{mgr.StartAutomatic: "automatic", mgr.StartManual: "manual", mgr.StartDisabled: "disabled"}[c.StartType]
		if c.DelayedAutoStart {
			start += " (delayed)"
		}
		account := c.ServiceStartName
		if account == "" {
			account = "LocalSystem"
		}
		fmt.Fprintf(stdout, "command: %s\nstart:   %s\naccount: %s\n", c.BinaryPathName, start, account)
	}
	return nil
}

// openService opens a service with only the rights the action needs, so status works without elevation.
func openService(name string, access uint32) (*mgr.Service, func(), error) {
	h, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT)
	if err != nil {
		return nil, nil, scmError(name, err)
	}
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		windows.CloseServiceHandle(h)
		return nil, nil, err
	}
	sh, err := windows.OpenService(h, n, access)
	if err != nil {
		windows.CloseServiceHandle(h)
		return nil, nil, scmError(name, err)
	}
	s := &mgr.Service{Name: name, Handle: sh}
	return s, func() { s.Close(); windows.CloseServiceHandle(h) }, nil
}

// waitState polls the service until it is in state want, for at most timeout.
func waitState(ctx context.Context, s *mgr.Service, want svc.State, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		st, err := s.Query()
		if err != nil {
			return err
		}
		if st.State == want {
			return nil
		}
		if want == svc.Running && st.State == svc.Stopped {
			return fmt.Errorf("stopped right after starting (exit code %d/%d)", st.Win32ExitCode, st.ServiceSpecificExitCode)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still %s after %s", stateText(st.State), timeout)
		case <-t.C:
		}
	}
}

func stateText(s svc.State) string {
	switch s {
	case svc.Stopped:
		return "stopped"
	case svc.StartPending:
		return "starting"
	case svc.StopPending:
		return "stopping"
	case svc.Running:
		return "running"
	case svc.ContinuePending:
		return "continuing"
	case svc.PausePending:
		return "pausing"
	case svc.Paused:
		return "paused"
	}
	return fmt.Sprintf("state %d", s)
}
