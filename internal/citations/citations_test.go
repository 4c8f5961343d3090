package citations

import (
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"obmin/internal/testenv"
)

var (
	// outsideNote names research notes that were never part of the repository. A comment citing one
	// sends a reader to a file a clone does not have: the fact belongs in a page under docs/.
	outsideNote = regexp.MustCompile(`(?:^|[^\w/.-])(commerceml|checkbox-api|go-style-and-spool-anchors|bas-and-peers|bas-site-exchange-loader|bas-kkm-offline|SOURCES)\.md\b|(?:^|[^\w/.-])bas-odata/`)
	// sharedPath is the folder beside the repository that tests may read but a clone lacks.
	sharedPath = regexp.MustCompile(`\.\./shared\b|\bshared/(reference|samples|checkbox|seeds)\b`)
	// tableRow is a citation of a row or column of an outside note's table ("A1 row 11").
	tableRow = regexp.MustCompile(`\b[A-C]\d+ rows? \d`)
	// mdFile is a file name ending in .md; url is removed first so that addresses are not taken for paths.
	mdFile = regexp.MustCompile(`[\w./-]*[\w-]\.md\b`)
	url    = regexp.MustCompile(`[a-z]+://\S+`)
	// docSection is a section of a project page: "docs/commerceml.md §4.2".
	docSection = regexp.MustCompile(`(docs/[\w-]+\.md)[,:]? §(\d+(?:\.\d+)*)`)
	// mdLink is a Markdown link; mdLinkSection a link to a page followed by a section number.
	mdLink        = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdLinkSection = regexp.MustCompile(`\]\(([\w./-]+\.md)\)[,:]? §(\d+(?:\.\d+)*)`)
	heading       = regexp.MustCompile(`^#{1,6} +(\d+(?:\.\d+)*)[. ]`)
)

// TestCommentsCiteWhatACloneHas reads the comments of every .go file of the repository (testdata
// folders hold data, not comments, and are skipped): none may name an outside note, the shared folder
// or a table row of a note, and every .md file a comment names must exist, relative to the repository's
// root or the file's own folder. A section of a project page ("docs/x.md §3.2") must exist in that page;
// that holds for string literals too (error messages point staff to the docs).
func TestCommentsCiteWhatACloneHas(t *testing.T) {
	root := testenv.Root(t)
	pages := newPages(root)
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// This package's own comments describe the patterns it refuses.
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor" ||
				path == filepath.Join(root, "internal", "citations")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		files++
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		// internal/testenv is where the shared folder's location is defined: it may say where it is.
		mayNameShared := strings.HasPrefix(rel, "internal/testenv/")
		forEachText(src, func(line int, text string, comment bool) {
			where := rel + ":" + itoa(line)
			for _, m := range docSection.FindAllStringSubmatch(text, -1) {
				if msg := pages.section(m[1], m[2]); msg != "" {
					t.Errorf("%s: %s", where, msg)
				}
			}
			if !comment {
				return
			}
			if m := outsideNote.FindString(text); m != "" {
				t.Errorf("%s: cites %q, a note outside the repository; cite the primary source or a page under docs/", where, strings.TrimLeft(m, " (`\"'"))
			}
			if m := sharedPath.FindString(text); m != "" && !mayNameShared {
				t.Errorf("%s: names %q, a folder outside the repository", where, m)
			}
			if m := tableRow.FindString(text); m != "" {
				t.Errorf("%s: cites a table row of an outside note (%q)", where, m)
			}
			for _, name := range mdFile.FindAllString(url.ReplaceAllString(text, ""), -1) {
				if !exists(root, name) && !exists(filepath.Dir(path), name) {
					t.Errorf("%s: names %s, which is not in the repository", where, name)
				}
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 {
		t.Fatalf("only %d .go files under %s: the walk went wrong", files, root)
	}
}

// TestDocsLinkWhatACloneHas checks README.md and docs/*.md: every relative link leads to a file of the
// repository (and an anchor to a heading of that page), every "[page](page.md) §N" to a section that
// exists, and no outside note is named.
func TestDocsLinkWhatACloneHas(t *testing.T) {
	root := testenv.Root(t)
	pages := newPages(root)
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, filepath.Join(root, "README.md"))
	for _, path := range docs {
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			where := rel + ":" + itoa(i+1)
			for _, m := range outsideNote.FindAllStringSubmatch(line, -1) {
				// A page of the project may share a note's name (docs/commerceml.md): that one is ours.
				if m[1] == "" || !exists(filepath.Dir(path), m[1]+".md") {
					t.Errorf("%s: cites %q, a note outside the repository", where, strings.TrimLeft(m[0], " (`\"'["))
				}
			}
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				file, anchor, _ := strings.Cut(target, "#")
				if file == "" {
					file = filepath.Base(path)
				}
				full := filepath.Join(filepath.Dir(path), filepath.FromSlash(file))
				if _, err := os.Stat(full); err != nil {
					t.Errorf("%s: links %s, which is not in the repository", where, target)
					continue
				}
				if anchor != "" && strings.HasSuffix(file, ".md") && !pages.hasAnchor(full, anchor) {
					t.Errorf("%s: links %s, but %s has no such heading", where, target, file)
				}
			}
			for _, m := range mdLinkSection.FindAllStringSubmatch(line, -1) {
				page, _ := filepath.Rel(root, filepath.Join(filepath.Dir(path), filepath.FromSlash(m[1])))
				if msg := pages.section(filepath.ToSlash(page), m[2]); msg != "" {
					t.Errorf("%s: %s", where, msg)
				}
			}
		}
	}
}

// forEachText calls fn for each line of every comment (comment true) and every string literal
// (comment false) of a Go source file, with its line number.
func forEachText(src []byte, fn func(line int, text string, comment bool)) {
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	var s scanner.Scanner
	s.Init(file, src, nil, scanner.ScanComments)
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			return
		}
		if tok != token.COMMENT && tok != token.STRING {
			continue
		}
		line := fset.Position(pos).Line
		for i, text := range strings.Split(lit, "\n") {
			fn(line+i, text, tok == token.COMMENT)
		}
	}
}

func exists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
	return err == nil
}

// pages reads project pages once, for their numbered sections and their headings' anchors.
type pages struct {
	root  string
	lines map[string][]string
}

func newPages(root string) *pages { return &pages{root: root, lines: map[string][]string{}} }

func (p *pages) read(path string) []string {
	if l, ok := p.lines[path]; ok {
		return l
	}
	b, err := os.ReadFile(path)
	var l []string
	if err == nil {
		l = strings.Split(string(b), "\n")
	}
	p.lines[path] = l
	return l
}

// section says what is wrong with a citation of section num of the page at rel (relative to the
// root), or "" when the page has it: a heading with that number, or, for a numbered point of a
// section without numbered subsections ("§0.6", "§6.1 step 3"), the section's heading.
func (p *pages) section(rel, num string) string {
	path := filepath.Join(p.root, filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		return "cites " + rel + ", which is not in the repository"
	}
	top, _, nested := strings.Cut(num, ".")
	hasTop, hasSubs := false, false
	for _, line := range p.read(path) {
		m := heading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if m[1] == num {
			return ""
		}
		if m[1] == top {
			hasTop = true
		}
		if strings.HasPrefix(m[1], top+".") {
			hasSubs = true
		}
	}
	if nested && hasTop && !hasSubs {
		return ""
	}
	return "cites " + rel + " §" + num + ", which that page has no heading for"
}

// hasAnchor reports whether the page has a heading whose GitHub anchor is anchor.
func (p *pages) hasAnchor(path, anchor string) bool {
	for _, line := range p.read(path) {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		if slug(strings.TrimLeft(line, "# ")) == anchor {
			return true
		}
	}
	return false
}

// slug is GitHub's anchor of a heading: lower case, spaces to hyphens, punctuation dropped.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
