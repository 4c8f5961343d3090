package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"obmin/internal/demo"
	"obmin/sftpdir/sftptest"
)

// TestOnceOverSFTP: `obmin once` with bas.sftp takes a drop from the SFTP folder to Checkbox (the
// emulator) and delivers the orders file into the SFTP folder; the server's key is checked against
// known_hosts, and a server with another key is refused.
func TestOnceOverSFTP(t *testing.T) {
	for _, kind := range []sftptest.Kind{sftptest.PkgSFTP, sftptest.OpenSSH} {
		t.Run(string(kind), func(t *testing.T) {
			dir := t.TempDir()
			remote := filepath.Join(dir, "server")
			srv := sftptest.Start(t, kind, remote)
			if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(srv.KnownHostsLine()), 0o600); err != nil {
				t.Fatal(err)
			}
			export := filepath.Join(remote, "bas", "export")
			if _, err := demo.WriteDrop(export, demo.Books, time.Now().Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
			cfg := fmt.Sprintf("checkbox:\n  emulator: true\nbas:\n  poll_interval: 100ms\n  min_age: 100ms\n  orders_file: orders.xml\n"+
				"  sftp:\n    address: %s\n    user: %s\n    known_hosts: known_hosts\n    export_dir: %s\n    orders_dir: %s\n",
				srv.Addr, sftptest.User, filepath.ToSlash(export), filepath.ToSlash(filepath.Join(remote, "bas")))
			cfgPath := filepath.Join(dir, "obmin.yaml")
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"OBMIN_SFTP_PASSWORD": sftptest.Password}
			out, errOut, err := runCmd(t, env, "once", "-config", cfgPath)
			if err != nil {
				t.Fatalf("once: %v\n%s\n%s", err, out, errOut)
			}
			if !strings.Contains(out, "у Checkbox 9") {
				t.Errorf("status after once should count 9 goods in Checkbox:\n%s", out)
			}
			orders, err := os.ReadFile(filepath.Join(remote, "bas", "orders.xml"))
			if err != nil || !strings.Contains(string(orders), "КоммерческаяИнформация") {
				t.Errorf("the orders file was not delivered into the SFTP folder: %v\n%s", err, orders)
			}
			if strings.Contains(errOut, sftptest.Password) {
				t.Error("the log shows the SFTP password")
			}

			// The same config against a server with another host key: refused, naming the key seen.
			srv.Stop()
			other := sftptest.Start(t, kind, remote)
			cfg = strings.Replace(cfg, srv.Addr, other.Addr, 1)
			if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(strings.Replace(srv.KnownHostsLine(), srv.Addr[strings.LastIndex(srv.Addr, ":")+1:], other.Addr[strings.LastIndex(other.Addr, ":")+1:], 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			_, errOut, err = runCmd(t, env, "once", "-config", cfgPath)
			if err == nil || !strings.Contains(err.Error()+errOut, "HOST KEY MISMATCH") || !strings.Contains(err.Error()+errOut, other.Fingerprint()) {
				t.Fatalf("once against a server with another key: %v\n%s", err, errOut)
			}
		})
	}
}
