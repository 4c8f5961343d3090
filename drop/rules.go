package drop

import (
	"archive/zip"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"obmin/commerceml"
	"obmin/internal/safezip"
)

// Hidden says whether a file name is another program's: a dot-file or an Office lock file (~$…).
func Hidden(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~$")
}

// SkippedFolder says why a subfolder is no drop of its own and is not looked into, or "": BAS keeps
// pictures in import_files/, and hidden folders are other programs'.
func SkippedFolder(name string) string {
	switch {
	case strings.EqualFold(name, "import_files"):
		return "pictures, never read"
	case strings.HasPrefix(name, "."):
		return "a hidden folder"
	}
	return ""
}

// Order sorts "import.xml" before "import1.xml" before "import10.xml", and keeps other names stable.
func Order(name string) string {
	base := strings.TrimSuffix(strings.ToLower(name), ".xml")
	i := len(base)
	for i > 0 && base[i-1] >= '0' && base[i-1] <= '9' {
		i--
	}
	return fmt.Sprintf("%s\x00%08s", base[:i], base[i:])
}

// SortNames sorts a drop's file names in Order.
func SortNames(names []string) {
	sort.Slice(names, func(i, j int) bool { return Order(names[i]) < Order(names[j]) })
}

// Files sorts a drop's CommerceML files by kind, in the order they are applied. Order inside a kind
// follows BAS's numbering (SortNames).
type Files struct {
	Catalog, Offers, Documents []string
	Empty                      []string // files with a valid root and nothing in it
}

// Add files a drop's CommerceML file under its kind: catalogue files are applied first, then offers, prices
// and stock (docs/commerceml.md §4.2: the kind is told by content), then BAS's orders exports; a root with
// nothing in it (BAS writes such an orders file when it has no orders) is kept apart, never applied.
func (df *Files) Add(name string, kind commerceml.Kind) {
	switch kind {
	case commerceml.KindCatalog:
		df.Catalog = append(df.Catalog, name)
	case commerceml.KindOffers, commerceml.KindPrices, commerceml.KindRests:
		df.Offers = append(df.Offers, name)
	case commerceml.KindDocuments:
		df.Documents = append(df.Documents, name)
	default:
		df.Empty = append(df.Empty, name)
	}
}

// ZipEntry says whether an archive entry (a slash-separated name) joins the drop, and under which name
// at the top of it: XML files do, by their base name; anything in an import_files folder at any depth
// (pictures, docs/commerceml.md §6.3: the watcher skips such folders the same way) and anything else stay out.
func ZipEntry(rel string) (name string, joins bool) {
	if !strings.EqualFold(path.Ext(rel), ".xml") || InPictures(rel) {
		return "", false
	}
	return path.Base(rel), true
}

// What condemns an archive (ZipRefusal). The values are stable: `obmin inspect` reports them.
const (
	ZipUnsafe = "zip-unsafe" // an entry name leaving the folder, a link…
	ZipLimit  = "zip-limit"  // too many entries or bytes
	ZipBroken = "zip-broken" // not a readable zip archive
)

// ZipRefusal names what condemns an archive in an error of safezip.Extract: ZipUnsafe, ZipLimit or
// ZipBroken; "" for an error that is no fault of the archive (I/O), which a retry may cure.
func ZipRefusal(err error) string {
	switch {
	case errors.Is(err, safezip.ErrUnsafe):
		return ZipUnsafe
	case errors.Is(err, safezip.ErrLimit):
		return ZipLimit
	case errors.Is(err, zip.ErrFormat), errors.Is(err, zip.ErrChecksum), errors.Is(err, zip.ErrAlgorithm):
		return ZipBroken
	}
	return ""
}
