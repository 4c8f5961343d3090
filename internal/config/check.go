package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"

	"obmin/internal/cronspec"
)

// The checks every key gets by its kind, beside the per-key rules in Validate: schedules parse as the
// scheduler parses them, no duration is negative, no path holds a control character. Walking the
// structure by its yaml tags keeps keys added later under the same rules.

// errEmpty is a config file with nothing in it: all defaults is never what an administrator meant.
var errEmpty = errors.New("the file is empty; copy configs/example.yaml, which explains every key, and edit it")

// isBlank reports whether raw holds no YAML at all: nothing, white space or comments.
func isBlank(raw []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\ufeff"))))
	sc.Buffer(nil, len(raw)+1)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") && line != "---" && line != "..." {
			return false
		}
	}
	return true
}

// validateSchedules parses every schedule with cronspec, the scheduler's own parser.
func (c *Config) validateSchedules(bad func(key, format string, a ...any)) {
	for key, spec := range map[string]string{
		"schedule.pull_receipts": c.Schedule.PullReceipts,
		"schedule.retention":     c.Schedule.Retention,
		"schedule.reconcile":     c.Schedule.Reconcile,
	} {
		if _, err := cronspec.Parse(spec); err != nil {
			bad(key, "%v", err)
		}
	}
}

// validateKinds checks every duration and every path of the configuration, found by their yaml keys: a
// duration must not be negative; a path (a key named file, *_file, *_dir or known_hosts) must hold no
// control character, which in practice is a Windows path in double quotes whose backslashes YAML read as
// escapes ("C:\temp" holds a tab), and on Windows none of the characters Windows refuses in a name.
// bad is called only for keys no other rule reported.
func (c *Config) validateKinds(bad func(key, format string, a ...any)) {
	walkKeys(reflect.ValueOf(c).Elem(), "", func(key string, v reflect.Value) {
		switch {
		case v.Type() == reflect.TypeOf(time.Duration(0)):
			if d := time.Duration(v.Int()); d < 0 {
				bad(key, "%s: must not be negative", d)
			}
		case v.Kind() == reflect.String && isPathKey(key):
			if problem := pathProblem(v.String()); problem != "" {
				bad(key, "%q %s", v.String(), problem)
			}
		}
	})
}

// walkKeys calls fn for every field of a struct with a yaml key (nested structs and non-nil pointers to
// structs are walked, their keys dotted), after dereferencing pointers.
func walkKeys(v reflect.Value, prefix string, fn func(key string, v reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				continue
			}
			fv = fv.Elem()
		}
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(time.Time{}) {
			walkKeys(fv, key, fn)
			continue
		}
		fn(key, fv)
	}
}

func isPathKey(key string) bool {
	last := key[strings.LastIndex(key, ".")+1:]
	return last == "file" || last == "known_hosts" || strings.HasSuffix(last, "_file") || strings.HasSuffix(last, "_dir")
}

// quoteAdvice is how to write a Windows path in YAML.
const quoteAdvice = "write a Windows path in single quotes ('C:\\obmin\\spool') or with forward slashes (C:/obmin/spool): " +
	"inside double quotes YAML reads a backslash as an escape (\\b a backspace, \\t a tab, \\n a new line)"

// pathProblem says what is wrong with a path, or "".
func pathProblem(p string) string {
	for _, r := range p {
		if unicode.IsControl(r) {
			return fmt.Sprintf("holds the control character %U: %s", r, quoteAdvice)
		}
	}
	if runtime.GOOS == "windows" {
		rest := p
		if len(rest) >= 2 && rest[1] == ':' {
			rest = rest[2:] // the drive's colon
		}
		rest = strings.TrimPrefix(strings.TrimPrefix(rest, `\\?\`), `\\.\`)
		if i := strings.IndexAny(rest, `<>"|?*:`); i >= 0 {
			return fmt.Sprintf("holds %q, which Windows does not allow in a file or folder name", rest[i])
		}
	}
	return ""
}

// windowsPath matches the start of a Windows path as written in YAML: a drive (C:\) or a share (\\server).
var windowsPath = regexp.MustCompile(`^(?:[A-Za-z]:\\|\\\\)`)

// quotedWindowsPaths lists the keys of raw whose value is a Windows path in double quotes. The file
// parsed, so the backslashes happened to make valid escapes, and the path obmin got may not be the one
// written ("C:\bas" holds a backspace): worth a warning even when the path check passes.
func quotedWindowsPaths(raw []byte) []string {
	var root yaml.Node
	if yaml.Unmarshal(raw, &root) != nil {
		return nil
	}
	lines := strings.Split(string(raw), "\n")
	var out []string
	var walk func(n *yaml.Node, key string)
	walk = func(n *yaml.Node, key string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, key)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if key != "" {
					k = key + "." + k
				}
				walk(n.Content[i+1], k)
			}
		case yaml.ScalarNode:
			if n.Style&yaml.DoubleQuotedStyle == 0 || n.Line < 1 || n.Line > len(lines) {
				return
			}
			src := quotedSource(lines[n.Line-1], n.Column-1)
			if windowsPath.MatchString(src) {
				out = append(out, fmt.Sprintf("%s (line %d): the Windows path \"%s\" is in double quotes; %s", key, n.Line, src, quoteAdvice))
			}
		}
	}
	walk(&root, "")
	return out
}

// quotedSource is the text of a double-quoted scalar as written, from the opening quote at col of line
// to the closing one (escaped quotes skipped); "" when col does not hold a quote.
func quotedSource(line string, col int) string {
	if col < 0 || col >= len(line) || line[col] != '"' {
		return ""
	}
	s := line[col+1:]
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[:i]
		}
	}
	return s
}

// quotedKeyLine matches a line "key: "value"" of a YAML file, to point at a double-quoted Windows path
// when the file does not parse (yaml's escape errors name no line).
var quotedKeyLine = regexp.MustCompile(`^\s*(?:-\s+)?([^\s:#"']+)\s*:\s*"(.*)"`)

// withEscapeHint adds, to a YAML error about an escape, where a Windows path sits in double quotes and
// how to write it instead.
func withEscapeHint(raw []byte, err error) error {
	msg := err.Error()
	if !strings.Contains(msg, "escape character") && !strings.Contains(msg, "hexdecimal number") {
		return err
	}
	var where []string
	for i, line := range strings.Split(string(raw), "\n") {
		if m := quotedKeyLine.FindStringSubmatch(line); m != nil && strings.Contains(m[2], `\`) {
			where = append(where, fmt.Sprintf("line %d (%s)", i+1, m[1]))
		}
	}
	if len(where) == 0 {
		return fmt.Errorf("%w; a backslash inside double quotes? %s", err, quoteAdvice)
	}
	return fmt.Errorf("%w: %s holds a backslash inside double quotes; %s", err, strings.Join(where, ", "), quoteAdvice)
}

// QuoteWarnings are the config file's Windows paths in double quotes (see quotedWindowsPaths): allowed,
// since they parsed, but each is a trap. `obmin check` prints them.
func (c *Config) QuoteWarnings() []string { return c.quoteWarnings }

// credentialKeys are the keys under which a missing credential is reported.
var credentialKeys = []string{"checkbox.login", "http.password_file", "bas.sftp.password_file", "notify.telegram.token_file"}

// withoutCredentials wraps bad so that missing credentials are not reported (LoadWithoutCredentials).
func withoutCredentials(bad func(key, format string, a ...any)) func(key, format string, a ...any) {
	return func(key, format string, a ...any) {
		if !slices.Contains(credentialKeys, key) {
			bad(key, format, a...)
		}
	}
}

// reportedKeys wraps bad so that a key already reported by another rule is not reported twice.
func reportedKeys(errs *[]error, bad func(key, format string, a ...any)) func(key, format string, a ...any) {
	return func(key, format string, a ...any) {
		for _, e := range *errs {
			if strings.HasPrefix(e.Error(), key+":") {
				return
			}
		}
		bad(key, format, a...)
	}
}
