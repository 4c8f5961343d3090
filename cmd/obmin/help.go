package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
)

// Build stamps, set by a release build (scripts/release):
//
//	go build -ldflags "-X main.Version=1.2.3 -X main.Commit=$(git rev-parse HEAD) -X main.Date=2026-03-12T10:00:00Z"
//
// A build without them falls back to what the Go toolchain recorded (buildInfo).
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// buildStamp is what `obmin version` prints.
type buildStamp struct {
	Version, Commit, Date string
	Modified              bool // built from a working tree with uncommitted changes
}

// buildInfo is the version, commit and build date: the ones stamped at link time, else those the Go
// toolchain records when it builds from a version control checkout (vcs.revision, vcs.time: the
// commit's time, as close to a build date as the toolchain knows), else "unknown".
func buildInfo() buildStamp {
	b := buildStamp{Version: Version, Commit: Commit, Date: Date}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version // go install obmin@v1.2.3
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.Date == "" {
					b.Date = s.Value
				}
			case "vcs.modified":
				b.Modified = Commit == "" && s.Value == "true"
			}
		}
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

func printVersion(w io.Writer) {
	b := buildInfo()
	modified := ""
	if b.Modified {
		modified = " (with uncommitted changes)"
	}
	fmt.Fprintf(w, "obmin %s\ncommit: %s%s\nbuilt:  %s\ngo:     %s %s/%s\n", b.Version, b.Commit, modified, b.Date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// commandHelp is each command's help: `obmin CMD -h` and `obmin help CMD` print it, then its flags.
var commandHelp = map[string]string{
	"run": `Usage: obmin run [-config FILE]

The service: watches BAS's export folder, applies each complete drop to Checkbox, pulls receipts on
schedule.pull_receipts, keeps BAS's orders file current, cleans old archives, serves http.listen and sends
notifications. Stops cleanly on Ctrl+C or SIGTERM, letting a running job finish. On Windows, install it as
a service with "obmin service install".`,
	"once": `Usage: obmin once [-config FILE]

One full pass, then exit (for the system's scheduler): takes what is complete in BAS's folder, applies it,
pulls receipts, writes the orders file, cleans old archives, prints the status. Exit 1 when any of it failed.`,
	"demo": `Usage: obmin demo [-dir DIR] [-sales N] [-v]

End to end on the built-in Checkbox emulator, in DIR (cleared first): BAS's export becomes Checkbox goods,
the emulator sells, the sales become BAS's orders file. Prints where to look.`,
	"inspect": `Usage: obmin inspect [-json] [-problems N] PATH...

What CommerceML files, marketplace feeds, zips and export folders hold, and how obmin would apply a folder:
format, encoding, counts, the first problems with their lines. Touches no state. Exit 1 when any file is
refused or broken.`,
	"status": `Usage: obmin status [-config FILE] [-json]

Counts of the spool's folders, goods and receipts, the last run of every job, the recent drops: what
spool/status.txt shows. Needs no Checkbox credentials and creates nothing; reads beside a running obmin.
-json prints the same as JSON (snake_case keys).`,
	"check": `Usage: obmin check [-config FILE]

Validates the configuration as run would (every key, schedule, duration and path; secrets read from the
environment or *_file keys), prints it with secrets masked, and warns about what is allowed but risky,
such as Windows paths in double quotes. Exit 1 when it is not valid.`,
	"emulator": `Usage: obmin emulator [-listen ADDR] [-login L] [-seed N] [-token-ttl D]

Runs the Checkbox emulator alone, on a loopback address, for trials and the torture harness.`,
	"webhook": `Usage: obmin webhook [-config FILE] register [-url URL] [-key-file FILE]

Registers obmin's webhook URL with Checkbox for the configured cash register (its licence key is needed)
and saves the secret key Checkbox answers to -key-file (default http.webhook_key_file).`,
	"reconcile": `Usage: obmin reconcile [-config FILE] [-date 2006-01-02] [-repair] [-json]

Reconciles BAS and Checkbox: every good in Checkbox against what BAS last exported (missing, extra, price,
name, barcodes, VAT, and stock with mapping.stock), and the day's receipts in Checkbox (a Kyiv day, default
yesterday) against what reached BAS: the orders file (missing, twice, another sum) and BAS's own orders
export; with sales.to retail-report or both, the shifts' retail sales reports, each read back from BAS
(missing, unposted, changed). The report goes to <spool_dir>/reconcile/<date>/ (report.txt, report.html,
report.json) and stdout. -repair fixes what obmin can (goods sent again, receipts offered again, reports
rewritten and posted again) and compares once more. Runs beside
a running obmin, except with -repair (which then belongs to the service: its staff page). Exit 0 when BAS
and Checkbox agree, 3 when differences are left, 1 when the comparison could not be made.`,
	"replay": `Usage: obmin replay [-config FILE] DROP-ID...

Puts drops from failed/ back into inbox/ after their cause was fixed (a configuration key, a good in BAS):
the drop is applied again by the running service within schedule.retry_drops, or by the next obmin once.
Its old .error.txt goes inside it as obmin-previous-error.txt. Runs beside a running obmin.`,
	"version": `Usage: obmin version

Prints obmin's version, the commit it was built from and when (stamped by scripts/release).`,
}

// printCommandHelp is a flag set's Usage: the command's help, then its flags.
func printCommandHelp(fs *flag.FlagSet, name string) {
	w := fs.Output()
	text, ok := commandHelp[name]
	if !ok {
		text = commandHelp[strings.Fields(name)[0]]
	}
	if text == "" {
		text = "Usage: obmin " + name + " [flags]"
	}
	fmt.Fprintln(w, text)
	if hasFlags(fs) {
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
	}
	if fs.Lookup("config") != nil {
		fmt.Fprint(w, configHelp)
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

const configHelp = `
The config file defaults to $OBMIN_CONFIG, then ./obmin.yaml; configs/example.yaml explains every key.
`

// wantsHelp reports whether a command line asks for help: -h, -help or --help among its flags.
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if slices.Contains([]string{"-h", "-help", "--help", "--h"}, a) {
			return true
		}
	}
	return false
}

// helpCommand answers `obmin help [CMD]` and help flags that no flag set sees (service, version): handled
// says whether it printed the help.
func helpCommand(cmd string, rest []string, stdout io.Writer) (handled bool) {
	switch {
	case cmd == "service" && (len(rest) == 0 || !slices.Contains(serviceActions, rest[0])):
		fmt.Fprint(stdout, serviceUsage)
	case cmd == "version":
		fmt.Fprintln(stdout, commandHelp["version"])
	default:
		return false
	}
	return true
}
