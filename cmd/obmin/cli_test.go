package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"obmin/internal/app"
	"obmin/internal/config"
	"obmin/internal/demo"
)

func TestHelpPerCommandExitsZero(t *testing.T) {
	for _, cmd := range []string{"run", "once", "demo", "inspect", "status", "check", "emulator", "webhook", "service", "version"} {
		t.Run(cmd, func(t *testing.T) {
			want := "Usage: obmin " + cmd
			if cmd == "service" {
				want = "obmin service install"
			}
			var outs []string
			for _, args := range [][]string{{cmd, "-h"}, {cmd, "--help"}, {"help", cmd}} {
				out, errOut, err := runCmd(t, nil, args...)
				if err != nil {
					t.Fatalf("%v: %v (exit %d)", args, err, exitCode(err))
				}
				if !strings.Contains(out, want) || errOut != "" {
					t.Fatalf("%v: stdout %q, stderr %q; want the command's help on stdout", args, out, errOut)
				}
				outs = append(outs, out)
			}
			if outs[0] != outs[2] {
				t.Errorf("`obmin %s -h` and `obmin help %s` differ:\n%s\n---\n%s", cmd, cmd, outs[0], outs[2])
			}
		})
	}
	out, _, err := runCmd(t, nil, "run", "-h")
	if err != nil || !strings.Contains(out, "-config") {
		t.Errorf("run's help lists its flags: %q", out)
	}
	if _, _, err := runCmd(t, nil, "help", "frobnicate"); exitCode(err) != 2 {
		t.Errorf("help for an unknown command: %v", err)
	}
	if _, _, err := runCmd(t, nil, "run", "-frobnicate"); exitCode(err) != 2 {
		t.Errorf("an unknown flag is a usage error: %v", err)
	}
	if out, _, err := runCmd(t, nil, "help"); err != nil || !strings.Contains(out, "obmin help COMMAND") {
		t.Errorf("help: %v %q", err, out)
	}
}

func TestVersionPrintsStamps(t *testing.T) {
	defer func(v, c, d string) { Version, Commit, Date = v, c, d }(Version, Commit, Date)
	Version, Commit, Date = "1.4.0", "0123456789abcdef0123456789abcdef01234567", "2026-03-12T10:00:00Z"
	out, _, err := runCmd(t, nil, "version")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"obmin 1.4.0\n", "commit: 0123456789abcdef0123456789abcdef01234567\n", "built:  2026-03-12T10:00:00Z\n", "go:     go"} {
		if !strings.Contains(out, want) {
			t.Errorf("version lacks %q:\n%s", want, out)
		}
	}
	Version, Commit, Date = "dev", "", ""
	if out, _, _ := runCmd(t, nil, "version"); !strings.Contains(out, "obmin dev\ncommit: ") || !strings.Contains(out, "built:  ") {
		t.Errorf("unstamped: %s", out)
	}
}

func writeFile(t *testing.T, p, body string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckAgreesWithRun(t *testing.T) {
	dir := t.TempDir()
	// A schedule run would refuse: check refuses it too, naming the key.
	bad := writeFile(t, filepath.Join(dir, "bad.yaml"), "checkbox:\n  emulator: true\nschedule:\n  retention: \"0 30 2 * * *\"\n")
	for _, cmd := range []string{"check", "run", "once"} {
		_, _, err := runCmd(t, nil, cmd, "-config", bad)
		if err == nil || !strings.Contains(err.Error(), "schedule.retention") {
			t.Errorf("%s: %v; want the schedule refused", cmd, err)
		}
	}
	empty := writeFile(t, filepath.Join(dir, "empty.yaml"), "# to do\n")
	if _, _, err := runCmd(t, nil, "check", "-config", empty); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("an empty config: %v", err)
	}
	esc := writeFile(t, filepath.Join(dir, "esc.yaml"), "checkbox:\n  emulator: true\nspool_dir: \"C:\\obmin\\spool\"\n")
	if _, _, err := runCmd(t, nil, "check", "-config", esc); err == nil || !strings.Contains(err.Error(), "line 3 (spool_dir)") ||
		!strings.Contains(err.Error(), "single quotes") {
		t.Errorf("a double-quoted Windows path that does not parse: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "var", "bas", "export"), 0o755); err != nil { // BAS's folder must exist
		t.Fatal(err)
	}
	warn := writeFile(t, filepath.Join(dir, "warn.yaml"), "checkbox:\n  emulator: true\nbas:\n  orders_file: \"\\\\\\\\srv\\\\bas\\\\orders.xml\"\n")
	out, _, err := runCmd(t, nil, "check", "-config", warn)
	if err != nil || !strings.Contains(out, "# WARNING: bas.orders_file (line 4)") {
		t.Errorf("a double-quoted Windows path that parses: %v\n%s", err, out)
	}
}

// listTree lists every path under dir.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	slices.Sort(out)
	return out
}

func TestStatusNeedsNoCredentialsAndCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeFile(t, filepath.Join(dir, "obmin.yaml"), "checkbox:\n  login: cashier\nlog:\n  file: log/obmin.log\n")
	before := listTree(t, dir)
	out, errOut, err := runCmd(t, nil, "status", "-config", cfgPath)
	if err != nil {
		t.Fatalf("status of a config that never ran, without a password: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "ще не працював") || !strings.Contains(out, "inbox") {
		t.Errorf("status:\n%s", out)
	}
	jsonOut, _, err := runCmd(t, nil, "status", "-config", cfgPath, "-json")
	if err != nil || !json.Valid([]byte(jsonOut)) {
		t.Fatalf("status -json: %v\n%s", err, jsonOut)
	}
	if after := listTree(t, dir); !slices.Equal(before, after) {
		t.Fatalf("status created %v (before: %v)", after, before)
	}

	// After a run on the emulator, status reads its state, with the same config less the emulator and
	// with no credentials: the drops job is there.
	emu := writeFile(t, filepath.Join(dir, "emu.yaml"), "checkbox:\n  emulator: true\nbas:\n  poll_interval: 100ms\n  min_age: 100ms\n")
	if _, err := demo.WriteDrop(filepath.Join(dir, "var", "bas", "export"), demo.Books, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := runCmd(t, nil, "once", "-config", emu); err != nil {
		t.Fatalf("once: %v\n%s\n%s", err, out, errOut)
	}
	before = listTree(t, dir)
	jsonOut, _, err = runCmd(t, nil, "status", "-config", cfgPath, "-json")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Spool map[string]int `json:"spool"`
		Jobs  []struct {
			Name    string         `json:"name"`
			OK      bool           `json:"ok"`
			Summary map[string]any `json:"summary"`
		} `json:"jobs"`
		Drops []struct {
			ID    string `json:"id"`
			State string `json:"state"`
		} `json:"recent_drops"`
	}
	if err := json.Unmarshal([]byte(jsonOut), &st); err != nil {
		t.Fatal(err)
	}
	if st.Spool["done"] != 1 || len(st.Drops) != 1 || st.Drops[0].State != "done" {
		t.Errorf("status after once: %s", jsonOut)
	}
	jobs := map[string]bool{}
	for _, j := range st.Jobs {
		jobs[j.Name] = j.OK
	}
	if !jobs["drops"] || !jobs["pull-receipts"] {
		t.Errorf("jobs %v: want drops and pull-receipts, succeeded", jobs)
	}
	if after := listTree(t, dir); !slices.Equal(before, after) {
		t.Errorf("status beside an existing state created or removed %v → %v", before, after)
	}
}

func TestLoggerCollapsesRepeats(t *testing.T) {
	var out bytes.Buffer
	log, err := app.NewLogger(config.Log{Format: "text", Level: "info", RepeatWindow: time.Minute}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		log.WithFields(map[string]any{"part": "checkbox", "attempt": i}).Warn("Checkbox request failed; retrying")
	}
	app.FlushLog(log)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "repeated 19 times") {
		t.Fatalf("20 warnings wrote:\n%s", out.String())
	}
}

// A drop BAS exported broken reaches failed/ and the shop's channels, through the configuration as an
// administrator writes it; the secrets come from the environment and stay out of the log.
func TestOnceNotifiesFailedDrop(t *testing.T) {
	type got struct {
		path, auth string
		body       []byte
	}
	arrived := make(chan got, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		arrived <- got{r.URL.Path, r.Header.Get("Authorization"), b}
		io.WriteString(w, `{"ok":true,"result":{}}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfgPath := writeFile(t, filepath.Join(dir, "obmin.yaml"), "checkbox:\n  emulator: true\nbas:\n  poll_interval: 100ms\n  min_age: 100ms\nlog:\n  level: debug\n"+
		"notify:\n  name: Тест\n  webhook:\n    url: "+srv.URL+"/hook\n  telegram:\n    chat_id: \"42\"\n    api_url: "+srv.URL+"\n")
	export := filepath.Join(dir, "var", "bas", "export", "webdata - 1")
	bad := strings.Replace(string(demo.Offers(demo.Books, time.Now())), "<ЦенаЗаЕдиницу>420.00<", "<ЦенаЗаЕдиницу>420,0x<", 1)
	writeFile(t, filepath.Join(export, "offers.xml"), bad)
	old := time.Now().Add(-time.Hour) // complete since long: taken at the first scan
	os.Chtimes(filepath.Join(export, "offers.xml"), old, old)
	env := map[string]string{"OBMIN_NOTIFY_WEBHOOK_SECRET": "hook-secret-1", "OBMIN_NOTIFY_TELEGRAM_TOKEN": "777:bot-secret"}
	_, errOut, _ := runCmd(t, env, "once", "-config", cfgPath)
	seen := map[string]got{}
	for len(seen) < 2 {
		select {
		case g := <-arrived:
			seen[g.path] = g
		default:
			t.Fatalf("notifications: %v\nlog:\n%s", seen, errOut)
		}
	}
	hook, bot := seen["/hook"], seen["/bot777:bot-secret/sendMessage"]
	if hook.auth != "Bearer hook-secret-1" || !strings.Contains(string(hook.body), `"event":"drop_failed"`) ||
		!strings.Contains(string(bot.body), "Пакет BAS не оброблено") || !strings.Contains(string(bot.body), `"chat_id":"42"`) {
		t.Errorf("webhook %s %s\ntelegram %s", hook.auth, hook.body, bot.body)
	}
	for _, secret := range []string{"hook-secret-1", "bot-secret"} {
		if strings.Contains(errOut, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
	if !strings.Contains(errOut, "notifications on") {
		t.Errorf("the log says notifications are on:\n%s", errOut)
	}
}
