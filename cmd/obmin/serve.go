package main

import (
	"context"
	"errors"
	"io"

	"github.com/sirupsen/logrus"

	"obmin/internal/config"
)

// startHTTP starts obmin's HTTP server when the config has one; the returned stop waits for it to end.
func startHTTP(ctx context.Context, cfg config.Config, a *app, log *logrus.Entry) (stop func(context.Context) error, err error) {
	return func(context.Context) error { return nil }, nil
}

// cmdWebhook registers obmin's webhook URL with Checkbox.
func cmdWebhook(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("webhook: not implemented yet")
}
