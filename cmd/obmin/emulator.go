package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"obmin/checkbox/emulator"
)

// cmdEmulator runs the Checkbox emulator as a process of its own: for the torture harness and for trying
// obmin against a Checkbox that can be made to fail. It listens on loopback only, prints its base URL on
// stdout and stops on SIGTERM or Ctrl+C.
//
// With OBMIN_EMULATOR_ADMIN_TOKEN set, /_emulator/ answers control calls carrying
// "Authorization: Bearer <token>" (see docs/torture.md); without it, those calls get 404.
func cmdEmulator(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("emulator", stderr)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to listen on")
	login := fs.String("login", envOr(getenv, "OBMIN_EMULATOR_LOGIN", "emulator"), "cashier login (or $OBMIN_EMULATOR_LOGIN)")
	seed := fs.Int64("seed", 1, "seed for ids, keys and fiscal codes")
	tokenTTL := fs.Duration("token-ttl", 8*time.Hour, "lifetime of access tokens")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	password := envOr(getenv, "OBMIN_EMULATOR_PASSWORD", "emulator")
	emu := emulator.New(emulator.Config{Login: *login, Password: password, TokenTTL: *tokenTTL, Seed: *seed})
	defer emu.Close()

	ln, err := listenLoopback(ctx, *listen)
	if err != nil {
		return err
	}
	h := emulator.AdminHandler(emu, getenv("OBMIN_EMULATOR_ADMIN_TOKEN"))
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())

	select {
	case err := <-served:
		return fmt.Errorf("emulator: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	return nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// listenLoopback listens on addr, which must be a loopback address: a fake fiscal service must never be
// reachable from the shop's network.
func listenLoopback(ctx context.Context, addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, usageError{fmt.Sprintf("emulator: -listen %q: %v", addr, err)}
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, usageError{fmt.Sprintf("emulator: -listen %q is not a loopback address", addr)}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: listen on %s: %w", addr, err)
	}
	return ln, nil
}
