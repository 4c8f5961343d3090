package checkbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// WebhookInfo is a cash register's webhook setting (docs/checkbox-rest.md §8, WebhookInfoResponseSchema). Key,
// the secret that signs every delivery, is in the answer to SetWebhook only.
type WebhookInfo struct {
	URL string `json:"url"`
	Key string `json:"key,omitempty"`
}

// errNoLicenseKey: webhook settings are kept per cash register, which the licence key names.
var errNoLicenseKey = errors.New("checkbox: webhook: the cash register's licence key is required (Config.LicenseKey)")

// SetWebhook makes Checkbox post the receipts of the client's cash register (Config.LicenseKey) to url,
// and returns the secret key Checkbox generated for it: POST /api/v1/webhook with X-License-Key
// (docs/checkbox-rest.md §8). Checkbox shows the key only in this answer. Setting it again replaces the key, so
// a retry after a lost answer is safe: the key returned last is the one in force.
func (c *Client) SetWebhook(ctx context.Context, url string) (WebhookInfo, error) {
	var info WebhookInfo
	if c.licenseKey == "" {
		return info, errNoLicenseKey
	}
	r, err := jsonRequest(http.MethodPost, "/api/v1/webhook", struct {
		URL string `json:"url"`
	}{url})
	if err != nil {
		return info, err
	}
	r.header = http.Header{"X-License-Key": {c.licenseKey}}
	if err := c.do(ctx, r, &info); err != nil {
		return info, fmt.Errorf("checkbox: set webhook: %w", err)
	}
	if info.Key == "" {
		return info, errors.New("checkbox: set webhook: the answer carries no key")
	}
	return info, nil
}

// Webhook reads the cash register's webhook setting (GET /api/v1/webhook; no key in the answer).
func (c *Client) Webhook(ctx context.Context) (WebhookInfo, error) {
	var info WebhookInfo
	if c.licenseKey == "" {
		return info, errNoLicenseKey
	}
	r := request{method: http.MethodGet, path: "/api/v1/webhook", auth: true, header: http.Header{"X-License-Key": {c.licenseKey}}}
	if err := c.do(ctx, r, &info); err != nil {
		return info, fmt.Errorf("checkbox: read webhook: %w", err)
	}
	return info, nil
}
