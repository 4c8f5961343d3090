package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
)

// Cashier sign-in (docs/checkbox-rest.md §3). A token is an HS256 JWT whose exp claim is its lifetime; the
// emulator also remembers every token it issued, so that sign-out and ExpireTokens can revoke them.

// issue makes a token for c, valid for TokenTTL from now.
func (e *Emulator) issue(c *cashier, reg *register) tokenJSON {
	now := e.now()
	exp := now.Add(e.cfg.TokenTTL)
	header := b64(`{"alg":"HS256","typ":"JWT"}`)
	claims, _ := json.Marshal(struct {
		Sub string `json:"sub"`
		Iat int64  `json:"iat"`
		Exp int64  `json:"exp"`
		Jti string `json:"jti"`
	}{c.id, now.Unix(), exp.Unix(), hex.EncodeToString(e.randBytes(8))})
	unsigned := header + "." + b64(string(claims))
	tok := unsigned + "." + base64.RawURLEncoding.EncodeToString(e.sign(unsigned))
	e.tokens[tok] = &session{cashier: c, reg: reg, exp: exp}
	return tokenJSON{Type: "bearer", TokenType: "bearer", AccessToken: tok}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func (e *Emulator) sign(s string) []byte {
	m := hmac.New(sha256.New, e.jwtKey)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// session returns the session of the request's bearer token, or the 401 to answer.
func (e *Emulator) session(r *http.Request) (*session, reply, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	if h == "" || !strings.EqualFold(scheme, "bearer") || tok == "" {
		return nil, messageReply(http.StatusUnauthorized, "Not authenticated"), false
	}
	tok = strings.TrimSpace(tok)
	unsigned, sig, ok := cutLast(tok, ".")
	want := e.sign(unsigned)
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || subtle.ConstantTimeCompare(got, want) != 1 {
		return nil, messageReply(http.StatusUnauthorized, "Invalid token"), false
	}
	s := e.tokens[tok]
	if s == nil {
		return nil, messageReply(http.StatusUnauthorized, "Token is revoked"), false
	}
	if !e.now().Before(s.exp) {
		delete(e.tokens, tok)
		return nil, messageReply(http.StatusUnauthorized, "Token expired"), false
	}
	return s, reply{}, true
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// ExpireTokens revokes every token issued so far: the next call with any of them gets 401.
func (e *Emulator) ExpireTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.tokens)
}

// signIn is POST /api/v1/cashier/signin {login, password}: 200 token, 403 on bad credentials
// (HTTPError "Невірні дані" in the schema), 422 on missing fields.
func (e *Emulator) signIn(c *call) reply {
	var v checker
	o, ok := v.body(c.body)
	var login, password string
	if ok {
		login, _ = o.str("login", true, 1, 0)
		password, _ = o.str("password", true, 1, 0)
	}
	if len(v.errs) > 0 {
		return invalid(v.errs)
	}
	if !equal(login, e.cfg.Login) || !equal(password, e.cfg.Password) {
		return messageReply(http.StatusForbidden, "Невірний логін або пароль")
	}
	return jsonReply(http.StatusOK, e.issue(e.apiUser, nil))
}

// signInPIN is POST /api/v1/cashier/signinPinCode {pin_code} with X-License-Key, checked already.
func (e *Emulator) signInPIN(c *call) reply {
	var v checker
	o, ok := v.body(c.body)
	var pin string
	if ok {
		pin, _ = o.str("pin_code", true, 0, 0)
	}
	if len(v.errs) > 0 {
		return invalid(v.errs)
	}
	if e.cfg.PINCode == "" || !equal(pin, e.cfg.PINCode) {
		return messageReply(http.StatusForbidden, "Невірний пін-код")
	}
	return jsonReply(http.StatusOK, e.issue(e.apiUser, c.reg))
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// signOut is POST /api/v1/cashier/signout: 205, no content, and the token is revoked.
func (e *Emulator) signOut(c *call) reply {
	_, tok, _ := strings.Cut(c.r.Header.Get("Authorization"), " ")
	delete(e.tokens, strings.TrimSpace(tok))
	return reply{status: http.StatusResetContent, raw: []byte{}}
}

// me is GET /api/v1/cashier/me (ExtendedCashierModel).
func (e *Emulator) me(c *call) reply {
	cw := cashierWire(c.sess.cashier)
	p := defaultPermissions
	cw.Permissions = &p
	return jsonReply(http.StatusOK, meJSON{
		cashierJSON: cw,
		IsTest:      true,
		Organization: organizationJSON{
			ID: e.org.id, Title: e.org.title, EDRPOU: e.org.edrpou, TaxNumber: e.org.taxNumber,
			CreatedAt: isoTime{e.org.createdAt},
		},
	})
}
