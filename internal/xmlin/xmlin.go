// Package xmlin is the input side shared by obmin's streaming XML readers (commerceml, feed): the
// encodings 1C and web shops write, HTML entities, bounds on memory whatever the input (nesting depth,
// the size of every token: a text node or tag, a comment, a CDATA section, a processing instruction, a
// DOCTYPE), the element stack with the line of each start tag, and the sorting
// of what goes wrong into bad input (*ParseError, which the readers complete with the file's name) and I/O failures.
//
// It reads an io.Reader only: no files, no names.
//
// It imports no other package of obmin.
package xmlin

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// Limits of the readers. No real CommerceML export or feed comes near them; hostile or broken input that
// does ends in a *ParseError wrapping ErrTooLarge instead of growing memory.
const (
	// MaxDepth is the deepest element nesting read. CommerceML nests about 8 deep; groups of groups
	// (docs/commerceml.md §2.1) add 2 per level.
	MaxDepth = 256
	// MaxText is the most text one field (an element's own character data) may hold. The readers
	// collect text themselves and check it.
	MaxText = 1 << 20
	// MaxMarkup is the most bytes of one token: a tag with all its attributes and the text after it, a
	// comment, a CDATA section, a processing instruction, a DOCTYPE with its internal subset.
	// encoding/xml holds a whole token in memory, so this is what bounds it.
	MaxMarkup = 1 << 20
)

// Causes of bad input. They arrive inside a *ParseError; the readers re-export them under their own names.
var (
	ErrTooLarge            = errors.New("beyond the reader's limits")
	ErrTruncated           = errors.New("unexpected end of file")
	ErrUnsupportedEncoding = errors.New("unsupported encoding")
	// ErrWrongEncoding: the bytes are not in the encoding the XML declaration names (or, with none,
	// UTF-8). BAS administrators re-save exports in editors that change one but not the other.
	ErrWrongEncoding = errors.New("the bytes do not match the declared encoding")
)

// ParseError is bad input, the one type every reader of obmin's XML returns for it (commerceml and feed
// name it as their own ParseError): the file, the line (1-based; 0 when unknown), the innermost open
// element ("" outside the root) and the cause. The Decoder does not know the file's name: the readers
// fill File in.
type ParseError struct {
	File    string // the name the reader was given
	Line    int
	Element string // local name, e.g. "Цена" for a bad ЦенаЗаЕдиницу
	Err     error  // the cause; may wrap ErrTruncated, ErrTooLarge, ErrWrongEncoding and the readers' own
}

// Error reads like `import.xml:120: <Цена>: ЦенаЗаЕдиницу "12,5x": not a decimal` (Describe); without a
// file, like `line 120: <Цена>: …`.
func (e *ParseError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("line %d: <%s>: %v", e.Line, e.Element, e.Err)
	}
	return Describe(e.File, e.Line, e.Element, e.Err)
}

// Unwrap returns the cause, so errors.Is(err, ErrTruncated) and the like work.
func (e *ParseError) Unwrap() error { return e.Err }

// Describe is how the readers' ParseError reads: "file:line: <element>: cause", the line and the element
// left out when unknown.
func Describe(file string, line int, element string, err error) string {
	var b strings.Builder
	b.WriteString(file)
	if line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(line))
	}
	b.WriteString(": ")
	if element != "" {
		b.WriteString("<" + element + ">: ")
	}
	if err != nil {
		b.WriteString(err.Error())
	} else {
		b.WriteString("parse error")
	}
	return b.String()
}

// Decoder reads the tokens of one XML document.
type Decoder struct {
	dec   *xml.Decoder
	src   *ioErrReader
	sniff *sniffer
	stack []string // local names of the open elements, innermost last
	line  int      // line where the most recent start tag began
	text  int      // line where the last token began when it was a long text (see tokenErr); else 0

	maxMarkup int    // MaxMarkup, or a test's own limit
	label     string // the encoding the declaration names when encoding/xml asked for a reader; "" otherwise
	cp        bool   // the declaration names windows-1251
}

// NewDecoder reads r. Memory is bounded by MaxMarkup and MaxDepth whatever r holds.
func NewDecoder(r io.Reader) *Decoder { return newDecoder(r, MaxMarkup) }

// newDecoder is NewDecoder with another token limit, for tests.
func newDecoder(r io.Reader, maxMarkup int) *Decoder {
	d := &Decoder{sniff: &sniffer{r: r}, maxMarkup: maxMarkup}
	d.src = &ioErrReader{r: &markupGuard{r: d.sniff, max: maxMarkup}}
	d.dec = xml.NewDecoder(d.src)
	d.dec.CharsetReader = d.charsetReader
	// HTML entities such as &nbsp; occur in names typed into a web shop; a strict decoder would reject
	// the whole file for them.
	d.dec.Entity = xml.HTMLEntity
	return d
}

// Label is the encoding the XML declaration names, as written, when it is not plain "UTF-8" (encoding/xml
// reads UTF-8 itself and does not say); "" otherwise.
func (d *Decoder) Label() string { return d.label }

// Line is the line where the most recent start tag began.
func (d *Decoder) Line() int { return d.line }

// Stack is the local names of the open elements, innermost last. The caller must not change it.
func (d *Decoder) Stack() []string { return d.stack }

// Depth is how many elements are open.
func (d *Decoder) Depth() int { return len(d.stack) }

// Top is the local name of the innermost open element, "" outside the root.
func (d *Decoder) Top() string {
	if n := len(d.stack); n > 0 {
		return d.stack[n-1]
	}
	return ""
}

// Next returns the next token and keeps the element stack and Line up to date. Bad input gives a *ParseError;
// any other error is an I/O failure of the reader given to NewDecoder, returned as it came.
func (d *Decoder) Next() (xml.Token, error) {
	// The position before Token is where the next token starts: whitespace and text come as their own
	// tokens, so for a start tag this is the line of its '<'.
	line, _ := d.dec.InputPos()
	tok, err := d.dec.Token()
	if err != nil {
		return nil, d.tokenErr(line, err)
	}
	d.text = 0
	if t, ok := tok.(xml.CharData); ok && len(t) >= d.maxMarkup/2 {
		d.text = line
	}
	switch t := tok.(type) {
	case xml.StartElement:
		if len(d.stack) >= MaxDepth {
			return nil, &ParseError{Line: line, Element: t.Name.Local, Err: fmt.Errorf("elements nested more than %d deep: %w", MaxDepth, ErrTooLarge)}
		}
		d.stack = append(d.stack, t.Name.Local)
		d.line = line
	case xml.EndElement:
		d.stack = d.stack[:len(d.stack)-1]
	}
	return tok, nil
}

// tokenErr sorts a decoder error into bad input (*ParseError) or an I/O failure of the source.
func (d *Decoder) tokenErr(line int, err error) error {
	if d.src.err != nil && errors.Is(d.src.err, ErrTooLarge) {
		// The line where the token that grew too long begins. encoding/xml hands over the part of a long
		// text it read before the error as a token of its own (only a text cut by the limit is that long):
		// the text began where that one did.
		if d.text > 0 {
			line = d.text
		}
		return &ParseError{Line: line, Element: d.Top(), Err: d.src.err}
	}
	if d.src.err != nil {
		return d.src.err
	}
	var we *wrongEncoding
	if errors.As(err, &we) {
		return &ParseError{Line: we.line, Element: d.Top(), Err: we}
	}
	if err == io.EOF {
		// Token reports a bare io.EOF only outside any element: nothing but a prolog was read.
		return &ParseError{Line: line, Element: d.Top(), Err: fmt.Errorf("%w before the root element", ErrTruncated)}
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		if strings.Contains(se.Msg, "unexpected EOF") {
			return &ParseError{Line: se.Line, Element: d.Top(), Err: ErrTruncated}
		}
		if !d.cp && notUTF8(se.Msg) {
			if run, ok := d.sniff.cp1251(); ok {
				return &ParseError{Line: se.Line, Element: d.Top(), Err: notUTF8Err(run)}
			}
		}
		return &ParseError{Line: se.Line, Element: d.Top(), Err: fmt.Errorf("malformed XML: %s", se.Msg)}
	}
	return &ParseError{Line: line, Element: d.Top(), Err: err} // e.g. an unsupported encoding in the declaration
}

// charsetReader converts the encodings 1C and its peers write (docs/commerceml.md §4.3) to UTF-8. encoding/xml
// calls it only for a declared encoding other than "utf-8".
func (d *Decoder) charsetReader(label string, input io.Reader) (io.Reader, error) {
	d.label = label
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8":
		return input, nil
	case "windows-1251", "cp1251", "cp-1251", "x-cp1251", "win-1251":
		d.cp = true
		return charmap.Windows1251.NewDecoder().Reader(&cp1251Check{r: input, sniff: d.sniff, label: label}), nil
	}
	return nil, fmt.Errorf("%q: %w", label, ErrUnsupportedEncoding)
}

// ioErrReader remembers a read error of the underlying reader, so that a failing disk or network is not
// reported as a malformed file.
type ioErrReader struct {
	r   io.Reader
	err error
}

func (e *ioErrReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// markupGuard bounds every token encoding/xml could hold in memory at once, before encoding/xml buffers
// it: a text node with the tag before it, a comment, a CDATA section, a processing instruction, a
// DOCTYPE (or any <!…> declaration, internal subset included). It follows the XML just far enough to
// know where each of those ends, as encoding/xml does, and fails with a *tooLong once one runs past max
// bytes, returning only the bytes up to that point. Every byte it looks at is ASCII markup, the same in
// UTF-8 and windows-1251. Text and tags, nearly all of a real file, cost one byte search per '<'.
type markupGuard struct {
	r   io.Reader
	max int
	st  guardState
	run int // bytes of the current token
	m   int // how much of a terminator or prefix is matched

	// inside a declaration, as encoding/xml reads one
	quote byte
	depth int
	err   error
}

type guardState uint8

const (
	gText        guardState = iota // text, or an element's tag: no '<' inside either
	gOpen                          // just after '<'
	gBang                          // after "<!"
	gBangDash                      // after "<!-"
	gBangCDATA                     // inside "<![CDATA[" (m bytes of "[CDATA[" matched)
	gComment                       // inside <!-- … -->
	gCDATA                         // inside <![CDATA[ … ]]>
	gPI                            // inside <? … ?>
	gDecl                          // inside <!DOCTYPE …> and the like
	gDeclLT                        // after '<' inside a declaration (m bytes of "!--" matched)
	gDeclComment                   // a comment inside a declaration
)

// tooLong is a token over the limit. It wraps ErrTooLarge.
type tooLong struct {
	what string
	max  int
}

func (e *tooLong) Error() string {
	return fmt.Sprintf("more than %d bytes of %s: %v", e.max, e.what, ErrTooLarge)
}

func (e *tooLong) Unwrap() error { return ErrTooLarge }

func (g *markupGuard) what() string {
	switch g.st {
	case gComment:
		return "one comment"
	case gCDATA, gBangCDATA:
		return "one CDATA section"
	case gPI:
		return "one processing instruction (<?…?>)"
	case gDecl, gDeclLT, gDeclComment, gBang, gBangDash:
		return "one declaration (<!DOCTYPE …>)"
	}
	return "text or of one tag"
}

func (g *markupGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	if cut := g.scan(p[:n]); cut >= 0 {
		g.err = &tooLong{what: g.what(), max: g.max}
		return cut, g.err
	}
	return n, err
}

// scan follows b and returns the index of the first byte past the limit, or -1.
func (g *markupGuard) scan(b []byte) int {
	for i := 0; i < len(b); {
		if g.st == gText {
			j := bytes.IndexByte(b[i:], '<')
			if j < 0 {
				if g.run+len(b)-i > g.max {
					return i + g.max - g.run
				}
				g.run += len(b) - i
				return -1
			}
			if g.run+j > g.max {
				return i + g.max - g.run
			}
			g.run = 1 // the '<'
			g.st = gOpen
			i += j + 1
			continue
		}
		c := b[i]
		i++
		g.run++
		if g.run > g.max {
			return i - 1
		}
		g.step(c)
	}
	return -1
}

// step moves the state on by one byte c of markup (any state but gText).
func (g *markupGuard) step(c byte) {
	switch g.st {
	case gOpen:
		switch c {
		case '!':
			g.st = gBang
		case '?':
			g.st, g.m = gPI, 0
		default:
			g.st = gText // a start or end tag: bounded with the text after it, no '<' inside
		}
	case gBang:
		switch c {
		case '-':
			g.st = gBangDash
		case '[':
			g.st, g.m = gBangCDATA, 1
		default:
			// encoding/xml keeps this first byte of a declaration without looking at it.
			g.st, g.quote, g.depth = gDecl, 0, 0
		}
	case gBangDash:
		// Anything but a second '-' is an error for encoding/xml; count it as a comment either way.
		g.st, g.m = gComment, 0
	case gBangCDATA:
		if c == "[CDATA["[g.m] {
			g.m++
			if g.m == len("[CDATA[") {
				g.st, g.m = gCDATA, 0
			}
		} else {
			g.st, g.m = gCDATA, 0 // encoding/xml fails here; stay on the safe side
		}
	case gComment:
		g.m = dashes(g.m, c, '-')
		if g.m < 0 {
			g.end()
		}
	case gCDATA:
		g.m = dashes(g.m, c, ']')
		if g.m < 0 {
			g.end()
		}
	case gPI:
		switch {
		case c == '?':
			g.m = 1
		case c == '>' && g.m == 1:
			g.end()
		default:
			g.m = 0
		}
	case gDecl:
		g.decl(c)
	case gDeclLT:
		if c == "!--"[g.m] {
			g.m++
			if g.m == len("!--") {
				g.st, g.m = gDeclComment, 0
			}
			return
		}
		g.st = gDecl
		g.depth++ // a nested <…> such as <!ENTITY …>
		g.decl(c)
	case gDeclComment:
		g.m = dashes(g.m, c, '-')
		if g.m < 0 {
			g.st, g.m = gDecl, 0
		}
	}
}

// dashes matches the terminator x x '>' ("-->", "]]>"): m is how many x's were seen (at most 2); -1
// when c ends the terminator.
func dashes(m int, c, x byte) int {
	switch {
	case c == x:
		return min(m+1, 2)
	case c == '>' && m == 2:
		return -1
	}
	return 0
}

// decl follows one byte of a declaration as encoding/xml does: quotes hide '<' and '>', nested <…>
// count in depth, and a '>' at depth 0 ends it.
func (g *markupGuard) decl(c byte) {
	switch {
	case g.quote == 0 && c == '>' && g.depth == 0:
		g.end()
	case c == g.quote:
		g.quote = 0
	case g.quote != 0:
	case c == '\'' || c == '"':
		g.quote = c
	case c == '>':
		g.depth--
	case c == '<':
		g.st, g.m = gDeclLT, 0
	}
}

// end closes a comment, CDATA section, processing instruction or declaration: what follows is text.
func (g *markupGuard) end() {
	g.st, g.run, g.m = gText, 0, 0
}
