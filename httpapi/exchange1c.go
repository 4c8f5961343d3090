package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/exchange"
	"obmin/internal/atomicfile"
	"obmin/internal/safezip"
	"obmin/store"
)

// CookieName is the session cookie checkauth hands to 1C (docs/commerceml.md §6.1 step 1: lines 2 and 3).
const CookieName = "obmin_session"

// session is one 1C exchange: from checkauth to the last call. Its files live in UploadDir/<id>/.
type session struct {
	mu       sync.Mutex // one request of a session at a time
	id       string     // the cookie value: a secret, never logged
	label    string     // names the session in logs and file names
	sessid   string
	dir      string
	lastUsed time.Time

	uploaded int64             // bytes of all files of the session, received and unpacked
	unpacked int               // files unpacked from the session's archives
	batch    int               // number of the upload folder files go to now: upload-<batch>
	inBatch  int               // files in it
	runs     map[string]*run   // by lower-case XML base name: the drop that carries it
	current  *run              // the drop of the last import
	query    []string          // Номер values the last mode=query returned
	saleDone map[string]string // sale documents already read: name → result line
}

// run is one upload handed to obmin as a drop.
type run struct {
	dropID string
	err    error         // the upload could not even become a drop
	done   chan struct{} // closed when the drop pass that applies it returned
}

// exchange is the 1C site-exchange endpoint: ?type=catalog|sale&mode=… (docs/commerceml.md §6).
func (s *Server) exchange(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	typ, mode := q.Get("type"), q.Get("mode")
	log := s.log.WithFields(logrus.Fields{"type": typ, "mode": mode})
	if typ != "catalog" && typ != "sale" {
		s.answer(w, http.StatusBadRequest, "failure", fmt.Sprintf("type %q is not served here: want catalog or sale", typ))
		return
	}
	if mode == "checkauth" {
		s.checkauth(w, r)
		return
	}
	sess, msg := s.session(r)
	if sess == nil {
		s.refusals.note("1C exchange", msg, s.peer(r))
		s.answer(w, http.StatusUnauthorized, "failure", msg)
		return
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	log = log.WithField("session", sess.label)
	switch {
	case mode == "init":
		s.init(w, r, sess, typ)
	case mode == "file" && r.Method == http.MethodPost:
		s.file(w, r, sess, typ, log)
	case mode == "import" && typ == "catalog":
		s.catalogImport(w, r, sess, log)
	case mode == "import" && typ == "sale":
		s.saleImport(w, r, sess, log)
	case (mode == "deactivate" || mode == "complete") && typ == "catalog":
		// obmin never deletes goods in Checkbox: goods BAS no longer exports are listed in the drop's report.
		s.answer(w, http.StatusOK, "success", "")
	case mode == "query" && typ == "sale":
		s.query(w, r, sess, log)
	case mode == "success" && typ == "sale":
		s.saleSuccess(w, r, sess, log)
	default:
		s.answer(w, http.StatusBadRequest, "failure", fmt.Sprintf("mode %q (%s) is not served for type=%s", mode, r.Method, typ))
	}
}

// answer writes 1C's text answer: a first line always (an empty answer makes 1C fail, docs/commerceml.md §7),
// lines separated by \n, ASCII where possible.
func (s *Server) answer(w http.ResponseWriter, status int, first string, more ...string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	lines := []string{first}
	for _, m := range more {
		if m != "" {
			lines = append(lines, strings.ReplaceAll(m, "\n", " "))
		}
	}
	io.WriteString(w, strings.Join(lines, "\n"))
}

// checkauth signs 1C in with HTTP Basic and opens a session: success, cookie name, cookie value, sessid
// (docs/commerceml.md §6.1 step 1).
func (s *Server) checkauth(w http.ResponseWriter, r *http.Request) {
	ok, wait := s.signIn(r, "1C sign-in", false)
	if wait > 0 {
		// Nothing was compared: a guesser learns nothing, the right password included.
		w.Header().Set("Retry-After", retryAfter(wait))
		s.answer(w, http.StatusTooManyRequests, "failure", "too many failed sign-ins; try again in "+retryAfter(wait)+" s")
		return
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="obmin", charset="UTF-8"`)
		s.answer(w, http.StatusUnauthorized, "failure", "wrong user or password")
		return
	}
	now := s.now()
	sess := &session{id: randomHex(16), label: randomHex(4), sessid: randomHex(16), lastUsed: now, runs: map[string]*run{}, saleDone: map[string]string{}}
	sess.dir = filepath.Join(s.cfg.UploadDir, sess.label+"-"+randomHex(4))
	s.mu.Lock()
	s.expireLocked(now)
	room := s.makeRoomLocked()
	s.mu.Unlock()
	if !room {
		s.answer(w, http.StatusServiceUnavailable, "failure", fmt.Sprintf("%d exchange sessions are busy; try again later", s.cfg.MaxSessions))
		return
	}
	if err := os.MkdirAll(sess.dir, 0o700); err != nil {
		s.answer(w, http.StatusInternalServerError, "failure", "cannot create the session folder")
		s.log.WithError(err).Error("create session folder")
		return
	}
	s.mu.Lock()
	s.sessions[sess.id] = sess
	s.mu.Unlock()
	secure := s.cfg.BehindTLSProxy || s.peer(r).https
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: sess.id, Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	s.answer(w, http.StatusOK, "success", CookieName, sess.id, "sessid="+sess.sessid, "timestamp="+strconv.FormatInt(now.Unix(), 10))
}

// expireLocked forgets sessions unused for SessionTTL and removes their files. Called with s.mu held.
func (s *Server) expireLocked(now time.Time) {
	for id, sess := range s.sessions {
		if now.Sub(sess.lastUsed) > s.cfg.SessionTTL && sess.mu.TryLock() {
			delete(s.sessions, id)
			os.RemoveAll(sess.dir)
			sess.mu.Unlock()
		}
	}
}

// makeRoomLocked keeps the sessions under MaxSessions: 1C starts a new session for every exchange and never
// ends one, so at the cap the least recently used idle session is forgotten and its files removed. False
// when every session is busy with a request. Called with s.mu held.
func (s *Server) makeRoomLocked() bool {
	for len(s.sessions) >= s.cfg.MaxSessions {
		var oldest *session
		for _, sess := range s.sessions {
			if oldest == nil || sess.lastUsed.Before(oldest.lastUsed) {
				if sess.mu.TryLock() {
					if oldest != nil {
						oldest.mu.Unlock()
					}
					oldest = sess
				}
			}
		}
		if oldest == nil {
			return false
		}
		delete(s.sessions, oldest.id)
		os.RemoveAll(oldest.dir)
		oldest.mu.Unlock()
		s.log.WithField("session", oldest.label).Info("1C exchange session ended: the most sessions are open; it was the least recently used")
	}
	return true
}

// session finds the request's session by its cookie and checks sessid when the URL carries one.
func (s *Server) session(r *http.Request) (*session, string) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return nil, "no session cookie: call mode=checkauth first"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[c.Value]
	now := s.now()
	if sess == nil || now.Sub(sess.lastUsed) > s.cfg.SessionTTL {
		return nil, "unknown or expired session: call mode=checkauth again"
	}
	if id := r.URL.Query().Get("sessid"); id != "" && subtle.ConstantTimeCompare([]byte(id), []byte(sess.sessid)) != 1 {
		return nil, "sessid does not match the session"
	}
	sess.lastUsed = now
	return sess, ""
}

// init answers zip and file_limit (docs/commerceml.md §6.1 step 2, §6.2 step 2): exactly these two lines,
// since BAS's client takes an init answer of any other length as an error (docs/http.md). A catalogue
// init starts the session's upload afresh.
func (s *Server) init(w http.ResponseWriter, r *http.Request, sess *session, typ string) {
	if typ == "sale" {
		s.answer(w, http.StatusOK, "zip=no", "file_limit="+strconv.FormatInt(s.cfg.FileLimit, 10))
		return
	}
	if err := os.RemoveAll(s.uploadDir(sess)); err != nil {
		s.answer(w, http.StatusInternalServerError, "failure", "cannot clear the upload folder")
		return
	}
	sess.inBatch = 0
	zip := "zip=no"
	if s.cfg.Zip {
		zip = "zip=yes"
	}
	s.answer(w, http.StatusOK, zip, "file_limit="+strconv.FormatInt(s.cfg.FileLimit, 10))
}

func (s *Server) uploadDir(sess *session) string {
	return filepath.Join(sess.dir, "upload-"+strconv.Itoa(sess.batch))
}

// CleanUploadName turns 1C's filename parameter into a safe relative path: backslashes are separators;
// an absolute path or one with a drive letter keeps only its base name (1C and PHP sites send /tmp/… and
// C:\… names, docs/commerceml.md §6.1 step 3); "..", control characters, names Windows reserves for devices
// (CON, NUL.xml, COM1…) and empty names are refused.
func CleanUploadName(raw string) (string, error) {
	s := strings.ReplaceAll(raw, `\`, "/")
	for _, part := range strings.Split(s, "/") {
		if part == ".." {
			return "", fmt.Errorf("file name %q: '..' is not allowed", raw)
		}
	}
	if strings.HasPrefix(s, "/") || (len(s) >= 2 && s[1] == ':') {
		s = path.Base(s)
	}
	rel, err := safezip.CleanName(s)
	if err != nil {
		return "", fmt.Errorf("file name %q: %w", raw, err)
	}
	if rel == "" {
		return "", fmt.Errorf("file name %q is empty", raw)
	}
	return rel, nil
}

// file appends the raw body to the named file of the session's upload (docs/commerceml.md §6.1 step 3: files
// bigger than file_limit arrive in several POSTs with the same name); sale documents go to their own folder.
func (s *Server) file(w http.ResponseWriter, r *http.Request, sess *session, typ string, log *logrus.Entry) {
	name, err := CleanUploadName(r.URL.Query().Get("filename"))
	if err != nil {
		log.WithError(err).Warn("1C upload refused")
		s.answer(w, http.StatusBadRequest, "failure", err.Error())
		return
	}
	dir := s.uploadDir(sess)
	if typ == "sale" {
		dir = filepath.Join(sess.dir, "sale")
		delete(sess.saleDone, name)
	}
	target := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		s.answer(w, http.StatusInternalServerError, "failure", "cannot store the file")
		return
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		s.answer(w, http.StatusInternalServerError, "failure", "cannot store the file")
		log.WithError(err).Error("open upload file")
		return
	}
	before, _ := f.Seek(0, io.SeekEnd)
	left := s.cfg.MaxUpload - sess.uploaded
	body := http.MaxBytesReader(w, r.Body, min(s.cfg.MaxBody, left))
	n, err := io.Copy(f, body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Truncate(target, before) // a failed chunk leaves the file as it was; 1C repeats the exchange
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			// The upload cannot be finished in this session: its files go at once, not when the session expires.
			s.dropUpload(sess, typ)
			log.WithField("file", name).Warn("1C upload refused: bigger than allowed")
			s.answer(w, http.StatusRequestEntityTooLarge, "failure", fmt.Sprintf("%s: the request is bigger than allowed (file_limit %d, session total %d)", name, s.cfg.FileLimit, s.cfg.MaxUpload))
			return
		}
		log.WithError(err).Warn("upload interrupted")
		s.answer(w, http.StatusBadRequest, "failure", fmt.Sprintf("%s: upload interrupted", name))
		return
	}
	sess.uploaded += n
	if typ == "sale" {
		s.saleFile(r.Context(), w, sess, name, target, log)
		return
	}
	sess.inBatch++
	log.WithFields(logrus.Fields{"file": name, "bytes": n, "total": before + n}).Debug("1C upload chunk stored")
	s.answer(w, http.StatusOK, "success")
}

// catalogImport hands the session's upload to obmin as one drop on the first call and answers progress
// until it is applied, then success or failure with the reason (docs/commerceml.md §6.1 step 4). No call
// waits longer than ImportWait: 1C and proxies time out on long requests (§6.3).
func (s *Server) catalogImport(w http.ResponseWriter, r *http.Request, sess *session, log *logrus.Entry) {
	name := r.URL.Query().Get("filename")
	key := strings.ToLower(path.Base(strings.ReplaceAll(name, `\`, "/")))
	rn := sess.runs[key]
	if rn == nil && sess.inBatch > 0 {
		rn = s.startRun(r.Context(), sess, log)
	}
	if rn == nil {
		rn = sess.current
	}
	if rn == nil {
		s.answer(w, http.StatusOK, "failure", fmt.Sprintf("file %q was not uploaded in this session", name))
		return
	}
	if rn.err != nil {
		s.answer(w, http.StatusOK, "failure", rn.err.Error())
		return
	}
	t := time.NewTimer(s.cfg.ImportWait)
	defer t.Stop()
	select {
	case <-rn.done:
	case <-t.C:
	case <-r.Context().Done():
		return
	}
	d, ok, err := s.agent.Drop(r.Context(), rn.dropID)
	switch {
	case err != nil:
		s.answer(w, http.StatusOK, "failure", "obmin cannot read its state: "+s.scrub(err.Error(), sess))
	case !ok:
		s.answer(w, http.StatusOK, "failure", "the drop "+rn.dropID+" is unknown")
	case d.State == store.DropStateDone || d.State == store.DropStateDuplicate:
		s.answer(w, http.StatusOK, "success", "applied: drop "+d.ID)
	case d.State == store.DropStateFailed:
		s.answer(w, http.StatusOK, "failure", s.scrub(firstLine(d.Error), sess))
	case d.Error != "" && isClosed(rn.done):
		// An outage: the drop stays in obmin's spool and is applied by itself later.
		s.answer(w, http.StatusOK, "failure", "not applied yet, obmin keeps it and retries by itself: "+s.scrub(firstLine(d.Error), sess))
	default:
		s.answer(w, http.StatusOK, "progress", "drop "+d.ID+": "+string(d.State))
	}
}

// startRun turns the current upload folder into a drop: archives are unpacked (with limits), the folder is
// handed to the agent, and a drop pass starts in the background.
func (s *Server) startRun(ctx context.Context, sess *session, log *logrus.Entry) *run {
	dir := s.uploadDir(sess)
	sess.batch++
	sess.inBatch = 0
	rn := &run{done: make(chan struct{})}
	sess.current = rn
	names, err := s.unpack(ctx, sess, dir)
	if err == nil {
		rn.dropID, err = s.agent.IngestDir(ctx, dir)
	}
	// The spool holds its own copy now; a refused upload goes at once.
	os.RemoveAll(dir)
	for _, n := range names {
		sess.runs[strings.ToLower(path.Base(n))] = rn
	}
	if err != nil {
		rn.err = errors.New(s.scrub(err.Error(), sess))
		close(rn.done)
		log.WithError(err).Warn("1C upload refused")
		return rn
	}
	log.WithFields(logrus.Fields{"drop": rn.dropID, "files": len(names)}).Info("1C upload taken as a drop")
	s.wg.Go(func() {
		defer close(rn.done)
		if err := s.agent.ProcessDrops(s.bg); err != nil && s.bg.Err() == nil {
			s.log.WithError(err).Warn("drop pass after a 1C upload did not finish")
		}
		if err := s.agent.WriteStatus(s.bg); err != nil && s.bg.Err() == nil {
			s.log.WithError(err).Warn("write status file")
		}
	})
	return rn
}

// unpack extracts every .zip of dir into dir (and removes it) and returns the upload's XML names. What
// archives unpack to counts against the session's max_upload, and their files together against
// zip_max_files: limits per archive alone would let many small archives unpack to many times either.
func (s *Server) unpack(ctx context.Context, sess *session, dir string) ([]string, error) {
	var xmls []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.EqualFold(filepath.Ext(p), ".zip") {
			lim := s.cfg.ZipLimits.WithDefaults()
			left := s.cfg.MaxUpload - sess.uploaded
			filesLeft := lim.MaxFiles - sess.unpacked
			if left <= 0 || filesLeft <= 0 {
				return fmt.Errorf("archive %s: the session's uploads already reached their limit (max_upload %d bytes, zip_max_files %d): %w",
					filepath.Base(p), s.cfg.MaxUpload, lim.MaxFiles, safezip.ErrLimit)
			}
			lim.MaxTotal, lim.MaxFiles = min(lim.MaxTotal, left), filesLeft
			files, n, err := safezip.ExtractCounted(ctx, p, filepath.Dir(p), lim)
			if err != nil {
				return fmt.Errorf("archive %s: %w", filepath.Base(p), err)
			}
			sess.uploaded += n
			sess.unpacked += len(files)
			for _, f := range files {
				if strings.EqualFold(path.Ext(f), ".xml") {
					xmls = append(xmls, f)
				}
			}
			return os.Remove(p)
		}
		if strings.EqualFold(filepath.Ext(p), ".xml") {
			xmls = append(xmls, filepath.Base(p))
		}
		return nil
	})
	return xmls, err
}

// query returns the pending orders as CommerceML, in BAS's encoding, and remembers exactly which numbers
// it returned (docs/commerceml.md §6.2 step 3).
func (s *Server) query(w http.ResponseWriter, r *http.Request, sess *session, log *logrus.Entry) {
	o, err := s.agent.PendingOrders(r.Context())
	if err != nil {
		log.WithError(err).Error("render orders for 1C")
		s.answer(w, http.StatusOK, "failure", "obmin cannot render the orders: "+s.scrub(err.Error(), sess))
		return
	}
	defer o.Close()
	sess.query = o.Numbers
	log.WithField("orders", len(o.Numbers)).Info("orders offered to BAS")
	w.Header().Set("Content-Type", "application/xml; charset="+o.Charset)
	w.Header().Set("Cache-Control", "no-store")
	o.WriteTo(w)
}

// saleSuccess confirms exactly the orders the session's last query returned (docs/commerceml.md §6.2 step 4).
func (s *Server) saleSuccess(w http.ResponseWriter, r *http.Request, sess *session, log *logrus.Entry) {
	n, err := s.agent.ConfirmOrders(r.Context(), sess.query)
	if err != nil {
		log.WithError(err).Error("confirm orders")
		s.answer(w, http.StatusOK, "failure", "obmin cannot record the confirmation: "+s.scrub(err.Error(), sess))
		return
	}
	log.WithFields(logrus.Fields{"offered": len(sess.query), "confirmed": n}).Info("BAS confirmed the orders of its query")
	sess.query = nil
	s.answer(w, http.StatusOK, "success")
}

// saleFile reads BAS's own document file once it is whole: its Номер values confirm our orders, and a copy
// is kept in UploadDir/bas-documents. A file that does not parse yet may be incomplete (more chunks come);
// mode=import reports it.
func (s *Server) saleFile(ctx context.Context, w http.ResponseWriter, sess *session, name, target string, log *logrus.Entry) {
	if msg, err := s.readSaleDocument(ctx, sess, name, target, log); err == nil {
		sess.saleDone[name] = msg
	}
	s.answer(w, http.StatusOK, "success")
}

func (s *Server) readSaleDocument(ctx context.Context, sess *session, name, target string, log *logrus.Entry) (string, error) {
	numbers, err := exchange.ReadOrderNumbers(target)
	if err != nil {
		return "", err
	}
	keep := filepath.Join(s.cfg.UploadDir, "bas-documents", s.now().Format("20060102-150405")+"-"+sess.label+"-"+strings.ReplaceAll(name, "/", "_"))
	if err := os.MkdirAll(filepath.Dir(keep), 0o700); err == nil {
		if err := copyFileAtomic(target, keep); err != nil {
			log.WithError(err).Warn("keep BAS's document")
		}
	}
	n, err := s.agent.ConfirmOrders(ctx, numbers)
	if err != nil {
		return "", err
	}
	if err := s.agent.RecordBASOrders(ctx, target, "http "+sess.label); err != nil {
		log.WithError(err).Warn("record BAS's orders for reconciliation")
	}
	log.WithFields(logrus.Fields{"file": name, "documents": len(numbers), "confirmed": n}).Info("BAS's document read")
	return fmt.Sprintf("documents %d, confirmed %d", len(numbers), n), nil
}

// saleImport is newer 1C's call after mode=file (docs/commerceml.md §6.2 step 5).
func (s *Server) saleImport(w http.ResponseWriter, r *http.Request, sess *session, log *logrus.Entry) {
	name, err := CleanUploadName(r.URL.Query().Get("filename"))
	if err != nil {
		s.answer(w, http.StatusBadRequest, "failure", err.Error())
		return
	}
	if msg, ok := sess.saleDone[name]; ok {
		s.answer(w, http.StatusOK, "success", msg)
		return
	}
	target := filepath.Join(sess.dir, "sale", filepath.FromSlash(name))
	if _, err := os.Stat(target); err != nil {
		s.answer(w, http.StatusOK, "failure", fmt.Sprintf("file %q was not uploaded in this session", name))
		return
	}
	msg, err := s.readSaleDocument(r.Context(), sess, name, target, log)
	if err != nil {
		s.answer(w, http.StatusOK, "failure", s.scrub(err.Error(), sess))
		return
	}
	sess.saleDone[name] = msg
	s.answer(w, http.StatusOK, "success", msg)
}

func copyFileAtomic(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	return atomicfile.WriteFile(to, 0o600, func(w io.Writer) error {
		_, err := io.Copy(w, src)
		return err
	})
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// dropUpload removes the files of the session's upload in progress (a catalogue batch, or BAS's sale
// documents) after it was refused.
func (s *Server) dropUpload(sess *session, typ string) {
	if typ == "sale" {
		os.RemoveAll(filepath.Join(sess.dir, "sale"))
		clear(sess.saleDone)
		return
	}
	os.RemoveAll(s.uploadDir(sess))
	sess.inBatch = 0
}

// absPath finds absolute paths in a message: /a/b, C:\a or C:/a, \\server\share.
var absPath = regexp.MustCompile(`(?:^|[\s"'(=])((?:/[^\s"'():/]+){2,}|[A-Za-z]:[\\/][^\s"'():]*|\\\\[^\s"'():]+)`)

// scrub keeps server paths out of an answer to 1C: the session's and obmin's folders are left out, and
// any other absolute path is cut to its last element. 1C shows failure lines to BAS's user, who needs the
// file's name, not where obmin keeps it.
func (s *Server) scrub(msg string, sess *session) string {
	for _, root := range []string{sess.dir, s.cfg.UploadDir, s.agent.SpoolRoot()} {
		if root != "" {
			msg = strings.ReplaceAll(msg, root+string(filepath.Separator), "")
			msg = strings.ReplaceAll(msg, root, "")
		}
	}
	return absPath.ReplaceAllStringFunc(msg, func(m string) string {
		lead := ""
		if c := m[0]; c != '/' && c != '\\' && !(len(m) > 1 && m[1] == ':') {
			lead, m = m[:1], m[1:]
		}
		base := m[strings.LastIndexAny(strings.TrimRight(m, `/\`), `/\`)+1:]
		return lead + base
	})
}
