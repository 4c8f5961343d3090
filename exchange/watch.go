package exchange

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/commerceml"
	"obmin/drop"
	"obmin/feed"
	"obmin/spool"
	"obmin/store"
	"obmin/watch"
)

// Keys of the folders obmin reports problems with, as the configuration names them.
const (
	FolderExport = "bas.export_dir"
	FolderOrders = "bas.orders_file"
)

// watchState is what the agent keeps of the watcher's reports, to write the state only when it changes.
type watchState struct {
	mu      sync.Mutex
	waiting []drop.Waiting
	written bool
	problem string // the export folder's last listing error, "" when it lists
	orders  string // the orders folder's last error, "" when it took the file
}

// watchReport records a scan's outcome in the state (only what changed): the folders that wait and why,
// and whether BAS's folder could be listed. A folder that disappears (a share dropping) is shown in status
// and metrics until it lists again.
func (a *Agent) watchReport(r watch.ScanReport) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws := &a.watch
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if r.Err == nil && (!ws.written || !reflect.DeepEqual(ws.waiting, r.Waiting)) {
		if err := a.Store.SetWaiting(ctx, r.At, r.Waiting); err != nil {
			a.log().WithError(err).Warn("record waiting drops")
		} else {
			ws.waiting, ws.written = r.Waiting, true
		}
	}
	msg := ""
	if r.Err != nil {
		msg = r.Err.Error()
	}
	if msg == ws.problem {
		return
	}
	var problem error
	if r.Err != nil {
		problem = r.Err
		a.log().WithError(r.Err).WithField("folder", a.Source.String()).Error("BAS's export folder cannot be listed")
	} else {
		a.log().WithField("folder", a.Source.String()).Info("BAS's export folder lists again")
	}
	if err := a.Store.SetFolderProblem(ctx, FolderExport, a.Source.String(), problem, r.At); err != nil {
		a.log().WithError(err).Warn("record the export folder's state")
		return
	}
	ws.problem = msg
}

// noteOrdersFolder records whether the orders file's folder took the file: a folder that is gone or
// refuses writes is a folder problem (FolderOrders) until a write succeeds again.
func (a *Agent) noteOrdersFolder(ctx context.Context, err error) {
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
		return // not the folder's fault (a receipt, the state): the job's error says it
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	ws := &a.watch
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if msg == ws.orders {
		return
	}
	where := a.Sales.Cfg.OrdersFile
	if a.Sales.Cfg.Out != nil {
		where = a.Sales.Cfg.Out.String()
	}
	if serr := a.Store.SetFolderProblem(ctx, FolderOrders, where, err, a.now()); serr != nil {
		a.log().WithError(serr).Warn("record the orders folder's state")
		return
	}
	ws.orders = msg
}

// refuseIncomplete records a drop the watcher gave up on (its files stopped changing but are not whole,
// or cannot be XML) in failed/: its files are copied there as BAS left them, and the reason names each
// file, what is wrong with it and, where a reader can tell, the line it ends at. The same files recorded
// before (a restart, the next `obmin once`) are not recorded again.
func (a *Agent) refuseIncomplete(ctx context.Context, d drop.Drop) error {
	id := a.newDropID(d)
	var earlier string
	fp, recorded, err := a.Spool.IngestFailed(ctx, a.Source, d, id, func(dir, fp string) (string, error) {
		prev, seen, err := a.Store.DropByFingerprint(ctx, fp)
		if err != nil {
			return "", err
		}
		if seen {
			earlier = prev.ID
			return "", nil
		}
		return incompleteReason(dir, d, a.Watcher), nil
	})
	if errors.Is(err, spool.ErrBadDrop) {
		return a.reject(ctx, d, id, err)
	}
	if err != nil {
		return fmt.Errorf("take drop %q: %w", d.Dir, err)
	}
	if !recorded {
		a.log().WithFields(logrus.Fields{"drop": d.Dir, "same_as": earlier}).Debug("unfinished export recorded in failed/ before")
		a.pass.note(fmt.Sprintf("export %q in BAS's folder was refused before and is still there: see failed/%s.error.txt", folderName(d.Dir), earlier))
		return nil
	}
	reason := incompleteReason(filepath.Join(a.Spool.Dir("failed"), id), d, a.Watcher)
	rec := store.DropRecord{ID: id, Fingerprint: fp, Source: d.Dir, State: "failed", Error: reason, Files: len(d.Files), CreatedAt: a.now(), UpdatedAt: a.now()}
	if err := a.Store.PutDrop(ctx, rec); err != nil {
		return err
	}
	a.log().WithFields(logrus.Fields{"drop": id, "from": d.Dir}).Error("unfinished export given up; described in failed/")
	a.pass.note(fmt.Sprintf("export %q refused: %s (failed/%s.error.txt)", folderName(d.Dir), firstLine(reason), id))
	return nil
}

// incompleteReason says, for staff, why a given-up drop (its copies in dir) is refused: each file that is
// not whole, why, and what the format's reader says of it (the file, line and element where it breaks).
func incompleteReason(dir string, d drop.Drop, w *watch.Watcher) string {
	var b strings.Builder
	after := drop.DefaultGiveUpAfter
	if w != nil {
		after = w.GiveUpAfter()
	}
	fmt.Fprintf(&b, "Пакет %q у теці BAS не взято: його файли не змінювалися щонайменше %s, але не є цілими XML-документами "+
		"(або зовсім не є XML), тож BAS, найпевніше, не дописав вивантаження.\n", folderName(d.Dir), durationUK(after))
	for _, f := range d.GiveUp {
		fmt.Fprintf(&b, "  %s: %s\n", path.Base(f.Path), f.Why)
		if detail := readerVerdict(filepath.Join(dir, path.Base(f.Path))); detail != "" {
			fmt.Fprintf(&b, "    (%s)\n", detail)
		}
	}
	b.WriteString("Вивантажте з BAS ще раз; копії файлів лежать у цій папці failed/, файли в теці BAS лишилися як були.")
	return b.String()
}

// readerVerdict is what obmin's readers say of a file: the error that stops them, "" when they read it.
func readerVerdict(p string) string {
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	_, err = commerceml.Read(f, filepath.Base(p), commerceml.Handler{})
	if errors.Is(err, commerceml.ErrNotCommerceML) {
		if _, serr := f.Seek(0, 0); serr == nil {
			if _, ferr := feed.Read(f, filepath.Base(p), func(feed.Offer) error { return nil }); !errors.Is(ferr, feed.ErrNotFeed) {
				err = ferr
			}
		}
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func folderName(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// durationUK writes a duration for staff: "5 хв", "90 с", "2 год".
func durationUK(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d год", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d хв", d/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%d хв %d с", d/time.Minute, (d%time.Minute)/time.Second)
	}
	return fmt.Sprintf("%d с", d/time.Second)
}

// passLog gathers what went wrong in one `obmin once` pass, to say which drops failed or wait.
type passLog struct {
	mu     sync.Mutex
	on     bool
	issues []string
}

func (p *passLog) begin() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.on, p.issues = true, nil
}

func (p *passLog) note(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.on {
		p.issues = append(p.issues, s)
	}
}

func (p *passLog) end() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.on = false
	return p.issues
}

// waitingIssues describes the folders that still wait after a pass.
func waitingIssues(waiting []drop.Waiting, now time.Time) []string {
	var out []string
	for _, w := range waiting {
		s := fmt.Sprintf("export %q waits (%s, for %s)", folderName(w.Folder), w.Reason, durationUK(now.Sub(w.Since).Truncate(time.Second)))
		if !w.GiveUpAt.IsZero() {
			s += fmt.Sprintf("; unless it changes it goes to failed/ in %s", durationUK(w.GiveUpAt.Sub(now).Truncate(time.Second)))
		}
		out = append(out, s)
	}
	return out
}

// PassError is what `obmin once` returns when its pass left something undone: drops that failed or still
// wait, and errors. Its message lists them, one a line.
type PassError struct{ Issues []string }

func (e *PassError) Error() string {
	return "the pass did not finish everything:\n  " + strings.Join(e.Issues, "\n  ")
}
