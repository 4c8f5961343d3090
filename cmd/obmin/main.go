// Command obmin keeps BAS Малий бізнес and the Checkbox cash register in sync: BAS's CommerceML exports
// become Checkbox goods, prices and stock; Checkbox receipts become orders BAS loads.
//
// This package is the command line only: it parses the flags of each command and calls internal/app
// (the wiring), inspect, internal/winservice and the emulators; those are what it imports, with the
// types they take (config, exchange, reconcile, spool, store). Nothing imports it.
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
	_ "time/tzdata" // Europe/Kyiv on Windows, which has no tz database (docs/reliability.md §8)

	"obmin/internal/app"
	"obmin/internal/winservice"
)

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

// Is makes a flag set's answer to -h (which the commands return as a usageError) flag.ErrHelp: help asked
// for is no mistake.
func (e usageError) Is(target error) bool {
	return target == flag.ErrHelp && e.msg == flag.ErrHelp.Error()
}

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	var c interface{ ExitCode() int }
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return 1
}

const usage = `obmin — обмін між BAS Малий бізнес і касою Checkbox

Usage:
  obmin run     [-config FILE]          run as a service: watch BAS's folder, apply drops, pull receipts
  obmin once    [-config FILE]          one full pass, then exit (for the system scheduler)
  obmin demo    [-dir DIR]              end to end on the built-in Checkbox emulator, in DIR (default ./var/demo)
  obmin inspect [-json] [-problems N] [-incomplete-timeout D] PATH...
                                        what files, feeds, zips and export folders hold; how obmin would apply a folder
  obmin status  [-config FILE] [-json]  counts, last runs, recent drops
  obmin check   [-config FILE]          validate the configuration and print it with secrets masked
  obmin reconcile [-config FILE] [-date D] [-repair]
                                        does BAS agree with Checkbox? goods, and a day's receipts; exit 3 if not
  obmin replay  [-config FILE] DROP-ID  put a drop from failed/ back for another try
  obmin emulator -listen ADDR           run the Checkbox emulator alone (for tests and trials)
  obmin bas-emulator -listen ADDR       run the BAS OData emulator alone (for tests and trials)
  obmin webhook ...                     register obmin's webhook URL with Checkbox
  obmin service install|uninstall|start|stop|status [-config FILE] [-name obmin]
                                        obmin as a Windows service (as administrator); docs/service.md
  obmin version                         version, commit and app.Build date
  obmin help COMMAND                    a command's help (also: obmin COMMAND -h)

The config file defaults to $OBMIN_CONFIG, then ./obmin.yaml. Secrets come from the environment
(OBMIN_CHECKBOX_PASSWORD, OBMIN_CHECKBOX_PIN_CODE, OBMIN_CHECKBOX_LICENSE_KEY, OBMIN_BAS_ODATA_PASSWORD)
or *_file keys.
`

// run is obmin's whole program, with its environment passed in so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	app.ClientVersion = Version
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command"}
	}
	cmd, rest := args[0], args[1:]
	if cmd == "help" && len(rest) > 0 {
		cmd, rest = rest[0], []string{"-h"}
		if cmd == "help" {
			rest = nil
		}
	}
	if wantsHelp(rest) {
		// Help asked for is the command's answer: on stdout, exit 0.
		if helpCommand(cmd, rest, stdout) {
			return nil
		}
		stderr = stdout
	}
	err := dispatch(ctx, cmd, rest, getenv, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, cmd string, rest []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch cmd {
	case "run":
		if isService, err := winservice.RunAsService(ctx, func(ctx context.Context) error { return cmdRun(ctx, rest, getenv, stdout, stderr) }); isService { // started by Windows' SCM
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
	case "reconcile":
		return cmdReconcile(ctx, rest, getenv, stdout, stderr)
	case "replay":
		return cmdReplay(ctx, rest, getenv, stdout, stderr)
	case "emulator":
		return cmdEmulator(ctx, rest, getenv, stdout, stderr)
	case "bas-emulator":
		return cmdBASEmulator(ctx, rest, getenv, stdout, stderr)
	case "webhook":
		return cmdWebhook(ctx, rest, getenv, stdout, stderr)
	case "service":
		return cmdService(ctx, rest, getenv, stdout, stderr)
	case "version", "-version", "--version":
		printVersion(stdout)
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
	fs.Usage = func() { printCommandHelp(fs, name) }
	return fs
}

func configFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	def := getenv("OBMIN_CONFIG")
	if def == "" {
		def = "obmin.yaml"
	}
	return fs.String("config", def, "configuration file")
}
