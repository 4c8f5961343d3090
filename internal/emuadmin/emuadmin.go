// Package emuadmin is what the emulators' admin APIs share (checkbox/emulator, basodata/emulator): the
// bearer-token check, the JSON answers and body, and the client's call. Each emulator keeps its own
// calls. It imports only the standard library.
package emuadmin

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Prefix is where an emulator's admin API lives, beside the API it emulates: neither Checkbox nor BAS has
// a path under it.
const Prefix = "/_emulator/"

// Authorize tells whether an admin call may go on, and answers it when not: 404 while the API is off
// (token ""), 401 without "Authorization: Bearer <token>".
func Authorize(w http.ResponseWriter, r *http.Request, token string) bool {
	if token == "" {
		http.NotFound(w, r)
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
		Reply(w, http.StatusUnauthorized, map[string]string{"message": "admin token required"})
		return false
	}
	return true
}

// Decoder returns the decoding of the call's body (1 MiB at most; none is no error) into v; false when
// the body is not JSON, which it has answered with 400.
func Decoder(w http.ResponseWriter, r *http.Request) func(v any) bool {
	body := http.MaxBytesReader(w, r.Body, 1<<20)
	return func(v any) bool {
		if err := json.NewDecoder(body).Decode(v); err != nil && !errors.Is(err, io.EOF) {
			Reply(w, http.StatusBadRequest, map[string]string{"message": "bad JSON: " + err.Error()})
			return false
		}
		return true
	}
}

// Reply answers with v as JSON.
func Reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Call makes one admin call to the emulator at baseURL (scheme://host:port) with in as its JSON body (nil:
// none) and decodes the answer into out (nil: not read). Anything but 200 is an error naming what.
func Call(ctx context.Context, hc *http.Client, baseURL, token, what, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(baseURL, "/")+Prefix+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s %s: %w", what, method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s %s: %d %s", what, method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}
