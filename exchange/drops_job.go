package exchange

import "context"

// ProcessDrops applies every drop in processing/ (left there by a crash or an outage) and then in inbox/,
// oldest first. A bad drop goes to failed/ with its reason and never stops the others; an outage leaves the
// drop where it is and ends the pass, returning the error: the drops after it wait, so they are applied in
// the order BAS exported them and an older price never overwrites a newer one.
//
// A pass that took up any drop, or failed, is a run of the "drops" job (status, metrics); so is every
// pass of `obmin once` and the first of `obmin run`, which may find nothing to do.
func (a *Agent) ProcessDrops(ctx context.Context) error { return a.dropsJob(ctx, false) }

// dropsJob is one pass over the drops, recorded as a run of the "drops" job when it did anything or
// failed, or always. The status file is rewritten either way.
func (a *Agent) dropsJob(ctx context.Context, always bool) error {
	start := a.now()
	before := a.taken.Load()
	err := a.processDrops(ctx)
	if ctx.Err() != nil {
		return err
	}
	n := a.taken.Load() - before
	if always || n > 0 || err != nil {
		a.recordJob(ctx, "drops", start, err, map[string]int64{"drops": n})
	} else if werr := a.WriteStatus(ctx); werr != nil {
		a.log().WithError(werr).Warn("write status file")
	}
	if n > 0 {
		a.notifyFailed(ctx)
	}
	return err
}
