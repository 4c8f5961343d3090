package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"obmin/commerceml"
)

// dropPlan says how obmin would apply one folder of an export. It follows what the service does: the
// watcher makes each folder a drop of its own and leaves import_files/ and hidden or temporary files out
// (spool/watch.go, spool/source.go); exchange's classify and unzipDrop unpack archives, sort the files and
// read catalogues before offers (exchange/catalog.go).
type dropPlan struct {
	Folder    string        `json:"folder"`
	Order     []planStep    `json:"order"`   // the files in the order obmin applies them
	Ignored   []planIgnored `json:"ignored"` // what obmin leaves out of the drop, and why
	PriceType string        `json:"price_type,omitempty"`
	// PriceTypeNote says how the price type is chosen when mapping.price_type is not set.
	PriceTypeNote string `json:"price_type_note,omitempty"`
	Verdict       string `json:"verdict"` // apply, wait, fail
	Because       string `json:"because,omitempty"`
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
		if p != root && (skippedFolder(d.Name()) != "") {
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

// skippedFolder says why a subfolder is no drop of its own, or "".
func skippedFolder(name string) string {
	switch {
	case strings.EqualFold(name, "import_files"):
		return "pictures, never read"
	case strings.HasPrefix(name, "."):
		return "a hidden folder"
	}
	return ""
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
			if why := skippedFolder(name); why != "" {
				plan.Ignored = append(plan.Ignored, planIgnored{Name: name + "/", Why: why})
			}
		case !e.Type().IsRegular():
			plan.Ignored = append(plan.Ignored, planIgnored{Name: name, Why: "not a plain file"})
		case strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~$"):
			plan.Ignored = append(plan.Ignored, planIgnored{Name: name, Why: "a hidden or temporary file"})
		case strings.EqualFold(path.Ext(name), ".xml") || strings.EqualFold(path.Ext(name), ".zip"):
			names = append(names, name)
		default:
			plan.Ignored = append(plan.Ignored, planIgnored{Name: name, Why: "not .xml or .zip"})
		}
	}
	if len(names) == 0 {
		return nil, nil // not a drop: its subfolders, if any, are drops of their own
	}
	sort.Slice(names, func(i, j int) bool { return dropFileOrder(names[i]) < dropFileOrder(names[j]) })
	in.resetDrop()
	var all []*fileReport
	for _, name := range names {
		reps, err := in.file(ctx, filepath.Join(dir, name), filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		all = append(all, reps...)
	}
	planDrop(plan, dir, all)
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
			members = append(members, dropMember{name: path.Base(entry), from: rel, rep: r})
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
	// exchange's unzipDrop: a name that is in the drop twice fails the drop.
	seen := map[string]*fileReport{}
	dupMsg := ""
	for _, m := range members {
		key := strings.ToLower(m.name)
		if other, dup := seen[key]; dup && dupMsg == "" {
			dupMsg = fmt.Sprintf("%s is in the drop twice (%s and %s): obmin refuses the drop", m.name, other.Path, m.rep.Path)
		}
		seen[key] = m.rep
	}
	sort.SliceStable(members, func(i, j int) bool { return dropFileOrder(members[i].name) < dropFileOrder(members[j].name) })

	plan.Order = append(plan.Order, archives...)
	var catalog, offers, documents []planStep
	var types []commerceml.PriceType
	for _, m := range members {
		r := m.rep
		file := m.name
		from := ""
		if m.from != "" {
			from = ", unpacked from " + m.from
		}
		types = append(types, r.priceTypes...)
		switch {
		case r.Status != statusRead:
			catalog = append(catalog, planStep{File: file, Role: fmt.Sprintf("%s (%s): stops the drop", strings.ToUpper(r.Status), r.Reason) + from})
		case r.Format == "yml" || r.Format == "hotline":
			catalog = append(catalog, planStep{File: file, Role: "a marketplace feed: read with the catalogue files, one good per offer" + from})
		case r.Kind == string(commerceml.KindCatalog):
			catalog = append(catalog, planStep{File: file, Role: "catalogue (goods)" + from})
		case r.Kind == string(commerceml.KindOffers):
			offers = append(offers, planStep{File: file, Role: "offers (prices and stock), after every catalogue file" + from})
		case r.Kind == string(commerceml.KindPrices):
			offers = append(offers, planStep{File: file, Role: "prices only, after every catalogue file" + from})
		case r.Kind == string(commerceml.KindRests):
			offers = append(offers, planStep{File: file, Role: "stock (rests) only, after every catalogue file" + from})
		case r.Kind == string(commerceml.KindDocuments):
			documents = append(documents, planStep{File: file, Role: "BAS's orders export: confirms the receipts it lists" + from})
		default:
			plan.Ignored = append(plan.Ignored, planIgnored{Name: file, Why: "an empty CommerceML file (root element only): nothing to apply"})
		}
	}
	plan.Order = append(plan.Order, catalog...)
	plan.Order = append(plan.Order, offers...)
	plan.Order = append(plan.Order, documents...)
	plan.PriceType, plan.PriceTypeNote = choosePriceType(types)

	switch {
	case bad != nil && bad.Reason == reasonTruncated:
		plan.Verdict = verdictWait
		plan.Because = fmt.Sprintf("%s has no closing tag: obmin takes the drop only once BAS has finished writing it; "+
			"if it stays like this, the drop goes to spool/failed/", bad.Path)
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

// choosePriceType is the price type obmin takes when mapping.price_type is not set (exchange's
// resolvePriceType): the only one, or the only one named retail («роздр…», «розн…»).
func choosePriceType(types []commerceml.PriceType) (string, string) {
	uniq := map[string]commerceml.PriceType{}
	var ids []string
	for _, t := range types {
		if _, ok := uniq[t.ID]; !ok {
			ids = append(ids, t.ID)
		}
		uniq[t.ID] = t
	}
	show := func(t commerceml.PriceType) string { return fmt.Sprintf("«%s» (Ид %s)", t.Name, t.ID) }
	switch len(ids) {
	case 0:
		return "", ""
	case 1:
		return ids[0], show(uniq[ids[0]]) + ": the only price type of the drop"
	}
	var retail []string
	var all []string
	for _, id := range ids {
		n := strings.ToLower(uniq[id].Name)
		if strings.Contains(n, "роздр") || strings.Contains(n, "розн") {
			retail = append(retail, id)
		}
		all = append(all, show(uniq[id]))
	}
	if len(retail) == 1 {
		return retail[0], show(uniq[retail[0]]) + ": the retail one of " + strings.Join(all, ", ") + " (mapping.price_type chooses another)"
	}
	return "", "several price types (" + strings.Join(all, ", ") + "): without mapping.price_type set to the retail one the drop fails"
}

// dropFileOrder sorts "import.xml" before "import1.xml" before "import10.xml", as obmin applies a drop
// (the same order as exchange's fileOrder).
func dropFileOrder(name string) string {
	base := strings.TrimSuffix(strings.ToLower(name), ".xml")
	i := len(base)
	for i > 0 && base[i-1] >= '0' && base[i-1] <= '9' {
		i--
	}
	return fmt.Sprintf("%s\x00%08s", base[:i], base[i:])
}
