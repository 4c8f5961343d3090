// Package readers holds the ways of reading a generated catalogue that the benchmarks compare: obmin's
// own reader, the bare encoding/xml token loop under it, loading the whole document with etree, and two
// faster pure-Go streaming tokenizers. Each counts the Товар elements it met. It serves BenchmarkThreeWay in
// this module (internal/gen/threeway) and the measurement program cmd/readrss only; obmin itself reads with commerceml.Read.
//
// It imports commerceml (obmin's reader) and the readers it is compared with.
package readers

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"
	"github.com/muktihari/xmltokenizer"
	"github.com/orisano/gosax"
	"golang.org/x/text/encoding/charmap"

	"obmin/commerceml"
)

// Method reads one catalogue and returns how many goods (Товар elements) it held.
type Method struct {
	Name string
	Read func(io.Reader) (int, error)
}

// Methods are every method, in the order of docs/performance.md's tables.
var Methods = []Method{
	{"obmin", Obmin},
	{"token", Token},
	{"etree", Etree},
	{"gosax", Gosax},
	{"xmltokenizer", XMLTokenizer},
}

// Lookup returns the method with that name.
func Lookup(name string) (Method, error) {
	for _, m := range Methods {
		if m.Name == name {
			return m, nil
		}
	}
	names := make([]string, len(Methods))
	for i, m := range Methods {
		names[i] = m.Name
	}
	return Method{}, fmt.Errorf("unknown method %q (want one of %s)", name, strings.Join(names, ", "))
}

// Obmin is commerceml.Read with a no-op Good handler: what the catalogue sync pays before mapping.
func Obmin(r io.Reader) (int, error) {
	sum, err := commerceml.Read(r, "import.xml", commerceml.Handler{Good: func(commerceml.Good) error { return nil }})
	return sum.Goods + sum.Offers, err
}

// Token is a bare encoding/xml Token loop with the decoder set up as commerceml.Read sets it up:
// the floor of obmin's stack.
func Token(r io.Reader) (int, error) {
	d := xml.NewDecoder(r)
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if l := strings.ToLower(label); l == "windows-1251" || l == "cp1251" {
			return charmap.Windows1251.NewDecoder().Reader(in), nil
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	d.Entity = xml.HTMLEntity
	n := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return n, nil
		} else if err != nil {
			return n, err
		}
		if se, ok := tok.(xml.StartElement); ok && isGood(se.Name.Local) {
			n++
		}
	}
}

// Etree is the naive approach: load the whole document with etree, then count its goods.
func Etree(r io.Reader) (int, error) {
	doc := etree.NewDocument()
	if _, err := doc.ReadFrom(r); err != nil {
		return 0, err
	}
	return len(doc.FindElements("//Товар")) + len(doc.FindElements("//Предложение")), nil
}

// Gosax is a github.com/orisano/gosax event loop (no entity decoding, no charset conversion, no
// well-formedness checks beyond what finding tags needs).
func Gosax(r io.Reader) (int, error) {
	sr := gosax.NewReader(r)
	n := 0
	for {
		ev, err := sr.Event()
		if err != nil {
			return n, err
		}
		switch ev.Type() {
		case gosax.EventEOF:
			return n, nil
		case gosax.EventStart:
			name, _ := gosax.Name(ev.Bytes)
			if isGoodBytes(bytes.TrimPrefix(name, []byte("<"))) {
				n++
			}
		}
	}
}

// XMLTokenizer is a github.com/muktihari/xmltokenizer token loop (no namespaces, no entity decoding,
// no charset conversion).
func XMLTokenizer(r io.Reader) (int, error) {
	tz := xmltokenizer.New(r)
	n := 0
	for {
		tok, err := tz.Token()
		if err == io.EOF {
			return n, nil
		} else if err != nil {
			return n, err
		}
		if !tok.IsEndElement && isGoodBytes(tok.Name.Local) {
			n++
		}
	}
}

func isGood(local string) bool { return local == "Товар" || local == "Предложение" }

var goodTag, offerTag = []byte("Товар"), []byte("Предложение")

func isGoodBytes(local []byte) bool {
	return bytes.Equal(local, goodTag) || bytes.Equal(local, offerTag)
}
