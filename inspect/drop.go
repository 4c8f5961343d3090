package inspect

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"obmin/commerceml"
	"obmin/drop"
)

// dropPlan says how obmin would apply one folder of an export. It follows what the service does: the
// watcher makes each folder a drop of its own and leaves import_files/ and hidden or temporary files out
// (drop.SkippedFolder, drop.Wanted, drop.InPictures); the order, the kinds and the price type come from the service's own
// rules (package drop; ResolvePriceType), so the plan cannot drift from Apply.
type dropPlan struct {
	Folder    string        `json:"folder"`
	Order     []planStep    `json:"order"`   // the files in the order obmin applies them
	Ignored   []planIgnored `json:"ignored"` // what obmin leaves out of the drop, and why
	PriceType string        `json:"price_type,omitempty"`
	// PriceTypeNote says how the price type is chosen when mapping.price_type is not set.
	PriceTypeNote string `json:"price_type_note,omitempty"`
	Verdict       string `json:"verdict"` // apply, wait, fail
	Because       string `json:"because,omitempty"`
	// GiveUpAt is when, for a drop that waits for unfinished files, the watcher gives it up (to failed/)
	// unless a file changes.
	GiveUpAt *time.Time `json:"give_up_at,omitempty"`
}

type planStep struct {
	File string `json:"file"`
	Role string `json:"role"`
}

type planIgnored struct {
	Name string `json:"name"`
	Why  string `json:"why"`
}

// Verdicts of a drop plan.
const (
	verdictApply = "apply" // obmin would take and apply it
	verdictWait  = "wait"  // a file has no closing tag: obmin waits for BAS to finish writing it
	verdictFail  = "fail"  // obmin would move the whole drop to spool/failed/
)

// folder inspects every drop below root: each folder holding .xml or .zip files is one.
func (in *inspector) folder(ctx context.Context, root string) ([]*fileReport, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != root && (drop.SkippedFolder(d.Name()) != "") {
			return filepath.SkipDir
		}
		dirs = append(dirs, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", root, err)
	}
	var all []*fileReport
	for _, dir := range dirs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		reps, err := in.drop(ctx, dir)
		if err != nil {
			return nil, err
		}
		all = append(all, reps...)
	}
	return all, nil
}

// drop inspects the files of one folder and says how obmin would apply them.
func (in *inspector) drop(ctx context.Context, dir string) ([]*fileReport, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", dir, err)
	}
	var names []string
	plan := &dropPlan{Folder: dir, Order: []planStep{}, Ignored: []planIgnored{}}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir():
			if why := drop.SkippedFolder(name); why != "" {
				plan.Ignored = append(plan.Ignored, planIgnored{Name: name + "/", Why: why})
			}
		case !e.Type().IsRegular():
			plan.Ignored = append(plan.Ignored, planIgnored{Name: name, Why: "not a plain file"})
		case drop.Hidden(name):
			plan.Ignored = append(plan.Ignored, planIgnored{Name: name, Why: "a hidden or temporary file"})
		case drop.Wanted(name):
			names = append(names, name)
		default:
			plan.Ignored = append(plan.Ignored, planIgnored{Name: name, Why: "not .xml or .zip"})
		}
	}
	if len(names) == 0 {
		return nil, nil // not a drop: its subfolders, if any, are drops of their own
	}
	drop.SortNames(names)
	in.resetDrop()
	var all []*fileReport
	for _, name := range names {
		reps, err := in.file(ctx, filepath.Join(dir, name), filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		all = append(all, reps...)
	}
	wait := in.whole(dir, names)
	planDrop(plan, dir, all)
	now := time.Now()
	if in.now != nil {
		now = in.now()
	}
	wait.apply(plan, now, in.giveUpAfter)
	if err := in.sink.drop(plan); err != nil {
		return nil, err
	}
	return all, nil
}

// dropMember is one XML file of a drop as obmin reads it: beside the others, or unpacked from an archive.
type dropMember struct {
	name string // the file name at the top of the drop
	from string // the archive entry it is unpacked from, or ""
	rep  *fileReport
}

// planDrop fills plan from the reports of a folder's files, zip entries following their archive.
func planDrop(plan *dropPlan, dir string, reps []*fileReport) {
	var members []dropMember
	var archives []planStep
	var bad *fileReport
	prefix := dir + string(os.PathSeparator)
	for _, r := range reps {
		if r.Status != statusRead && bad == nil {
			bad = r
		}
		rel := strings.TrimPrefix(r.Path, prefix)
		if _, entry, ok := strings.Cut(rel, "!"); ok {
			name, _ := drop.ZipEntry(entry) // only the entries that join the drop are inspected
			members = append(members, dropMember{name: name, from: rel, rep: r})
			continue
		}
		if r.Format == "zip" {
			archives = append(archives, planStep{File: rel, Role: "an archive: unpacked first, its XML files join the drop (import_files/ stays out)"})
			if r.Zip != nil {
				for _, e := range r.Zip.Entries {
					if e.Use != "inspected" && !strings.HasPrefix(e.Use, "inspected;") {
						plan.Ignored = append(plan.Ignored, planIgnored{Name: rel + "!" + e.Name, Why: strings.TrimPrefix(e.Use, "ignored: ")})
					}
				}
			}
			continue
		}
		members = append(members, dropMember{name: rel, rep: r})
	}
	// unzipDrop: a name that is in the drop twice fails the drop.
	seen := map[string]*fileReport{}
	dupMsg := ""
	for _, m := range members {
		key := strings.ToLower(m.name)
		if other, dup := seen[key]; dup && dupMsg == "" {
			dupMsg = fmt.Sprintf("%s is in the drop twice (%s and %s): obmin refuses the drop", m.name, other.Path, m.rep.Path)
		}
		seen[key] = m.rep
	}
	sort.SliceStable(members, func(i, j int) bool { return drop.Order(members[i].name) < drop.Order(members[j].name) })

	// The service's classify files each one under its kind; a file that stops the drop is shown where the
	// catalogue files are, as it is read before anything is applied.
	df := drop.Files{}
	steps := map[string]planStep{} // by report path, which is unique
	var types []commerceml.PriceType
	for _, m := range members {
		r := m.rep
		from := ""
		if m.from != "" {
			from = ", unpacked from " + m.from
		}
		types = append(types, r.priceTypes...)
		role := kindRoles[r.Kind]
		switch {
		case r.Status != statusRead:
			df.Catalog = append(df.Catalog, r.Path)
			role = fmt.Sprintf("%s (%s): stops the drop", strings.ToUpper(r.Status), r.Reason)
		case r.Format == "yml" || r.Format == "hotline":
			df.Catalog = append(df.Catalog, r.Path)
			role = "a marketplace feed: read with the catalogue files, one good per offer"
		default:
			df.Add(r.Path, commerceml.Kind(r.Kind))
		}
		steps[r.Path] = planStep{File: m.name, Role: role + from}
	}
	plan.Order = append(plan.Order, archives...)
	for _, p := range slices.Concat(df.Catalog, df.Offers, df.Documents) {
		plan.Order = append(plan.Order, steps[p])
	}
	for _, p := range df.Empty {
		plan.Ignored = append(plan.Ignored, planIgnored{Name: steps[p].File, Why: "an empty CommerceML file (root element only): nothing to apply"})
	}
	plan.PriceType, plan.PriceTypeNote = priceTypeNote(types)

	switch {
	case bad != nil:
		plan.Verdict = verdictFail
		why := bad.Path + ": " + bad.Reason
		if bad.Error != nil {
			why = *bad.Error // it names the file
		}
		plan.Because = "the whole drop would go to spool/failed/: " + why
	case dupMsg != "":
		plan.Verdict = verdictFail
		plan.Because = "the whole drop would go to spool/failed/: " + dupMsg
	default:
		plan.Verdict = verdictApply
	}
}

// folderWhole is what the watcher's own verdict (drop.JudgeFile) says of a folder's files: which are not
// whole, and since when nothing in the folder changed.
type folderWhole struct {
	notXML, unfinished []string // "file: why"
	quiet              time.Time
}

// whole judges a folder's files as the watcher does before it takes a drop (watch.Watcher.Scan): a file it
// cannot open counts as unfinished, as the watcher waits for it too.
func (in *inspector) whole(dir string, names []string) folderWhole {
	var fw folderWhole
	for _, name := range names {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil {
			fw.unfinished = append(fw.unfinished, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if mt := fi.ModTime(); mt.After(fw.quiet) {
			fw.quiet = mt
		}
		f, err := os.Open(p)
		if err != nil {
			fw.unfinished = append(fw.unfinished, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		j, err := drop.JudgeFile(f, drop.File{Path: name, Size: fi.Size(), ModTime: fi.ModTime()})
		f.Close()
		switch {
		case err != nil:
			fw.unfinished = append(fw.unfinished, fmt.Sprintf("%s: %v", name, err))
		case j.Completeness == drop.NotXML:
			fw.notXML = append(fw.notXML, name+": "+j.Why)
		case j.Completeness == drop.Unfinished:
			fw.unfinished = append(fw.unfinished, name+": "+j.Why)
		}
	}
	return fw
}

// apply puts the watcher's verdict before the readers': a drop whose files are not whole is never read.
// It waits while they may still change, and goes to failed/ once they stood still for giveUpAfter, or at
// once when a file cannot be XML.
func (fw folderWhole) apply(plan *dropPlan, now time.Time, giveUpAfter time.Duration) {
	if len(fw.notXML)+len(fw.unfinished) == 0 {
		return
	}
	if giveUpAfter <= 0 {
		giveUpAfter = drop.DefaultGiveUpAfter
	}
	files := strings.Join(append(append([]string(nil), fw.notXML...), fw.unfinished...), "; ")
	unchanged := now.Sub(fw.quiet)
	switch {
	case len(fw.notXML) > 0:
		plan.Verdict = verdictFail
		plan.Because = "the whole drop goes to spool/failed/ as soon as its files stop changing: " + files
	case drop.GivenUp(unchanged, giveUpAfter):
		plan.Verdict = verdictFail
		plan.Because = fmt.Sprintf("the whole drop goes to spool/failed/: its files have not changed for %s (the bound is %s) and are not whole: %s",
			unchanged.Truncate(time.Second), giveUpAfter, files)
	default:
		at := fw.quiet.Add(giveUpAfter)
		plan.Verdict = verdictWait
		plan.GiveUpAt = &at
		plan.Because = fmt.Sprintf("obmin waits for BAS to finish writing: %s; if the files stay unchanged for %s, the drop goes to spool/failed/",
			files, giveUpAfter)
	}
}

// kindRoles say what each kind of CommerceML file does in a drop.
var kindRoles = map[string]string{
	string(commerceml.KindCatalog):   "catalogue (goods)",
	string(commerceml.KindOffers):    "offers (prices and stock), after every catalogue file",
	string(commerceml.KindPrices):    "prices only, after every catalogue file",
	string(commerceml.KindRests):     "stock (rests) only, after every catalogue file",
	string(commerceml.KindDocuments): "BAS's orders export: confirms the receipts it lists",
}

// priceTypeNote says which price type obmin takes when mapping.price_type is not set, by the service's
// own rule (ResolvePriceType): the only one, or the only one named retail; several and none retail fail.
func priceTypeNote(types []commerceml.PriceType) (string, string) {
	id, err := defaults.ResolvePriceType(types)
	var ids []string
	names := map[string]string{}
	for _, t := range types {
		if _, ok := names[t.ID]; !ok {
			ids = append(ids, t.ID)
		}
		names[t.ID] = t.Name
	}
	all := make([]string, len(ids))
	for i, id := range ids {
		all[i] = fmt.Sprintf("«%s» (Ид %s)", names[id], id)
	}
	switch {
	case err != nil:
		return "", "several price types (" + strings.Join(all, ", ") + "): without mapping.price_type set to the retail one the drop fails"
	case id == "":
		return "", ""
	}
	chosen := fmt.Sprintf("«%s» (Ид %s)", names[id], id)
	if len(ids) == 1 {
		return id, chosen + ": the only price type of the drop"
	}
	return id, chosen + ": the retail one of " + strings.Join(all, ", ") + " (mapping.price_type chooses another)"
}
