package spool

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"obmin/internal/quietlog"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/sirupsen/logrus"
	"golang.org/x/text/encoding/charmap"
)

// Drop is one complete BAS export: the XML files directly in one folder of the source.
type Drop struct {
	Dir   string     // folder relative to the source root, slash-separated; "" for the root
	Files []FileInfo // sorted by Path
	// GiveUp, when set, says the drop is not whole and never will be: its files stopped changing while
	// some are unfinished (for WatcherConfig.GiveUpAfter) or cannot be XML. It is to be recorded in
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

// ScanReport is the outcome of one Scan.
type ScanReport struct {
	At      time.Time
	Err     error     // the listing failed: the folder is missing or unreadable
	Waiting []Waiting // folders that are not drops yet
}

// WatcherConfig configures a Watcher. Zero values take the defaults.
type WatcherConfig struct {
	Source   Source
	Interval time.Duration // polling interval (default 2s); polling is the source of truth
	MinAge   time.Duration // a file must be unmodified at least this long (default 2s)
	// Notify also uses file-system events on a LocalDir to scan sooner. Events are only a hint: network
	// shares send none and queues overflow (docs/reliability.md §1), so polling never stops.
	Notify bool
	Clock  func() time.Time // default time.Now
	Logger *logrus.Entry    // default: discard
	// Spool is where a drop is recorded as failed (Spool.Reject: an empty failed/<id>/ beside
	// <id>.error.txt naming the files and why) when the source keeps listing a file of it but refuses to
	// open it: no permission, or a name this system cannot open. Nil: such a drop is only logged.
	Spool *Spool
	// OnList, when set, is called with every successful listing of the source and the time it was made,
	// before the listing is judged: the orders side watches BAS's exchange runs in it (package exchange).
	OnList func(at time.Time, files []FileInfo)
	// GiveUpAfter bounds the wait for a drop whose files stopped changing but are not all whole (no
	// closing tag, empty, zeros) or do not open: after this long without a change it is given up on.
	// Default DefaultGiveUpAfter.
	GiveUpAfter time.Duration
}

// Watcher finds complete BAS exports in a Source. BAS cannot write through a temporary name, so the
// watcher judges completeness itself, for the whole folder at once (docs/reliability.md §2,
// docs/commerceml.md §4.2: "completeness of a drop is not signalled inside the files").
//
// A Watcher is safe for concurrent use.
type Watcher struct {
	cfg       WatcherConfig
	log       *logrus.Entry
	newNotify func() (*fsnotify.Watcher, error) // tests make it fail

	mu      sync.Mutex
	seen    map[string]watcherSeen         // by path: what the previous Scan listed
	counts  map[string]int                 // by folder: how many files the previous Scan listed
	offered map[string]map[watcherKey]bool // by folder: the files of the drop last returned
	tails   map[string]watcherTail         // by path: closing-tag verdicts, so a file is read once per version
	readyAt time.Time                      // earliest time a settling drop may be complete; zero if none
	// unopenable: by folder, the files the drop last returned from it was given up on (watcherGiveUp).
	// Each scan tries to open them again; once they all open, the drop is judged afresh.
	unopenable map[string][]string
	waitFrom   map[string]time.Time // by folder: when it was first seen waiting with changing files
	waitLogged map[string]time.Time // by folder: the quiet time of the wait last logged

	lastMu   sync.Mutex
	last     ScanReport
	onReport func(ScanReport)
}

type watcherSeen struct {
	size  int64
	mod   time.Time
	since time.Time // when this size and mtime were first listed
}

type watcherTail struct {
	size   int64
	mod    time.Time
	known  bool   // judged is this version's verdict
	judged Judged // JudgeFile's

	// Open failures of this version, in consecutive scans.
	openFails  int
	openSince  time.Time // when the first of them happened
	openErr    error     // the last of them
	openWarned bool      // logged
}

const (
	watcherDefaultInterval = 2 * time.Second
	watcherDefaultMinAge   = 2 * time.Second
	// watcherNotifyDelay lets a burst of events (one write shows up as many) end in one scan.
	watcherNotifyDelay = 200 * time.Millisecond
	// watcherWindow is how much of each end of a file the closing-tag check reads.
	watcherWindow = 4096
	// watcherGiveUpScans is how many scans in a row a listed file must refuse to open before its drop is
	// given up on (with the age in watcherGiveUp). Two, so that obmin once, which scans twice, gets there.
	watcherGiveUpScans = 2
)

// NewWatcher checks cfg and fills in its defaults.
func NewWatcher(cfg WatcherConfig) (*Watcher, error) {
	if cfg.Source == nil {
		return nil, errors.New("watcher: no source")
	}
	if cfg.Interval < 0 || cfg.MinAge < 0 {
		return nil, fmt.Errorf("watcher: negative interval %s or minimum age %s", cfg.Interval, cfg.MinAge)
	}
	if cfg.Interval == 0 {
		cfg.Interval = watcherDefaultInterval
	}
	if cfg.MinAge == 0 {
		cfg.MinAge = watcherDefaultMinAge
	}
	if cfg.GiveUpAfter <= 0 {
		cfg.GiveUpAfter = DefaultGiveUpAfter
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	log := quietlog.Or(cfg.Logger)
	return &Watcher{
		cfg:        cfg,
		log:        log.WithField("source", cfg.Source.String()),
		newNotify:  fsnotify.NewWatcher,
		seen:       map[string]watcherSeen{},
		counts:     map[string]int{},
		offered:    map[string]map[watcherKey]bool{},
		tails:      map[string]watcherTail{},
		unopenable: map[string][]string{},
		waitFrom:   map[string]time.Time{},
		waitLogged: map[string]time.Time{},
	}, nil
}

// Scan lists the source once and returns the drops that are complete now, sorted by folder. A drop is
// complete when every XML file in its folder
//   - was listed by the previous Scan with the same size and mtime, and no file of the folder went away;
//   - has not changed for at least MinAge (by its mtime, or by how long this Scan has seen it unchanged when
//     a share's clock puts the mtime in the future);
//   - is not empty (Windows copies create the file first and fill it later);
//   - ends, apart from whitespace, with the closing tag of its root element. BAS writes the XML in one pass,
//     so a file it is still writing has no closing tag (docs/commerceml.md §4.2).
//
// A drop once returned is not returned again while its names, sizes and mtimes stay the same: BAS empties
// its folder only at its next export, so the same export is there for minutes or days. Nor is what is left
// of it while BAS deletes its files. A drop with a new or changed file is judged afresh. Subfolders named
// import_files (pictures) are not drops.
func (w *Watcher) Scan(ctx context.Context) ([]Drop, error) {
	files, err := w.cfg.Source.List(ctx)
	if err != nil {
		err = fmt.Errorf("scan %s: %w", w.cfg.Source, err)
		if ctx.Err() == nil {
			w.report(ScanReport{At: w.cfg.Clock(), Err: err})
		}
		return nil, err
	}
	if w.cfg.OnList != nil {
		w.cfg.OnList(w.cfg.Clock(), files)
	}
	w.mu.Lock()
	now := w.cfg.Clock()

	seen := make(map[string]watcherSeen, len(files))
	groups := map[string][]FileInfo{}
	for _, f := range files {
		if watcherIgnored(f.Path) {
			continue
		}
		st := watcherSeen{size: f.Size, mod: f.ModTime, since: now}
		if prev, ok := w.seen[f.Path]; ok && prev.size == f.Size && prev.mod.Equal(f.ModTime) {
			st.since = prev.since
		}
		seen[f.Path] = st
		dir := path.Dir(f.Path)
		if dir == "." {
			dir = ""
		}
		groups[dir] = append(groups[dir], f)
	}

	dirs := make([]string, 0, len(groups))
	for dir := range groups {
		dirs = append(dirs, dir)
	}
	sort.Strings(dirs)

	var drops []Drop
	var waiting []Waiting
	w.readyAt = time.Time{}
	for _, dir := range dirs {
		files := groups[dir]
		sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
		// Also skips what is left of a returned drop while BAS empties the folder for its next export.
		if w.offeredAll(dir, files) && !w.reopened(ctx, dir) {
			continue
		}
		v := w.complete(ctx, now, dir, files)
		if v.wait != nil {
			waiting = append(waiting, *v.wait)
		}
		if !v.ready {
			continue
		}
		set := make(map[watcherKey]bool, len(files))
		for _, f := range files {
			set[watcherKeyOf(f)] = true
		}
		w.offered[dir] = set
		delete(w.unopenable, dir)
		delete(w.waitFrom, dir)
		delete(w.waitLogged, dir)
		d := Drop{Dir: dir, Files: files, GiveUp: v.giveUp}
		if len(v.unopenable) > 0 {
			w.giveUp(now, d, v.unopenable)
			continue
		}
		drops = append(drops, d)
	}

	// Forget what is gone: a folder that comes back later is a new export.
	for dir := range w.offered {
		if _, ok := groups[dir]; !ok {
			delete(w.offered, dir)
			delete(w.unopenable, dir)
		}
	}
	for dir := range w.waitFrom {
		if _, ok := groups[dir]; !ok {
			delete(w.waitFrom, dir)
			delete(w.waitLogged, dir)
		}
	}
	for p := range w.tails {
		if _, ok := seen[p]; !ok {
			delete(w.tails, p)
		}
	}
	w.seen = seen
	w.counts = make(map[string]int, len(groups))
	for dir, files := range groups {
		w.counts[dir] = len(files)
	}
	w.mu.Unlock()
	w.report(ScanReport{At: now, Waiting: waiting})
	return drops, nil
}

// report keeps a scan's outcome for Last and hands it to the OnReport function.
func (w *Watcher) report(r ScanReport) {
	w.lastMu.Lock()
	w.last = r
	fn := w.onReport
	w.lastMu.Unlock()
	if fn != nil {
		fn(r)
	}
}

// OnReport sets a function called after every Scan with its outcome, outside the watcher's lock: for
// status and monitoring. Scans run one at a time, so fn is never called twice at once by one Run.
func (w *Watcher) OnReport(fn func(ScanReport)) {
	w.lastMu.Lock()
	w.onReport = fn
	w.lastMu.Unlock()
}

// GiveUpAfter is the bound of the wait for an unfinished drop (WatcherConfig.GiveUpAfter, defaulted).
func (w *Watcher) GiveUpAfter() time.Duration { return w.cfg.GiveUpAfter }

// Last is the outcome of the latest Scan: the folders that wait and why, or the listing's error.
func (w *Watcher) Last() ScanReport {
	w.lastMu.Lock()
	defer w.lastMu.Unlock()
	return w.last
}

// folderVerdict is what complete makes of one folder.
type folderVerdict struct {
	ready      bool         // a drop: take it (GiveUp set when it is given up on)
	giveUp     []Incomplete // its files that are not whole, when it is given up on
	unopenable []FileInfo   // a complete folder with files the source refuses to open (watcherGiveUp)
	wait       *Waiting     // why it is not a drop yet
}

// complete judges one folder against the previous Scan (w.seen and w.counts still hold it). When the
// folder only needs time, it moves w.readyAt to when it may be complete. A folder whose files stopped
// changing but are not all whole waits for them, and is given up on (returned for failed/) once nothing
// in it has changed for GiveUpAfter, or at once when a file cannot be XML at all. A complete folder may
// hold files the source refuses to open (unopenable, see watcherGiveUp): then it is not a drop to take,
// but one to record as failed.
func (w *Watcher) complete(ctx context.Context, now time.Time, dir string, files []FileInfo) folderVerdict {
	log := w.log.WithField("folder", dir)
	stable := w.counts[dir] == len(files) // no file went away
	var wait time.Time                    // when the youngest file reaches MinAge
	var quiet time.Time                   // since when nothing in the folder changed
	for _, f := range files {
		since := now
		if prev, ok := w.seen[f.Path]; ok && prev.size == f.Size && prev.mod.Equal(f.ModTime) {
			since = prev.since
		} else {
			stable = false
		}
		// A file's age runs from its mtime; when a share's clock puts the mtime in the future, from when
		// this Watcher first listed it unchanged.
		from := watcherMinTime(f.ModTime, since)
		if t := from.Add(w.cfg.MinAge); t.After(wait) {
			wait = t
		}
		if from.After(quiet) {
			quiet = from
		}
	}
	settling := func(why string) folderVerdict {
		log.Debug("drop settling: " + why)
		w.wakeAt(now, wait)
		return folderVerdict{wait: &Waiting{Folder: dir, Files: len(files), Since: w.waitSince(dir, now), Reason: "файли ще змінюються"}}
	}
	switch {
	case !stable:
		return settling("files changed, appeared or went away since the last scan")
	case wait.After(now):
		return settling("files younger than the minimum age")
	}
	var v folderVerdict
	var unfinished, notXML []Incomplete
	for _, f := range files {
		verdict, why := w.judge(ctx, now, f)
		switch verdict {
		case fileWait:
			return settling("a file cannot be read yet")
		case fileUnfinished:
			unfinished = append(unfinished, Incomplete{Path: f.Path, Why: why})
		case fileNotXML:
			notXML = append(notXML, Incomplete{Path: f.Path, Why: why})
		case fileUnopenable:
			v.unopenable = append(v.unopenable, f)
		}
	}
	incomplete := append(notXML, unfinished...)
	if len(incomplete) == 0 {
		v.ready = true
		return v
	}
	giveUpAt := quiet.Add(w.cfg.GiveUpAfter)
	if len(notXML) > 0 || !giveUpAt.After(now) {
		log.WithField("files", incompleteList(incomplete)).Error("export given up: its files stopped changing but are not whole; it goes to failed/")
		return folderVerdict{ready: true, giveUp: incomplete}
	}
	if w.waitLogged[dir] != quiet {
		w.waitLogged[dir] = quiet
		log.WithField("files", incompleteList(incomplete)).Infof("export waits for files that are not whole; given up at %s if nothing changes", giveUpAt.Format(time.RFC3339))
	}
	w.wakeAt(now, giveUpAt)
	return folderVerdict{wait: &Waiting{Folder: dir, Files: len(files), Since: quiet, GiveUpAt: giveUpAt, Reason: incompleteList(incomplete)}}
}

// waitSince is when the watcher first saw folder dir not ready (in this process).
func (w *Watcher) waitSince(dir string, now time.Time) time.Time {
	t, ok := w.waitFrom[dir]
	if !ok {
		w.waitFrom[dir] = now
		return now
	}
	return t
}

func incompleteList(files []Incomplete) string {
	var parts []string
	for _, f := range files {
		parts = append(parts, path.Base(f.Path)+": "+f.Why)
	}
	return strings.Join(parts, "; ")
}

func (w *Watcher) wakeAt(now, t time.Time) {
	if t.Before(now) {
		t = now
	}
	if w.readyAt.IsZero() || t.Before(w.readyAt) {
		w.readyAt = t
	}
}

func watcherMinTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// fileVerdict is what judge makes of one file of a settled folder.
type fileVerdict int

const (
	fileWait       fileVerdict = iota // cannot be read yet: look again next scan
	fileClosed                        // whole (Whole)
	fileUnfinished                    // not whole yet (Unfinished): waited for, given up on in time
	fileNotXML                        // cannot become an export (NotXML)
	fileBadName                       // a name Spool.Ingest refuses (ErrBadDrop): not opened at all
	fileUnopenable                    // listed, but the source refuses to open it, for long enough
)

// judge decides whether f is complete (JudgeFile), reading each version of a file (size, mtime) once;
// why says, for a file that is not, what is wrong with it.
//
// A file the source lists but will not open is, case by case (docs/reliability.md §5,
// names from outside are never trusted as paths):
//   - a name the spool refuses (path tricks, a reserved Windows name, a character obmin may not use): not
//     opened at all; the drop goes to Ingest, which rejects it with ErrBadDrop, so it lands in failed/;
//   - vanished between listing and opening (BAS empties its folder): waited for; the next listing no longer
//     has it and it is forgotten without a word;
//   - held open by another program (Windows sharing violation): waited for, however long;
//   - anything else (no permission, a name this system lists but cannot open, a listed file that is never
//     there): given up on after GiveUpAfter, and the drop recorded as failed (see giveUp).
func (w *Watcher) judge(ctx context.Context, now time.Time, f FileInfo) (v fileVerdict, why string) {
	log := w.log.WithField("file", f.Path)
	if err := watcherNameErr(f.Path); err != nil {
		log.WithError(err).Debug("name the spool refuses; the drop is taken to be rejected")
		return fileBadName, ""
	}
	t, ok := w.tails[f.Path]
	if !ok || t.size != f.Size || !t.mod.Equal(f.ModTime) {
		t = watcherTail{size: f.Size, mod: f.ModTime}
	}
	if !t.known && f.Size == 0 {
		t = watcherTail{size: f.Size, mod: f.ModTime, known: true, judged: judgeXML(nil, nil)}
	}
	if !t.known {
		r, err := w.cfg.Source.Open(ctx, f.Path)
		if err != nil {
			if ctx.Err() != nil {
				return fileWait, ""
			}
			return w.openFailed(now, f, t, err), ""
		}
		j, err := JudgeFile(r, f)
		r.Close()
		if err != nil {
			// Changing as we read it: try again next scan.
			log.WithError(err).Debug("drop settling: cannot read the file yet")
			delete(w.tails, f.Path)
			return fileWait, ""
		}
		t = watcherTail{size: f.Size, mod: f.ModTime, known: true, judged: j}
	}
	w.tails[f.Path] = t
	switch t.judged.Completeness {
	case Unfinished:
		log.Debug("drop settling: " + t.judged.Why)
		return fileUnfinished, t.judged.Why
	case NotXML:
		return fileNotXML, t.judged.Why
	}
	return fileClosed, ""
}

// openFailed records one failed Open of f (t is its state so far) and says whether to give up on it:
// after watcherGiveUpScans scans in a row, once the file has been unchanged for watcherStuckAfter (by its
// mtime, or since the first failure when a share's clock puts the mtime in the future). A sharing
// violation is never given up on: the program holding the file lets go sooner or later.
func (w *Watcher) openFailed(now time.Time, f FileInfo, t watcherTail, err error) fileVerdict {
	log := w.log.WithField("file", f.Path).WithError(err)
	if t.openFails == 0 {
		t.openSince = now
	}
	t.openFails++
	t.openErr = err
	defer func() { w.tails[f.Path] = t }()
	stuck := GivenUp(Unchanged(f, t.openSince, now), w.cfg.GiveUpAfter)
	switch {
	case errors.Is(err, fs.ErrNotExist) && t.openFails == 1:
		// Most likely BAS is emptying its folder: the next listing will not have it.
		log.Debug("file vanished after it was listed")
		return fileWait
	case watcherOpenBusy(err):
		if stuck && !t.openWarned {
			log.Warn("file is held open by another program; its export waits until it lets go")
			t.openWarned = true
		}
		return fileWait
	case t.openFails >= watcherGiveUpScans && stuck:
		return fileUnopenable
	}
	if !t.openWarned && !errors.Is(err, fs.ErrNotExist) {
		log.Warn("cannot open a file of an export; trying again")
		t.openWarned = true
	}
	return fileWait
}

// watcherOpenBusy tells a Windows sharing or lock violation (winerror.h 32, 33): another program has the
// file open without sharing it. syscall.Errno exists on every GOOS; elsewhere open never returns these.
func watcherOpenBusy(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && (errno == 32 || errno == 33)
}

// watcherNameErr says why Spool.Ingest would refuse a listed path, without opening it.
func watcherNameErr(p string) error {
	if err := sourceCheckPath(p); err != nil {
		return err
	}
	return spoolCheckName(path.Base(p))
}

// giveUp records drop d, whose unopenable files the source refuses to open, as failed in the spool, once
// per version of its files: its id is made from them, and a note already in failed/ means an earlier
// run recorded it. The drop stays offered, so it is not judged again while it is unchanged; each scan
// tries its unopenable files again (reopened), and once they open it is judged afresh and taken.
func (w *Watcher) giveUp(now time.Time, d Drop, unopenable []FileInfo) {
	var paths []string
	var lines strings.Builder
	for _, f := range unopenable {
		paths = append(paths, f.Path)
		fmt.Fprintf(&lines, "  %s: %s (%v)\n", f.Path, watcherOpenCause(w.tails[f.Path].openErr), w.tails[f.Path].openErr)
	}
	w.unopenable[d.Dir] = paths
	log := w.log.WithFields(logrus.Fields{"folder": d.Dir, "files": strings.Join(paths, ", "), "causes": strings.TrimSpace(lines.String())})
	folder := d.Dir
	if folder == "" {
		folder = "."
	}
	reason := fmt.Sprintf("Пакет %q у теці BAS %s не взято: obmin бачить ці файли в теці, але не може їх відкрити:\n%s"+
		"Дайте обліковому запису, від імені якого працює obmin, право читати ці файли (або перейменуйте файл, чиє ім'я "+
		"ця система не відкриває). Щойно файли відкриються, obmin візьме пакет сам; файли пакета лишилися там, де BAS їх записав.",
		folder, w.cfg.Source, lines.String())
	if w.cfg.Spool == nil {
		log.Error("export not taken: the folder lists files that cannot be opened; trying them again every scan")
		return
	}
	id := watcherUnopenableID(d)
	_, err := w.cfg.Spool.Reject(id, reason)
	switch {
	case errors.Is(err, fs.ErrExist):
		log.WithField("drop", id).Debug("export with files that cannot be opened: recorded in failed/ before")
	case err != nil:
		// Nothing recorded: the next version of the drop, or the next start, tries again.
		log.WithError(err).Error("export not taken: files cannot be opened, and recording it in failed/ failed")
	default:
		log.WithField("drop", id).Error("export not taken: files cannot be opened; described in failed/")
	}
}

// watcherOpenCause says in Ukrainian (failed/ notes are for the shop's staff) why a file does not open.
func watcherOpenCause(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "немає дозволу на читання"
	case errors.Is(err, fs.ErrNotExist):
		return "файл є в переліку теки, але за цим ім'ям не відкривається (ім'я, якого ця система не приймає?)"
	}
	return "не відкривається"
}

// watcherUnopenableID names the failed/ entry of a drop given up on: the same files (paths, sizes,
// mtimes) always get the same id, so a restart does not record them twice.
func watcherUnopenableID(d Drop) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", d.Dir)
	newest := time.Time{}
	for _, f := range d.Files {
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", f.Path, f.Size, f.ModTime.UnixNano())
		if f.ModTime.After(newest) {
			newest = f.ModTime
		}
	}
	return fmt.Sprintf("%s-unopenable-%s", newest.UTC().Format("20060102-150405"), hex.EncodeToString(h.Sum(nil))[:12])
}

// reopened tries again the files of dir's drop that were given up on; when they all open now, the drop
// must be judged afresh (it is then taken like any other).
func (w *Watcher) reopened(ctx context.Context, dir string) bool {
	paths := w.unopenable[dir]
	if len(paths) == 0 {
		return false
	}
	for _, p := range paths {
		r, err := w.cfg.Source.Open(ctx, p)
		if err != nil {
			return false
		}
		r.Close()
	}
	w.log.WithField("folder", dir).Info("files that could not be opened open now; judging the export again")
	delete(w.offered, dir)
	delete(w.unopenable, dir)
	for _, p := range paths {
		delete(w.tails, p)
	}
	return true
}

// readEnds reads the head and the tail (watcherWindow bytes each) of f from r, which Open returned. A file
// whose length differs from the listing is changing: an error, so no verdict is remembered.
func readEnds(r io.Reader, f FileInfo) (head, tail []byte, err error) {
	head = make([]byte, min(f.Size, watcherWindow))
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", f.Path, err)
	}
	tail, pos := head, int64(len(head))
	if s, ok := r.(io.Seeker); ok && f.Size > pos+watcherWindow {
		if _, err := s.Seek(f.Size-watcherWindow, io.SeekStart); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", f.Path, err)
		}
		tail = make([]byte, watcherWindow)
		if _, err := io.ReadFull(r, tail); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", f.Path, err)
		}
		pos = f.Size
	} else if pos < f.Size {
		// A source without Seek is read through, keeping the last watcherWindow bytes.
		buf := append([]byte(nil), head...)
		chunk := make([]byte, 32<<10)
		for pos < f.Size {
			n, err := r.Read(chunk[:min(int64(len(chunk)), f.Size-pos)])
			buf = append(buf, chunk[:n]...)
			if len(buf) > 2*watcherWindow {
				buf = append(buf[:0], buf[len(buf)-watcherWindow:]...)
			}
			pos += int64(n)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, nil, fmt.Errorf("read %s: %w", f.Path, err)
			}
		}
		tail = buf[max(0, len(buf)-watcherWindow):]
	}
	if pos != f.Size {
		return nil, nil, fmt.Errorf("read %s: listed as %d bytes, found %d", f.Path, f.Size, pos)
	}
	if n, _ := r.Read(make([]byte, 1)); n > 0 {
		return nil, nil, fmt.Errorf("read %s: grew past %d bytes", f.Path, f.Size)
	}
	return head, tail, nil
}

// watcherMaxZipInMemory bounds a zip read into memory from a source that cannot read at an offset.
const watcherMaxZipInMemory = 256 << 20

// zipComplete judges a zip by its central directory, which a zip writer puts at the very end: an archive
// still being written has none, or one that does not fit the file's length. A file whose length differs
// from the listing is changing: an error, so the verdict is not remembered.
func zipComplete(r io.Reader, f FileInfo) (bool, error) {
	ra, ok := r.(io.ReaderAt)
	if !ok {
		if f.Size > watcherMaxZipInMemory {
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
	dropRootEndUTF8   = []byte("</КоммерческаяИнформация>")
	dropRootEndCP1251 = func() []byte {
		b, err := charmap.Windows1251.NewEncoder().Bytes(dropRootEndUTF8)
		if err != nil {
			panic(err)
		}
		return b
	}()
)

// dropClosed says whether a file with this head and tail is a whole XML document: its last non-whitespace
// bytes are the closing tag of the root element. The root's name is taken from the head, byte for byte, so
// the check works in any ASCII-compatible encoding; an inner end tag such as </Товар> at the end of a
// half-written file does not pass. If the head does not show the root, any end tag is accepted.
func dropClosed(head, tail []byte) bool {
	t, ok := dropTrimMisc(tail)
	if !ok {
		return false
	}
	if bytes.HasSuffix(t, dropRootEndUTF8) || bytes.HasSuffix(t, dropRootEndCP1251) {
		return true
	}
	last, ok := dropLastEndTag(t)
	name, empty, known := dropRootName(head)
	switch {
	case !known:
		return ok
	case empty:
		return bytes.HasSuffix(t, []byte("/>"))
	default:
		return ok && bytes.Equal(last, name)
	}
}

// dropTrimMisc removes what XML allows after the root element (XML 1.0 §2.1, Misc: white space, comments,
// processing instructions) from the end of tail, so that a whole document followed by, say,
// "<!-- exported by BAS -->" is seen closed. ok is false when a trailing comment or instruction starts
// before the tail: undecided, and a file is not taken undecided.
func dropTrimMisc(tail []byte) (t []byte, ok bool) {
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

// dropRootName finds the root element's name in the head of a document, skipping a BOM, the XML
// declaration, processing instructions, comments and a DOCTYPE without an internal subset. empty is true
// for a root written as <name/>.
func dropRootName(head []byte) (name []byte, empty, ok bool) {
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

// dropLastEndTag returns the name of the end tag t ends with ("</name>" or "</name >").
func dropLastEndTag(t []byte) (name []byte, ok bool) {
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

// watcherIgnored says whether a listed file is outside every drop: pictures BAS puts in import_files/.
func watcherIgnored(p string) bool {
	for _, part := range strings.Split(path.Dir(p), "/") {
		if strings.EqualFold(part, "import_files") {
			return true
		}
	}
	return false
}

// watcherKey identifies one version of a file: path, size and mtime.
type watcherKey struct {
	path string
	size int64
	mod  int64 // Unix nanoseconds
}

func watcherKeyOf(f FileInfo) watcherKey {
	return watcherKey{f.Path, f.Size, f.ModTime.UnixNano()}
}

// offeredAll says whether every file of a folder, as listed now, was part of the drop last returned there.
func (w *Watcher) offeredAll(dir string, files []FileInfo) bool {
	set := w.offered[dir]
	if set == nil {
		return false
	}
	for _, f := range files {
		if !set[watcherKeyOf(f)] {
			return false
		}
	}
	return true
}

// Forget makes the watcher offer d again at the next Scan if it is still complete (after a failed ingest,
// say). If another drop was returned from d's folder since, Forget does nothing: that one stays taken.
func (w *Watcher) Forget(d Drop) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.offered[d.Dir]) == len(d.Files) && w.offeredAll(d.Dir, d.Files) {
		delete(w.offered, d.Dir)
	}
}

// Run scans every Interval and calls fn for each complete drop, one at a time, until ctx is done; then it
// returns nil. An error from fn is logged and the drop is offered again at the next scan, so a failed
// ingest is retried. With Notify on a LocalDir it also scans shortly after file events, and again when a
// settling drop is due; an event-queue overflow means "scan now"; Chmod events are ignored (antivirus and
// indexers send floods of them). If events cannot be set up (network shares, inotify limits) it says so
// once and polls.
func (w *Watcher) Run(ctx context.Context, fn func(context.Context, Drop) error) error {
	if fn == nil {
		return errors.New("watcher: nil func")
	}
	n := w.startNotify()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if n != nil {
		defer n.w.Close()
		events, errs = n.w.Events, n.w.Errors
	}

	timer := time.NewTimer(0) // scan at once
	defer timer.Stop()
	due := time.Now()
	// schedule moves the next scan earlier, never later.
	schedule := func(d time.Duration) {
		if t := time.Now().Add(d); due.IsZero() || t.Before(due) {
			timer.Reset(d)
			due = t
		}
	}
	st := &watcherRunState{failed: map[string]watcherFailed{}}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			due = time.Time{}
			w.runScan(ctx, fn, n, st)
			if ctx.Err() != nil {
				return nil
			}
			next := w.cfg.Interval
			if n != nil {
				// Events say a file changed; come back when its drop may be complete.
				w.mu.Lock()
				ready := w.readyAt
				w.mu.Unlock()
				if !ready.IsZero() {
					next = min(next, max(ready.Sub(w.cfg.Clock()), watcherNotifyDelay))
				}
			}
			schedule(next)
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				delete(n.watched, ev.Name) // the kernel dropped the watch of a removed folder
			}
			if ev.Has(fsnotify.Create) {
				n.addTree(ev.Name)
			}
			schedule(watcherNotifyDelay)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Info("file events overflowed; scanning the whole folder now")
				schedule(0)
				continue
			}
			w.log.WithError(err).Warn("file events; polling continues")
		}
	}
}

// watcherRunState is what Run remembers between scans, so that a repeated error is logged once rather
// than every Interval (a share that is down, a file name the spool refuses, a full disk).
type watcherRunState struct {
	scanErr string                   // the last Scan error, "" after a good scan
	failed  map[string]watcherFailed // by folder: how fn last failed for it
}

type watcherFailed struct {
	cause  string    // the innermost error (errorCause)
	logged time.Time // when it was last logged as a warning
}

// watcherRemind is how often an error that goes on is logged again as a warning.
const watcherRemind = time.Hour

// errorCause is the innermost error of a chain: what stays the same while the messages around it change
// with every attempt ("ingest 20250301-…-1a: write …/tmp/…: no space left on device").
func errorCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// runScan does one scan and hands its drops to fn.
func (w *Watcher) runScan(ctx context.Context, fn func(context.Context, Drop) error, n *watcherNotify, st *watcherRunState) {
	drops, err := w.Scan(ctx)
	if err != nil {
		if ctx.Err() == nil && err.Error() != st.scanErr {
			w.log.WithError(err).Warn("cannot list the folder; will keep trying")
		}
		st.scanErr = err.Error()
		return
	}
	if st.scanErr != "" {
		w.log.Info("folder readable again")
		st.scanErr = ""
	}
	if n != nil {
		n.addListed(w)
	}
	for _, d := range drops {
		if ctx.Err() != nil {
			return
		}
		err := fn(ctx, d)
		if err == nil {
			if _, failed := st.failed[d.Dir]; failed {
				w.log.WithField("folder", d.Dir).Info("drop taken after earlier failures")
			}
			delete(st.failed, d.Dir)
			continue
		}
		w.Forget(d)
		if ctx.Err() != nil {
			return
		}
		log := w.log.WithError(err).WithField("folder", d.Dir)
		now, cause := w.cfg.Clock(), errorCause(err)
		if f, ok := st.failed[d.Dir]; ok && f.cause == cause && now.Sub(f.logged) < watcherRemind {
			log.Debug("drop still not taken; will try again")
			continue
		}
		log.Warn("drop not taken; will try again")
		st.failed[d.Dir] = watcherFailed{cause: cause, logged: now}
	}
}

// watcherNotify holds the file-event watch of a LocalDir and the folders added to it. fsnotify does not
// watch subfolders by itself (docs/reliability.md §1).
type watcherNotify struct {
	w       *fsnotify.Watcher
	root    string
	log     *logrus.Entry
	watched map[string]bool
}

func (w *Watcher) startNotify() *watcherNotify {
	if !w.cfg.Notify {
		return nil
	}
	ld, ok := w.cfg.Source.(localDir)
	if !ok {
		w.log.Infof("file events are not available for this source; polling every %s", w.cfg.Interval)
		return nil
	}
	fw, err := w.newNotify()
	if err == nil {
		err = fw.Add(ld.root)
		if err != nil {
			fw.Close()
		}
	}
	if err != nil {
		w.log.WithError(err).Infof("file events are not available here (a network share?); polling every %s", w.cfg.Interval)
		return nil
	}
	n := &watcherNotify{w: fw, root: ld.root, log: w.log, watched: map[string]bool{ld.root: true}}
	n.addTree(ld.root)
	return n
}

// addTree watches dir and the folders below it, except hidden ones and import_files.
func (n *watcherNotify) addTree(dir string) {
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.IsDir() {
			return nil
		}
		if p != n.root && (strings.HasPrefix(e.Name(), ".") || strings.EqualFold(e.Name(), "import_files")) {
			return fs.SkipDir
		}
		n.add(p)
		return nil
	})
}

// addListed watches the folders of the last scan's files, in case an event for their creation was missed.
func (n *watcherNotify) addListed(w *Watcher) {
	w.mu.Lock()
	dirs := make([]string, 0, len(w.counts))
	for dir := range w.counts {
		dirs = append(dirs, dir)
	}
	w.mu.Unlock()
	for _, dir := range dirs {
		n.add(filepath.Join(n.root, filepath.FromSlash(dir)))
	}
}

func (n *watcherNotify) add(dir string) {
	// On Windows a watch is an open handle on the folder: one on BAS's "webdata - <id>" folder could
	// keep BAS from deleting and re-creating it. The root's watch is enough there: NTFS reports a change
	// inside a subfolder as a Write of that subfolder (fsnotify README, Windows notes).
	if n.watched[dir] || runtime.GOOS == "windows" && dir != n.root {
		return
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return
	}
	if err := n.w.Add(dir); err != nil {
		n.log.WithError(err).WithField("folder", dir).Debug("cannot watch folder; polling covers it")
		return
	}
	n.watched[dir] = true
}
