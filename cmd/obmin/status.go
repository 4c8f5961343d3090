package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"obmin/exchange"
	"obmin/internal/config"
	"obmin/spool"
)

// cmdStatus prints what status.txt shows, read from the spool and the state as they are: it needs no
// Checkbox credentials (it talks to nobody), creates no folder and no file, opens no log and takes no
// lock, so it runs beside a running obmin and against a configuration that has never run.
func cmdStatus(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fl := newFlags("status", stderr)
	cfgPath := configFlag(fl, getenv)
	asJSON := fl.Bool("json", false, "print JSON (snake_case keys, nested objects)")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if _, err := os.Stat(*cfgPath); err != nil {
		return fmt.Errorf("config file %s: %w (copy configs/example.yaml and edit it, or try `obmin demo`)", *cfgPath, err)
	}
	cfg, err := config.LoadWithoutCredentials(*cfgPath, getenv)
	if err != nil {
		return err
	}
	st, note, err := readStatus(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	if note != "" {
		fmt.Fprintf(stdout, "%s\r\n\r\n", note)
	}
	st.Text(stdout)
	return nil
}

// readStatus reads the status of a configuration; note says, in Ukrainian, why it is empty.
func readStatus(ctx context.Context, cfg config.Config) (st exchange.Status, note string, err error) {
	orders := cfg.BAS.OrdersFile
	if s := cfg.BAS.SFTP; s != nil {
		orders = fmt.Sprintf("%s у sftp://%s@%s/%s", filepath.Base(cfg.BAS.OrdersFile), s.User, s.Address, path.Clean(s.OrdersDir))
	}
	empty := exchange.Status{At: time.Now(), Emulated: cfg.Checkbox.Emulator, SpoolRoot: cfg.SpoolDir, Orders: orders,
		Spool: map[string]int{"inbox": 0, "processing": 0, "done": 0, "failed": 0}, Receipts: map[spool.ReceiptState]int{}}
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
	store, err := spool.OpenStore(ctx, cfg.StateFile)
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
