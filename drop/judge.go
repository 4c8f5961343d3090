package drop

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// Completeness is what the head and tail of one file of an export say about it. The watcher decides with
// it when to take a drop, and `obmin inspect` with the same function what the watcher will do, so the two
// never disagree (docs/folders.md, "How obmin decides that an export is complete").
type Completeness int

const (
	// Whole: an XML document whose root element is closed (whitespace, comments and processing
	// instructions may follow it, as XML allows), or a zip whose central directory is written.
	Whole Completeness = iota
	// Unfinished: what a file BAS is still writing looks like: empty, only zero bytes (a copy that has
	// not been filled yet), XML whose root is not closed, a zip without its central directory. Waited
	// for, at most DefaultGiveUpAfter (watch.Config.GiveUpAfter) of no change.
	Unfinished
	// NotXML: the first bytes cannot start an XML document (text, a PDF, a picture, UTF-16). Nothing
	// written after them can make it an export: refused as soon as it stops changing.
	NotXML
)

// DefaultGiveUpAfter is how long an export may stay unchanged and unfinished before it is given up and
// recorded in failed/: BAS writes each file in one pass, seconds to minutes for the largest catalogue,
// so five minutes without a change mean the export broke off (docs/folders.md).
// Window is how much of each end of a file the closing-tag check reads.
const Window = 4096

const DefaultGiveUpAfter = 5 * time.Minute

// Judged is the verdict on one file with the reason, in Ukrainian for the staff who read status and
// failed/ notes.
type Judged struct {
	Completeness
	Why string // "" for Whole
}

// JudgeFile reads the head and the tail of f from r (which Open returned) and judges it. A file whose
// length differs from the listing is changing: an error, so the verdict is not remembered.
func JudgeFile(r io.Reader, f File) (Judged, error) {
	if strings.EqualFold(path.Ext(f.Path), ".zip") {
		ok, err := zipComplete(r, f)
		if err != nil {
			return Judged{}, err
		}
		if !ok {
			return Judged{Unfinished, "архів zip не дописано: немає його каталогу в кінці файлу"}, nil
		}
		return Judged{Whole, ""}, nil
	}
	head, tail, err := readEnds(r, f)
	if err != nil {
		return Judged{}, err
	}
	return JudgeXML(head, tail), nil
}

// JudgeXML judges an XML file by its head and tail.
func JudgeXML(head, tail []byte) Judged {
	switch {
	case len(head) == 0:
		return Judged{Unfinished, "файл порожній (0 байт)"}
	case len(bytes.Trim(head, "\x00")) == 0:
		return Judged{Unfinished, "у файлі лише нульові байти (копію ще не заповнено)"}
	case !startsXML(head):
		return Judged{NotXML, "це не XML: файл починається з " + fmt.Sprintf("%q", printableStart(head))}
	case closed(head, tail):
		return Judged{Whole, ""}
	}
	return Judged{Unfinished, "XML не закрито: немає закриваючого тегу кореневого елемента (файл обрізано або BAS його ще пише)"}
}

// startsXML says whether a head can begin an XML document: after a UTF-8 byte-order mark and white
// space, '<'. A windows-1251 or UTF-8 export always starts so; UTF-16 (which obmin does not read) does not.
func startsXML(head []byte) bool {
	b := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF")), " \t\r\n")
	return len(b) == 0 || b[0] == '<'
}

// printableStart is the first few bytes of head, for a message.
func printableStart(head []byte) string {
	b := bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	b = b[:min(len(b), 24)]
	return string(bytes.ToValidUTF8(b, []byte("?")))
}

// Unchanged is how long a file has been unchanged as the watcher counts it: from its modification time, or
// from since (when it was first listed with this size and time) when a share's clock puts the
// modification time later.
func Unchanged(f File, since, now time.Time) time.Duration {
	return now.Sub(Earlier(f.ModTime, since))
}

// GivenUp says whether an unfinished file unchanged this long is given up on.
func GivenUp(unchanged, after time.Duration) bool {
	if after <= 0 {
		after = DefaultGiveUpAfter
	}
	return unchanged >= after
}

func Earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// readEnds reads the head and the tail (Window bytes each) of f from r, which Open returned. A file
// whose length differs from the listing is changing: an error, so no verdict is remembered.
func readEnds(r io.Reader, f File) (head, tail []byte, err error) {
	head = make([]byte, min(f.Size, Window))
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", f.Path, err)
	}
	tail, pos := head, int64(len(head))
	if s, ok := r.(io.Seeker); ok && f.Size > pos+Window {
		if _, err := s.Seek(f.Size-Window, io.SeekStart); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", f.Path, err)
		}
		tail = make([]byte, Window)
		if _, err := io.ReadFull(r, tail); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", f.Path, err)
		}
		pos = f.Size
	} else if pos < f.Size {
		// A source without Seek is read through, keeping the last Window bytes.
		buf := append([]byte(nil), head...)
		chunk := make([]byte, 32<<10)
		for pos < f.Size {
			n, err := r.Read(chunk[:min(int64(len(chunk)), f.Size-pos)])
			buf = append(buf, chunk[:n]...)
			if len(buf) > 2*Window {
				buf = append(buf[:0], buf[len(buf)-Window:]...)
			}
			pos += int64(n)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, nil, fmt.Errorf("read %s: %w", f.Path, err)
			}
		}
		tail = buf[max(0, len(buf)-Window):]
	}
	if pos != f.Size {
		return nil, nil, fmt.Errorf("read %s: listed as %d bytes, found %d", f.Path, f.Size, pos)
	}
	if n, _ := r.Read(make([]byte, 1)); n > 0 {
		return nil, nil, fmt.Errorf("read %s: grew past %d bytes", f.Path, f.Size)
	}
	return head, tail, nil
}

// maxZipInMemory bounds a zip read into memory from a source that cannot read at an offset.
const maxZipInMemory = 256 << 20

// zipComplete judges a zip by its central directory, which a zip writer puts at the very end: an archive
// still being written has none, or one that does not fit the file's length. A file whose length differs
// from the listing is changing: an error, so the verdict is not remembered.
func zipComplete(r io.Reader, f File) (bool, error) {
	ra, ok := r.(io.ReaderAt)
	if !ok {
		if f.Size > maxZipInMemory {
			return false, fmt.Errorf("read %s: a zip of %d bytes from a source without random access", f.Path, f.Size)
		}
		b, err := io.ReadAll(io.LimitReader(r, f.Size+1))
		if err != nil {
			return false, fmt.Errorf("read %s: %w", f.Path, err)
		}
		if int64(len(b)) != f.Size {
			return false, fmt.Errorf("read %s: listed as %d bytes, found %d", f.Path, f.Size, len(b))
		}
		ra = bytes.NewReader(b)
	}
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Size() != f.Size {
			return false, fmt.Errorf("read %s: listed as %d bytes, now %d", f.Path, f.Size, fi.Size())
		}
	}
	if _, err := zip.NewReader(ra, f.Size); err != nil {
		return false, nil // no central directory (yet)
	}
	return true, nil
}

// The closing tag of CommerceML's root in the two encodings 1C writes (docs/commerceml.md §4.3).
var (
	rootEndUTF8   = []byte("</КоммерческаяИнформация>")
	rootEndCP1251 = func() []byte {
		b, err := charmap.Windows1251.NewEncoder().Bytes(rootEndUTF8)
		if err != nil {
			panic(err)
		}
		return b
	}()
)

// closed says whether a file with this head and tail is a whole XML document: its last non-whitespace
// bytes are the closing tag of the root element. The root's name is taken from the head, byte for byte, so
// the check works in any ASCII-compatible encoding; an inner end tag such as </Товар> at the end of a
// half-written file does not pass. If the head does not show the root, any end tag is accepted.
func closed(head, tail []byte) bool {
	t, ok := trimMisc(tail)
	if !ok {
		return false
	}
	if bytes.HasSuffix(t, rootEndUTF8) || bytes.HasSuffix(t, rootEndCP1251) {
		return true
	}
	last, ok := lastEndTag(t)
	name, empty, known := rootName(head)
	switch {
	case !known:
		return ok
	case empty:
		return bytes.HasSuffix(t, []byte("/>"))
	default:
		return ok && bytes.Equal(last, name)
	}
}

// trimMisc removes what XML allows after the root element (XML 1.0 §2.1, Misc: white space, comments,
// processing instructions) from the end of tail, so that a whole document followed by, say,
// "<!-- exported by BAS -->" is seen closed. ok is false when a trailing comment or instruction starts
// before the tail: undecided, and a file is not taken undecided.
func trimMisc(tail []byte) (t []byte, ok bool) {
	t = bytes.TrimRight(tail, " \t\r\n")
	for {
		var open []byte
		switch {
		case bytes.HasSuffix(t, []byte("-->")):
			open = []byte("<!--")
		case bytes.HasSuffix(t, []byte("?>")):
			open = []byte("<?")
		default:
			return t, true
		}
		i := bytes.LastIndex(t[:len(t)-2], open)
		if i < 0 {
			return t, false
		}
		t = bytes.TrimRight(t[:i], " \t\r\n")
	}
}

// rootName finds the root element's name in the head of a document, skipping a BOM, the XML
// declaration, processing instructions, comments and a DOCTYPE without an internal subset. empty is true
// for a root written as <name/>.
func rootName(head []byte) (name []byte, empty, ok bool) {
	b := bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	for {
		b = bytes.TrimLeft(b, " \t\r\n")
		var end []byte
		switch {
		case bytes.HasPrefix(b, []byte("<?")):
			end = []byte("?>")
		case bytes.HasPrefix(b, []byte("<!--")):
			end = []byte("-->")
		case bytes.HasPrefix(b, []byte("<!")):
			end = []byte(">")
		case bytes.HasPrefix(b, []byte("<")):
			b = b[1:]
			i := bytes.IndexAny(b, " \t\r\n/>")
			if i <= 0 {
				return nil, false, false
			}
			name, rest := b[:i], b[i:]
			// The start tag ends at the first '>' outside a quoted attribute value.
			var quote byte
			for j, c := range rest {
				switch {
				case quote != 0:
					if c == quote {
						quote = 0
					}
				case c == '"' || c == '\'':
					quote = c
				case c == '>':
					return name, j > 0 && rest[j-1] == '/', true
				}
			}
			return name, false, true // a start tag longer than the head: certainly not empty
		default:
			return nil, false, false
		}
		i := bytes.Index(b, end)
		if i < 0 {
			return nil, false, false
		}
		b = b[i+len(end):]
	}
}

// lastEndTag returns the name of the end tag t ends with ("</name>" or "</name >").
func lastEndTag(t []byte) (name []byte, ok bool) {
	if !bytes.HasSuffix(t, []byte(">")) {
		return nil, false
	}
	t = bytes.TrimRight(t[:len(t)-1], " \t\r\n")
	i := bytes.LastIndexAny(t, "</> \t\r\n")
	if i < 1 || t[i] != '/' || t[i-1] != '<' || i == len(t)-1 {
		return nil, false
	}
	return t[i+1:], true
}
