// Command obmin keeps BAS Малий бізнес and the Checkbox cash register in sync: BAS's CommerceML exports
// become Checkbox goods, prices and stock; Checkbox receipts become orders BAS loads.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // Europe/Kyiv on Windows, which has no tz database (go-style-and-spool-anchors.md, cron pitfalls)
)

// Version is set at build time: go build -ldflags "-X main.Version=1.2.3".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "obmin:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `obmin — обмін між BAS Малий бізнес і касою Checkbox

Usage:
  obmin run     [-config FILE]          run as a service: watch BAS's folder, apply drops, pull receipts
  obmin once    [-config FILE]          one full pass, then exit (for the system scheduler)
  obmin demo    [-dir DIR]              end to end on the built-in Checkbox emulator, in DIR (default ./var/demo)
  obmin inspect [-json] [-problems N] PATH...
                                        what files, feeds, zips and export folders hold; how obmin would apply a folder
  obmin status  [-config FILE] [-json]  counts, last runs, recent drops
  obmin check   [-config FILE]          validate the configuration and print it with secrets masked
  obmin emulator -listen ADDR           run the Checkbox emulator alone (for tests and trials)
  obmin bas-emulator -listen ADDR       run the BAS OData emulator alone (for tests and trials)
  obmin webhook ...                     register obmin's webhook URL with Checkbox
  obmin service install|uninstall|start|stop|status [-config FILE] [-name obmin]
                                        obmin as a Windows service (as administrator); docs/service.md
  obmin version

The config file defaults to $OBMIN_CONFIG, then ./obmin.yaml. Secrets come from the environment
(OBMIN_CHECKBOX_PASSWORD, OBMIN_CHECKBOX_PIN_CODE, OBMIN_CHECKBOX_LICENSE_KEY, OBMIN_BAS_ODATA_PASSWORD)
or *_file keys.
`

// run is obmin's whole program, with its environment passed in so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		if isService, err := runAsService(ctx, rest, getenv, stdout, stderr); isService { // started by Windows' SCM
			return err
		}
		return cmdRun(ctx, rest, getenv, stdout, stderr)
	case "once":
		return cmdOnce(ctx, rest, getenv, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, rest, getenv, stdout, stderr)
	case "inspect":
		return cmdInspect(ctx, rest, stdout, stderr)
	case "status":
		return cmdStatus(ctx, rest, getenv, stdout, stderr)
	case "check":
		return cmdCheck(rest, getenv, stdout, stderr)
	case "emulator":
		return cmdEmulator(ctx, rest, getenv, stdout, stderr)
	case "bas-emulator":
		return cmdBASEmulator(ctx, rest, getenv, stdout, stderr)
	case "webhook":
		return cmdWebhook(ctx, rest, getenv, stdout, stderr)
	case "service":
		return cmdService(ctx, rest, getenv, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "obmin %s\n", Version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("obmin "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func configFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	def := getenv("OBMIN_CONFIG")
	if def == "" {
		def = "obmin.yaml"
	}
	return fs.String("config", def, "configuration file")
}
