package exchange

import "fmt"

// Barcodes reach Checkbox only when a scanner can produce them: BAS's «Штрихкод» values are typed by
// people, and one mistyped value must neither block the good nor put a barcode on it that nothing scans.
// The rules (docs/formats.md, "Barcodes"):
//   - a value of 8, 12, 13 or 14 digits is a GTIN (EAN-8, UPC-A, EAN-13 with in-store codes 20–29, GTIN-14)
//     and must have the right check digit (GS1 General Specifications §7.9);
//   - any other value is taken as an internal code (Code 128 prints any of them) when it is printable
//     ASCII without spaces and at most maxBarcode characters long;
//   - anything else (Cyrillic letters, spaces inside, a longer value) is left out.
//
// The good keeps its other barcodes; the first valid one is its main barcode.

// maxBarcode is the longest barcode Checkbox takes (CreateGoodPayload.barcode and barcodes[]: maxLength 100).
const maxBarcode = 100

// barcodeProblem says why a value cannot be a barcode, or "".
func barcodeProblem(s string) string {
	if s == "" {
		return "порожнє значення"
	}
	if len(s) > maxBarcode {
		return fmt.Sprintf("довше за %d символів (межа Checkbox)", maxBarcode)
	}
	digits := true
	for _, c := range []byte(s) {
		if c < 0x21 || c > 0x7e {
			return "не штрихкод: дозволено лише латинські літери, цифри та знаки без пропусків"
		}
		digits = digits && c >= '0' && c <= '9'
	}
	if !digits {
		return ""
	}
	kind, ok := gtinKinds[len(s)]
	if !ok {
		return ""
	}
	if !gtinCheckOK(s) {
		return "хибна контрольна цифра " + kind
	}
	return ""
}

var gtinKinds = map[int]string{8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}

// gtinCheckOK checks a GTIN's last digit: from the right, the digits before it are weighted 3, 1, 3…
func gtinCheckOK(s string) bool {
	sum := 0
	for i := len(s) - 2; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-2-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return (10-sum%10)%10 == int(s[len(s)-1]-'0')
}

// splitBarcodes keeps the values that can be barcodes, in order, and describes the others.
func splitBarcodes(values []string) (good, bad []string) {
	for _, v := range values {
		if why := barcodeProblem(v); why != "" {
			bad = append(bad, fmt.Sprintf("%q: %s", v, why))
			continue
		}
		good = append(good, v)
	}
	return good, bad
}
