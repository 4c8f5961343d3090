package xmlin

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestSniffer: what the first non-ASCII run of a file is taken for.
func TestSniffer(t *testing.T) {
	long := strings.Repeat("Ж", 40) // 80 bytes: cut at 64, between two letters
	odd := "€" + long               // 3 + 80 bytes: cut at 64 inside a letter
	tests := []struct {
		name     string
		input    string
		utf8, cp bool
		line     int
		wantText string // the text shown in the message
	}{
		{name: "UTF-8 Cyrillic", input: "<a>\n<Товар/>", utf8: true, line: 2, wantText: "Товар"},
		{name: "one UTF-8 letter is not enough", input: "<a>г</a>"},
		{name: "windows-1251", input: "<a>\n\n\xd1\xb3\xea</a>", cp: true, line: 3, wantText: "Сік"},
		{name: "BOM skipped", input: "\xEF\xBB\xBF<a>Товар</a>", utf8: true, line: 1, wantText: "Товар"},
		{name: "a long run, cut between letters", input: "<a>" + long + "</a>", utf8: true, line: 1},
		{name: "a long run, cut inside a letter", input: "<a>" + odd + "</a>", utf8: true, line: 1},
		{name: "not text in either", input: "<a>\x81\x82\x83</a>"},
		{name: "ASCII only", input: "<a>b</a>"},
		{name: "non-ASCII only after the first MiB", input: "<a>" + strings.Repeat("b", sniffLimit) + "Товар</a>"},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tt.input)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			s := &sniffer{r: r}
			if _, err := io.Copy(io.Discard, s); err != nil {
				t.Fatal(err)
			}
			text, u := s.utf8Cyrillic()
			cpText, cp := s.cp1251()
			if u != tt.utf8 || cp != tt.cp || (tt.line != 0 && s.runLine != tt.line) {
				t.Errorf("%s (one byte %v): utf8 %v cp1251 %v line %d; want %v %v %d", tt.name, oneByte, u, cp, s.runLine, tt.utf8, tt.cp, tt.line)
			}
			if got := text + cpText; tt.wantText != "" && got != tt.wantText {
				t.Errorf("%s: text %q, want %q", tt.name, got, tt.wantText)
			}
		}
	}
}

// TestDecoderErrors: bad input is a *ParseError with the line; a failing source is its own error.
func TestDecoderErrors(t *testing.T) {
	read := func(r io.Reader) error {
		d := NewDecoder(r)
		for {
			if _, err := d.Next(); err != nil {
				return err
			}
		}
	}
	boom := errors.New("disk on fire")
	if err := read(io.MultiReader(strings.NewReader("<a>\n<b>"), iotest.ErrReader(boom))); err != boom {
		t.Errorf("I/O error: %v, want it as it came", err)
	}
	tests := []struct {
		input string
		is    error
		line  int
	}{
		{"<a>\n<b>", ErrTruncated, 2},
		{"<?xml version=\"1.0\"?>\n", ErrTruncated, 2},
		{strings.Repeat("<a>", MaxDepth+1), ErrTooLarge, 1},
		{"<a>" + strings.Repeat("x", MaxMarkup+1), ErrTooLarge, 1},
		{`<?xml version="1.0" encoding="koi8-r"?><a/>`, ErrUnsupportedEncoding, 1},
		{"<?xml version=\"1.0\" encoding=\"windows-1251\"?>\n<Товар/>", ErrWrongEncoding, 2},
		{"<a>\n\n<\xd2\xee\xe2\xe0\xf0/></a>", ErrWrongEncoding, 3},
	}
	for _, tt := range tests {
		err := read(strings.NewReader(tt.input))
		var e *ParseError
		if !errors.As(err, &e) || !errors.Is(err, tt.is) || e.Line != tt.line {
			t.Errorf("%.40q: %v, want a *ParseError wrapping %v at line %d", tt.input, err, tt.is, tt.line)
		}
	}
}
