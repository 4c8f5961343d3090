// Package notify tells a person when one is needed: a drop that landed in failed/, Checkbox or BAS's
// folder unreachable for longer than a threshold, receipts or shifts' retail sales reports held for longer
// than a threshold, reconciliation differences; and tells again when each condition has cleared.
//
// A condition is told once, on every channel (a JSON webhook, Telegram), then reminded at most every
// Config.Remind until it clears; its record (what each channel was told, and when) is kept in the
// state, so a restart neither tells an open condition again nor forgets to say that it cleared. Messages
// waiting for a channel that does not answer are retried, with growing pauses, until it does.
// Conditions that clear before anyone was told are never told at all. Texts are Ukrainian, times Kyiv's.
//
// It imports internal/voice; nothing of the jobs, which tell it what happened.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// Kind is a kind of condition.
type Kind string

// The conditions obmin tells about.
const (
	DropFailed      Kind = "drop_failed"                // a drop is in failed/; Key: its id
	CheckboxDown    Kind = "checkbox_unreachable"       // Checkbox does not answer
	BASDown         Kind = "bas_unreachable"            // BAS's folder cannot be read or written
	HeldReceipts    Kind = "held_receipts"              // receipts held back from BAS
	HeldReports     Kind = "held_reports"               // shifts' retail sales reports held back or refused by BAS
	ReconcileDiffer Kind = "reconciliation_differences" // a reconciliation found differences; Key: its day
)

// Event is a condition as the part that sees it reports it.
type Event struct {
	Kind Kind `json:"kind"`
	// Key tells conditions of one kind apart (a drop's id, a reconciliation's day); "" where a kind has
	// one condition at a time.
	Key string `json:"key,omitempty"`
	// Resolved says the condition has cleared (Notify).
	Resolved bool `json:"-"`
	// Since is when the condition began: an outage's first failure, the oldest held receipt. A kind
	// with a threshold (Config.After) is told only once Since is that long ago. Zero: now.
	Since  time.Time `json:"since"`
	Reason string    `json:"reason,omitempty"` // what went wrong, in the words of whoever said it
	Count  int       `json:"count,omitempty"`  // held receipts, differences
	Where  string    `json:"where,omitempty"`  // where to look: a file or folder
}

// Notifier is what the agent tells about conditions.
type Notifier interface {
	// Notify reports one condition: open, or cleared (Event.Resolved).
	Notify(ctx context.Context, e Event) error
	// Sync reports every open condition of one kind: those not in open have cleared.
	Sync(ctx context.Context, kind Kind, open []Event) error
}

// State keeps the records of conditions across restarts (store.Store implements it). Keys and records
// are notify's own.
type State interface {
	Notices(ctx context.Context) (map[string][]byte, error)
	PutNotice(ctx context.Context, key string, data []byte) error
	DeleteNotice(ctx context.Context, key string) error
}

// Channel delivers a message to people: a webhook, a Telegram chat.
type Channel interface {
	// Name names the channel in the record of what it was told ("webhook", "telegram") and in logs.
	Name() string
	// Send delivers one message, retrying within its own bounds; an error means it did not arrive (as
	// far as can be known) and the message is tried again later.
	Send(ctx context.Context, m Message) error
}

// Phase is what a message says about its conditions.
type Phase string

const (
	PhaseOpen     Phase = "open"     // it began
	PhaseReminder Phase = "reminder" // it goes on
	PhaseResolved Phase = "resolved" // it cleared
)

// Config is a Service's setup.
type Config struct {
	Name     string        // which obmin speaks (a shop, a till); default: the host name
	Remind   time.Duration // repeat an open condition at most this often; 0 = never
	After    map[Kind]time.Duration
	Every    time.Duration // how often Run checks conditions and retries deliveries; default 1m
	Channels []Channel
	State    State
	// Links are the outside systems whose reachability is watched: CheckboxDown, BASDown.
	Links map[Kind]*Link
	// Check reports, at every round of Run, the complete set of open conditions of the kinds it covers
	// (failed drops, held receipts).
	Check func(ctx context.Context) (map[Kind][]Event, error)
	Log   *logrus.Entry
	Now   func() time.Time
}

// Service dedupes conditions, remembers what it told, and delivers. Create it with New.
type Service struct {
	cfg Config
	log *logrus.Entry

	mu     sync.Mutex
	conds  map[string]*condition // by recordKey; loaded from the state on first use
	loaded bool

	sending sync.Mutex // one delivery round at a time
	wake    chan struct{}
}

// condition is the record of one condition, as kept in the state.
type condition struct {
	Event    Event            `json:"event"`
	Opened   time.Time        `json:"opened"`            // when it passed its threshold
	Resolved time.Time        `json:"resolved,omitzero"` // when it cleared; zero while open
	Told     map[string]*told `json:"told"`              // by channel
	Seq      int              `json:"seq"`               // messages about it, for delivery ids
	dirty    bool             // changed since last written
	gone     bool             // to be deleted from the state
}

// told is what one channel was told about a condition.
type told struct {
	Phase Phase     `json:"phase,omitempty"` // "" nothing yet; open (or reminder); resolved
	At    time.Time `json:"at,omitzero"`     // when last told
	Tries int       `json:"tries,omitempty"` // failed rounds since
	Next  time.Time `json:"next,omitzero"`   // not before
	Error string    `json:"error,omitempty"`
}

// New returns a Service; it has no goroutine until Run.
func New(cfg Config) (*Service, error) {
	if cfg.State == nil {
		return nil, errors.New("notify: a state is required")
	}
	if len(cfg.Channels) == 0 {
		return nil, errors.New("notify: no channel")
	}
	names := map[string]bool{}
	for _, c := range cfg.Channels {
		if names[c.Name()] {
			return nil, fmt.Errorf("notify: two channels named %q", c.Name())
		}
		names[c.Name()] = true
	}
	if cfg.Name == "" {
		cfg.Name, _ = os.Hostname()
	}
	if cfg.Every <= 0 {
		cfg.Every = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = logrus.NewEntry(logrus.StandardLogger())
	}
	return &Service{cfg: cfg, log: log.WithField("part", "notify"), wake: make(chan struct{}, 1)}, nil
}

func recordKey(k Kind, key string) string { return string(k) + "/" + key }

// load reads the records once; s.mu is held.
func (s *Service) load(ctx context.Context) error {
	if s.loaded {
		return nil
	}
	recs, err := s.cfg.State.Notices(ctx)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	s.conds = map[string]*condition{}
	for k, b := range recs {
		var c condition
		if err := json.Unmarshal(b, &c); err != nil {
			s.log.WithError(err).WithField("key", k).Warn("notice record unreadable; forgotten")
			continue
		}
		if c.Told == nil {
			c.Told = map[string]*told{}
		}
		s.conds[k] = &c
	}
	s.loaded = true
	return nil
}

// save writes the changed records; s.mu is held.
func (s *Service) save(ctx context.Context) error {
	var errs []error
	for k, c := range s.conds {
		switch {
		case c.gone:
			if err := s.cfg.State.DeleteNotice(ctx, k); err != nil {
				errs = append(errs, err)
				continue
			}
			delete(s.conds, k)
		case c.dirty:
			b, err := json.Marshal(c)
			if err == nil {
				err = s.cfg.State.PutNotice(ctx, k, b)
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			c.dirty = false
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Notify implements Notifier.
func (s *Service) Notify(ctx context.Context, e Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(ctx); err != nil {
		return err
	}
	if s.apply(e) {
		s.poke()
	}
	return s.save(ctx)
}

// Sync implements Notifier.
func (s *Service) Sync(ctx context.Context, kind Kind, open []Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(ctx); err != nil {
		return err
	}
	changed := false
	present := map[string]bool{}
	for _, e := range open {
		e.Kind, e.Resolved = kind, false
		if s.early(e) && s.cfg.Links[kind] == nil {
			// Not yet past its threshold (the old held receipts went, newer ones wait): an open record
			// of it has cleared. An outage is different (see apply).
			continue
		}
		present[recordKey(kind, e.Key)] = true
		changed = s.apply(e) || changed
	}
	for k, c := range s.conds {
		if c.Event.Kind == kind && !present[k] && c.Resolved.IsZero() {
			changed = s.apply(Event{Kind: kind, Key: c.Event.Key, Resolved: true}) || changed
		}
	}
	if changed {
		s.poke()
	}
	return s.save(ctx)
}

// apply folds one event into the records and says whether something is now to be told; s.mu is held.
func (s *Service) apply(e Event) bool {
	now := s.cfg.Now()
	k := recordKey(e.Kind, e.Key)
	c, ok := s.conds[k]
	if e.Resolved {
		if !ok || !c.Resolved.IsZero() {
			return false
		}
		c.Resolved, c.dirty = now, true
		return true
	}
	if s.early(e) && s.cfg.Links[e.Kind] == nil {
		return false // not long enough to tell
	}
	// An outage is recorded from its first sight, and told once it has lasted its threshold (due): a
	// link's tracker starts again with every obmin process, so only the record knows when an outage
	// began, across restarts and across the short runs of `obmin once`.
	if !ok {
		if e.Since.IsZero() {
			e.Since = now
		}
		s.conds[k] = &condition{Event: e, Opened: now, Told: map[string]*told{}, dirty: true}
		return true
	}
	// The same condition again: keep what was told, take the newer details, the earlier beginning
	// (after a restart, an outage's tracker starts again; the record knows when it began).
	if e.Since.IsZero() || (!c.Event.Since.IsZero() && c.Event.Since.Before(e.Since)) {
		e.Since = c.Event.Since
	}
	reopened := !c.Resolved.IsZero()
	if !sameEvent(e, c.Event) || reopened {
		c.Event, c.Resolved, c.gone, c.dirty = e, time.Time{}, false, true
	}
	return reopened
}

// early says whether a condition has not lasted its kind's threshold yet.
func (s *Service) early(e Event) bool {
	return !e.Since.IsZero() && s.cfg.Now().Sub(e.Since) < s.cfg.After[e.Kind]
}

func sameEvent(a, b Event) bool {
	return a.Kind == b.Kind && a.Key == b.Key && a.Since.Equal(b.Since) && a.Reason == b.Reason && a.Count == b.Count && a.Where == b.Where
}

// Run checks the conditions every Config.Every (the links, Config.Check) and delivers what is due, at
// once when something new is reported. It returns when ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Every)
	defer t.Stop()
	for {
		s.Check(ctx)
		s.Deliver(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
			s.Deliver(ctx)
			select { // the checks keep to their rhythm
			case <-ctx.Done():
				return nil
			case <-t.C:
			case <-s.wake:
				s.Deliver(ctx)
				continue
			}
		}
	}
}

// Check looks at the links and Config.Check once and records what it finds; errors are logged.
func (s *Service) Check(ctx context.Context) {
	kinds := make([]Kind, 0, len(s.cfg.Links))
	for k := range s.cfg.Links {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i] < kinds[j] })
	for _, k := range kinds {
		known, since, reason := s.cfg.Links[k].state()
		if !known {
			continue // nothing tried since the start: an open outage stays open until an answer comes
		}
		var open []Event
		if !since.IsZero() {
			open = []Event{{Kind: k, Since: since, Reason: reason}}
		}
		if err := s.Sync(ctx, k, open); err != nil {
			s.log.WithError(err).Warn("record conditions")
		}
	}
	if s.cfg.Check == nil {
		return
	}
	found, err := s.cfg.Check(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.WithError(err).Warn("check conditions")
		}
		return
	}
	for k, open := range found {
		if err := s.Sync(ctx, k, open); err != nil {
			s.log.WithError(err).Warn("record conditions")
		}
	}
}

// item is one condition due on one channel.
type item struct {
	key   string
	c     *condition
	phase Phase
}

// Deliver sends every message that is due, one round: per channel, the conditions due in the same phase
// and kind go out as one message. It returns how many messages were sent and how many failed.
func (s *Service) Deliver(ctx context.Context) (sent, failed int) {
	s.sending.Lock()
	defer s.sending.Unlock()
	s.mu.Lock()
	if err := s.load(ctx); err != nil {
		s.mu.Unlock()
		s.log.WithError(err).Warn("load notices")
		return 0, 0
	}
	now := s.cfg.Now()
	type group struct {
		kind  Kind
		phase Phase
	}
	due := map[string]map[group][]item{} // by channel
	for k, c := range s.conds {
		for _, ch := range s.cfg.Channels {
			if p, ok := s.due(c, ch.Name(), now); ok {
				g := group{c.Event.Kind, p}
				if due[ch.Name()] == nil {
					due[ch.Name()] = map[group][]item{}
				}
				due[ch.Name()][g] = append(due[ch.Name()][g], item{k, c, p})
			}
		}
	}
	// Messages are rendered under the lock (they read the records), sent outside it.
	type job struct {
		ch    Channel
		msg   Message
		items []item
	}
	var jobs []job
	for _, ch := range s.cfg.Channels {
		groups := due[ch.Name()]
		keys := make([]group, 0, len(groups))
		for g := range groups {
			keys = append(keys, g)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].kind != keys[j].kind {
				return keys[i].kind < keys[j].kind
			}
			return keys[i].phase < keys[j].phase
		})
		for _, g := range keys {
			items := groups[g]
			sort.Slice(items, func(i, j int) bool {
				return items[i].c.Opened.Before(items[j].c.Opened) || (items[i].c.Opened.Equal(items[j].c.Opened) && items[i].key < items[j].key)
			})
			jobs = append(jobs, job{ch, s.message(g.kind, g.phase, items, now), items})
		}
	}
	s.mu.Unlock()

	results := make([]error, len(jobs))
	for i, j := range jobs {
		if ctx.Err() != nil {
			results[i] = ctx.Err()
			continue
		}
		results[i] = j.ch.Send(ctx, j.msg)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now = s.cfg.Now()
	for i, j := range jobs {
		err := results[i]
		log := s.log.WithFields(logrus.Fields{"channel": j.ch.Name(), "kind": string(j.msg.Kind), "phase": string(j.msg.Phase), "conditions": len(j.items)})
		if err != nil {
			failed++
			if ctx.Err() == nil {
				log.WithError(err).Warn("notification not delivered; will retry")
			}
		} else {
			sent++
			log.Info("notification delivered")
		}
		for _, it := range j.items {
			t := it.c.Told[j.ch.Name()]
			if t == nil {
				t = &told{}
				it.c.Told[j.ch.Name()] = t
			}
			it.c.dirty = true
			if err != nil {
				t.Tries++
				t.Error = err.Error()
				t.Next = now.Add(s.retryPause(t.Tries))
				continue
			}
			it.c.Seq++
			t.Tries, t.Error, t.Next, t.At = 0, "", time.Time{}, now
			if it.phase == PhaseResolved {
				t.Phase = PhaseResolved
			} else {
				t.Phase = PhaseOpen
			}
		}
	}
	s.forgetDone(now)
	if err := s.save(ctx); err != nil {
		s.log.WithError(err).Warn("save notices")
	}
	return sent, failed
}

// due says whether a condition is due on a channel, and in which phase; s.mu is held.
func (s *Service) due(c *condition, channel string, now time.Time) (Phase, bool) {
	t := c.Told[channel]
	if t == nil {
		t = &told{}
	}
	if now.Before(t.Next) {
		return "", false
	}
	if c.Resolved.IsZero() {
		switch {
		case t.Phase != PhaseOpen: // nothing told yet, or told it cleared and it came back
			if s.early(c.Event) {
				return "", false
			}
			return PhaseOpen, true
		case t.Phase == PhaseOpen && s.cfg.Remind > 0 && now.Sub(t.At) >= s.cfg.Remind:
			return PhaseReminder, true
		}
		return "", false
	}
	if t.Phase == PhaseOpen {
		return PhaseResolved, true
	}
	return "", false
}

// forgetDone marks for deletion the cleared conditions every channel is done with: told they cleared,
// or never told they began; s.mu is held.
func (s *Service) forgetDone(now time.Time) {
	for _, c := range s.conds {
		if c.Resolved.IsZero() || c.gone {
			continue
		}
		done := true
		for _, ch := range s.cfg.Channels {
			if _, due := s.due(c, ch.Name(), now.Add(100*365*24*time.Hour)); due {
				done = false
			}
		}
		c.gone = done
	}
}

// retryPause is the wait before a message that failed tries times is tried again: one round, doubling,
// at most an hour.
func (s *Service) retryPause(tries int) time.Duration {
	d := s.cfg.Every
	for i := 1; i < tries && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Open returns the open conditions, oldest first: for status pages.
func (s *Service) Open(ctx context.Context) ([]Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	var open []*condition
	for _, c := range s.conds {
		if c.Resolved.IsZero() {
			open = append(open, c)
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].Opened.Before(open[j].Opened) })
	out := make([]Event, len(open))
	for i, c := range open {
		out[i] = c.Event
	}
	return out, nil
}

// scrub replaces every secret in err's text; an error wrapping others loses them (their texts could
// carry a secret as well).
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	return errors.New(msg)
}
