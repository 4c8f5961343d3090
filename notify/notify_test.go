package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Kyiv's zone wherever the tests run

	"github.com/sirupsen/logrus"

	"obmin/store"
)

const (
	botToken      = "123456789:AAF-secret-bot-token"
	webhookSecret = "whsec-very-secret"
	chatID        = "-1001234567890"
)

// receiver is a local webhook or Bot API endpoint: it records what arrives and answers with the codes
// queued in fail before it answers 200.
type receiver struct {
	t  *testing.T
	mu sync.Mutex
	// fail holds the status codes of the next answers; empty: 200.
	fail    []int
	got     []http.Header
	bodies  [][]byte
	arrived chan struct{}
	srv     *httptest.Server
}

func newReceiver(t *testing.T, path string) *receiver {
	r := &receiver{t: t, arrived: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.URL.Path != path {
			http.Error(w, "wrong endpoint "+req.URL.Path, http.StatusNotFound)
			return
		}
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		code := http.StatusOK
		if len(r.fail) > 0 {
			code, r.fail = r.fail[0], r.fail[1:]
		}
		r.got = append(r.got, req.Header.Clone())
		r.bodies = append(r.bodies, body)
		r.mu.Unlock()
		r.arrived <- struct{}{}
		switch {
		case code == http.StatusOK:
			io.WriteString(w, `{"ok":true,"result":{"message_id":1}}`)
		case code == http.StatusBadRequest && strings.HasPrefix(path, "/bot"):
			w.WriteHeader(code)
			io.WriteString(w, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`)
		case code == http.StatusTooManyRequests && strings.HasPrefix(path, "/bot"):
			w.WriteHeader(code)
			io.WriteString(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 0","parameters":{"retry_after":0}}`)
		default:
			// A careless receiver that echoes what it was sent, secrets included.
			http.Error(w, "refused; you sent "+req.Header.Get("Authorization")+" to "+req.URL.String(), code)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) failNext(codes ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = append(r.fail, codes...)
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

func (r *receiver) body(i int) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies[i]
}

func (r *receiver) header(i int) http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[i]
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// rig is a Service with both channels on local receivers and its state in a real store.
type rig struct {
	t         *testing.T
	clk       *clock
	hook, bot *receiver
	statePath string
	store     *store.Store
	svc       *Service
	logs      *bytes.Buffer
	links     map[Kind]*Link
	check     func(context.Context) (map[Kind][]Event, error)
	retries   int
}

func newRig(t *testing.T) *rig {
	r := &rig{
		t: t, clk: &clock{t: time.Date(2026, 3, 12, 8, 0, 0, 0, time.UTC)}, // 10:00 in Kyiv
		hook: newReceiver(t, "/hooks/obmin/path-secret"), bot: newReceiver(t, "/bot"+botToken+"/sendMessage"),
		statePath: filepath.Join(t.TempDir(), "state.db"), logs: &bytes.Buffer{}, retries: 2,
	}
	r.start()
	return r
}

// start opens the state and makes the Service, as obmin does at start.
func (r *rig) start() {
	st, err := store.Open(context.Background(), r.statePath)
	if err != nil {
		r.t.Fatal(err)
	}
	r.store = st
	r.t.Cleanup(func() { st.Close() })
	l := logrus.New()
	l.SetOutput(r.logs)
	l.SetLevel(logrus.DebugLevel)
	att := Attempts{Timeout: 5 * time.Second, Retries: r.retries, Pause: time.Millisecond}
	hook, err := NewWebhook(WebhookConfig{URL: r.hook.srv.URL + "/hooks/obmin/path-secret", Auth: "bearer", Secret: webhookSecret, Attempts: att})
	if err != nil {
		r.t.Fatal(err)
	}
	bot, err := NewTelegram(TelegramConfig{APIURL: r.bot.srv.URL, Token: botToken, ChatID: chatID, Attempts: att})
	if err != nil {
		r.t.Fatal(err)
	}
	r.svc, err = New(Config{
		Name: "Книгарня на Подолі", Remind: 24 * time.Hour, Every: time.Minute,
		After:    map[Kind]time.Duration{CheckboxDown: 15 * time.Minute, BASDown: 15 * time.Minute, HeldReceipts: 4 * time.Hour, HeldReports: 4 * time.Hour},
		Channels: []Channel{hook, bot}, State: st, Links: r.links, Check: r.check,
		Log: logrus.NewEntry(l), Now: r.clk.now,
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

// restart is a new obmin process over the same state.
func (r *rig) restart() {
	r.store.Close()
	r.start()
}

func (r *rig) notify(e Event) {
	r.t.Helper()
	if err := r.svc.Notify(context.Background(), e); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) sync(k Kind, open ...Event) {
	r.t.Helper()
	if err := r.svc.Sync(context.Background(), k, open); err != nil {
		r.t.Fatal(err)
	}
}

// deliver runs a round and checks how many messages each receiver has had in all.
func (r *rig) deliver(wantHook, wantBot int) {
	r.t.Helper()
	r.svc.Deliver(context.Background())
	if r.hook.count() != wantHook || r.bot.count() != wantBot {
		r.t.Fatalf("receivers got %d webhook and %d Telegram messages, want %d and %d; log:\n%s", r.hook.count(), r.bot.count(), wantHook, wantBot, r.logs)
	}
}

type hookBody struct {
	ID, Source, Instance, Event, Status, Title, Text, At string
	Conditions                                           []struct{ Key, Since, Reason, Where string }
}

func (r *rig) hookMsg(i int) hookBody {
	r.t.Helper()
	var b hookBody
	if err := json.Unmarshal(r.hook.body(i), &b); err != nil {
		r.t.Fatal(err)
	}
	return b
}

func (r *rig) botText(i int) string {
	r.t.Helper()
	var b struct {
		ChatID string `json:"chat_id"`
		Text   string `json:"text"`
	}
	if err := json.Unmarshal(r.bot.body(i), &b); err != nil {
		r.t.Fatal(err)
	}
	if b.ChatID != chatID {
		r.t.Fatalf("chat_id %q", b.ChatID)
	}
	return b.Text
}

func contains(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

func TestConditionToldOnceRemindedThenResolved(t *testing.T) {
	r := newRig(t)
	drop := Event{Kind: DropFailed, Key: "20260312-100000-ab12cd34-f00d1", Reason: "import.xml, рядок 12, елемент Товар: немає Ид\nдалі подробиці",
		Where: "/var/obmin/spool/failed/20260312-100000-ab12cd34-f00d1.error.txt"}
	r.notify(drop)
	r.deliver(1, 1)

	h := r.hookMsg(0)
	if h.Source != "obmin" || h.Event != "drop_failed" || h.Status != "open" || h.Instance != "Книгарня на Подолі" ||
		h.At != "2026-03-12T10:00:00+02:00" || len(h.Conditions) != 1 || h.Conditions[0].Key != drop.Key || h.Conditions[0].Since != h.At {
		t.Errorf("webhook body %+v", h)
	}
	if got := r.hook.header(0); got.Get("Authorization") != "Bearer "+webhookSecret || got.Get("X-Obmin-Delivery") != h.ID ||
		got.Get("Content-Type") != "application/json" {
		t.Errorf("webhook headers %v", got)
	}
	text := r.botText(0)
	contains(t, "Telegram text", text, "obmin «Книгарня на Подолі»: Пакет BAS не оброблено", drop.Key, "12.03.2026 10:00:00",
		"import.xml, рядок 12", ".error.txt", "Що зробити")
	if h.Text != text {
		t.Errorf("the same words on every channel:\n%s\n---\n%s", h.Text, text)
	}

	// The same condition again, from the event and from the periodic check: nothing new is told.
	r.notify(drop)
	r.sync(DropFailed, drop)
	r.clk.advance(23 * time.Hour)
	r.deliver(1, 1)

	// A day after it was told, a reminder; then a day's quiet again.
	r.clk.advance(time.Hour)
	r.deliver(2, 2)
	contains(t, "reminder", r.botText(1), "Нагадування", "досі в failed/")
	if r.hookMsg(1).Status != "reminder" || r.hookMsg(1).ID == h.ID {
		t.Errorf("reminder %+v", r.hookMsg(1))
	}
	r.clk.advance(time.Hour)
	r.deliver(2, 2)

	// It clears (staff removed the drop from failed/): told once, and the record goes.
	r.sync(DropFailed)
	r.deliver(3, 3)
	contains(t, "resolved", r.botText(2), "Пакет прибрано з failed/", "більше немає в failed/")
	if r.hookMsg(2).Status != "resolved" {
		t.Errorf("resolved %+v", r.hookMsg(2))
	}
	r.clk.advance(48 * time.Hour)
	r.deliver(3, 3)
	if recs, err := r.store.Notices(context.Background()); err != nil || len(recs) != 0 {
		t.Errorf("records left after the condition cleared and was told: %v %v", recs, err)
	}
}

func TestFailingReceiverRecovers(t *testing.T) {
	r := newRig(t)
	// Two refusals, then an answer: the third try of the same round delivers, under one delivery id.
	r.hook.failNext(http.StatusServiceUnavailable, http.StatusBadGateway)
	r.bot.failNext(http.StatusTooManyRequests)
	r.notify(Event{Kind: DropFailed, Key: "d1", Reason: "bad"})
	r.deliver(3, 2)
	if id := r.hook.header(0).Get("X-Obmin-Delivery"); id == "" || r.hook.header(2).Get("X-Obmin-Delivery") != id {
		t.Error("retries of one message must carry one delivery id")
	}

	// A receiver down for a whole round: the message waits, is not tried again before its pause, and
	// goes once the receiver is back.
	r.hook.failNext(500, 500, 500)
	r.notify(Event{Kind: DropFailed, Key: "d2", Reason: "bad"})
	r.deliver(6, 3)
	if !strings.Contains(r.logs.String(), "will retry") {
		t.Errorf("a failed delivery is logged:\n%s", r.logs)
	}
	r.clk.advance(30 * time.Second)
	r.deliver(6, 3)
	r.clk.advance(time.Minute)
	r.deliver(7, 3)
	if b := r.hookMsg(6); b.Conditions[0].Key != "d2" || b.Status != "open" {
		t.Errorf("retried message %+v", b)
	}
	r.clk.advance(time.Hour)
	r.deliver(7, 3)

	// A permanent refusal (a chat that does not exist) is not hammered within the round.
	r.bot.failNext(http.StatusBadRequest)
	r.notify(Event{Kind: DropFailed, Key: "d3"})
	r.deliver(8, 4)
	if !strings.Contains(r.logs.String(), "chat not found") {
		t.Errorf("Telegram's reason is logged:\n%s", r.logs)
	}
}

func TestRestartNeitherRepeatsNorForgets(t *testing.T) {
	r := newRig(t)
	r.notify(Event{Kind: DropFailed, Key: "told"})
	r.deliver(1, 1)
	// One more condition, which the webhook refuses before obmin stops.
	r.hook.failNext(500, 500, 500)
	r.notify(Event{Kind: DropFailed, Key: "untold"})
	r.deliver(4, 2)

	r.restart()
	// The periodic check after the restart finds both still there: only the one the webhook never got
	// goes to it, and the told one to nobody.
	r.sync(DropFailed, Event{Key: "told"}, Event{Key: "untold"})
	r.clk.advance(5 * time.Minute)
	r.deliver(5, 2)
	if b := r.hookMsg(4); b.Conditions[0].Key != "untold" || b.Status != "open" {
		t.Errorf("after restart %+v", b)
	}
	// Both clear while obmin is stopped; the next start tells it, once.
	r.restart()
	r.sync(DropFailed)
	r.deliver(6, 3)
	if b := r.hookMsg(5); b.Status != "resolved" || len(b.Conditions) != 2 || !strings.Contains(b.Title, "(2)") {
		t.Errorf("two resolved at once are one message: %+v", b)
	}
	r.restart()
	r.deliver(6, 3)
}

func TestOutageToldAfterThresholdAndItsEnd(t *testing.T) {
	link := NewLink()
	r := &rig{}
	*r = *newRig(t)
	link.now = r.clk.now
	r.links = map[Kind]*Link{CheckboxDown: link}
	r.restart()
	ctx := context.Background()

	r.svc.Check(ctx)
	r.deliver(0, 0) // nothing observed yet
	link.Observe(errors.New(`POST https://api.checkbox.ua/api/v1/cashier/signin: dial tcp: connection refused`))
	r.clk.advance(14 * time.Minute)
	link.Observe(errors.New(`GET https://api.checkbox.ua/api/v1/receipts: dial tcp: connection refused`))
	r.svc.Check(ctx)
	r.deliver(0, 0) // 14 minutes: under the threshold
	r.clk.advance(2 * time.Minute)
	r.svc.Check(ctx)
	r.deliver(1, 1)
	contains(t, "outage", r.botText(0), "Checkbox недоступний", "не відповідає з 12.03.2026 10:00:00", "уже 16 хв", "receipts: dial tcp")

	// obmin restarts during the outage: the new tracker knows nothing, then sees failures again, for
	// less than the threshold; the open outage is neither told again nor taken for over.
	r.restart()
	link2 := NewLink()
	link2.now = r.clk.now
	r.svc.cfg.Links = map[Kind]*Link{CheckboxDown: link2}
	r.svc.Check(ctx)
	link2.Observe(errors.New("dial tcp: connection refused"))
	r.clk.advance(time.Minute)
	r.svc.Check(ctx)
	r.deliver(1, 1)

	r.clk.advance(10 * time.Minute)
	link2.Observe(nil)
	r.svc.Check(ctx)
	r.deliver(2, 2)
	contains(t, "back", r.botText(1), "Checkbox знову доступний", "недоступно було 27 хв")

	// A short blip is never told.
	link2.Observe(errors.New("HTTP 503"))
	r.clk.advance(5 * time.Minute)
	r.svc.Check(ctx)
	link2.Observe(nil)
	r.svc.Check(ctx)
	r.deliver(2, 2)
}

func TestHeldReceiptsThreshold(t *testing.T) {
	r := newRig(t)
	now := r.clk.now()
	r.sync(HeldReceipts, Event{Count: 2, Since: now.Add(-time.Hour)})
	r.deliver(0, 0)
	r.sync(HeldReceipts, Event{Count: 3, Since: now.Add(-5 * time.Hour)})
	r.deliver(1, 1)
	contains(t, "held", r.botText(0), "Затримано чеків: 3", "від 12.03.2026 05:00:00", "уже 5 год", "held/")
	// The old ones were released, a new one waits: under the threshold, so the condition has cleared.
	r.sync(HeldReceipts, Event{Count: 1, Since: now.Add(-10 * time.Minute)})
	r.deliver(2, 2)
	contains(t, "held cleared", r.botText(1), "Затриманих чеків більше немає")
}

// TestHeldReportsThreshold: shifts whose retail sales reports are held or refused are told once the oldest
// shift closed longer ago than the threshold, with where to look and what to do, and cleared when none is.
func TestHeldReportsThreshold(t *testing.T) {
	r := newRig(t)
	now := r.clk.now()
	r.sync(HeldReports, Event{Count: 1, Since: now.Add(-time.Hour), Where: "spool/held-shifts"})
	r.deliver(0, 0)
	r.sync(HeldReports, Event{Count: 2, Since: now.Add(-6 * time.Hour), Where: "spool/held-shifts"})
	r.deliver(1, 1)
	contains(t, "held reports", r.botText(0), "Звіти змін не передано в BAS", "звітів змін: 2", "закрита 12.03.2026 04:00:00", "уже 6 год",
		"held-shifts/", "Спробувати знову")
	r.sync(HeldReports)
	r.deliver(2, 2)
	contains(t, "held reports cleared", r.botText(1), "Затриманих звітів змін більше немає")
}

func TestManyAtOnceAreOneMessage(t *testing.T) {
	r := newRig(t)
	var open []Event
	for _, k := range []string{"a", "b", "c"} {
		open = append(open, Event{Key: k, Reason: "file " + k + ".xml: bad\nmore"})
	}
	r.sync(DropFailed, open...)
	r.notify(Event{Kind: ReconcileDiffer, Key: "11.03.2026", Count: 4, Where: "spool/reconcile/2026-03-11/report.html"})
	r.deliver(2, 2)
	text := r.botText(0) + "\n" + r.botText(1)
	contains(t, "grouped", text, "Пакет BAS не оброблено (3)", "• Пакет a", "• Пакет c", "file c.xml: bad", "Звірка за 11.03.2026 знайшла розбіжностей: 4")
	if strings.Contains(text, "more") {
		t.Errorf("a list gives each reason's first line:\n%s", text)
	}
}

func TestSecretsNeverInLogsNorErrors(t *testing.T) {
	r := newRig(t)
	// The webhook echoes the bearer secret and the URL back in its refusal; Telegram is not there at all.
	r.hook.failNext(400)
	r.bot.srv.Close()
	r.notify(Event{Kind: DropFailed, Key: "d"})
	r.svc.Deliver(context.Background())
	logs := r.logs.String()
	if !strings.Contains(logs, "not delivered") {
		t.Fatalf("the failures are logged:\n%s", logs)
	}
	for _, secret := range []string{botToken, "AAF-secret", webhookSecret, "path-secret"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
	recs, _ := r.store.Notices(context.Background())
	for _, b := range recs {
		for _, secret := range []string{botToken, webhookSecret, "path-secret"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("the state holds %q: %s", secret, b)
			}
		}
	}
}

func TestHMACSignature(t *testing.T) {
	rec := newReceiver(t, "/h")
	w, err := NewWebhook(WebhookConfig{URL: rec.srv.URL + "/h", Auth: "hmac", Secret: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Send(context.Background(), Message{ID: "1", Kind: DropFailed, Phase: PhaseOpen, Text: "t"}); err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte("k"))
	mac.Write(rec.body(0))
	if got := rec.header(0).Get("X-Obmin-Signature"); got != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Errorf("signature %q", got)
	}
	if rec.header(0).Get("Authorization") != "" {
		t.Error("hmac sends no bearer")
	}
}

// Run delivers what is reported at once, without waiting for its next round, and stops with ctx.
func TestRunDeliversOnReport(t *testing.T) {
	r := newRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.svc.Run(ctx) }()
	r.notify(Event{Kind: DropFailed, Key: "now"})
	for range 2 {
		select {
		case <-r.hook.arrived:
		case <-r.bot.arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("nothing arrived")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// `obmin once` from the system's scheduler: each run is a new process with a new tracker, a few seconds
// long. The record keeps when the outage began, so it is told once it has lasted the threshold.
func TestOutageAcrossShortRuns(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	run := func(err error) {
		link := NewLink()
		link.now = r.clk.now
		r.links = map[Kind]*Link{BASDown: link}
		r.restart()
		link.Observe(err)
		r.svc.Check(ctx)
		r.svc.Deliver(ctx)
		r.clk.advance(5 * time.Minute)
	}
	for range 3 {
		run(errors.New("open \\\\bas\\obmin: The network path was not found."))
	}
	if r.hook.count() != 0 {
		t.Fatalf("told after 10 minutes: %s", r.hook.body(0))
	}
	run(errors.New("open \\\\bas\\obmin: The network path was not found."))
	if r.hook.count() != 1 || r.bot.count() != 1 {
		t.Fatalf("after 15 minutes of failing runs: %d, %d messages", r.hook.count(), r.bot.count())
	}
	contains(t, "short runs", r.botText(0), "з 12.03.2026 10:00:00", "уже 15 хв", "network path")
	run(nil)
	if r.hook.count() != 2 || r.hookMsg(1).Status != "resolved" {
		t.Fatalf("the run that reached BAS tells it is back")
	}
	// A short outage across two runs is never told, and leaves no record.
	run(errors.New("timeout"))
	run(nil)
	if r.hook.count() != 2 {
		t.Fatalf("a 5-minute outage was told")
	}
	if recs, _ := r.store.Notices(ctx); len(recs) != 0 {
		t.Errorf("records left: %v", recs)
	}
}
