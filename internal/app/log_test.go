package app

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"obmin/internal/config"
)

func TestLogFileRotation(t *testing.T) {
	dir := t.TempDir()
	c := config.Log{File: filepath.Join(dir, "log", "obmin.log"), MaxSizeMB: 1, MaxBackups: 2, MaxAgeDays: 30}
	lj := logFile(c)
	if lj.Filename != c.File || lj.MaxSize != 1 || lj.MaxBackups != 2 || lj.MaxAge != 30 || !lj.LocalTime || lj.Compress {
		t.Fatalf("lumberjack config %+v", lj)
	}

	w, closeLog, err := LogOutput(c, &bytes.Buffer{})
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
	if _, _, err := LogOutput(config.Log{File: filepath.Join(blocker, "obmin.log"), MaxSizeMB: 1}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "log.file") {
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
