package watch

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/sirupsen/logrus"

	"obmin/drop"
	"obmin/folder"
	"obmin/internal/quietlog"
	"obmin/spool"
)

// ScanReport is the outcome of one Scan.
type ScanReport struct {
	At      time.Time
	Err     error          // the listing failed: the folder is missing or unreadable
	Waiting []drop.Waiting // folders that are not drops yet
}

// Config configures a Watcher. Zero values take the defaults.
type Config struct {
	Source   folder.Source
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
	Spool *spool.Spool
	// OnList, when set, is called with every successful listing of the source and the time it was made,
	// before the listing is judged: the orders side watches BAS's exchange runs in it (package exchange).
	OnList func(at time.Time, files []drop.File)
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
	cfg       Config
	log       *logrus.Entry
	newNotify func() (*fsnotify.Watcher, error) // tests make it fail

	mu      sync.Mutex
	seen    map[string]sighting         // by path: what the previous Scan listed
	counts  map[string]int              // by folder: how many files the previous Scan listed
	offered map[string]map[fileKey]bool // by folder: the files of the drop last returned
	tails   map[string]fileTail         // by path: closing-tag verdicts, so a file is read once per version
	readyAt time.Time                   // earliest time a settling drop may be complete; zero if none
	// unopenable: by folder, the files the drop last returned from it was given up on (giveUp).
	// Each scan tries to open them again; once they all open, the drop is judged afresh.
	unopenable map[string][]string
	waitFrom   map[string]time.Time // by folder: when it was first seen waiting with changing files
	waitLogged map[string]time.Time // by folder: the quiet time of the wait last logged

	lastMu   sync.Mutex
	last     ScanReport
	onReport func(ScanReport)
}

type sighting struct {
	size  int64
	mod   time.Time
	since time.Time // when this size and mtime were first listed
}

type fileTail struct {
	size   int64
	mod    time.Time
	known  bool        // judged is this version's verdict
	judged drop.Judged // drop.JudgeFile's

	// Open failures of this version, in consecutive scans.
	openFails  int
	openSince  time.Time // when the first of them happened
	openErr    error     // the last of them
	openWarned bool      // logged
}

const (
	defaultInterval = 2 * time.Second
	defaultMinAge   = 2 * time.Second
	// notifyDelay lets a burst of events (one write shows up as many) end in one scan.
	notifyDelay = 200 * time.Millisecond
	// giveUpScans is how many scans in a row a listed file must refuse to open before its drop is
	// given up on (with the age in giveUp). Two, so that obmin once, which scans twice, gets there.
	giveUpScans = 2
)

// New checks cfg and fills in its defaults.
func New(cfg Config) (*Watcher, error) {
	if cfg.Source == nil {
		return nil, errors.New("watcher: no source")
	}
	if cfg.Interval < 0 || cfg.MinAge < 0 {
		return nil, fmt.Errorf("watcher: negative interval %s or minimum age %s", cfg.Interval, cfg.MinAge)
	}
	if cfg.Interval == 0 {
		cfg.Interval = defaultInterval
	}
	if cfg.MinAge == 0 {
		cfg.MinAge = defaultMinAge
	}
	if cfg.GiveUpAfter <= 0 {
		cfg.GiveUpAfter = drop.DefaultGiveUpAfter
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	log := quietlog.Or(cfg.Logger)
	return &Watcher{
		cfg:        cfg,
		log:        log.WithField("source", cfg.Source.String()),
		newNotify:  fsnotify.NewWatcher,
		seen:       map[string]sighting{},
		counts:     map[string]int{},
		offered:    map[string]map[fileKey]bool{},
		tails:      map[string]fileTail{},
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
func (w *Watcher) Scan(ctx context.Context) ([]drop.Drop, error) {
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

	seen := make(map[string]sighting, len(files))
	groups := map[string][]drop.File{}
	for _, f := range files {
		if drop.InPictures(f.Path) {
			continue
		}
		st := sighting{size: f.Size, mod: f.ModTime, since: now}
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

	var drops []drop.Drop
	var waiting []drop.Waiting
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
		set := make(map[fileKey]bool, len(files))
		for _, f := range files {
			set[keyOf(f)] = true
		}
		w.offered[dir] = set
		delete(w.unopenable, dir)
		delete(w.waitFrom, dir)
		delete(w.waitLogged, dir)
		d := drop.Drop{Dir: dir, Files: files, GiveUp: v.giveUp}
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

// GiveUpAfter is the bound of the wait for an unfinished drop (Config.GiveUpAfter, defaulted).
func (w *Watcher) GiveUpAfter() time.Duration { return w.cfg.GiveUpAfter }

// Last is the outcome of the latest Scan: the folders that wait and why, or the listing's error.
func (w *Watcher) Last() ScanReport {
	w.lastMu.Lock()
	defer w.lastMu.Unlock()
	return w.last
}

// folderVerdict is what complete makes of one folder.
type folderVerdict struct {
	ready      bool              // a drop: take it (GiveUp set when it is given up on)
	giveUp     []drop.Incomplete // its files that are not whole, when it is given up on
	unopenable []drop.File       // a complete folder with files the source refuses to open (giveUp)
	wait       *drop.Waiting     // why it is not a drop yet
}

// complete judges one folder against the previous Scan (w.seen and w.counts still hold it). When the
// folder only needs time, it moves w.readyAt to when it may be complete. A folder whose files stopped
// changing but are not all whole waits for them, and is given up on (returned for failed/) once nothing
// in it has changed for GiveUpAfter, or at once when a file cannot be XML at all. A complete folder may
// hold files the source refuses to open (unopenable, see giveUp): then it is not a drop to take,
// but one to record as failed.
func (w *Watcher) complete(ctx context.Context, now time.Time, dir string, files []drop.File) folderVerdict {
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
		from := drop.Earlier(f.ModTime, since)
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
		return folderVerdict{wait: &drop.Waiting{Folder: dir, Files: len(files), Since: w.waitSince(dir, now), Reason: "файли ще змінюються"}}
	}
	switch {
	case !stable:
		return settling("files changed, appeared or went away since the last scan")
	case wait.After(now):
		return settling("files younger than the minimum age")
	}
	var v folderVerdict
	var unfinished, notXML []drop.Incomplete
	for _, f := range files {
		verdict, why := w.judge(ctx, now, f)
		switch verdict {
		case fileWait:
			return settling("a file cannot be read yet")
		case fileUnfinished:
			unfinished = append(unfinished, drop.Incomplete{Path: f.Path, Why: why})
		case fileNotXML:
			notXML = append(notXML, drop.Incomplete{Path: f.Path, Why: why})
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
	return folderVerdict{wait: &drop.Waiting{Folder: dir, Files: len(files), Since: quiet, GiveUpAt: giveUpAt, Reason: incompleteList(incomplete)}}
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

func incompleteList(files []drop.Incomplete) string {
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

// fileVerdict is what judge makes of one file of a settled folder.
type fileVerdict int

const (
	fileWait       fileVerdict = iota // cannot be read yet: look again next scan
	fileClosed                        // whole (drop.Whole)
	fileUnfinished                    // not whole yet (drop.Unfinished): waited for, given up on in time
	fileNotXML                        // cannot become an export (drop.NotXML)
	fileBadName                       // a name spool.Spool.Ingest refuses (spool.ErrBadDrop): not opened at all
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
func (w *Watcher) judge(ctx context.Context, now time.Time, f drop.File) (v fileVerdict, why string) {
	log := w.log.WithField("file", f.Path)
	if err := nameErr(f.Path); err != nil {
		log.WithError(err).Debug("name the spool refuses; the drop is taken to be rejected")
		return fileBadName, ""
	}
	t, ok := w.tails[f.Path]
	if !ok || t.size != f.Size || !t.mod.Equal(f.ModTime) {
		t = fileTail{size: f.Size, mod: f.ModTime}
	}
	if !t.known && f.Size == 0 {
		t = fileTail{size: f.Size, mod: f.ModTime, known: true, judged: drop.JudgeXML(nil, nil)}
	}
	if !t.known {
		r, err := w.cfg.Source.Open(ctx, f.Path)
		if err != nil {
			if ctx.Err() != nil {
				return fileWait, ""
			}
			return w.openFailed(now, f, t, err), ""
		}
		j, err := drop.JudgeFile(r, f)
		r.Close()
		if err != nil {
			// Changing as we read it: try again next scan.
			log.WithError(err).Debug("drop settling: cannot read the file yet")
			delete(w.tails, f.Path)
			return fileWait, ""
		}
		t = fileTail{size: f.Size, mod: f.ModTime, known: true, judged: j}
	}
	w.tails[f.Path] = t
	switch t.judged.Completeness {
	case drop.Unfinished:
		log.Debug("drop settling: " + t.judged.Why)
		return fileUnfinished, t.judged.Why
	case drop.NotXML:
		return fileNotXML, t.judged.Why
	}
	return fileClosed, ""
}

// fileKey identifies one version of a file: path, size and mtime.
type fileKey struct {
	path string
	size int64
	mod  int64 // Unix nanoseconds
}

func keyOf(f drop.File) fileKey {
	return fileKey{f.Path, f.Size, f.ModTime.UnixNano()}
}

// offeredAll says whether every file of a folder, as listed now, was part of the drop last returned there.
func (w *Watcher) offeredAll(dir string, files []drop.File) bool {
	set := w.offered[dir]
	if set == nil {
		return false
	}
	for _, f := range files {
		if !set[keyOf(f)] {
			return false
		}
	}
	return true
}

// Forget makes the watcher offer d again at the next Scan if it is still complete (after a failed ingest,
// say). If another drop was returned from d's folder since, Forget does nothing: that one stays taken.
func (w *Watcher) Forget(d drop.Drop) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.offered[d.Dir]) == len(d.Files) && w.offeredAll(d.Dir, d.Files) {
		delete(w.offered, d.Dir)
	}
}
