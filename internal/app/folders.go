package app

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/sirupsen/logrus"

	"obmin/folder"
	"obmin/internal/config"
	"obmin/sftpdir"
)

// folders are where BAS's exports come from and where its orders file goes.
type folders struct {
	src    folder.Source
	out    folder.Target
	notify bool // file-system events can shorten the wait (local disks only)
	close  func() error
}

// openFolders opens BAS's side: local or mounted folders, or folders on an SFTP server (bas.sftp).
func openFolders(ctx context.Context, cfg config.Config, log *logrus.Entry) (folders, error) {
	if cfg.BAS.SFTP != nil {
		return openSFTP(cfg, log)
	}
	// Never created here: BAS's folders exist or the configuration is wrong (config.CheckFolders).
	return folders{
		src:    folder.LocalDir(cfg.BAS.ExportDir),
		out:    folder.LocalTarget(filepath.Dir(cfg.BAS.OrdersFile)),
		notify: cfg.BAS.Notify == nil || *cfg.BAS.Notify,
		close:  func() error { return nil },
	}, nil
}

// openSFTP makes the SFTP connection (it connects on first use, so a server that is down now delays
// the first scan, not the start) and the export folder and orders folder on it. SFTP sends no change
// events: the watcher polls.
func openSFTP(cfg config.Config, log *logrus.Entry) (folders, error) {
	s := cfg.BAS.SFTP
	conn, err := sftpdir.New(sftpdir.Config{
		Address: s.Address, User: s.User,
		Password: s.Password, PrivateKey: s.PrivateKey, Passphrase: s.Passphrase,
		KnownHostsFile: s.KnownHosts, HostKeyFingerprint: s.HostKeyFingerprint, InsecureIgnoreHostKey: s.InsecureIgnoreHostKey,
		DialTimeout: s.ConnectTimeout, KeepAlive: s.KeepAlive, MaxSessions: s.MaxSessions,
		Logger: log.WithField("part", "sftp"),
	})
	if err != nil {
		return folders{}, fmt.Errorf("sftp: %w", err)
	}
	if s.InsecureIgnoreHostKey {
		log.Warn("bas.sftp.insecure_ignore_host_key is true: the SFTP server's identity is NOT checked")
	}
	return folders{
		src:   conn.Source(s.ExportDir),
		out:   conn.Target(s.OrdersDir),
		close: conn.Close,
	}, nil
}
