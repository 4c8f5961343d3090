package main

import (
	"bytes"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"obmin/checkbox/emulator"
	"obmin/internal/config"
)

func logCfg(level string) config.Log {
	c := config.Default().Log
	c.Level = level
	return c
}

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

	cfg, err := loadConfig(writeConfig(t, dir, "checkbox:\n  emulator: true\nlog:\n  file: log/obmin.log\n"), env)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Log{Format: "text", Level: "info", File: filepath.Join(dir, "log", "obmin.log"), MaxSizeMB: 20, MaxBackups: 10, RepeatWindow: time.Minute}
	if cfg.Log != want {
		t.Errorf("log config %+v, want %+v", cfg.Log, want)
	}
	abs := filepath.Join(t.TempDir(), "obmin.log")
	if cfg, err := loadConfig(writeConfig(t, dir, "checkbox:\n  emulator: true\nlog:\n  file: "+abs+"\n"), env); err != nil || cfg.Log.File != abs {
		t.Errorf("an absolute log.file changed to %q (%v)", cfg.Log.File, err)
	}
	if cfg, err := loadConfig(writeConfig(t, dir, "checkbox:\n  emulator: true\n"), env); err != nil || cfg.Log.File != "" {
		t.Errorf("no log.file: %q (%v), want stderr only", cfg.Log.File, err)
	}

	for _, tc := range []struct{ yaml, wantErr string }{
		{"log:\n  max_size_mb: 0\n", "log.max_size_mb: 0"},
		{"log:\n  max_backups: -1\n", "log.max_backups: -1"},
		{"log:\n  max_age_days: -7\n", "log.max_age_days: -7"},
		{"log:\n  file: var/state.db\n", "log.file"},
		{"log:\n  max_size: 5\n", "max_size"}, // a misspelt key
	} {
		_, err := loadConfig(writeConfig(t, dir, "checkbox:\n  emulator: true\n"+tc.yaml), env)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%q: got %v, want an error with %q", tc.yaml, err, tc.wantErr)
		}
	}
}

func TestLogFileRotation(t *testing.T) {
	dir := t.TempDir()
	c := config.Log{File: filepath.Join(dir, "log", "obmin.log"), MaxSizeMB: 1, MaxBackups: 2, MaxAgeDays: 30}
	lj := logFile(c)
	if lj.Filename != c.File || lj.MaxSize != 1 || lj.MaxBackups != 2 || lj.MaxAge != 30 || !lj.LocalTime || lj.Compress {
		t.Fatalf("lumberjack config %+v", lj)
	}

	w, closeLog, err := logOutput(c, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(c.File) // created (folder and all) at start, not at the first line
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %v, want 0600", fi.Mode().Perm())
	}
	line := []byte(strings.Repeat("x", 1023) + "\n")
	for range 4 * 1024 { // 4 MiB in 1 MiB files: the current one and at most 2 rotated ones stay
		if _, err := w.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := closeLog(); err != nil {
		t.Fatal(err)
	}
	// lumberjack deletes old files in a goroutine of its own.
	deadline := time.Now().Add(10 * time.Second)
	for {
		backups, _ := filepath.Glob(filepath.Join(dir, "log", "obmin-*.log"))
		if len(backups) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rotated files %q, want 2", backups)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if fi, err := os.Stat(c.File); err != nil || fi.Size() > 1<<20 {
		t.Fatalf("current log file: %v, %v", fi, err)
	}

	// A log file obmin cannot create is an error at start, naming the key.
	blocker := filepath.Join(dir, "a-file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := logOutput(config.Log{File: filepath.Join(blocker, "obmin.log"), MaxSizeMB: 1}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "log.file") {
		t.Errorf("unwritable log.file: %v", err)
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer pw.Close()
	var nilFile *os.File
	for _, w := range []io.Writer{&bytes.Buffer{}, f, pw, nilFile} {
		if isTerminal(w) {
			t.Errorf("%T is not a terminal", w)
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
