package main

import (
	"io"
	"strings"
	"testing"

	"obmin/internal/winservice"
)

func TestParseServiceArgs(t *testing.T) {
	env := map[string]string{"OBMIN_CONFIG": `C:\obmin\obmin.yaml`}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		args    []string
		want    winservice.Op
		wantErr string // empty: no error
	}{
		{args: []string{"install", "-config", "obmin.yaml"}, want: winservice.Op{Action: "install", Name: "obmin", Config: "obmin.yaml"}},
		{args: []string{"install"}, want: winservice.Op{Action: "install", Name: "obmin", Config: `C:\obmin\obmin.yaml`}},
		{args: []string{"status", "-name", "obmin-shop2"}, want: winservice.Op{Action: "status", Name: "obmin-shop2", Config: `C:\obmin\obmin.yaml`}},
		{args: []string{"install", "-config", "obmin.yaml", "-account", "LocalSystem", "-fix-acl"}, want: winservice.Op{Action: "install", Name: "obmin", Config: "obmin.yaml", Account: "LocalSystem", FixACL: true}},
		{args: []string{"install", "-account", "virtual"}, want: winservice.Op{Action: "install", Name: "obmin", Config: `C:\obmin\obmin.yaml`}},
		{args: []string{"install", "-account", `.\obmin-svc`}, wantErr: "want virtual or LocalSystem"},
		{args: []string{"start", "-fix-acl"}, wantErr: "go with install"},
		{args: nil, wantErr: "want install, uninstall, start, stop or status"},
		{args: []string{"restart"}, wantErr: `unknown action "restart"`},
		{args: []string{"-config", "x.yaml", "install"}, wantErr: `unknown action "-config"`},
		{args: []string{"install", "extra"}, wantErr: `unexpected argument "extra"`},
		{args: []string{"install", "-name", `a\b`}, wantErr: `-name "a\\b"`},
		{args: []string{"install", "-name", ""}, wantErr: `-name ""`},
		{args: []string{"start", "-bogus"}, wantErr: "-bogus"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			op, err := parseServiceArgs(tc.args, getenv, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || exitCode(err) != 2 {
					t.Fatalf("got %v (exit %d), want a usage error with %q", err, exitCode(err), tc.wantErr)
				}
				return
			}
			if err != nil || op != tc.want {
				t.Fatalf("got %+v, %v; want %+v", op, err, tc.want)
			}
		})
	}
}
