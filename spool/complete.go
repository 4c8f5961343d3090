package spool

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
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
	// for, at most DefaultGiveUpAfter (WatcherConfig.GiveUpAfter) of no change.
	Unfinished
	// NotXML: the first bytes cannot start an XML document (text, a PDF, a picture, UTF-16). Nothing
	// written after them can make it an export: refused as soon as it stops changing.
	NotXML
)

// DefaultGiveUpAfter is how long an export may stay unchanged and unfinished before it is given up and
// recorded in failed/: BAS writes each file in one pass, seconds to minutes for the largest catalogue,
// so five minutes without a change mean the export broke off (docs/folders.md).
const DefaultGiveUpAfter = 5 * time.Minute

// Judged is the verdict on one file with the reason, in Ukrainian for the staff who read status and
// failed/ notes.
type Judged struct {
	Completeness
	Why string // "" for Whole
}

// JudgeFile reads the head and the tail of f from r (which Open returned) and judges it. A file whose
// length differs from the listing is changing: an error, so the verdict is not remembered.
func JudgeFile(r io.Reader, f FileInfo) (Judged, error) {
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
	return judgeXML(head, tail), nil
}

// judgeXML judges an XML file by its head and tail.
func judgeXML(head, tail []byte) Judged {
	switch {
	case len(head) == 0:
		return Judged{Unfinished, "файл порожній (0 байт)"}
	case len(bytes.Trim(head, "\x00")) == 0:
		return Judged{Unfinished, "у файлі лише нульові байти (копію ще не заповнено)"}
	case !startsXML(head):
		return Judged{NotXML, "це не XML: файл починається з " + fmt.Sprintf("%q", printableStart(head))}
	case dropClosed(head, tail):
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
func Unchanged(f FileInfo, since, now time.Time) time.Duration {
	return now.Sub(watcherMinTime(f.ModTime, since))
}

// GivenUp says whether an unfinished file unchanged this long is given up on.
func GivenUp(unchanged, after time.Duration) bool {
	if after <= 0 {
		after = DefaultGiveUpAfter
	}
	return unchanged >= after
}
