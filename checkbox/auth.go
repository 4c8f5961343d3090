package checkbox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// refreshBefore is how long before the token's expiry a new sign-in happens, so a request never
// leaves with a token about to die in flight.
const refreshBefore = time.Minute

// SignIn signs the cashier in now, replacing any token held. Other calls sign in by themselves when
// needed; SignIn is for checking credentials up front.
func (c *Client) SignIn(ctx context.Context) error {
	if err := c.lockSignIn(ctx); err != nil {
		return err
	}
	defer c.unlockSignIn()
	return c.signIn(ctx, c.maxAttempts)
}

// SignOut ends the session of the current token (POST /api/v1/cashier/signout, answered with 205,
// docs/checkbox-rest.md §3). Without a token it does nothing.
func (c *Client) SignOut(ctx context.Context) error {
	if err := c.lockSignIn(ctx); err != nil {
		return err
	}
	defer c.unlockSignIn()
	c.mu.Lock()
	tok := c.token
	c.token, c.expiry = "", time.Time{}
	c.mu.Unlock()
	if tok == "" {
		return nil
	}
	err := c.do(ctx, request{
		method: http.MethodPost,
		path:   "/api/v1/cashier/signout",
		header: http.Header{"Authorization": {"Bearer " + tok}},
	}, nil)
	var api *APIError
	if errors.As(err, &api) && (api.Status == http.StatusUnauthorized || api.Status == http.StatusForbidden) {
		return nil // the session had already ended
	}
	if err != nil {
		return fmt.Errorf("checkbox: sign out: %w", err)
	}
	return nil
}

// bearer returns a token good for at least refreshBefore more, signing in when there is none. It
// makes a single sign-in attempt: the request it serves retries as a whole.
func (c *Client) bearer(ctx context.Context) (string, error) {
	if tok := c.validToken(); tok != "" {
		return tok, nil
	}
	if err := c.lockSignIn(ctx); err != nil {
		return "", err
	}
	defer c.unlockSignIn()
	if tok := c.validToken(); tok != "" {
		return tok, nil // another caller signed in while this one waited
	}
	if err := c.signIn(ctx, 1); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// The fresh token, even should its lifetime be under refreshBefore: it is the best there is.
	return c.token, nil
}

func (c *Client) validToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == "" || (!c.expiry.IsZero() && !c.now().Before(c.expiry.Add(-refreshBefore))) {
		return ""
	}
	return c.token
}

// forget drops tok after Checkbox refused it, unless another caller has already replaced it.
func (c *Client) forget(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == tok {
		c.token, c.expiry = "", time.Time{}
	}
}

func (c *Client) lockSignIn(ctx context.Context) error {
	select {
	case c.signing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("checkbox: waiting for sign-in: %w", ctx.Err())
	}
}

func (c *Client) unlockSignIn() { <-c.signing }

// signIn gets a new token; the caller holds the sign-in lock. A 403 here means bad credentials
// ("Невірні дані", docs/checkbox-rest.md §2.4) and is returned, not answered with another sign-in.
func (c *Client) signIn(ctx context.Context, attempts int) error {
	var (
		r   request
		err error
	)
	if c.login != "" {
		r, err = jsonRequest(http.MethodPost, "/api/v1/cashier/signin",
			struct {
				Login    string `json:"login"`
				Password string `json:"password"`
			}{c.login, c.password})
	} else {
		// docs/checkbox-rest.md §3: the PIN sign-in needs the cash register's licence key.
		r, err = jsonRequest(http.MethodPost, "/api/v1/cashier/signinPinCode",
			struct {
				PINCode string `json:"pin_code"`
			}{c.pin})
		r.header = http.Header{"X-License-Key": {c.licenseKey}}
	}
	if err != nil {
		return err
	}
	r.auth, r.maxAttempts = false, attempts
	var answer struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.do(ctx, r, &answer); err != nil {
		return fmt.Errorf("checkbox: sign in: %w", err)
	}
	if answer.AccessToken == "" {
		return errors.New("checkbox: sign in: the answer has no access_token")
	}
	now := c.now()
	expiry := tokenExpiry(answer.AccessToken, now)
	c.mu.Lock()
	c.token, c.expiry = answer.AccessToken, expiry
	c.mu.Unlock()
	f := logrus.Fields{}
	if !expiry.IsZero() {
		f["expires"] = expiry.Format(time.RFC3339)
	}
	c.log.WithFields(f).Info("Signed in to Checkbox")
	return nil
}

// tokenExpiry reads the exp claim of a JWT without verifying it (docs/checkbox-rest.md §3: the official
// SDK does the same; no lifetime is documented). When the token also carries iat, the lifetime
// exp−iat is counted from now, so a local clock that is off does not make every token look expired.
// It returns the zero time when the token has no readable exp.
func tokenExpiry(tok string, now time.Time) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp float64 `json:"exp"`
		Iat float64 `json:"iat"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp <= 0 || claims.Exp > math.MaxInt32*4 {
		return time.Time{}
	}
	if claims.Iat > 0 && claims.Exp > claims.Iat {
		return now.Add(time.Duration((claims.Exp - claims.Iat) * float64(time.Second)))
	}
	return time.Unix(int64(claims.Exp), 0)
}
