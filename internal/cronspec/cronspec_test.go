package cronspec

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	kyiv, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	at := time.Date(2026, 3, 12, 10, 0, 0, 0, kyiv)
	for _, tc := range []struct {
		spec string
		next time.Time // zero: off
		bad  bool
	}{
		{spec: "@every 1m", next: at.Add(time.Minute)},
		{spec: "30 2 * * *", next: time.Date(2026, 3, 13, 2, 30, 0, 0, kyiv)},
		{spec: " */5 * * * * ", next: at.Add(5 * time.Minute)},
		{spec: "@daily", next: time.Date(2026, 3, 13, 0, 0, 0, 0, kyiv)},
		{spec: ""},
		{spec: "off"},
		{spec: "OFF"},
		{spec: "0 30 2 * * *", bad: true}, // six fields: seconds are not part of the standard syntax
		{spec: "every 1m", bad: true},
		{spec: "61 * * * *", bad: true},
		{spec: "@every one minute", bad: true},
		{spec: "@hourly extra", bad: true},
	} {
		s, err := Parse(tc.spec)
		switch {
		case tc.bad:
			if err == nil {
				t.Errorf("%q: accepted, want an error", tc.spec)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.spec, err)
		case tc.next.IsZero():
			if s != nil || !Off(tc.spec) {
				t.Errorf("%q: want off", tc.spec)
			}
		case !s.Next(at).Equal(tc.next):
			t.Errorf("%q: next after %s = %s, want %s", tc.spec, at, s.Next(at), tc.next)
		}
	}
}
