// Package emulator is an in-process stand-in for the Checkbox (checkbox.ua) cloud cash register API,
// for obmin's tests and its demo mode. An *Emulator is an http.Handler that answers the /api/v1 paths
// obmin uses as Checkbox's OpenAPI 2.105.1 describes them (paths, headers, field names, status codes,
// units, envelopes), keeps goods, stock, shifts and receipts in memory, and can generate sales, inject
// faults and deliver signed webhooks.
//
// Facts are cited from the project's page on Checkbox's API as "docs/checkbox-rest.md §N"
// (docs/checkbox-rest.md). Where the real service is not documented the emulator takes
// the pessimistic reading, so that a client that copes with the emulator copes with Checkbox:
//
//   - Tokens are HS256 JWTs with an exp claim (TokenTTL, default 8 h); a missing, unknown, expired or
//     signed-out token gets 401 {"message": ...} (§3, §2.4: 401 vs 403 is undocumented).
//   - X-Client-Name is required unless Config.AllowNoClientName (§2.1: the wiki calls it mandatory); a
//     missing header gets 422 with loc ["header", "x-client-name"], as FastAPI reports a missing header.
//   - Requests that pass the schema but break a rule (a code already in the catalogue, §4.2; an
//     underpaid receipt; a duplicate receipt id, §9; an import task in the wrong state) get 422
//     {"message": ..., "detail": [{"loc": [...], "msg": "Value error, ...", "type": "value_error"}]}:
//     the document declares no other error status for these operations; the real one may be 400.
//   - Goods import: rows are checked at upload, with POST /goods's limits (name 4000, code 150, barcode
//     100 characters, §4.2); any bad row makes the whole task end in "error" with errors [{error, address}]
//     and nothing is applied (Config.ImportSkipsBadRows: the task ends "completed", then "done", with the
//     bad rows in errors and the others applied; Checkbox documents neither). A row whose code Checkbox
//     has rewrites that good, codes being unique (§4.2); other rows create goods. Addresses are "goods[i].field" for JSON files and
//     a cell such as "G3" for CSV (header = row 1). Statuses: "pending" → "completed" → (apply_changes)
//     "pending" → "done" (§4.1). The leftovers (Залишок) value is pieces or kilograms and REPLACES the
//     stock; it applies only to goods that already have stock ("have supplies", §4.4) unless
//     auto_supply=true, otherwise it is silently ignored (§5, §12.5 leave both open). Stock (GoodModel.count,
//     leftovers-by-id) is in thousandths.
//   - /receipts/search filters from_date (inclusive) and to_date (exclusive) on fiscal_date by default
//     (Config.SearchBy), so an offline receipt lands in a window that was already polled (§6.5, §12.3),
//     and self_receipts defaults to true (§6.1). Offset-less dates are read as UTC.
//   - POST /receipts/sell needs an open shift: the emulator opens one for the signed-in cashier on the
//     register of its PIN sign-in (or of an X-License-Key header, else the first register), closing any
//     other cashier's shift on that register first, as a handover would.
//   - RETURN receipts carry positive quantities and sums with goods[].is_return = true and
//     related_receipt_id = the sale (§6.3).
//   - Sign-out answers 205 with an empty body (HTTP forbids content with 205). GET /cashier/shift
//     answers null when the cashier has no open shift (§3, inferred; the document allows no null).
//   - Webhooks fire for receipts and for shift openings and closings of the register (§8), signed
//     x-request-signature = base64(HMAC-SHA256(key, body)), retried with exponential back-off on a
//     status >= 400, a timeout or a transport error (timings in Config.Webhook).
//   - Rate limiting (429 with Retry-After) exists only when SetRateLimit is called (§9).
//
// Every register is a test register (is_test: true, fiscal codes "TEST" + digits). Two cashiers exist:
// the one who signs in through the API and the shop-floor cashier who makes the sales of Sell and
// GenerateSales, so that self_receipts=true hides them from the API cashier, as it would in a shop.
//
// It imports checkbox (the API's types) and internal/emuadmin; only tests, the demo and `obmin emulator` use it.
package emulator
