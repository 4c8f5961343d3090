package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/drop"
)

// openFailed records one failed Open of f (t is its state so far) and says whether to give up on it:
// after giveUpScans scans in a row, once the file has been unchanged for Config.GiveUpAfter (by its
// mtime, or since the first failure when a share's clock puts the mtime in the future). A sharing
// violation is never given up on: the program holding the file lets go sooner or later.
func (w *Watcher) openFailed(now time.Time, f drop.File, t fileTail, err error) fileVerdict {
	log := w.log.WithField("file", f.Path).WithError(err)
	if t.openFails == 0 {
		t.openSince = now
	}
	t.openFails++
	t.openErr = err
	defer func() { w.tails[f.Path] = t }()
	stuck := drop.GivenUp(drop.Unchanged(f, t.openSince, now), w.cfg.GiveUpAfter)
	switch {
	case errors.Is(err, fs.ErrNotExist) && t.openFails == 1:
		// Most likely BAS is emptying its folder: the next listing will not have it.
		log.Debug("file vanished after it was listed")
		return fileWait
	case openBusy(err):
		if stuck && !t.openWarned {
			log.Warn("file is held open by another program; its export waits until it lets go")
			t.openWarned = true
		}
		return fileWait
	case t.openFails >= giveUpScans && stuck:
		return fileUnopenable
	}
	if !t.openWarned && !errors.Is(err, fs.ErrNotExist) {
		log.Warn("cannot open a file of an export; trying again")
		t.openWarned = true
	}
	return fileWait
}

// openBusy tells a Windows sharing or lock violation (winerror.h 32, 33): another program has the
// file open without sharing it. syscall.Errno exists on every GOOS; elsewhere open never returns these.
func openBusy(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && (errno == 32 || errno == 33)
}

// nameErr says why Spool.Ingest would refuse a listed path, without opening it.
func nameErr(p string) error {
	if err := drop.CheckPath(p); err != nil {
		return err
	}
	return drop.CheckName(path.Base(p))
}

// giveUp records drop d, whose unopenable files the source refuses to open, as failed in the spool, once
// per version of its files: its id is made from them, and a note already in failed/ means an earlier
// run recorded it. The drop stays offered, so it is not judged again while it is unchanged; each scan
// tries its unopenable files again (reopened), and once they open it is judged afresh and taken.
func (w *Watcher) giveUp(now time.Time, d drop.Drop, unopenable []drop.File) {
	var paths []string
	var lines strings.Builder
	for _, f := range unopenable {
		paths = append(paths, f.Path)
		fmt.Fprintf(&lines, "  %s: %s (%v)\n", f.Path, openCause(w.tails[f.Path].openErr), w.tails[f.Path].openErr)
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
	id := unopenableID(d)
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

// openCause says in Ukrainian (failed/ notes are for the shop's staff) why a file does not open.
func openCause(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "немає дозволу на читання"
	case errors.Is(err, fs.ErrNotExist):
		return "файл є в переліку теки, але за цим ім'ям не відкривається (ім'я, якого ця система не приймає?)"
	}
	return "не відкривається"
}

// unopenableID names the failed/ entry of a drop given up on: the same files (paths, sizes,
// mtimes) always get the same id, so a restart does not record them twice.
func unopenableID(d drop.Drop) string {
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
