package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe to read while the command writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestEmulatorCommand(t *testing.T) {
	env := map[string]string{"OBMIN_EMULATOR_ADMIN_TOKEN": "secret-admin", "OBMIN_EMULATOR_PASSWORD": "pw"}
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"emulator", "-listen", "127.0.0.1:0", "-login", "cashier"}, func(k string) string { return env[k] }, &out, io.Discard)
	}()
	var base string
	for deadline := time.Now().Add(5 * time.Second); base == ""; {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			base = line
		} else if time.Now().After(deadline) {
			t.Fatal("no base URL on stdout")
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
	call := func(method, path, token, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("X-Client-Name", "test")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := call("GET", "/_emulator/goods", "", ""); code != http.StatusUnauthorized {
		t.Errorf("admin call without the token: %d, want 401", code)
	}
	if code, _ := call("GET", "/_emulator/goods", "wrong", ""); code != http.StatusUnauthorized {
		t.Errorf("admin call with a wrong token: %d, want 401", code)
	}
	if code, body := call("POST", "/api/v1/cashier/signin", "", `{"login":"cashier","password":"pw"}`); code != http.StatusOK {
		t.Fatalf("sign in with the flag's login and the env password: %d %s", code, body)
	}
	if code, body := call("POST", "/_emulator/faults", "secret-admin", `{"path_prefix":"/api/v1/cashier/signin","status":503,"times":1}`); code != http.StatusOK {
		t.Fatalf("inject fault: %d %s", code, body)
	}
	if code, _ := call("POST", "/api/v1/cashier/signin", "", `{"login":"cashier","password":"pw"}`); code != http.StatusServiceUnavailable {
		t.Errorf("with the fault injected: %d, want 503", code)
	}
	if code, body := call("GET", "/_emulator/goods", "secret-admin", ""); code != http.StatusOK || strings.TrimSpace(body) != "[]" {
		t.Errorf("goods: %d %s", code, body)
	}
	if code, _ := call("POST", "/_emulator/sales", "secret-admin", `{"n":1}`); code != http.StatusUnprocessableEntity {
		t.Errorf("sales with an empty catalogue: %d, want 422", code)
	}
	if code, _ := call("GET", "/_emulator/nothing", "secret-admin", ""); code != http.StatusNotFound {
		t.Errorf("unknown admin call: %d, want 404", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("emulator stopped with %v", err)
	}

	// Loopback only, and no admin endpoint without a token.
	if err := run(context.Background(), []string{"emulator", "-listen", "0.0.0.0:0"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil || exitCode(err) != 2 {
		t.Errorf("a non-loopback address must be refused as a usage error: %v", err)
	}
}
