package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"obmin/exchange"
	"obmin/internal/config"
	"obmin/spool"
	"obmin/store"
)

// ReadStatus reads the status of a configuration; note says, in Ukrainian, why it is empty.
func ReadStatus(ctx context.Context, cfg config.Config) (st exchange.Status, note string, err error) {
	orders := cfg.BAS.OrdersFile
	if s := cfg.BAS.SFTP; s != nil {
		orders = fmt.Sprintf("%s у sftp://%s@%s/%s", filepath.Base(cfg.BAS.OrdersFile), s.User, s.Address, path.Clean(s.OrdersDir))
	}
	empty := exchange.Status{At: time.Now(), Emulated: cfg.Checkbox.Emulator, SpoolRoot: cfg.SpoolDir, Orders: orders,
		Spool: map[string]int{"inbox": 0, "processing": 0, "done": 0, "failed": 0}, Receipts: map[store.ReceiptState]int{}}
	for _, p := range []struct{ key, path, note string }{
		{"state_file", cfg.StateFile, "obmin ще не працював із цією конфігурацією: файлу стану %s немає."},
		{"spool_dir", cfg.SpoolDir, "obmin ще не працював із цією конфігурацією: теки %s немає."},
	} {
		if _, err := os.Stat(p.path); errors.Is(err, fs.ErrNotExist) {
			return empty, fmt.Sprintf(p.note, p.path), nil
		} else if err != nil {
			return st, "", fmt.Errorf("%s: %w", p.key, err)
		}
	}
	store, err := store.Open(ctx, cfg.StateFile)
	if err != nil {
		return st, "", fmt.Errorf("state_file: %w", err)
	}
	defer store.Close()
	sp, err := spool.AttachSpool(cfg.SpoolDir) // read as it is: OpenSpool would create folders and clean tmp/
	if err != nil {
		return st, "", fmt.Errorf("spool_dir: %w", err)
	}
	agent := &exchange.Agent{
		Spool: sp,
		Store: store, Emulated: cfg.Checkbox.Emulator,
		Sales: &exchange.Sales{Store: store, Cfg: exchange.SalesConfig{OrdersFile: orders, HeldDir: filepath.Join(cfg.SpoolDir, "held")}},
	}
	st, err = agent.Snapshot(ctx)
	return st, "", err
}
