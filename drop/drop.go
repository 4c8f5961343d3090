package drop

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"
	"unicode"

	"obmin/internal/safezip"
)

// File is one file a folder lists (folder.Source).
type File struct {
	Path    string // slash-separated, relative to the source root
	Size    int64
	ModTime time.Time
}

// Wanted says whether a file name is one a folder offers: *.xml or *.zip, not hidden, not a temporary file.
// (The docs/reliability.md §5 list: dot-files, *.tmp, *.partial, Office's ~$ lock files.)
func Wanted(name string) bool {
	if Hidden(name) {
		return false
	}
	ext := path.Ext(name)
	return strings.EqualFold(ext, ".xml") || strings.EqualFold(ext, ".zip")
}

// CheckPath accepts only a clean, relative, slash-separated path: what a listing returns.
func CheckPath(p string) error {
	if !fs.ValidPath(p) || p == "." || strings.ContainsAny(p, `\:`) {
		return fmt.Errorf("not a relative path inside the source")
	}
	return nil
}

// Drop is one complete BAS export: the XML files directly in one folder of the source.
type Drop struct {
	Dir   string // folder relative to the source root, slash-separated; "" for the root
	Files []File // sorted by Path
	// GiveUp, when set, says the drop is not whole and never will be: its files stopped changing while
	// some are unfinished (for watch.Config.GiveUpAfter) or cannot be XML. It is to be recorded in
	// failed/ with these reasons, not applied.
	GiveUp []Incomplete
}

// Incomplete is a file of a drop that is not whole, and why (Judged.Why).
type Incomplete struct {
	Path string
	Why  string
}

// Waiting is a folder of the source that is not a drop yet, and why; for status and monitoring.
type Waiting struct {
	Folder   string    `json:"folder"` // "" for the source's root
	Files    int       `json:"files"`
	Since    time.Time `json:"since"`  // since when nothing changed (files not whole), or since first seen waiting (files changing)
	Reason   string    `json:"reason"` // in Ukrainian, for staff
	GiveUpAt time.Time `json:"give_up_at,omitempty"`
}

// InPictures says whether a listed file is outside every drop: pictures BAS puts in import_files/.
func InPictures(p string) bool {
	for _, part := range strings.Split(path.Dir(p), "/") {
		if strings.EqualFold(part, "import_files") {
			return true
		}
	}
	return false
}

// CheckName accepts a plain file or folder name: Latin letters, digits, ".", "_", "-", Cyrillic
// letters and spaces; not starting with "." or a space, not ending with "." or a space (Windows strips
// those), not a reserved Windows device name, at most 200 characters (docs/reliability.md
// §5). Drop ids and the names of files taken from BAS must pass it.
func CheckName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	if len([]rune(name)) > 200 {
		return fmt.Errorf("name %.40q… is longer than 200 characters", name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '.' || r == '_' || r == '-' || r == ' ' || unicode.Is(unicode.Cyrillic, r) && unicode.IsLetter(r)
		if !ok {
			return fmt.Errorf("name %q: character %q is not allowed", name, r)
		}
	}
	if name[0] == '.' || name[0] == ' ' {
		return fmt.Errorf("name %q starts with %q", name, name[0])
	}
	if last := name[len(name)-1]; last == '.' || last == ' ' {
		return fmt.Errorf("name %q ends with %q", name, last)
	}
	if safezip.ReservedWindowsName(name) {
		return fmt.Errorf("name %q is a reserved Windows device name", name)
	}
	return nil
}
