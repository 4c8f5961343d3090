package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/folder"
	"obmin/internal/config"
	"obmin/notify"
)

// links watch whether Checkbox and BAS's folder answer, from the calls obmin makes to them anyway: what
// notifications call "unreachable for longer than a threshold".
type links struct{ checkbox, bas *notify.Link }

func newLinks() links { return links{checkbox: notify.NewLink(), bas: notify.NewLink()} }

// observe wraps BAS's folders so that every listing, read and write of them is observed.
func (l links) observe(fl folders) folders {
	fl.src = folder.ObserveSource(fl.src, l.bas.Observe)
	fl.out = folder.ObserveTarget(fl.out, l.bas.Observe)
	return fl
}

// NewNotifier is the notification service of the notify section, given to the agent; nil when no channel
// is set.
func NewNotifier(cfg config.Config, a *App, log *logrus.Entry) (*notify.Service, error) {
	n := cfg.Notify
	if !n.On() {
		return nil, nil
	}
	var channels []notify.Channel
	var said []string
	if n.Webhook.URL != "" {
		w, err := notify.NewWebhook(notify.WebhookConfig{URL: n.Webhook.URL, Auth: n.Webhook.Auth, Secret: n.Webhook.Secret,
			Attempts: notify.Attempts{Timeout: n.Webhook.Timeout, Retries: n.Webhook.Retries}})
		if err != nil {
			return nil, fmt.Errorf("notify.webhook: %w", err)
		}
		channels = append(channels, w)
		said = append(said, "webhook "+config.RedactURL(n.Webhook.URL))
	}
	if n.Telegram.ChatID != "" {
		t, err := notify.NewTelegram(notify.TelegramConfig{APIURL: n.Telegram.APIURL, Token: n.Telegram.Token, ChatID: n.Telegram.ChatID,
			Attempts: notify.Attempts{Timeout: n.Telegram.Timeout, Retries: n.Telegram.Retries}})
		if err != nil {
			return nil, fmt.Errorf("notify.telegram: %w", err)
		}
		channels = append(channels, t)
		said = append(said, "telegram chat "+n.Telegram.ChatID)
	}
	svc, err := notify.New(notify.Config{
		Name: n.Name, Remind: n.RemindEvery, Every: n.CheckEvery, Channels: channels, State: a.Agent.Store,
		After: map[notify.Kind]time.Duration{notify.CheckboxDown: n.CheckboxAfter, notify.BASDown: n.BASAfter, notify.HeldReceipts: n.HeldAfter,
			notify.HeldReports: n.HeldAfter},
		Links: map[notify.Kind]*notify.Link{notify.CheckboxDown: a.links.checkbox, notify.BASDown: a.links.bas},
		Check: a.Agent.Alerts, Log: log,
	})
	if err != nil {
		return nil, err
	}
	a.Agent.Notifier = svc
	log.WithField("channels", strings.Join(said, ", ")).Info("notifications on")
	return svc, nil
}

// StartNotify runs the notification service beside the agent (`obmin run`); stop ends it and waits.
func StartNotify(ctx context.Context, cfg config.Config, a *App, log *logrus.Entry) (stop func(), err error) {
	svc, err := NewNotifier(cfg, a, log)
	if err != nil || svc == nil {
		return func() {}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = svc.Run(ctx)
	}()
	return func() { cancel(); wg.Wait() }, nil
}
