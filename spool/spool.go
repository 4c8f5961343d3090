package spool

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"obmin/drop"
	"obmin/folder"
	"obmin/internal/atomicfile"
	"obmin/internal/ctxio"
	"obmin/internal/voice"
)

// Spool is obmin's own folder tree, plain folders staff can open in Explorer:
//
//	inbox/               drops taken from BAS, waiting
//	processing/          the drop being applied (after a crash, resumed from here first)
//	done/<YYYY-MM-DD>/   applied drops, by the Kyiv day they finished; deleted by Retain
//	failed/              drops that cannot be applied, each beside <id>.error.txt saying why; never deleted
//	outbox/              files obmin writes for others
//	tmp/                 drops being copied in; emptied on open
//
// A drop is a folder named by its id holding the XML files of one BAS export. It only ever moves by a
// same-volume rename, so it is always whole in exactly one place (Maildir's tmp → new, Camel's preMove:
// docs/reliability.md §3), and a move never replaces an existing folder.
//
// Spool keeps no state in memory; one process should own a root at a time.
type Spool struct {
	Root string
	now  func() time.Time
	loc  *time.Location // whose calendar names done/<date> folders: Kyiv's, as every day staff read
}

// dirs are the folders of a spool, all created by OpenSpool. held/ is written by the sales side: one
// file per receipt held back from BAS.
var dirs = []string{"inbox", "processing", "done", "failed", "outbox", "held", "tmp"}

// OpenSpool creates the spool's folders under root as needed and removes what a crash left in tmp/ (a copy
// that never reached inbox/, so the drop is still in BAS's folder or was never taken) and obmin's own
// temporary files in root, outbox/ and failed/.
func OpenSpool(root string) (*Spool, error) {
	s, err := AttachSpool(root)
	if err != nil {
		return nil, err
	}
	for _, name := range dirs {
		if err := os.MkdirAll(s.Dir(name), 0o755); err != nil {
			return nil, fmt.Errorf("open spool: %w", err)
		}
	}
	if err := s.cleanTmp(); err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	return s, nil
}

// AttachSpool opens the spool at root for reading while another obmin may own it (obmin status): nothing
// is created and nothing removed, not even what a crash left in tmp/, which may be the owner's copy in
// progress. A folder that is not there reads as empty.
func AttachSpool(root string) (*Spool, error) {
	if root == "" {
		return nil, errors.New("open spool: empty root")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open spool %s: %w", root, err)
	}
	return &Spool{Root: abs, now: time.Now, loc: voice.Kyiv}, nil
}

func (s *Spool) cleanTmp() error {
	tmp := s.Dir("tmp")
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(tmp, e.Name())); err != nil {
			return fmt.Errorf("clean tmp: %w", err)
		}
	}
	// atomicfile.WriteFile's leftovers: ".<name>.<random>.tmp". held/ is where the sales side describes held
	// receipts. Inside a drop in processing/, only the reports obmin writes there before the drop moves to
	// done/ (the drop's own files are not obmin's to judge).
	for _, dir := range []string{s.Root, s.Dir("outbox"), s.Dir("failed"), s.Dir("held")} {
		if err := atomicfile.RemoveTemps(dir, ""); err != nil {
			return fmt.Errorf("clean temporary files: %w", err)
		}
	}
	processing, err := os.ReadDir(s.Dir("processing"))
	if err != nil {
		return err
	}
	for _, e := range processing {
		for _, report := range []string{"obmin-report.txt", "obmin-report.json"} {
			if !e.IsDir() {
				continue
			}
			if err := atomicfile.RemoveTemps(filepath.Join(s.Dir("processing"), e.Name()), report); err != nil {
				return fmt.Errorf("clean temporary files: %w", err)
			}
		}
	}
	return nil
}

// Dir is the path of one of the spool's folders: "inbox", "processing", "done", "failed", "outbox", "held" or
// "tmp". Any other name is a programming error and panics.
func (s *Spool) Dir(name string) string {
	for _, d := range dirs {
		if d == name {
			return filepath.Join(s.Root, name)
		}
	}
	panic(fmt.Sprintf("spool: no folder %q", name))
}

// Ingest is Stage and then Commit: it copies the files of drop d from src into tmp/<id>/, then renames
// tmp/<id> to inbox/<id> in one step, so inbox/ never holds part of a drop.
func (s *Spool) Ingest(ctx context.Context, src folder.Source, d drop.Drop, id string) (fingerprint string, err error) {
	fingerprint, err = s.Stage(ctx, src, d, id)
	if err != nil {
		return "", err
	}
	if err := s.Commit(id); err != nil {
		os.RemoveAll(filepath.Join(s.Dir("tmp"), id))
		return "", err
	}
	return fingerprint, nil
}

// Stage copies the files of drop d from src into tmp/<id>/ and returns the drop's fingerprint; Commit
// then hands it to inbox/, or Discard throws it away (a copy of a drop taken before). Nothing that reads
// inbox/ ever sees a staged drop, so a copy that is discarded cannot be claimed meanwhile. Each file is
// copied under its base name, its length checked against the listing and its SHA-256 computed on the
// way, then fsynced (docs/reliability.md §7: verify every transfer).
//
// The fingerprint returned is the SHA-256 (hex) of the sorted lines "name\x00size\x00sha256\n", one per
// file: it depends on content only, not on paths or times, so the caller can recognise an export it already
// took. BAS reuses file names for every export, so a path says nothing (docs/reliability.md §4).
//
// Names from outside are never trusted as paths: a file must lie directly in d.Dir, only its base name is
// kept, and a name that is not plain (drop.CheckName) or that equals another one ignoring case (Windows
// would merge them) is rejected before anything is copied. On any error tmp/<id> is removed.
func (s *Spool) Stage(ctx context.Context, src folder.Source, d drop.Drop, id string) (fingerprint string, err error) {
	_, fingerprint, err = s.copyDrop(ctx, src, d, id, filepath.Join(s.Dir("inbox"), id))
	return fingerprint, err
}

// Commit moves the drop Stage left in tmp/<id> to inbox/<id>. On an error the drop is not in inbox/.
func (s *Spool) Commit(id string) error {
	if err := drop.CheckName(id); err != nil {
		return fmt.Errorf("ingest: drop id: %w", err)
	}
	tmp, dst := filepath.Join(s.Dir("tmp"), id), filepath.Join(s.Dir("inbox"), id)
	if err := s.move(tmp, dst); err != nil {
		if _, serr := os.Lstat(tmp); errors.Is(serr, fs.ErrNotExist) {
			// Renamed, but the directory sync failed: take it back out, an error means "not taken".
			os.RemoveAll(dst)
		}
		return fmt.Errorf("ingest %s: %w", id, err)
	}
	return nil
}

// IngestFailed copies drop d as Ingest does, but into failed/<id>/, with failed/<id>.error.txt beside it,
// never through inbox/: for a drop known bad before it is taken (the watcher gave up on it), which staff
// should be able to open as BAS left it. reason is called with the folder holding the copies and the
// fingerprint, and returns the reason; when it returns "" (the same export was recorded before) nothing
// is recorded and recorded is false.
func (s *Spool) IngestFailed(ctx context.Context, src folder.Source, d drop.Drop, id string, reason func(dir, fingerprint string) (string, error)) (fingerprint string, recorded bool, err error) {
	to := filepath.Join(s.Dir("failed"), id)
	tmp, fingerprint, err := s.copyDrop(ctx, src, d, id, to)
	if err != nil {
		return "", false, err
	}
	defer os.RemoveAll(tmp) // gone once moved
	why, err := reason(tmp, fingerprint)
	if err != nil || why == "" {
		return fingerprint, false, err
	}
	note := to + ".error.txt"
	if err := mustNotExist(note); err != nil {
		return "", false, fmt.Errorf("ingest %s: %w", id, err)
	}
	// The note first, as in Fail: a crash between the two leaves the copy in tmp/, removed at the next
	// start, and the drop is taken again from BAS's folder then.
	if err := atomicfile.WriteFile(note, 0o644, func(w io.Writer) error {
		_, err := io.WriteString(w, errorText(s.now().In(s.loc), id, why))
		return err
	}); err != nil {
		return "", false, fmt.Errorf("ingest %s: %w", id, err)
	}
	if err := s.move(tmp, to); err != nil {
		if _, serr := os.Lstat(tmp); serr == nil {
			os.Remove(note)
		}
		return "", false, fmt.Errorf("ingest %s: %w", id, err)
	}
	return fingerprint, true, nil
}

// copyDrop copies the files of d into tmp/<id>/ and fsyncs them (see Ingest); dst is where the copy will
// go, which must not exist yet. On error nothing is left in tmp/.
func (s *Spool) copyDrop(ctx context.Context, src folder.Source, d drop.Drop, id, dst string) (tmp, fingerprint string, err error) {
	if err := drop.CheckName(id); err != nil {
		return "", "", fmt.Errorf("ingest: drop id: %w", err)
	}
	names, err := dropNames(d)
	if err != nil {
		return "", "", fmt.Errorf("ingest %s from %s: %w", id, src, err)
	}
	if err := mustNotExist(dst); err != nil {
		return "", "", fmt.Errorf("ingest %s: %w", id, err)
	}
	dir := filepath.Join(s.Dir("tmp"), id)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("ingest %s: %w", id, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()

	lines := make([]string, 0, len(d.Files))
	buf := make([]byte, 128<<10)
	for i, f := range d.Files {
		sum, err := copyFile(ctx, src, f, filepath.Join(dir, names[i]), buf)
		if err != nil {
			return "", "", fmt.Errorf("ingest %s from %s: %w", id, src, err)
		}
		lines = append(lines, fmt.Sprintf("%s\x00%d\x00%s\n", names[i], f.Size, sum))
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return "", "", fmt.Errorf("ingest %s: %w", id, err)
	}
	return dir, hex.EncodeToString(h.Sum(nil)), nil
}

// ErrBadDrop marks an Ingest error caused by the drop itself (a file name obmin may not use, two names
// Windows would merge): taking it again gives the same error, so it belongs in failed/ (see Reject), not
// in a retry loop.
var ErrBadDrop = errors.New("drop cannot be taken as it is")

// dropNames checks every file of d and returns the names they get in the spool, in d.Files order.
// Its errors wrap ErrBadDrop.
func dropNames(d drop.Drop) ([]string, error) {
	names, err := dropNamesOf(d)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadDrop, err)
	}
	return names, nil
}

func dropNamesOf(d drop.Drop) ([]string, error) {
	if len(d.Files) == 0 {
		return nil, errors.New("drop has no files")
	}
	names := make([]string, len(d.Files))
	seen := make(map[string]string, len(d.Files))
	for i, f := range d.Files {
		if err := drop.CheckPath(f.Path); err != nil {
			return nil, fmt.Errorf("file %q: %w", f.Path, err)
		}
		dir, name := path.Split(f.Path)
		if strings.TrimSuffix(dir, "/") != d.Dir {
			return nil, fmt.Errorf("file %q is not directly in the drop's folder %q", f.Path, d.Dir)
		}
		if err := drop.CheckName(name); err != nil {
			return nil, fmt.Errorf("file %q: %w", f.Path, err)
		}
		key := strings.ToLower(name)
		if other, dup := seen[key]; dup {
			return nil, fmt.Errorf("files %q and %q would have the same name in the spool", other, f.Path)
		}
		seen[key] = f.Path
		names[i] = name
	}
	return names, nil
}

// copyFile copies one file of a drop to dst (which must not exist) through buf, checks its length against
// the listing and returns its SHA-256 in hex.
func copyFile(ctx context.Context, src folder.Source, f drop.File, dst string, buf []byte) (sum string, err error) {
	in, err := src.Open(ctx, f.Path)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("copy %q: close: %w", f.Path, cerr)
		}
	}()
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(out, h), ctxio.Reader(ctx, in), buf)
	if err != nil {
		return "", fmt.Errorf("copy %q: %w", f.Path, err)
	}
	if n != f.Size {
		// BAS rewrote the file after the watcher judged it complete: take the drop again later.
		return "", fmt.Errorf("copy %q: listed as %d bytes, read %d: the file changed while it was copied", f.Path, f.Size, n)
	}
	if err := out.Sync(); err != nil {
		return "", fmt.Errorf("copy %q: sync: %w", f.Path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// mustNotExist fails when p exists: the spool never overwrites.
func mustNotExist(p string) error {
	_, err := os.Lstat(p)
	switch {
	case err == nil:
		return fmt.Errorf("%s: %w", p, fs.ErrExist)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	default:
		return err
	}
}

// move renames from to to (same volume), refusing to replace an existing to, then syncs both parents so
// the move survives a power cut.
func (s *Spool) move(from, to string) error {
	if _, err := os.Lstat(from); err != nil {
		return err
	}
	if err := mustNotExist(to); err != nil {
		return err
	}
	if err := atomicfile.Rename(from, to); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(filepath.Dir(from)); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(to))
}

// Pending returns the ids of the drops in inbox/, oldest first.
func (s *Spool) Pending() ([]string, error) { return s.list("inbox") }

// InProcessing returns the ids of the drops in processing/, oldest first: after a crash (kill -9 or a power
// cut) they are finished before anything new.
func (s *Spool) InProcessing() ([]string, error) { return s.list("processing") }

// list returns the drop folders in one spool folder, by modification time (when the drop was copied in),
// then by id.
func (s *Spool) list(name string) ([]string, error) {
	entries, err := os.ReadDir(s.Dir(name))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", name, err)
	}
	type drop struct {
		id string
		t  time.Time
	}
	var drops []drop
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", name, err)
		}
		drops = append(drops, drop{e.Name(), fi.ModTime()})
	}
	sort.Slice(drops, func(i, j int) bool {
		if !drops[i].t.Equal(drops[j].t) {
			return drops[i].t.Before(drops[j].t)
		}
		return drops[i].id < drops[j].id
	})
	ids := make([]string, len(drops))
	for i, d := range drops {
		ids[i] = d.id
	}
	return ids, nil
}

// Claim moves drop id from inbox/ to processing/ and returns its new folder.
func (s *Spool) Claim(id string) (dir string, err error) {
	return s.moveDrop(id, "claim", s.Dir("inbox"), s.Dir("processing"))
}

// Done moves drop id from processing/ to done/<today>/, today being the Kyiv date, and returns its new
// folder.
func (s *Spool) Done(id string) (dir string, err error) {
	if err := drop.CheckName(id); err != nil {
		return "", fmt.Errorf("done: drop id: %w", err)
	}
	// No empty date folder for a drop that is not there.
	if _, err := os.Lstat(filepath.Join(s.Dir("processing"), id)); err != nil {
		return "", fmt.Errorf("done %s: %w", id, err)
	}
	day := filepath.Join(s.Dir("done"), s.now().In(s.loc).Format("2006-01-02"))
	switch err := os.Mkdir(day, 0o755); {
	case err == nil:
		if err := atomicfile.SyncDir(s.Dir("done")); err != nil {
			return "", fmt.Errorf("done %s: %w", id, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return "", fmt.Errorf("done %s: %w", id, err)
	}
	return s.moveDrop(id, "done", s.Dir("processing"), day)
}

func (s *Spool) moveDrop(id, what, fromDir, toDir string) (string, error) {
	if err := drop.CheckName(id); err != nil {
		return "", fmt.Errorf("%s: drop id: %w", what, err)
	}
	to := filepath.Join(toDir, id)
	if err := s.move(filepath.Join(fromDir, id), to); err != nil {
		return "", fmt.Errorf("%s %s: %w", what, id, err)
	}
	return to, nil
}

// Fail moves drop id from processing/ (or, if it never got there, from inbox/) to failed/ and writes
// failed/<id>.error.txt beside it first, so a failed drop is never without its reason. The file is UTF-8
// with a BOM and CRLF line ends, so Windows Notepad shows Ukrainian text right, and holds the time, the
// drop id and reason (the caller's message should name the file, element and line).
func (s *Spool) Fail(id string, reason string) (dir string, err error) {
	if err := drop.CheckName(id); err != nil {
		return "", fmt.Errorf("fail: drop id: %w", err)
	}
	from := filepath.Join(s.Dir("processing"), id)
	if _, err := os.Lstat(from); errors.Is(err, fs.ErrNotExist) {
		from = filepath.Join(s.Dir("inbox"), id)
	}
	if _, err := os.Lstat(from); err != nil {
		return "", fmt.Errorf("fail %s: %w", id, err)
	}
	to := filepath.Join(s.Dir("failed"), id)
	note := to + ".error.txt"
	for _, p := range []string{to, note} {
		if err := mustNotExist(p); err != nil {
			return "", fmt.Errorf("fail %s: %w", id, err)
		}
	}
	text := errorText(s.now().In(s.loc), id, reason)
	if err := atomicfile.WriteFile(note, 0o644, func(w io.Writer) error {
		_, err := io.WriteString(w, text)
		return err
	}); err != nil {
		return "", fmt.Errorf("fail %s: %w", id, err)
	}
	if err := s.move(from, to); err != nil {
		if _, serr := os.Lstat(from); serr == nil {
			os.Remove(note) // the drop did not move: no reason without its drop
		}
		return "", fmt.Errorf("fail %s: %w", id, err)
	}
	return to, nil
}

// Reject records a drop that cannot be taken into the spool at all (Ingest returned ErrBadDrop) as failed:
// failed/<id>/ is made empty, since its files may not be copied under their own names, and
// failed/<id>.error.txt gives the reason, which must name the files. BAS's folder is left as it is.
func (s *Spool) Reject(id string, reason string) (dir string, err error) {
	if err := drop.CheckName(id); err != nil {
		return "", fmt.Errorf("reject: drop id: %w", err)
	}
	tmp := filepath.Join(s.Dir("tmp"), id)
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return "", fmt.Errorf("reject %s: %w", id, err)
	}
	to := filepath.Join(s.Dir("failed"), id)
	note := to + ".error.txt"
	if err := mustNotExist(note); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("reject %s: %w", id, err)
	}
	// The note first, as in Fail: a crash between the two leaves an empty tmp/ folder, removed at the next
	// start, and the drop is rejected again then.
	if err := atomicfile.WriteFile(note, 0o644, func(w io.Writer) error {
		_, err := io.WriteString(w, errorText(s.now().In(s.loc), id, reason))
		return err
	}); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("reject %s: %w", id, err)
	}
	if err := s.move(tmp, to); err != nil {
		os.Remove(tmp)
		os.Remove(note)
		return "", fmt.Errorf("reject %s: %w", id, err)
	}
	return to, nil
}

// errorText is the content of failed/<id>.error.txt.
func errorText(now time.Time, id, reason string) string {
	reason = strings.ReplaceAll(strings.TrimSpace(reason), "\r\n", "\n")
	var b strings.Builder
	b.WriteString("\uFEFF")
	b.WriteString("obmin: пакет обміну не оброблено\r\n")
	b.WriteString("Час: " + voice.Time(now) + "\r\n")
	b.WriteString("Пакет: " + id + "\r\n")
	b.WriteString("Причина:\r\n")
	b.WriteString(strings.ReplaceAll(reason, "\n", "\r\n"))
	b.WriteString("\r\n")
	return b.String()
}

// Discard removes a drop that turned out to be a copy of one taken before, from tmp/ or inbox/.
func (s *Spool) Discard(id string) error {
	if err := drop.CheckName(id); err != nil {
		return fmt.Errorf("discard: drop id: %w", err)
	}
	found := false
	for _, name := range []string{"tmp", "inbox"} {
		p := filepath.Join(s.Dir(name), id)
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		found = true
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("discard %s: %w", id, err)
		}
	}
	if !found {
		return fmt.Errorf("discard %s: not in tmp or inbox: %w", id, fs.ErrNotExist)
	}
	return nil
}

// Retain deletes the done/<YYYY-MM-DD> folders whose whole day ended more than keep ago and returns how
// many date folders it removed. Other entries in done/ and everything in failed/ are never touched: a failed
// drop waits for a person.
func (s *Spool) Retain(ctx context.Context, keep time.Duration) (removed int, err error) {
	if keep <= 0 {
		return 0, fmt.Errorf("retain: keep must be positive, got %s", keep)
	}
	done := s.Dir("done")
	entries, err := os.ReadDir(done)
	if err != nil {
		return 0, fmt.Errorf("retain: %w", err)
	}
	cutoff := s.now().Add(-keep)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		if !e.IsDir() {
			continue
		}
		day, err := time.ParseInLocation("2006-01-02", e.Name(), s.loc)
		if err != nil || day.Format("2006-01-02") != e.Name() {
			continue
		}
		if day.AddDate(0, 0, 1).After(cutoff) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(done, e.Name())); err != nil {
			return removed, fmt.Errorf("retain: %w", err)
		}
		removed++
	}
	if removed > 0 {
		if err := atomicfile.SyncDir(done); err != nil {
			return removed, fmt.Errorf("retain: %w", err)
		}
	}
	return removed, nil
}

// Counts returns how many drops each of inbox, processing, done (all days) and failed holds, for the
// status view.
func (s *Spool) Counts() (map[string]int, error) {
	counts := map[string]int{"done": 0}
	for _, name := range []string{"inbox", "processing", "failed"} {
		n, err := countDirs(s.Dir(name))
		if err != nil {
			return nil, fmt.Errorf("count %s: %w", name, err)
		}
		counts[name] = n
	}
	days, err := os.ReadDir(s.Dir("done"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("count done: %w", err)
	}
	for _, d := range days {
		if !d.IsDir() {
			continue
		}
		n, err := countDirs(filepath.Join(s.Dir("done"), d.Name()))
		if err != nil {
			return nil, fmt.Errorf("count done: %w", err)
		}
		counts["done"] += n
	}
	return counts, nil
}

func countDirs(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n, nil
}

// Failed returns the ids of the drops in failed/, oldest first.
func (s *Spool) Failed() ([]string, error) { return s.list("failed") }
