// Package cronspec reads obmin's schedule specs: the one parser behind both `obmin check` (through the
// configuration's validation) and the scheduler of `obmin run`, so a spec check accepts is a spec run
// accepts.
//
// It imports no other package of obmin.
package cronspec

import (
	"fmt"
	"strings"

	"github.com/robfig/cron/v3"
)

// Off reports whether spec turns a job off: empty or "off" (any case).
func Off(spec string) bool {
	s := strings.TrimSpace(spec)
	return s == "" || strings.EqualFold(s, "off")
}

// Parse reads a spec in robfig/cron's standard syntax: five fields (minute hour day-of-month month
// day-of-week), a descriptor such as "@daily", or "@every 1m"; a CRON_TZ= prefix names a time zone
// (without it the scheduler's zone applies: Europe/Kyiv). A spec that is Off has no schedule: Parse
// returns nil and no error.
func Parse(spec string) (cron.Schedule, error) {
	if Off(spec) {
		return nil, nil
	}
	s, err := cron.ParseStandard(strings.TrimSpace(spec))
	if err != nil {
		return nil, fmt.Errorf("%q: %w (want five fields \"minute hour day month weekday\", e.g. \"30 2 * * *\", or \"@every 1m\", or off)", spec, err)
	}
	return s, nil
}
