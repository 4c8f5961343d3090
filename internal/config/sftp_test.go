package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSFTPExampleConfigs(t *testing.T) {
	creds := map[string]string{"OBMIN_CHECKBOX_LOGIN": "cashier", "OBMIN_CHECKBOX_PASSWORD": "s3cret", "OBMIN_SFTP_PASSWORD": "sftp-pw"}
	// The example names a private key file beside it: load a copy beside such a file.
	dir := t.TempDir()
	example, err := os.ReadFile(filepath.Join("..", "..", "configs", "sftp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"sftp.yaml": example, "obmin_sftp_ed25519": []byte("KEY")} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := Load(filepath.Join(dir, "sftp.yaml"), env(creds))
	if err != nil {
		t.Fatalf("configs/sftp.yaml: %v", err)
	}
	s := cfg.BAS.SFTP
	if s == nil || s.Address != "files.example.com:22" || s.ExportDir != "/bas/exchange/export" || filepath.Base(cfg.BAS.OrdersFile) != "orders.xml" || len(cfg.Warnings()) > 0 {
		t.Fatalf("sftp section: %+v", s)
	}
	share, err := Load(filepath.Join("..", "..", "configs", "share.yaml"), env(creds))
	if err != nil {
		t.Fatalf("configs/share.yaml: %v", err)
	}
	if share.BAS.SFTP != nil || share.BAS.Notify == nil || *share.BAS.Notify || len(share.Warnings()) > 0 {
		t.Fatalf("share: poll only, no sftp: %+v", share.BAS)
	}
}

func TestSFTPErrorsNameTheKey(t *testing.T) {
	const base = "checkbox:\n  emulator: true\nbas:\n  sftp:\n"
	const ok = "    address: h:22\n    user: u\n    known_hosts: kh\n    export_dir: /e\n    orders_dir: /o\n"
	tests := []struct{ name, body, want string }{
		{"password in the file", ok + "    password: p\n", "bas.sftp.password: secrets"},
		{"passphrase in the file", ok + "    passphrase: p\n", "bas.sftp.passphrase: secrets"},
		{"no address", strings.Replace(ok, "address: h:22", "address: ''", 1), "bas.sftp.address: required"},
		{"a URL for an address", strings.Replace(ok, "address: h:22", "address: sftp://h/x", 1), "bas.sftp.address"},
		{"a bad port", strings.Replace(ok, "address: h:22", "address: h:ssh", 1), "bas.sftp.address"},
		{"no user", strings.Replace(ok, "user: u", "user: ''", 1), "bas.sftp.user"},
		{"no host key check", strings.Replace(ok, "known_hosts: kh", "known_hosts: ''", 1), "bas.sftp.known_hosts: required"},
		{"two host key checks", ok + "    insecure_ignore_host_key: true\n", "only one"},
		{"an MD5 fingerprint", strings.Replace(ok, "known_hosts: kh", "host_key_fingerprint: 'MD5:ab'", 1), "bas.sftp.host_key_fingerprint"},
		{"no export dir", strings.Replace(ok, "export_dir: /e", "export_dir: ''", 1), "bas.sftp.export_dir"},
		{"no orders dir", strings.Replace(ok, "orders_dir: /o", "orders_dir: ''", 1), "bas.sftp.orders_dir"},
		{"too many sessions", ok + "    max_sessions: 1000\n", "bas.sftp.max_sessions"},
		{"a misspelt key", ok + "    knownhosts: x\n", "knownhosts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, base+tt.body), env(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v should contain %q", err, tt.want)
			}
		})
	}
}

func TestResolveSFTP(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"pw.txt": "file-pw\n", "key": "KEY", "kh": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	newCfg := func(s SFTP) Config { return Config{Dir: dir, BAS: BAS{SFTP: &s}} }

	c := newCfg(SFTP{PasswordFile: "pw.txt", PrivateKeyFile: "key", KnownHosts: "kh"})
	if err := c.ResolveSFTP(env(map[string]string{"OBMIN_SFTP_PASSPHRASE": "pp"})); err != nil {
		t.Fatal(err)
	}
	s := c.BAS.SFTP
	if s.Password != "file-pw" || string(s.PrivateKey) != "KEY" || s.Passphrase != "pp" || s.KnownHosts != filepath.Join(dir, "kh") {
		t.Fatalf("resolved: %+v", s)
	}
	c = newCfg(SFTP{PasswordFile: "pw.txt"})
	if err := c.ResolveSFTP(env(map[string]string{"OBMIN_SFTP_PASSWORD": "env-pw"})); err != nil || c.BAS.SFTP.Password != "env-pw" {
		t.Fatalf("the environment wins over the file: %q, %v", c.BAS.SFTP.Password, err)
	}
	c = newCfg(SFTP{})
	if err := c.ResolveSFTP(env(nil)); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "OBMIN_SFTP_PASSWORD") {
		t.Fatalf("no credentials: %v", err)
	}
	c = newCfg(SFTP{PrivateKeyFile: "missing"})
	if err := c.ResolveSFTP(env(nil)); err == nil || !strings.Contains(err.Error(), "bas.sftp.private_key_file") {
		t.Fatalf("missing key file: %v", err)
	}
}
