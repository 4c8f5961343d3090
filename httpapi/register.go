package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Checkbox is how RegisterWebhook reaches Checkbox: its API address and a cashier's credentials (login and
// password, or PIN code), plus the licence key of the cash register whose webhook is set.
type Checkbox struct {
	BaseURL, Login, Password, PINCode, LicenseKey string
	ClientName, ClientVersion                     string
	HTTP                                          *http.Client
}

// WebhookPath is where obmin receives Checkbox's webhook.
const WebhookPath = "/checkbox/webhook"

// RegisterWebhook sets url as the webhook of the cash register with cb.LicenseKey (POST /api/v1/webhook,
// checkbox-api.md §8) and returns the secret key Checkbox generated for it: Checkbox shows it only here.
func RegisterWebhook(ctx context.Context, cb Checkbox, url string) (key string, err error) {
	if cb.LicenseKey == "" {
		return "", errors.New("register webhook: the cash register's licence key is required")
	}
	hc := cb.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	call := func(method, path string, hdr http.Header, in, out any) error {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(cb.BaseURL, "/")+path, bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header = hdr
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Client-Name", cmp(cb.ClientName, "obmin"))
		req.Header.Set("X-Client-Version", cmp(cb.ClientVersion, "dev"))
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(raw)))
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: answer: %w", method, path, err)
		}
		return nil
	}
	var signin struct {
		AccessToken string `json:"access_token"`
	}
	if cb.Login != "" {
		err = call(http.MethodPost, "/api/v1/cashier/signin", http.Header{}, map[string]string{"login": cb.Login, "password": cb.Password}, &signin)
	} else {
		err = call(http.MethodPost, "/api/v1/cashier/signinPinCode", http.Header{"X-License-Key": {cb.LicenseKey}}, map[string]string{"pin_code": cb.PINCode}, &signin)
	}
	if err != nil {
		return "", fmt.Errorf("register webhook: sign in: %w", err)
	}
	var info struct {
		URL string `json:"url"`
		Key string `json:"key"`
	}
	hdr := http.Header{"Authorization": {"Bearer " + signin.AccessToken}, "X-License-Key": {cb.LicenseKey}}
	if err := call(http.MethodPost, "/api/v1/webhook", hdr, map[string]string{"url": url}, &info); err != nil {
		return "", fmt.Errorf("register webhook: %w", err)
	}
	if info.Key == "" {
		return "", errors.New("register webhook: Checkbox's answer carries no key")
	}
	return info.Key, nil
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
