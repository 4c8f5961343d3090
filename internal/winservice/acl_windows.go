//go:build windows

package winservice

// The Windows side of service_acl.go: read a path's security as SDDL, write a locked-down one, grant the
// service's account what it needs. What to judge and what to write is decided in service_acl.go.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// secureServicePaths judges the plan's paths; with problems it refuses, or with fix locks the program's and
// config's folders and files down and judges again. Then it grants the service's account (svc, "" for
// LocalSystem, which needs nothing) read on the program, the config and the secrets, and modify on the
// folders it writes, creating those.
func secureServicePaths(plan servicePlan, svc string, fix bool, stdout io.Writer) error {
	extra := []string{}
	if svc != "" {
		extra = append(extra, svc)
	}
	if u, err := windows.GetCurrentProcessToken().GetTokenUser(); err == nil {
		extra = append(extra, u.User.Sid.String()) // the administrator installing owns what they made
	}
	problems, err := judgePaths(plan.Judged, extra)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		fixable := true
		for _, p := range problems {
			fixable = fixable && p.role != roleParent
		}
		if !fix || !fixable {
			return aclRefusal(plainProblems(problems), fixable)
		}
		for _, role := range []aclRole{roleFolder, roleFile} { // folders first: files then inherit from them
			for _, j := range plan.Judged {
				if j.Role == role {
					if err := setSDDL(j.Path, lockedDownSDDL(svc)); err != nil {
						return fmt.Errorf("-fix-acl: %s: %w", j.Path, err)
					}
					fmt.Fprintf(stdout, "%s: now only Administrators and SYSTEM may change it\n", j.Path)
				}
			}
		}
		if problems, err = judgePaths(plan.Judged, extra); err != nil {
			return err
		} else if len(problems) > 0 {
			return aclRefusal(plainProblems(problems), false)
		}
	}
	if svc == "" {
		return nil
	}
	for _, j := range plan.Judged {
		if j.Role == roleFolder {
			if err := grant(j.Path, svc, 0x1200a9); err != nil {
				return err
			}
		}
	}
	for _, dir := range plan.Modify {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		if err := grant(dir, svc, 0x1301bf); err != nil {
			return err
		}
	}
	for _, p := range plan.Read {
		if err := grant(p, svc, 0x1200a9); err != nil && !errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
			return err
		}
	}
	return nil
}

type rolledProblem struct {
	aclProblem
	role aclRole
}

func plainProblems(ps []rolledProblem) []aclProblem {
	out := make([]aclProblem, len(ps))
	for i, p := range ps {
		out[i] = p.aclProblem
	}
	return out
}

func judgePaths(paths []judgedPath, extra []string) ([]rolledProblem, error) {
	var out []rolledProblem
	for _, j := range paths {
		sd, err := windows.GetNamedSecurityInfo(j.Path, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
		if err != nil {
			return nil, fmt.Errorf("read the permissions of %s: %w", j.Path, err)
		}
		parsed, err := parseSDDL(sd.String())
		if err != nil {
			return nil, err
		}
		for _, p := range judgeACL(j.Path, j.Role, parsed, extra) {
			p.Who = accountName(p.Who)
			out = append(out, rolledProblem{p, j.Role})
		}
	}
	return out, nil
}

// accountName is DOMAIN\name (SID) for a SID Windows knows and sidNames does not.
func accountName(sid string) string {
	if _, ok := sidNames[sid]; ok || sid == "" {
		return sid
	}
	s, err := windows.StringToSid(sid)
	if err != nil {
		return sid
	}
	acc, dom, _, err := s.LookupAccount("")
	if err != nil {
		return sid
	}
	return dom + `\` + acc + " (" + sid + ")"
}

// setSDDL replaces the owner and the DACL of path, cutting inheritance from above.
func setSDDL(path, sddl string) error {
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return err
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	return windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, owner, nil, dacl, nil)
}

// grant adds an allow entry for sid with mask to path's DACL (inherited by what a folder holds).
func grant(path, sid string, mask uint32) error {
	s, err := windows.StringToSid(sid)
	if err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	inherit := uint32(windows.NO_INHERITANCE)
	if fi.IsDir() {
		inherit = windows.SUB_CONTAINERS_AND_OBJECTS_INHERIT
	}
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("read the permissions of %s: %w", path, err)
	}
	old, _, err := sd.DACL()
	if err != nil {
		return err
	}
	acl, err := windows.ACLFromEntries([]windows.EXPLICIT_ACCESS{{
		AccessPermissions: windows.ACCESS_MASK(mask), AccessMode: windows.GRANT_ACCESS, Inheritance: inherit,
		Trustee: windows.TRUSTEE{TrusteeForm: windows.TRUSTEE_IS_SID, TrusteeType: windows.TRUSTEE_IS_USER, TrusteeValue: windows.TrusteeValueFromSID(s)},
	}}, old)
	if err != nil {
		return err
	}
	if err := windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION, nil, nil, acl, nil); err != nil {
		return fmt.Errorf("grant the service access to %s: %w", filepath.Clean(path), err)
	}
	return nil
}
