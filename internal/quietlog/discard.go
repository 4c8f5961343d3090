package quietlog

import (
	"io"

	"github.com/sirupsen/logrus"
)

// discard writes nothing; its level keeps logrus from even formatting an entry.
var discard = func() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	l.SetLevel(logrus.PanicLevel)
	return logrus.NewEntry(l)
}()

// Discard is the logger that writes nothing: the one a part uses when it was given none.
func Discard() *logrus.Entry { return discard }

// Or is log, or Discard when log is nil. A part keeps the logger it was given, or calls Or where it
// logs: a nil logger never panics and never writes to the process's stderr behind the caller's back.
func Or(log *logrus.Entry) *logrus.Entry {
	if log == nil {
		return discard
	}
	return log
}
