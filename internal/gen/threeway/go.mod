// The three-way comparison of catalogue readers (docs/performance.md): obmin's reader, the token loop
// under it and etree, beside two faster tokenizers (gosax, xmltokenizer) that obmin itself does not use.
// A module of its own, so that those two stay out of obmin's go.mod; it builds against the obmin beside it.
module obmin/internal/gen/threeway

go 1.26.8

require (
	github.com/beevik/etree v1.8.1
	github.com/muktihari/xmltokenizer v0.0.5
	github.com/orisano/gosax v1.1.4
	golang.org/x/text v0.44.0
	obmin v0.0.0
)

require github.com/shopspring/decimal v1.6.0 // indirect

replace obmin => ../../..
