package sftpdir

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"

	"obmin/drop"
	"obmin/folder"
)

// Source returns the folder.Source of the folder root on the server (an absolute path, or relative to the
// login folder). It only reads.
func (c *Conn) Source(root string) folder.Source { return source{c: c, root: cleanRoot(root)} }

// Target returns the folder.Target of the folder dir on the server.
func (c *Conn) Target(dir string) folder.Target { return target{c: c, dir: cleanRoot(dir)} }

func cleanRoot(p string) string {
	p = path.Clean(strings.ReplaceAll(p, `\`, "/"))
	if p == "" {
		return "."
	}
	return p
}

type source struct {
	c    *Conn
	root string
}

func (s source) String() string { return s.c.String() + "/" + strings.TrimPrefix(s.root, "/") }

// List walks root like folder.LocalDir: regular *.xml (and *.zip) files, recursively, sorted; dot-files, dot-folders,
// *.tmp and Office's ~$ files skipped (docs/reliability.md §5). Symbolic links are not
// followed.
func (s source) List(ctx context.Context) ([]drop.File, error) {
	var files []drop.File
	err := s.c.do(ctx, true, func(ss *session) error {
		files = files[:0]
		return s.walk(ctx, ss.sftp, "", &files)
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

func (s source) walk(ctx context.Context, cl *sftp.Client, rel string, out *[]drop.File) error {
	entries, err := cl.ReadDirContext(ctx, path.Join(s.root, rel))
	if err != nil {
		// BAS empties its folder while we walk it: a subfolder that vanished is not an error.
		if rel != "" && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
			continue
		}
		p := path.Join(rel, name)
		switch {
		case e.IsDir():
			if !strings.HasPrefix(name, ".") {
				if err := s.walk(ctx, cl, p, out); err != nil {
					return err
				}
			}
		case e.Mode().IsRegular() && wanted(name):
			*out = append(*out, drop.File{Path: p, Size: e.Size(), ModTime: e.ModTime()})
		}
	}
	return nil
}

// wanted is folder.LocalDir's filter: *.xml, or the *.zip 1C writes when its exchange zips
// (docs/commerceml.md §6.3); not hidden, not a temporary file of a common writer. The conformance suite checks
// that it lists what folder.LocalDir lists.
func wanted(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~$") {
		return false
	}
	ext := path.Ext(name)
	return strings.EqualFold(ext, ".xml") || strings.EqualFold(ext, ".zip")
}

// checkRel accepts only a clean, relative, slash-separated path: what List returns.
func checkRel(p string) error {
	if !fs.ValidPath(p) || p == "." || strings.ContainsAny(p, `\:`) {
		return fmt.Errorf("%q: %w", p, errPath)
	}
	return nil
}

// Open opens a file List returned. The file holds one session until closed; reading it to the end checks
// that as many bytes came as the server said it had.
func (s source) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := checkRel(p); err != nil {
		return nil, fmt.Errorf("open %s: %w", s, err)
	}
	ss, err := s.c.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("open %q in %s: %w", p, s, err)
	}
	f, err := ss.sftp.Open(path.Join(s.root, p))
	var fi os.FileInfo
	if err == nil {
		if fi, err = f.Stat(); err != nil {
			f.Close()
		}
	}
	if err != nil {
		ss.put(err)
		return nil, fmt.Errorf("open %q in %s: %w", p, s, err)
	}
	return &remoteFile{f: f, s: ss, size: fi.Size(), name: p}, nil
}

// remoteFile is an open file of a Source: Read, Seek, Close.
type remoteFile struct {
	f    *sftp.File
	s    *session
	size int64
	pos  int64
	name string
	err  error // the first failure, which decides whether the connection is kept
	once sync.Once
}

func (r *remoteFile) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	r.pos += int64(n)
	if errors.Is(err, io.EOF) && r.pos < r.size {
		err = fmt.Errorf("read %s: %w: the server said %d bytes, sent %d", r.name, errVerify, r.size, r.pos)
	}
	if err != nil && !errors.Is(err, io.EOF) && r.err == nil {
		r.err = err
	}
	return n, err
}

func (r *remoteFile) Seek(off int64, whence int) (int64, error) {
	pos, err := r.f.Seek(off, whence)
	if err == nil {
		r.pos = pos
	}
	return pos, err
}

func (r *remoteFile) Close() error {
	var err error
	r.once.Do(func() {
		err = r.f.Close()
		if r.err == nil && err != nil {
			r.err = err
		}
		r.s.put(r.err)
	})
	return err
}

type target struct {
	c   *Conn
	dir string
}

func (t target) String() string { return t.c.String() + "/" + strings.TrimPrefix(t.dir, "/") }

// hashLimit: files up to this size are read back after upload and compared by SHA-256; larger ones by
// size only.
const hashLimit = 8 << 20

// tempMark is in the name of every temporary file a Target makes: "." + name + tempMark + random.
const tempMark = ".obmin-"

func (t target) name(name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\:`) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("target %s: %q: %w", t, name, errPath)
	}
	return path.Join(t.dir, name), nil
}

// WriteFile uploads data under a dot-temp name in the same folder, flushes it where the server can
// (fsync@openssh.com), checks its size (and SHA-256 by reading it back when under 8 MiB), then renames
// it over name: posix-rename@openssh.com where the server has it; elsewhere the old file is first renamed
// aside, the new one renamed in, and the old one put back if that fails (docs/reliability.md
// §7). The result is checked by size. Temporary files an earlier, cut-off attempt
// left for name are removed first.
func (t target) WriteFile(ctx context.Context, name string, data []byte) error {
	return t.WriteFrom(ctx, name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFrom is WriteFile with the content written by write as it is uploaded, never held whole: the
// checks compare the size and SHA-256 of what write wrote.
func (t target) WriteFrom(ctx context.Context, name string, write func(w io.Writer) error) error {
	final, err := t.name(name)
	if err != nil {
		return err
	}
	err = t.c.do(ctx, false, func(s *session) error { return t.write(s, name, final, write) })
	if err != nil {
		return fmt.Errorf("upload to %s: %w", final, err)
	}
	return nil
}

// uploadBuffer gathers the content into writes large enough for pkg/sftp to send several packets at once.
const uploadBuffer = 1 << 20

func (t target) write(s *session, name, final string, write func(w io.Writer) error) error {
	cl := s.sftp
	if err := cl.MkdirAll(t.dir); err != nil {
		return err
	}
	t.removeStale(cl, name)
	tmp := path.Join(t.dir, "."+name+tempMark+random()+".tmp")
	ok := false
	defer func() {
		if !ok {
			cl.Remove(tmp) // best effort; a cut connection leaves it for the next call's removeStale
		}
	}()
	f, err := cl.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	// Private before it holds anything (the server's umask decides the mode a new file gets). A server
	// that cannot set modes (some Windows SFTP servers) keeps its own: best effort.
	_ = f.Chmod(folder.DeliveredFileMode)
	var sum folder.ContentSum
	bw := bufio.NewWriterSize(io.MultiWriter(f, &sum), uploadBuffer)
	if err := write(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if s.l.fsync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := verify(cl, tmp, &sum); err != nil {
		return err
	}
	if err := t.rename(s, tmp, final); err != nil {
		return err
	}
	ok = true
	fi, err := cl.Stat(final)
	if err != nil {
		return err
	}
	if fi.Size() != sum.Size() {
		return fmt.Errorf("%w: %s is %d bytes after the rename, want %d", errVerify, final, fi.Size(), sum.Size())
	}
	return nil
}

// verify checks an uploaded file's size, and its content (SHA-256) when small.
func verify(cl *sftp.Client, p string, sum *folder.ContentSum) error {
	fi, err := cl.Stat(p)
	if err != nil {
		return err
	}
	if fi.Size() != sum.Size() {
		return fmt.Errorf("%w: uploaded %s is %d bytes, want %d", errVerify, p, fi.Size(), sum.Size())
	}
	if sum.Size() > hashLimit {
		return nil
	}
	f, err := cl.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	var got folder.ContentSum
	if _, err := io.Copy(&got, readerOnly{f}); err != nil {
		return err
	}
	if !got.Equal(sum) {
		return fmt.Errorf("%w: uploaded %s differs from what was sent (SHA-256)", errVerify, p)
	}
	return nil
}

// rename moves tmp over final. A refused rename is tried again a few times: a virus scanner or BAS
// itself may hold final open for a moment on a Windows server.
func (t target) rename(s *session, tmp, final string) error {
	cl := s.sftp
	var err error
	for try := 0; try < 4; try++ {
		if try > 0 {
			time.Sleep(time.Duration(try) * 150 * time.Millisecond)
		}
		if s.l.posix {
			err = cl.PosixRename(tmp, final)
		} else {
			err = t.renameAside(cl, tmp, final)
		}
		if err == nil || !answered(err) {
			return err
		}
	}
	return err
}

// renameAside replaces final without posix-rename: SSH_FXP_RENAME must fail when the target exists, so
// the old file is renamed aside first and put back if the new one cannot take its place.
func (t target) renameAside(cl *sftp.Client, tmp, final string) error {
	aside := path.Join(path.Dir(final), "."+path.Base(final)+tempMark+random()+".old")
	hadOld := true
	if err := cl.Rename(final, aside); errors.Is(err, fs.ErrNotExist) {
		hadOld = false
	} else if err != nil {
		return fmt.Errorf("move the old %s aside: %w", final, err)
	}
	if err := cl.Rename(tmp, final); err != nil {
		if hadOld {
			if rerr := cl.Rename(aside, final); rerr != nil {
				return fmt.Errorf("rename into %s: %w (and the old file stays at %s: %v)", final, err, aside, rerr)
			}
		}
		return err
	}
	if hadOld {
		cl.Remove(aside) // removeStale takes it next time if this fails
	}
	return nil
}

// removeStale removes the temporary files earlier attempts left for name (uploads and old copies put
// aside). One obmin writes a Target's files, one at a time per name.
func (t target) removeStale(cl *sftp.Client, name string) {
	entries, err := cl.ReadDir(t.dir)
	if err != nil {
		return
	}
	prefix := "." + name + tempMark
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) && e.Mode().IsRegular() {
			cl.Remove(path.Join(t.dir, e.Name()))
		}
	}
}

// ReadFile reads name; an error wrapping os.ErrNotExist when there is none.
func (t target) ReadFile(ctx context.Context, name string) ([]byte, error) {
	p, err := t.name(name)
	if err != nil {
		return nil, err
	}
	var data []byte
	err = t.c.do(ctx, true, func(s *session) error {
		var rerr error
		data, rerr = readAll(s.sftp, p)
		return rerr
	})
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", p, err)
	}
	return data, nil
}

// Open opens name for reading; an error wrapping os.ErrNotExist when there is none. The file holds one
// session until closed.
func (t target) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if _, err := t.name(name); err != nil {
		return nil, err
	}
	r, err := source{c: t.c, root: t.dir}.Open(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	return r, nil
}

func random() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
