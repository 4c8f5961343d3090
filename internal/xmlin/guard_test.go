package xmlin

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll reads every token of input with the token limit max, one byte at a time when oneByte (every
// state change then falls on a read boundary).
func readAll(input io.Reader, max int, oneByte bool) (int, error) {
	if oneByte {
		input = iotest.OneByteReader(input)
	}
	d := newDecoder(input, max)
	n := 0
	for {
		_, err := d.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			var e *ParseError
			if errors.As(err, &e) && errors.Is(err, ErrTruncated) && d.Depth() == 0 && n > 0 {
				return n, nil // the document ended after its root
			}
			return n, err
		}
		n++
	}
}

// Every token is bounded, not only text: comments, CDATA sections, processing instructions and
// declarations that hold '<' (which the text bound alone does not see) fail with ErrTooLarge, naming
// the line where the token begins and the element it is in.
func TestEveryTokenBounded(t *testing.T) {
	for _, max := range []int{MaxMarkup, 100} {
		testTokensBounded(t, max)
	}
}

// testTokensBounded runs the cases with the limit max: MaxMarkup itself, and a small one that lets every
// case also run one byte at a time.
func testTokensBounded(t *testing.T, max int) {
	big := func(unit string) string { return strings.Repeat(unit, max/len(unit)+1) }
	tests := []struct {
		name, input string
		line        int
		elem, what  string
	}{
		{"comment", "<a>\n<b>\n<!--" + big("<x>") + "-->\n</b></a>", 3, "b", "one comment"},
		{"CDATA", "<a>\n<b><![CDATA[" + big("<x>") + "]]></b></a>", 2, "b", "one CDATA section"},
		{"CDATA with near-terminators", "<a><![CDATA[" + big("]]<]>]") + "]]></a>", 1, "a", "one CDATA section"},
		{"processing instruction", "<a>\n\n<?pi " + big("<x>") + "?></a>", 3, "a", "one processing instruction"},
		{"DOCTYPE internal subset", "<!DOCTYPE a [\n" + big("<!ENTITY e 'x'>") + "]>\n<a/>", 1, "", "one declaration"},
		{"comment inside DOCTYPE", "<!DOCTYPE a [ <!--" + big("<>") + "--> ]><a/>", 1, "", "one declaration"},
		{"quoted > inside DOCTYPE", "<!DOCTYPE a \"" + big(">") + "\"><a/>", 1, "", "one declaration"},
		{"text", "<a>\n" + big("x"), 1, "a", "text or of one tag"},
		{"attribute", "<a>\n<b c=\"" + big("x") + "\"/></a>", 2, "a", "text or of one tag"},
	}
	for _, tt := range tests {
		if max == MaxMarkup && tt.name != "CDATA" && tt.name != "text" {
			continue // the real limit on two cases; the small one on all, a byte at a time too
		}
		for _, oneByte := range []bool{false, max < 4096} {
			_, err := readAll(strings.NewReader(tt.input), max, oneByte)
			var e *ParseError
			if !errors.As(err, &e) || !errors.Is(err, ErrTooLarge) {
				t.Errorf("%s (one byte %v): %v, want a *ParseError wrapping ErrTooLarge", tt.name, oneByte, err)
				continue
			}
			if e.Line != tt.line || e.Element != tt.elem || !strings.Contains(e.Error(), tt.what) {
				t.Errorf("%s (one byte %v): %v; want line %d, element %q, %q", tt.name, oneByte, e, tt.line, tt.elem, tt.what)
			}
		}
	}
}

// What real files hold still reads: a YML feed's DOCTYPE, comments, CDATA, processing instructions,
// a DOCTYPE whose quotes and comments hold '<' and '>', tokens just under the limit.
func TestTokensWithinLimitsRead(t *testing.T) {
	for _, max := range []int{MaxMarkup, 100} {
		testTokensWithinLimits(t, max)
	}
}

func testTokensWithinLimits(t *testing.T, max int) {
	under := strings.Repeat("<x>", (max-30)/3)
	for _, input := range []string{
		`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<!DOCTYPE yml_catalog SYSTEM "shops.dtd">` + "\n<yml_catalog date=\"2024-01-01 10:00\"><shop/></yml_catalog>",
		"<a><!-- a comment with <tags> and - dashes - inside --><b/></a>",
		"<a><![CDATA[<p>опис]]</p>]]><![CDATA[]]></a>",
		"<?xml version=\"1.0\"?><?xml-stylesheet href=\"a<b>.xsl\"?><a/>",
		`<!DOCTYPE a [ <!ENTITY e "<>"> <!-- x > y --> <!ELEMENT a (#PCDATA)> ]><a/>`,
		"<a><!--" + under + "--><![CDATA[" + under + "]]><?p " + under + "?><b/></a>",
	} {
		if max < 200 && len(input) > max && !strings.Contains(input, under) {
			continue // a real file's declaration is longer than the small limit
		}
		for _, oneByte := range []bool{false, max < 4096} {
			if n, err := readAll(strings.NewReader(input), max, oneByte); err != nil || n == 0 {
				t.Errorf("%.60q (one byte %v): %d tokens, %v", input, oneByte, n, err)
			}
		}
	}
}

// repeating streams unit n times, then tail, without holding it.
type repeating struct {
	head, unit, tail string
	n                int
	buf              strings.Reader
	stage            int
}

func (r *repeating) Read(p []byte) (int, error) {
	for {
		if n, _ := r.buf.Read(p); n > 0 {
			return n, nil
		}
		switch {
		case r.stage == 0:
			r.buf.Reset(r.head)
			r.stage = 1
		case r.stage == 1 && r.n > 0:
			r.buf.Reset(strings.Repeat(r.unit, 4096))
			r.n -= 4096
		case r.stage == 1:
			r.buf.Reset(r.tail)
			r.stage = 2
		default:
			return 0, io.EOF
		}
	}
}

// A 300 MB CDATA section with '<' all through it is refused within the first MiB or two of memory,
// not held whole.
func TestHugeCDATAStaysSmall(t *testing.T) {
	for _, tc := range []struct{ name, open, close string }{
		{"CDATA", "<![CDATA[", "]]>"}, {"comment", "<!--", "-->"}, {"DOCTYPE", "<!DOCTYPE a [", "]>"},
	} {
		src := &repeating{head: "<КоммерческаяИнформация>\n<Каталог>\n" + tc.open, unit: "<Товар>x</Товар>\n", n: 300 << 20 / 17, tail: tc.close + "</Каталог></КоммерческаяИнформация>"}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := readAll(src, MaxMarkup, false)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", tc.name, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
			t.Errorf("%s: %d MiB allocated before the refusal", tc.name, alloc>>20)
		}
	}
}
