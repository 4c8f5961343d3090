package xmlin

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// BAS administrators open an export in an editor and save it again; the editor may write UTF-8 and keep
// encoding="windows-1251" in the declaration, or the reverse (docs/commerceml.md §4.3: 1C writes either). Read
// as declared, such a file gives mojibake names or a bare "invalid UTF-8". The first run of non-ASCII
// bytes of the file tells which it is: in a CommerceML file that is the root element's name, in a feed
// the first Cyrillic text. The sniffer below keeps that run; the decoder consults it.

const (
	// sniffLimit: a file with no non-ASCII byte in its first MiB is not judged.
	sniffLimit = 1 << 20
	// sniffRunMax is how much of the first run is kept: enough for the root's name and a sample.
	sniffRunMax = 64
)

// sniffer passes bytes through and keeps the first run of bytes >= 0x80 after a leading UTF-8 BOM,
// with the line it starts on. It stops looking once the run ends, so it costs nothing after the head.
type sniffer struct {
	r       io.Reader
	off     int64  // bytes seen
	bom     int    // bytes of a leading BOM seen
	lines   int    // newlines before the run
	run     []byte // the first run of non-ASCII bytes, at most sniffRunMax
	runLine int    // 1-based line where run starts
	cut     bool   // the run went on past sniffRunMax
	done    bool   // run is complete, or there is none to find
}

func (s *sniffer) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if !s.done {
		s.scan(p[:n])
		if err != nil {
			s.done = true // the run, if any, ends with the input
		}
	}
	return n, err
}

func (s *sniffer) scan(b []byte) {
	const bom = "\xEF\xBB\xBF"
	for _, c := range b {
		off := s.off
		s.off++
		switch {
		case len(s.run) > 0:
			if c < 0x80 || len(s.run) == sniffRunMax {
				s.cut = c >= 0x80
				s.done = true
				return
			}
			s.run = append(s.run, c)
		case off < 3 && s.bom == int(off) && c == bom[off]:
			s.bom++
		case c >= 0x80:
			s.run = append(make([]byte, 0, sniffRunMax), c)
			s.runLine = s.lines + 1
		case c == '\n':
			s.lines++
		}
		if len(s.run) == 0 && s.off >= sniffLimit {
			s.done = true
			return
		}
	}
}

// complete is the run without a rune cut in two by sniffRunMax.
func (s *sniffer) complete() []byte {
	run := s.run
	if !s.cut {
		return run
	}
	i := len(run) - 1
	for i > 0 && len(run)-i < utf8.UTFMax && run[i]&0xC0 == 0x80 {
		i--
	}
	if i >= 0 && run[i] >= 0xC0 && !utf8.FullRune(run[i:]) {
		run = run[:i]
	}
	return run
}

// utf8Cyrillic reports whether the first run is UTF-8 holding at least two Cyrillic letters (lead bytes
// 0xD0–0xD3, each followed by one of 0x80–0xBF). A windows-1251 text practically never is: its
// lowercase letters 0xE0–0xFF would have to be followed by two continuation bytes.
func (s *sniffer) utf8Cyrillic() (string, bool) {
	if !s.done || len(s.run) == 0 {
		return "", false
	}
	run := s.complete()
	if !utf8.Valid(run) {
		return "", false
	}
	n := 0
	for _, r := range string(run) {
		if r >= 0x400 && r <= 0x4FF {
			n++
		}
	}
	return string(run), n >= 2
}

// cp1251Text are the windows-1251 bytes below 0xC0 that Ukrainian text uses: Ђ…џ aside, Ё ё Є є І і Ї ї
// Ґ ґ « » – — № ’ and the no-break space. 0xC0–0xFF are the letters А–я.
const cp1251Text = "\xA8\xB8\xAA\xBA\xB2\xB3\xAF\xBF\xA5\xB4\xAB\xBB\x96\x97\xB9\x92\xA0"

// cp1251 reports whether the first run is not UTF-8 but reads as windows-1251 text, and returns it so read.
func (s *sniffer) cp1251() (string, bool) {
	if !s.done || len(s.run) == 0 {
		return "", false
	}
	run := s.complete()
	if utf8.Valid(run) {
		return "", false
	}
	for _, c := range run {
		if c < 0xC0 && strings.IndexByte(cp1251Text, c) < 0 {
			return "", false
		}
	}
	text, err := charmap.Windows1251.NewDecoder().Bytes(run)
	if err != nil {
		return "", false
	}
	return string(text), true
}

// wrongEncoding is the cause of a *ParseError for a file whose bytes contradict its declaration. It
// travels through encoding/xml as a read error of the charset reader, hence its own type.
type wrongEncoding struct {
	line int
	msg  string
}

func (e *wrongEncoding) Error() string { return e.msg }
func (e *wrongEncoding) Unwrap() error { return ErrWrongEncoding }

// cp1251Check sits under the windows-1251 decoder and fails once the sniffer has seen UTF-8 Cyrillic
// where windows-1251 was declared, before any mojibake reaches the caller.
type cp1251Check struct {
	r       io.Reader
	sniff   *sniffer
	label   string
	checked bool
}

func (c *cp1251Check) Read(p []byte) (int, error) {
	if c.checked {
		return c.r.Read(p)
	}
	if err := c.verdict(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if verr := c.verdict(); verr != nil {
		return 0, verr
	}
	return n, err
}

func (c *cp1251Check) verdict() error {
	if !c.sniff.done {
		return nil
	}
	c.checked = true
	text, ok := c.sniff.utf8Cyrillic()
	if !ok {
		return nil
	}
	return &wrongEncoding{line: c.sniff.runLine, msg: fmt.Sprintf("the XML declaration says encoding=%q, but the bytes are UTF-8 "+
		"(read as UTF-8 they say %q): an editor probably re-saved it; change the declaration to encoding=\"UTF-8\" "+
		"or save the file as windows-1251: %v", c.label, text, ErrWrongEncoding)}
}

// notUTF8 tells encoding/xml's complaints about bytes that are not UTF-8: "invalid UTF-8" in text and
// attribute values, "invalid XML name: ..." with the bad bytes in element names.
func notUTF8(msg string) bool {
	return strings.Contains(msg, "invalid UTF-8") || !utf8.ValidString(msg) || strings.ContainsRune(msg, utf8.RuneError)
}

// notUTF8Err is the cause for a file declared UTF-8 (or with no declaration) whose bytes are windows-1251.
func notUTF8Err(text string) error {
	return fmt.Errorf("the bytes are not UTF-8, which the XML declaration names (no declared encoding means UTF-8 too); "+
		"they look like windows-1251 (read so they say %q): declare encoding=\"windows-1251\" or save the file as UTF-8: %w",
		text, ErrWrongEncoding)
}
