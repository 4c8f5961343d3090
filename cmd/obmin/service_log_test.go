package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"obmin/checkbox/emulator"
	"obmin/internal/app"
	"obmin/internal/config"
)

func writeConfig(t *testing.T, dir, yaml string) string {
	t.Helper()
	p := filepath.Join(dir, "obmin.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLogConfig: log.file is relative to the config's folder, whatever the working folder (a service
// starts in C:\Windows\System32), rotation has defaults, and bad values name their key.
func TestLogConfig(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	t.Chdir(t.TempDir())

	cfg, err := app.LoadConfig(writeConfig(t, dir, "checkbox:\n  emulator: true\nlog:\n  file: log/obmin.log\n"), env)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Log{Format: "text", Level: "info", File: filepath.Join(dir, "log", "obmin.log"), MaxSizeMB: 20, MaxBackups: 10, RepeatWindow: time.Minute}
	if cfg.Log != want {
		t.Errorf("log config %+v, want %+v", cfg.Log, want)
	}
	abs := filepath.Join(t.TempDir(), "obmin.log")
	if cfg, err := app.LoadConfig(writeConfig(t, dir, "checkbox:\n  emulator: true\nlog:\n  file: "+abs+"\n"), env); err != nil || cfg.Log.File != abs {
		t.Errorf("an absolute log.file changed to %q (%v)", cfg.Log.File, err)
	}
	if cfg, err := app.LoadConfig(writeConfig(t, dir, "checkbox:\n  emulator: true\n"), env); err != nil || cfg.Log.File != "" {
		t.Errorf("no log.file: %q (%v), want stderr only", cfg.Log.File, err)
	}

	for _, tc := range []struct{ yaml, wantErr string }{
		{"log:\n  max_size_mb: 0\n", "log.max_size_mb: 0"},
		{"log:\n  max_backups: -1\n", "log.max_backups: -1"},
		{"log:\n  max_age_days: -7\n", "log.max_age_days: -7"},
		{"log:\n  file: var/state.db\n", "log.file"},
		{"log:\n  max_size: 5\n", "max_size"}, // a misspelt key
	} {
		_, err := app.LoadConfig(writeConfig(t, dir, "checkbox:\n  emulator: true\n"+tc.yaml), env)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%q: got %v, want an error with %q", tc.yaml, err, tc.wantErr)
		}
	}
}

// TestOnceLogsToFile: with log.file set, a real run against Checkbox (the emulator over HTTP) logs to the
// file, not to a stderr that is not a terminal, and never writes the password; a start that fails is
// in the file too, since nobody reads a service's stderr.
func TestOnceLogsToFile(t *testing.T) {
	const password = "Very-Secret-Cashier-Pass-42"
	emu := emulator.New(emulator.Config{Login: "cashier", Password: password, Seed: 5})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	basFolders(t, dir)
	cfgPath := writeConfig(t, dir, "checkbox:\n  base_url: "+srv.URL+"\n  login: cashier\n"+
		"log:\n  level: debug\n  file: log/obmin.log\n")
	env := map[string]string{"OBMIN_CHECKBOX_PASSWORD": password}
	t.Chdir(t.TempDir()) // not the config's folder

	out, errOut, err := runCmd(t, env, "once", "-config", cfgPath)
	if err != nil {
		t.Fatalf("once: %v\n%s\n%s", err, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "log", "obmin.log"))
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	if !strings.Contains(log, "level=") || !strings.Contains(log, "part=") {
		t.Errorf("the log file has no log lines:\n%s", log)
	}
	if strings.Contains(errOut, "level=") {
		t.Errorf("with log.file set and stderr not a terminal, stderr got log lines:\n%s", errOut)
	}
	if strings.Contains(log+errOut+out, password) {
		t.Error("the password reached the log")
	}

	// state_file inside a regular file: the agent cannot start; the reason is in the log file.
	if err := os.WriteFile(filepath.Join(dir, "not-a-dir"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath = writeConfig(t, dir, "checkbox:\n  base_url: "+srv.URL+"\n  login: cashier\nstate_file: not-a-dir/state.db\n"+
		"log:\n  file: log/obmin.log\n")
	if _, _, err := runCmd(t, env, "once", "-config", cfgPath); err == nil {
		t.Fatal("once with an impossible state_file succeeded")
	}
	b, _ = os.ReadFile(filepath.Join(dir, "log", "obmin.log"))
	if !strings.Contains(string(b), "obmin could not start") || !strings.Contains(string(b), "state_file") {
		t.Errorf("the log file does not say why obmin could not start:\n%s", b[max(0, len(b)-2000):])
	}
}
