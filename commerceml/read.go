package commerceml

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"obmin/internal/xmlin"
)

// Sentinel errors of the reader. They always arrive wrapped in a *ParseError that names the file
// and the line; test for them with errors.Is. The input-side ones are shared with the feed reader
// (internal/xmlin).
var (
	// ErrUnsupportedVersion: CommerceML 3.x (ВерсияСхемы >= 3, xmlns urn:1C.ru:commerceml_3, or a
	// Контейнер element), which the 1C-Bitrix module writes. It is a different format; reading it as
	// 2.x would silently miss data, so the reader refuses (docs/commerceml.md §1.4).
	ErrUnsupportedVersion = errors.New("CommerceML 3.x is not supported, only 2.x")
	// ErrNotCommerceML: the root element is not КоммерческаяИнформация (e.g. a YML yml_catalog feed).
	ErrNotCommerceML = errors.New("not a CommerceML file")
	// ErrTruncated: the input ended before the closing root tag. BAS writes its files in place, so a
	// file still being written looks exactly like this; watchers use it to wait and retry.
	ErrTruncated = xmlin.ErrTruncated
	// ErrUnsupportedEncoding: the XML declaration names an encoding other than UTF-8 or windows-1251.
	ErrUnsupportedEncoding = xmlin.ErrUnsupportedEncoding
	// ErrWrongEncoding: the bytes contradict the declared encoding: encoding="windows-1251" over UTF-8
	// bytes, or UTF-8 (declared, or no declaration) over windows-1251 bytes. An administrator re-saved the
	// export in an editor (docs/commerceml.md §4.3); the message says which way round and shows the text.
	ErrWrongEncoding = xmlin.ErrWrongEncoding
	// ErrTooLarge: a text node, a tag with its attributes, one field's text, or the nesting depth is beyond
	// what any real export holds (MaxMarkup, MaxText, MaxDepth). It bounds the reader's memory whatever the
	// input is.
	ErrTooLarge = xmlin.ErrTooLarge
)

// Limits of the reader. No real CommerceML export comes near them; hostile or broken input that does
// ends in a *ParseError wrapping ErrTooLarge instead of growing memory.
const (
	// MaxDepth is the deepest element nesting read. CommerceML nests about 8 deep; groups of groups
	// (docs/commerceml.md §2.1) add 2 per level.
	MaxDepth = xmlin.MaxDepth
	// MaxText is the most text one field (an element's own character data) may hold.
	MaxText = xmlin.MaxText
	// MaxMarkup is the most bytes between two '<': one text node, or one tag with all its attributes.
	// encoding/xml holds a whole token in memory, so this is what bounds it.
	MaxMarkup = xmlin.MaxMarkup
)

// errNotDecimal and the like are the causes of bad-value ParseErrors.
var (
	errNotDecimal = errors.New("not a decimal")
	errNotBoolean = errors.New("not a boolean")
	errNotDate    = errors.New("not a date")
	errNotTime    = errors.New("not a time of day")
)

// errSniffDone stops Sniff's walk once the kind is known, so it reads only the head of a file.
var errSniffDone = errors.New("kind decided")

// ParseError is returned for bad input; it names the file, the line and the element. It is xmlin's, the
// one parse error of obmin's readers; Err may wrap ErrTruncated, ErrNotCommerceML, ErrUnsupportedVersion.
type ParseError = xmlin.ParseError

// cmlRootName is the root element of every CommerceML file (docs/commerceml.md §1.1).
const cmlRootName = "КоммерческаяИнформация"

// Read streams one CommerceML 2 file, calling h for each record in file order. name is used in errors only.
//
// Memory does not grow with the file: one Товар, Предложение or Документ is decoded at a time.
// Elements are matched by local name (namespaces are ignored: none, commerceml_2, _205 and _210 all
// occur, docs/commerceml.md §0.1), in any order, and unknown elements and attributes are skipped, because
// real 1C output is not XSD-valid (docs/commerceml.md §0.3).
//
// Bad input gives a *ParseError. An error returned by a handler stops the read and comes back wrapped
// with the file and line but NOT as a *ParseError, so callers can tell a poison file from their own
// failure. An I/O error of r comes back wrapped, not as a *ParseError either. On error the summary
// holds the header and the counts read so far; its Kind is decided only after a complete read.
func Read(r io.Reader, name string, h Handler) (Summary, error) {
	rd := newReader(r, name, h)
	hdr, err := rd.root()
	rd.sum.Header = hdr
	if err != nil {
		return rd.sum, err
	}
	if h.Header != nil {
		if err := h.Header(hdr); err != nil {
			return rd.sum, rd.handlerErr(rd.line, cmlRootName, err)
		}
	}
	err = rd.children(func(el xml.StartElement, line int) error {
		switch el.Name.Local {
		case "Классификатор":
			rd.sawCatalog = true
			return rd.readClassifier()
		case "Каталог":
			rd.sawCatalog = true
			return rd.readCatalog(el)
		case "ПакетПредложений":
			rd.sawPackage = true
			return rd.readPackage(el)
		case "ИзмененияПакетаПредложений":
			// docs/commerceml.md §3.2: always implies "only changes".
			rd.sawPackage = true
			rd.sum.OnlyChanges = true
			return rd.readPackage(el)
		case "Документ":
			return rd.readDocument(line)
		case "Контейнер":
			// docs/commerceml.md §1.4: documents wrapped in Контейнер are CommerceML 3.1.
			return rd.errAt(line, el.Name.Local, fmt.Errorf("documents wrapped in Контейнер: %w", ErrUnsupportedVersion))
		}
		return nil
	})
	if err != nil {
		return rd.sum, err
	}
	rd.sum.Kind = rd.kind()
	return rd.sum, nil
}

// Sniff reads just enough of a file to tell its Header and Kind (root, first container); for watchers/inspect.
//
// A leading Классификатор is skipped (offers files often carry one before ПакетПредложений,
// docs/commerceml.md §4.2); for an offers package the first Предложение decides between KindOffers,
// KindPrices and KindRests. The errors are those of Read.
func Sniff(r io.Reader, name string) (Header, Kind, error) {
	rd := newReader(r, name, Handler{})
	hdr, err := rd.root()
	if err != nil {
		return hdr, KindUnknown, err
	}
	kind := KindUnknown
	err = rd.children(func(el xml.StartElement, line int) error {
		switch el.Name.Local {
		case "Классификатор":
			kind = KindCatalog // unless a package follows
		case "Каталог":
			kind = KindCatalog
			return errSniffDone
		case "Документ":
			kind = KindDocuments
			return errSniffDone
		case "ПакетПредложений", "ИзмененияПакетаПредложений":
			k, err := rd.sniffPackage()
			kind = k
			if err != nil {
				return err // errSniffDone after the first offer
			}
			return errSniffDone
		case "Контейнер":
			return rd.errAt(line, el.Name.Local, fmt.Errorf("documents wrapped in Контейнер: %w", ErrUnsupportedVersion))
		}
		return nil
	})
	if err != nil && !errors.Is(err, errSniffDone) {
		return hdr, KindUnknown, err
	}
	return hdr, kind, nil
}

// reader walks one file. It keeps only the stack of open element names (in its xmlin.Decoder) and a
// scratch buffer, so its memory is bounded by the depth of the document and the size of one record.
type reader struct {
	in   *xmlin.Decoder // charsets, entities, limits, the element stack (internal/xmlin)
	name string
	h    Handler
	sum  Summary
	line int    // line where the most recent start tag began
	buf  []byte // scratch for text()

	sawCatalog, sawPackage bool
	// allPrices/allRests stay true while every offer so far is Ид+Цены / Ид+Остатки only; that is how
	// prices*.xml and rests*.xml are told from offers*.xml (docs/commerceml.md §3.2, §0.6).
	allPrices, allRests bool
}

func newReader(r io.Reader, name string, h Handler) *reader {
	return &reader{in: xmlin.NewDecoder(r), name: name, h: h, allPrices: true, allRests: true}
}

// root reads up to the root start tag and returns the header, refusing non-CommerceML and 3.x files.
func (r *reader) root() (Header, error) {
	for {
		tok, err := r.next()
		if err != nil {
			return Header{}, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue // BOM, XML declaration, comments, whitespace
		}
		if se.Name.Local != cmlRootName {
			return Header{}, r.errAt(r.line, se.Name.Local,
				fmt.Errorf("root element is <%s>, want <%s>: %w", se.Name.Local, cmlRootName, ErrNotCommerceML))
		}
		v, _ := attrValue(se, "ВерсияСхемы")
		g, _ := attrValue(se, "ДатаФормирования")
		hdr := Header{SchemaVersion: strings.TrimSpace(v), Generated: strings.TrimSpace(g), Namespace: se.Name.Space}
		if isVersion3(hdr) {
			return hdr, r.errAt(r.line, cmlRootName,
				fmt.Errorf("ВерсияСхемы %q, xmlns %q: %w", hdr.SchemaVersion, hdr.Namespace, ErrUnsupportedVersion))
		}
		return hdr, nil
	}
}

// isVersion3 tells a CommerceML 3.x header (docs/commerceml.md §1.4).
func isVersion3(h Header) bool {
	if strings.Contains(strings.ToLower(h.Namespace), "commerceml_3") {
		return true
	}
	major, _, _ := strings.Cut(h.SchemaVersion, ".")
	n, err := strconv.Atoi(major)
	return err == nil && n >= 3
}

// kind decides Summary.Kind from what the file held (docs/commerceml.md §4.2: by content, never by name).
func (r *reader) kind() Kind {
	switch {
	case r.sawPackage:
		switch {
		case r.sum.Offers == 0:
			return KindOffers
		case r.allPrices:
			return KindPrices
		case r.allRests:
			return KindRests
		}
		return KindOffers
	case r.sum.Documents > 0:
		return KindDocuments
	case r.sawCatalog:
		return KindCatalog
	}
	return KindUnknown
}

// next returns the next token and keeps r.line, the line of the last start tag, up to date.
func (r *reader) next() (xml.Token, error) {
	tok, err := r.in.Next()
	if err != nil {
		var xe *xmlin.ParseError
		if errors.As(err, &xe) {
			return nil, r.errAt(xe.Line, xe.Element, xe.Err)
		}
		// An I/O error of the source: a failing disk or network is not a malformed file.
		return nil, fmt.Errorf("read %s: %w", r.name, err)
	}
	if _, ok := tok.(xml.StartElement); ok {
		r.line = r.in.Line()
	}
	return tok, nil
}

// top is the local name of the innermost open element, "" outside the root.
func (r *reader) top() string { return r.in.Top() }

func (r *reader) errAt(line int, elem string, err error) error {
	return &ParseError{File: r.name, Line: line, Element: elem, Err: err}
}

// valueErr reports a bad value of field (a child element or an attribute) of elem.
func (r *reader) valueErr(line int, elem, field, raw string, err error) error {
	return r.errAt(line, elem, fmt.Errorf("%s %q: %w", field, raw, err))
}

// handlerErr wraps an error returned by a Handler function. It is deliberately not a *ParseError.
func (r *reader) handlerErr(line int, elem string, err error) error {
	return fmt.Errorf("%s:%d: <%s>: %w", r.name, line, elem, err)
}

// children calls fn for each child element of the element whose start tag was read last, up to and
// including its end tag. Whatever fn leaves unread of a child is skipped, so fn simply ignores the
// elements it does not know.
func (r *reader) children(fn func(el xml.StartElement, line int) error) error {
	return r.walk(fn, nil)
}

// walk is children that also collects the element's own text (not its children's) into text.
func (r *reader) walk(fn func(el xml.StartElement, line int) error, text *[]byte) error {
	depth := r.in.Depth()
	for {
		tok, err := r.next()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := fn(t, r.line); err != nil {
				return err
			}
			for r.in.Depth() > depth { // skip the rest of the child
				if _, err := r.next(); err != nil {
					return err
				}
			}
		case xml.CharData:
			if text != nil {
				if len(*text)+len(t) > MaxText {
					return r.errAt(r.line, r.top(), fmt.Errorf("text longer than %d bytes: %w", MaxText, ErrTooLarge))
				}
				*text = append(*text, t...)
			}
		case xml.EndElement:
			if r.in.Depth() < depth {
				return nil
			}
		}
	}
}

// text returns the character data of the element whose start tag was read last, as written
// (no trimming: identifiers are echoed back to BAS byte for byte, docs/commerceml.md §5.1). Text of
// nested elements is ignored.
func (r *reader) text() (string, error) {
	r.buf = r.buf[:0]
	err := r.walk(func(xml.StartElement, int) error { return nil }, &r.buf)
	return string(r.buf), err
}

// trimmedText is text with surrounding white space removed, for codes, numbers and flags.
func (r *reader) trimmedText() (string, error) {
	s, err := r.text()
	return strings.TrimSpace(s), err
}

// attr returns the value of the attribute with the given local name, ignoring its namespace.
func attrValue(se xml.StartElement, local string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == local && a.Name.Space != "xmlns" {
			return a.Value, true
		}
	}
	return "", false
}
