package watch

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/fsnotify/fsnotify"
	"github.com/sirupsen/logrus"

	"obmin/drop"
)

// notifier holds the file-event watch of a LocalDir and the folders added to it. fsnotify does not
// watch subfolders by itself (docs/reliability.md §1).
type notifier struct {
	w       *fsnotify.Watcher
	root    string
	log     *logrus.Entry
	watched map[string]bool
}

func (w *Watcher) startNotify() *notifier {
	if !w.cfg.Notify {
		return nil
	}
	ld, ok := w.cfg.Source.(interface{ LocalRoot() string })
	if !ok {
		w.log.Infof("file events are not available for this source; polling every %s", w.cfg.Interval)
		return nil
	}
	fw, err := w.newNotify()
	if err == nil {
		err = fw.Add(ld.LocalRoot())
		if err != nil {
			fw.Close()
		}
	}
	if err != nil {
		w.log.WithError(err).Infof("file events are not available here (a network share?); polling every %s", w.cfg.Interval)
		return nil
	}
	n := &notifier{w: fw, root: ld.LocalRoot(), log: w.log, watched: map[string]bool{ld.LocalRoot(): true}}
	n.addTree(ld.LocalRoot())
	return n
}

// addTree watches dir and the folders below it, except hidden ones and import_files.
func (n *notifier) addTree(dir string) {
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.IsDir() {
			return nil
		}
		if p != n.root && drop.SkippedFolder(e.Name()) != "" {
			return fs.SkipDir
		}
		n.add(p)
		return nil
	})
}

// addListed watches the folders of the last scan's files, in case an event for their creation was missed.
func (n *notifier) addListed(w *Watcher) {
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

func (n *notifier) add(dir string) {
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
