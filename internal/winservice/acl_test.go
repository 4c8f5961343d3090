package winservice

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"obmin/internal/config"
)

// Windows computes a service's SID from its name; TrustedInstaller's is well known.
func TestServiceSID(t *testing.T) {
	if got := serviceSID("TrustedInstaller"); got != trustedInstaller {
		t.Errorf("serviceSID(TrustedInstaller) = %s, want %s", got, trustedInstaller)
	}
	if serviceSID("obmin") != serviceSID("OBMIN") {
		t.Error("the SID depends on the name's case")
	}
	if serviceSID("obmin") == serviceSID("obmin-shop2") || !strings.HasPrefix(serviceSID("obmin"), "S-1-5-80-") {
		t.Errorf("serviceSID(obmin) = %s", serviceSID("obmin"))
	}
}

// Security descriptors as Windows gives them (GetNamedSecurityInfo → ConvertSecurityDescriptorToStringSecurityDescriptor),
// for the folders an administrator typically puts obmin in.
const (
	// C:\ on Windows 10/Server 2019: Authenticated Users may create folders in it and modify what they create.
	sddlDriveRoot = "O:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464G:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464" +
		"D:PAI(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)(A;OICI;0x1200a9;;;BU)(A;OICIIO;SDGXGWGR;;;AU)(A;;LC;;;AU)"
	// C:\obmin made by an administrator: it inherits Modify for Authenticated Users from C:\.
	sddlNewFolder = "O:BAG:S-1-5-21-1004336348-1177238915-682003330-513D:AI(A;ID;FA;;;BA)(A;OICIIOID;GA;;;BA)(A;ID;FA;;;SY)(A;OICIIOID;GA;;;SY)" +
		"(A;OICIID;0x1200a9;;;BU)(A;ID;0x1301bf;;;AU)(A;OICIIOID;SDGXGWGR;;;AU)"
	// C:\obmin\obmin.exe in it.
	sddlNewFile = "O:BAG:S-1-5-21-1004336348-1177238915-682003330-513D:AI(A;ID;FA;;;BA)(A;ID;FA;;;SY)(A;ID;0x1200a9;;;BU)(A;ID;0x1301bf;;;AU)"
	// C:\Program Files\obmin: what Program Files passes on.
	sddlProgramFiles = "O:BAG:SYD:AI(A;ID;0x1301bf;;;" + trustedInstaller + ")(A;CIIOID;GA;;;" + trustedInstaller + ")(A;ID;FA;;;SY)(A;OICIIOID;GA;;;SY)" +
		"(A;ID;FA;;;BA)(A;OICIIOID;GA;;;BA)(A;ID;0x1200a9;;;BU)(A;OICIIOID;GXGR;;;BU)(A;OICIIOID;GA;;;CO)(A;ID;0x1200a9;;;AC)(A;OICIIOID;GXGR;;;AC)"
)

func TestJudgeACL(t *testing.T) {
	svc := serviceSID("obmin")
	installer := "S-1-5-21-1004336348-1177238915-682003330-1001"
	for _, tc := range []struct {
		name, sddl string
		role       aclRole
		want       []string // substrings of the problems, one each; none: fine
	}{
		{"drive root as a parent", sddlDriveRoot, roleParent, nil},
		// Authenticated Users may only add folders to C:\, but one could make obmin's spool folder before obmin does.
		{"drive root as obmin's own folder", sddlDriveRoot, roleFolder, []string{"Authenticated Users (S-1-5-11) may append or add folders"}},
		{"new folder under C:\\", sddlNewFolder, roleFolder, []string{"Authenticated Users (S-1-5-11) may write or add files, append or add folders, write extended attributes, delete or rename it (inherited"}},
		{"exe in it", sddlNewFile, roleFile, []string{"Authenticated Users"}},
		{"Program Files", sddlProgramFiles, roleFolder, nil},
		{"locked down by -fix-acl", lockedDownSDDL(svc), roleFolder, nil},
		{"the installer's own account owns it", "O:" + installer + "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;" + installer + ")", roleFolder, nil},
		{"a user owns it", "O:S-1-5-21-1-2-3-1005D:PAI(A;OICI;FA;;;SY)", roleFile, []string{"owner S-1-5-21-1-2-3-1005 may change its permissions"}},
		{"owner rights of an untrusted owner", "O:S-1-5-21-1-2-3-1005D:PAI(A;;FA;;;SY)(A;;0x40000;;;OW)", roleFile, []string{"owner", "S-1-5-21-1-2-3-1005 may change its permissions"}},
		{"no DACL", "O:BAD:NO_ACCESS_CONTROL", roleFile, []string{"no access list"}},
		{"Everyone full control", "O:BAD:(A;;FA;;;WD)", roleFile, []string{"Everyone (S-1-1-0) may do anything (full control)"}},
		{"Users may delete what a folder holds", "O:BAD:(A;;0x1200a9;;;BU)(A;;DT;;;BU)", roleFolder, []string{"Users (S-1-5-32-545) may delete what it holds"}},
		{"Users may add folders to a parent", "O:BAD:(A;;0x1200a9;;;BU)(A;;LC;;;BU)", roleParent, nil},
		{"read only for others", "O:BAD:P(A;;FA;;;BA)(A;;FR;;;WD)(A;;FX;;;AU)", roleFile, nil},
		{"inherit-only write is not on the folder itself", "O:BAD:P(A;;FA;;;BA)(A;OICIIO;FA;;;BU)", roleFolder, nil},
		{"the service account itself", "O:BAD:P(A;;FA;;;BA)(A;;0x1301bf;;;" + svc + ")", roleFile, nil},
		{"a domain's admins", "O:S-1-5-21-9-9-9-512D:P(A;;FA;;;S-1-5-21-9-9-9-512)", roleFile, nil},
		{"conditional allow counts", "O:BAD:(XA;;FA;;;BU;(WIN://SYSAPPID))", roleFile, []string{"Users"}},
		{"a deny does not excuse an allow", "O:BAD:(D;;FA;;;BU)(A;;FA;;;BU)", roleFile, []string{"Users"}},
	} {
		sd, err := parseSDDL(tc.sddl)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got := judgeACL(`C:\obmin`, tc.role, sd, []string{svc, installer})
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d problems %v, want %d", tc.name, len(got), got, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if s := got[i].String(); !strings.Contains(s, w) {
				t.Errorf("%s: %q, want it to say %q", tc.name, s, w)
			}
		}
	}
	for _, bad := range []string{"O:BAD:(A;;FA;;;BA", "O:BAD:(A;;FA;;BA)", "O:BAD:(A;;ZZ;;;BA)"} {
		if _, err := parseSDDL(bad); err == nil {
			t.Errorf("parseSDDL(%q): no error", bad)
		}
	}
}

// What install looks at and grants, from a config like the README's.
func TestServicePlan(t *testing.T) {
	if runtime.GOOS != "windows" {
		// The plan is built from Windows paths; filepath treats them as plain names elsewhere.
		t.Skip("Windows paths")
	}
	cfg := config.Default()
	cfg.SpoolDir, cfg.StateFile, cfg.Log.File = `C:\obmin\var\spool`, `C:\obmin\var\state.db`, `C:\obmin\log\obmin.log`
	cfg.BAS.ExportDir, cfg.BAS.OrdersFile = `\\bas\exchange\export`, `D:\bas\orders.xml`
	cfg.Checkbox.PasswordFile = `C:\obmin\secrets\checkbox.txt`
	p := newServicePlan(`C:\obmin\obmin.exe`, `C:\obmin\obmin.yaml`, cfg)
	var judged []string
	for _, j := range p.Judged {
		judged = append(judged, filepath.Base(j.Path))
	}
	if strings.Join(judged, " ") != `obmin.exe obmin.yaml obmin \` {
		t.Errorf("judged %q", judged)
	}
	if strings.Join(p.Modify, " ") != `C:\obmin\var\spool C:\obmin\var C:\obmin\log D:\bas` || strings.Join(p.Read, " ") != `C:\obmin\secrets\checkbox.txt` {
		t.Errorf("modify %q, read %q (a UNC share is not granted here)", p.Modify, p.Read)
	}
}

func TestServicePlanPortable(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.SpoolDir, cfg.StateFile = filepath.Join(dir, "var", "spool"), filepath.Join(dir, "var", "state.db")
	cfg.BAS.ExportDir, cfg.BAS.OrdersFile = filepath.Join(dir, "bas", "export"), filepath.Join(dir, "bas", "orders.xml")
	p := newServicePlan(filepath.Join(dir, "obmin.exe"), filepath.Join(dir, "conf", "obmin.yaml"), cfg)
	roles := map[aclRole]int{}
	for _, j := range p.Judged {
		roles[j.Role]++
	}
	if roles[roleFile] != 2 || roles[roleFolder] != 2 || roles[roleParent] < 1 {
		t.Errorf("roles %v", roles)
	}
	if len(p.Modify) != 3 || len(p.Read) != 1 {
		t.Errorf("modify %q read %q", p.Modify, p.Read)
	}
}
