package winservice

// Who may change what the Windows service runs. A service runs with more rights than the people who use
// the machine; if one of them may replace obmin.exe, plant a DLL beside it, or edit the config (which says
// where obmin writes and which secrets it reads), they get the service's rights. `obmin service install`
// therefore judges the security of those files and folders before it registers anything, and refuses
// (or, with -fix-acl, sets them to Administrators and SYSTEM only). The judging is here, portable and
// tested, over the SDDL text Windows gives for a file's security descriptor; acl_windows.go only
// reads and writes that text.

import (
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"obmin/internal/config"
)

// aclRole is how much a path matters, and so which rights others must not have on it.
type aclRole int

const (
	roleFile   aclRole = iota // obmin.exe, the config file: nobody else may write, replace or re-permission them
	roleFolder                // their folders: nobody else may add, delete or replace files there (a DLL beside the exe)
	roleParent                // the folders above: nobody else may rename, delete or re-permission what they hold
)

// Access-mask bits (winnt.h). The file and folder meanings share bits: 0x2 is write data / add a file.
const (
	rightWriteData   = 0x2 // FILE_WRITE_DATA, FILE_ADD_FILE
	rightAppendData  = 0x4 // FILE_APPEND_DATA, FILE_ADD_SUBDIRECTORY
	rightWriteEA     = 0x10
	rightDeleteChild = 0x40
	rightDelete      = 0x10000
	rightWriteDAC    = 0x40000
	rightWriteOwner  = 0x80000
	rightGenericAll  = 0x10000000
	rightGenericW    = 0x40000000
	fileAllAccess    = 0x1F01FF
)

// roleRights are the rights nobody but the trusted may hold on a path of each role.
var roleRights = map[aclRole]uint32{
	roleFile:   rightWriteData | rightAppendData | rightWriteEA | rightDelete | rightWriteDAC | rightWriteOwner | rightGenericAll | rightGenericW,
	roleFolder: rightWriteData | rightAppendData | rightWriteEA | rightDeleteChild | rightDelete | rightWriteDAC | rightWriteOwner | rightGenericAll | rightGenericW,
	roleParent: rightDeleteChild | rightDelete | rightWriteDAC | rightWriteOwner | rightGenericAll,
}

// sddlRights are the two-letter access codes of SDDL (learn.microsoft.com, "Ace Strings"); the directory
// service letters stand for the same bits of a file's mask.
var sddlRights = map[string]uint32{
	"GA": rightGenericAll, "GR": 0x80000000, "GW": rightGenericW, "GX": 0x20000000,
	"RC": 0x20000, "SD": rightDelete, "WD": rightWriteDAC, "WO": rightWriteOwner,
	"FA": 0x1F01FF, "FR": 0x120089, "FW": 0x120116, "FX": 0x1200A0,
	"CC": 0x1, "DC": 0x2, "LC": 0x4, "SW": 0x8, "RP": 0x10, "WP": 0x20, "DT": 0x40, "LO": 0x80, "CR": 0x100,
	"KA": 0xF003F, "KR": 0x20019, "KW": 0x20006, "KX": 0x20019,
}

// Well-known SIDs, by the aliases Windows' SDDL text uses for them.
var sidAliases = map[string]string{
	"SY": "S-1-5-18", "BA": "S-1-5-32-544", "BU": "S-1-5-32-545", "BG": "S-1-5-32-546", "PU": "S-1-5-32-547",
	"AU": "S-1-5-11", "WD": "S-1-1-0", "IU": "S-1-5-4", "NU": "S-1-5-2", "SU": "S-1-5-6", "AN": "S-1-5-7",
	"LS": "S-1-5-19", "NS": "S-1-5-20", "CO": "S-1-3-0", "OW": "S-1-3-4", "AC": "S-1-15-2-1",
	"RD": "S-1-5-32-555", "RU": "S-1-5-32-554", "AO": "S-1-5-32-548", "SO": "S-1-5-32-549", "BO": "S-1-5-32-551",
}

// sidNames are what a message calls the well-known SIDs.
var sidNames = map[string]string{
	"S-1-5-18": `NT AUTHORITY\SYSTEM`, "S-1-5-32-544": `BUILTIN\Administrators`, "S-1-5-32-545": `BUILTIN\Users`,
	"S-1-5-32-546": `BUILTIN\Guests`, "S-1-5-32-547": `BUILTIN\Power Users`, "S-1-5-11": `NT AUTHORITY\Authenticated Users`,
	"S-1-1-0": "Everyone", "S-1-5-4": `NT AUTHORITY\INTERACTIVE`, "S-1-5-2": `NT AUTHORITY\NETWORK`, "S-1-5-6": `NT AUTHORITY\SERVICE`,
	"S-1-5-7": "ANONYMOUS LOGON", "S-1-5-19": `NT AUTHORITY\LOCAL SERVICE`, "S-1-5-20": `NT AUTHORITY\NETWORK SERVICE`,
	"S-1-3-0": "CREATOR OWNER", "S-1-3-4": "OWNER RIGHTS", "S-1-15-2-1": "ALL APPLICATION PACKAGES",
	trustedInstaller: `NT SERVICE\TrustedInstaller`,
}

// trustedInstaller is NT SERVICE\TrustedInstaller, which owns Windows' own folders.
const trustedInstaller = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"

// serviceSID is the SID of a service's virtual account, NT SERVICE\<name>: S-1-5-80 followed by the
// SHA-1 of the upper-cased name in UTF-16LE, read as five little-endian 32-bit numbers. Windows computes
// it the same way, so it is known before the service exists.
func serviceSID(name string) string {
	var b []byte
	for _, r := range strings.ToUpper(name) {
		if r > 0xFFFF { // outside the BMP: a surrogate pair, as UTF-16 writes it
			r -= 0x10000
			b = binary.LittleEndian.AppendUint16(b, uint16(0xD800+(r>>10)))
			r = 0xDC00 + (r & 0x3FF)
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(r))
	}
	sum := sha1.Sum(b)
	parts := []string{"S-1-5-80"}
	for i := 0; i < len(sum); i += 4 {
		parts = append(parts, strconv.FormatUint(uint64(binary.LittleEndian.Uint32(sum[i:])), 10))
	}
	return strings.Join(parts, "-")
}

// securityDescriptor is what obmin reads of a file's security: its owner and its DACL.
type securityDescriptor struct {
	Owner    string // a SID
	NullDACL bool   // no DACL at all: everyone may do anything
	Entries  []accessEntry
}

// accessEntry is one ACE of a DACL.
type accessEntry struct {
	Allow       bool
	InheritOnly bool // it applies to what the folder will hold, not to the folder itself
	Inherited   bool
	Mask        uint32
	SID         string
}

// parseSDDL reads the owner and the DACL of a security descriptor in SDDL ("O:BAG:SYD:PAI(A;OICI;FA;;;SY)…").
func parseSDDL(s string) (securityDescriptor, error) {
	var sd securityDescriptor
	parts := map[byte]string{}
	depth, start, key := 0, -1, byte(0)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && i+1 < len(s) && s[i+1] == ':' && strings.IndexByte("OGDS", c) >= 0:
			if start >= 0 {
				parts[key] = s[start:i]
			}
			key, start = c, i+2
			i++
		}
	}
	if start >= 0 {
		parts[key] = s[start:]
	}
	sd.Owner = resolveSID(parts['O'])
	dacl, ok := parts['D']
	if !ok || strings.HasPrefix(dacl, "NO_ACCESS_CONTROL") {
		sd.NullDACL = true
		return sd, nil
	}
	for {
		open := strings.IndexByte(dacl, '(')
		if open < 0 {
			break
		}
		end := strings.IndexByte(dacl[open:], ')')
		if end < 0 {
			return sd, fmt.Errorf("SDDL %q: an ACE without ')'", s)
		}
		ace := dacl[open+1 : open+end]
		dacl = dacl[open+end+1:]
		f := strings.Split(ace, ";")
		if len(f) < 6 {
			return sd, fmt.Errorf("SDDL %q: ACE %q has %d fields", s, ace, len(f))
		}
		e := accessEntry{SID: resolveSID(f[5])}
		switch f[0] {
		case "A", "XA", "OA", "ZA":
			e.Allow = true
		case "D", "XD", "OD":
		default:
			continue // audit, label and the like say nothing of access
		}
		for i := 0; i+1 < len(f[1]); i += 2 {
			switch f[1][i : i+2] {
			case "IO":
				e.InheritOnly = true
			case "ID":
				e.Inherited = true
			}
		}
		m, err := parseRights(f[2])
		if err != nil {
			return sd, fmt.Errorf("SDDL %q: ACE %q: %w", s, ace, err)
		}
		e.Mask = m
		sd.Entries = append(sd.Entries, e)
	}
	return sd, nil
}

func parseRights(s string) (uint32, error) {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		v, err := strconv.ParseUint(s[2:], 16, 32)
		return uint32(v), err
	}
	if v, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(v), nil
	}
	var m uint32
	for i := 0; i < len(s); i += 2 {
		if i+2 > len(s) {
			return 0, fmt.Errorf("rights %q", s)
		}
		bit, ok := sddlRights[s[i:i+2]]
		if !ok {
			return 0, fmt.Errorf("rights %q: unknown %q", s, s[i:i+2])
		}
		m |= bit
	}
	return m, nil
}

func resolveSID(s string) string {
	if sid, ok := sidAliases[s]; ok {
		return sid
	}
	return s
}

// trustedSID says whether a SID may change obmin's files: SYSTEM, the Administrators, TrustedInstaller,
// a machine's or domain's administrator accounts and groups (RIDs 500, 512, 519), and extra (the
// service's own account, the administrator who installs it).
func trustedSID(sid string, extra []string) bool {
	switch sid {
	case "S-1-5-18", "S-1-5-32-544", trustedInstaller:
		return true
	}
	if strings.HasPrefix(sid, "S-1-5-21-") {
		for _, rid := range []string{"-500", "-512", "-519"} {
			if strings.HasSuffix(sid, rid) {
				return true
			}
		}
	}
	for _, e := range extra {
		if strings.EqualFold(sid, e) {
			return true
		}
	}
	return false
}

// aclProblem is someone untrusted who may change a path.
type aclProblem struct {
	Path      string
	Who       string // a SID
	Rights    uint32 // the rights they must not have; 0 for an owner or a missing DACL
	Full      bool   // they have full control
	Owner     bool
	Inherited bool // the right comes from a folder above
}

func (p aclProblem) String() string {
	who := sidName(p.Who)
	switch {
	case p.Who == "":
		return p.Path + ": has no access list at all: everyone may change it"
	case p.Owner:
		return fmt.Sprintf("%s: its owner %s may change its permissions", p.Path, who)
	}
	what := rightsText(p.Rights)
	if p.Full {
		what = "do anything (full control)"
	}
	s := fmt.Sprintf("%s: %s may %s", p.Path, who, what)
	if p.Inherited {
		s += " (inherited from a folder above)"
	}
	return s
}

func sidName(sid string) string {
	if n, ok := sidNames[sid]; ok {
		return n + " (" + sid + ")"
	}
	return sid
}

// rightsText says what a mask of roleRights bits lets someone do.
func rightsText(m uint32) string {
	var out []string
	for _, r := range []struct {
		bit  uint32
		text string
	}{
		{rightWriteData | rightGenericW, "write or add files"}, {rightAppendData, "append or add folders"}, {rightWriteEA, "write extended attributes"},
		{rightDeleteChild, "delete what it holds"}, {rightDelete, "delete or rename it"},
		{rightWriteDAC, "change its permissions"}, {rightWriteOwner, "take ownership"},
	} {
		if m&r.bit != 0 {
			out = append(out, r.text)
		}
	}
	return strings.Join(out, ", ")
}

// judgeACL lists who, beyond the trusted (trustedSID with extra), may change path in a way its role
// forbids. Deny entries are not subtracted: the judgement errs on the side of refusing.
func judgeACL(path string, role aclRole, sd securityDescriptor, extra []string) []aclProblem {
	var out []aclProblem
	if sd.Owner != "" && !trustedSID(sd.Owner, extra) {
		out = append(out, aclProblem{Path: path, Who: sd.Owner, Owner: true})
	}
	if sd.NullDACL {
		return append(out, aclProblem{Path: path})
	}
	bad := roleRights[role]
	byWho := map[string]*aclProblem{}
	var order []string
	for _, e := range sd.Entries {
		who := e.SID
		if who == "S-1-3-4" { // OWNER RIGHTS: what the owner may do
			who = sd.Owner
		}
		if !e.Allow || e.InheritOnly || e.Mask&bad == 0 || who == "S-1-3-0" || trustedSID(who, extra) {
			continue
		}
		p := byWho[who]
		if p == nil {
			p = &aclProblem{Path: path, Who: who, Inherited: true}
			byWho[who] = p
			order = append(order, who)
		}
		p.Rights |= e.Mask & bad
		p.Full = p.Full || e.Mask&rightGenericAll != 0 || e.Mask&fileAllAccess == fileAllAccess
		p.Inherited = p.Inherited && e.Inherited
	}
	for _, who := range order {
		out = append(out, *byWho[who])
	}
	return out
}

// Folder DACLs -fix-acl writes and the rights it grants the service (SDDL, learn.microsoft.com
// "Security Descriptor String Format"). Read and execute: 0x1200a9; modify: 0x1301bf.
const (
	sddlReadExecute = "0x1200a9"
	sddlModify      = "0x1301bf"
)

// lockedDownSDDL is the security -fix-acl gives obmin's program and config folders and files: owned by
// the Administrators, inheritance from above cut, full control for SYSTEM and the Administrators, read
// and execute for the service's account (svc, a SID; "" for LocalSystem), inherited by what they hold.
func lockedDownSDDL(svc string) string {
	s := "O:BAD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
	if svc != "" {
		s += "(A;OICI;" + sddlReadExecute + ";;;" + svc + ")"
	}
	return s
}

// servicePlan is what install looks at and what it grants the service's account.
type servicePlan struct {
	Judged []judgedPath
	Modify []string // folders the service writes: spool, state, upload, log, the local orders folder
	Read   []string // secret files and folders it reads
}

type judgedPath struct {
	Path string
	Role aclRole
}

// newServicePlan lists, from the program's path and the configuration, the paths to judge (the program
// and the config, their folders, the folders above them) and those the service's account needs.
func newServicePlan(exe, cfgPath string, cfg config.Config) servicePlan {
	var p servicePlan
	seen := map[string]bool{}
	judge := func(path string, role aclRole) {
		key := strings.ToLower(filepath.Clean(path))
		if path == "" || seen[key] {
			return
		}
		seen[key] = true
		p.Judged = append(p.Judged, judgedPath{path, role})
	}
	for _, f := range []string{exe, cfgPath} {
		judge(f, roleFile)
	}
	for _, f := range []string{exe, cfgPath} {
		judge(filepath.Dir(f), roleFolder)
	}
	for _, f := range []string{exe, cfgPath} {
		for dir := filepath.Dir(filepath.Dir(f)); ; dir = filepath.Dir(dir) {
			judge(dir, roleParent)
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	add := func(list *[]string, path string) {
		if path != "" && !isUNC(path) && !containsFold(*list, path) {
			*list = append(*list, filepath.Clean(path))
		}
	}
	add(&p.Modify, cfg.SpoolDir)
	add(&p.Modify, filepath.Dir(cfg.StateFile))
	if cfg.HTTP.Listen != "" {
		add(&p.Modify, cfg.HTTP.UploadDir)
	}
	if cfg.Log.File != "" {
		add(&p.Modify, filepath.Dir(cfg.Log.File))
	}
	if cfg.BAS.SFTP == nil && cfg.BAS.OrdersFile != "" {
		add(&p.Modify, filepath.Dir(cfg.BAS.OrdersFile))
	}
	if cfg.BAS.SFTP == nil {
		add(&p.Read, cfg.BAS.ExportDir)
	}
	secrets := []string{cfg.Checkbox.PasswordFile, cfg.Checkbox.PINCodeFile, cfg.Checkbox.LicenseKeyFile,
		cfg.HTTP.PasswordFile, cfg.HTTP.WebhookKeyFile, cfg.HTTP.StatusTokenFile, cfg.HTTP.TLSCertFile, cfg.HTTP.TLSKeyFile}
	if s := cfg.BAS.SFTP; s != nil {
		secrets = append(secrets, s.PasswordFile, s.PrivateKeyFile, s.PassphraseFile, s.KnownHosts)
	}
	for _, f := range secrets {
		add(&p.Read, f)
	}
	sort.Strings(p.Read)
	return p
}

func isUNC(p string) bool { return strings.HasPrefix(p, `\\`) || strings.HasPrefix(p, "//") }

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(filepath.Clean(x), filepath.Clean(s)) {
			return true
		}
	}
	return false
}

// errUnsafeACL is wrapped by install's refusal.
var errUnsafeACL = errors.New("others may change what the service runs")

// aclRefusal is install's error for problems it will not fix.
func aclRefusal(problems []aclProblem, fixable bool) error {
	var b strings.Builder
	for _, p := range problems {
		b.WriteString("\n  " + p.String())
	}
	hint := "\nMove obmin.exe and its config to a folder only administrators may change (e.g. C:\\Program Files\\obmin), or run " +
		"install again with -fix-acl: obmin then gives the program's and the config's folders to Administrators and SYSTEM " +
		"alone (the service may read them), cutting what they inherit. docs/service.md"
	if !fixable {
		hint = "\nA folder above obmin's lets others rename or replace it; -fix-acl does not change folders above obmin's own. " +
			"Move obmin to a folder such as C:\\Program Files\\obmin. docs/service.md"
	}
	return fmt.Errorf("%w:%s%s", errUnsafeACL, b.String(), hint)
}
