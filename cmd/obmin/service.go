package main

// `obmin service …`: the command line. What it does is in internal/winservice; docs/service.md is the
// user's guide.

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"obmin/internal/winservice"
)

const serviceUsage = `Usage:
  obmin service install   [-config FILE] [-name obmin] [-account virtual|LocalSystem] [-fix-acl]
                                                         register obmin as a Windows service (as administrator)
  obmin service uninstall [-name obmin]                  stop it and remove it
  obmin service start     [-name obmin]
  obmin service stop      [-name obmin]                  stops cleanly: a running job finishes first
  obmin service status    [-name obmin]

The service runs "obmin.exe run -config FILE" with FILE made absolute, starts automatically (delayed) with
Windows, is restarted by Windows 1 minute after a failure (up to 3 times; the count resets after a day),
and writes errors to the Windows Event Log (source: the service name). Set log.file in the config for the
full log. It runs as its own virtual account NT SERVICE\<name> (-account LocalSystem for the old way).
install refuses when anyone but administrators may change obmin.exe, the config or their folders;
-fix-acl gives those folders to Administrators and SYSTEM alone instead. docs/service.md.
`

var serviceActions = []string{"install", "uninstall", "start", "stop", "status"}

func parseServiceArgs(args []string, getenv func(string) string, stderr io.Writer) (winservice.Op, error) {
	if len(args) == 0 || !slices.Contains(serviceActions, args[0]) {
		fmt.Fprint(stderr, serviceUsage)
		if len(args) == 0 {
			return winservice.Op{}, usageError{"service: want install, uninstall, start, stop or status"}
		}
		return winservice.Op{}, usageError{fmt.Sprintf("service: unknown action %q: want install, uninstall, start, stop or status", args[0])}
	}
	op := winservice.Op{Action: args[0]}
	fs := newFlags("service "+op.Action, stderr)
	cfg := configFlag(fs, getenv)
	name := fs.String("name", winservice.DefaultName, "the Windows service name (and Event Log source)")
	account := fs.String("account", "virtual", `install: the account the service runs as: "virtual" (NT SERVICE\<name>) or "LocalSystem"`)
	fixACL := fs.Bool("fix-acl", false, "install: give the program's and the config's folders to Administrators and SYSTEM alone")
	if err := fs.Parse(args[1:]); err != nil {
		return winservice.Op{}, usageError{err.Error()}
	}
	switch {
	case strings.EqualFold(*account, "virtual"):
	case strings.EqualFold(*account, "LocalSystem"):
		op.Account = "LocalSystem"
	default:
		return winservice.Op{}, usageError{fmt.Sprintf("service: -account %q: want virtual or LocalSystem (another user: services.msc → Log On, docs/service.md)", *account)}
	}
	if op.Action != "install" && (op.Account != "" || *fixACL) {
		return winservice.Op{}, usageError{"service: -account and -fix-acl go with install"}
	}
	op.FixACL = *fixACL
	if fs.NArg() > 0 {
		return winservice.Op{}, usageError{fmt.Sprintf("service %s: unexpected argument %q", op.Action, fs.Arg(0))}
	}
	op.Name, op.Config = *name, *cfg
	// The SCM refuses slashes in a name and caps it at 256 characters; a quote would break the command line.
	if op.Name == "" || len(op.Name) > 256 || strings.ContainsAny(op.Name, `/\"`) {
		return winservice.Op{}, usageError{fmt.Sprintf("service: -name %q: want a name without / \\ or \"", op.Name)}
	}
	return op, nil
}

// cmdService is `obmin service ACTION [-config FILE] [-name NAME]`.
func cmdService(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	op, err := parseServiceArgs(args, getenv, stderr)
	if err != nil {
		return err
	}
	return winservice.Control(ctx, op, stdout)
}
