package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"

	"obmin/internal/config"
	"obmin/spool"
)

// folders are where BAS's exports come from and where its orders file goes.
type folders struct {
	src    spool.Source
	out    spool.Target
	notify bool // file-system events can shorten the wait (local disks only)
	close  func() error
}

// openFolders opens BAS's side: local or mounted folders.
func openFolders(ctx context.Context, cfg config.Config, log *logrus.Entry) (folders, error) {
	if err := os.MkdirAll(cfg.BAS.ExportDir, 0o755); err != nil {
		return folders{}, err
	}
	return folders{
		src:    spool.LocalDir(cfg.BAS.ExportDir),
		out:    spool.LocalTarget(filepath.Dir(cfg.BAS.OrdersFile)),
		notify: cfg.BAS.Notify == nil || *cfg.BAS.Notify,
		close:  func() error { return nil },
	}, nil
}
