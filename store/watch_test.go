package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"obmin/drop"
)

func TestStoreWatchState(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if st, err := s.WatchState(ctx); err != nil || len(st.Waiting)+len(st.Problems) != 0 || !st.At.IsZero() {
		t.Fatalf("empty state: %+v %v", st, err)
	}
	w := []drop.Waiting{{Folder: "webdata - 1", Files: 2, Since: testT0, Reason: "import.xml: XML не закрито", GiveUpAt: testT0.Add(5 * time.Minute)}}
	if err := s.SetWaiting(ctx, testT0.Add(time.Minute), w); err != nil {
		t.Fatal(err)
	}
	down := errors.New("no such folder")
	if err := s.SetFolderProblem(ctx, "bas.export_dir", "/mnt/bas", down, testT0); err != nil {
		t.Fatal(err)
	}
	// The same problem again keeps when it began.
	if err := s.SetFolderProblem(ctx, "bas.export_dir", "/mnt/bas", down, testT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	st, err := s.WatchState(ctx)
	if err != nil || !reflect.DeepEqual(st.Waiting, w) || len(st.Problems) != 1 || !st.Problems[0].Since.Equal(testT0) ||
		st.Problems[0].Error != "no such folder" || !st.At.Equal(testT0.Add(time.Minute)) {
		t.Fatalf("state %+v, %v", st, err)
	}
	if err := s.SetWaiting(ctx, testT0.Add(2*time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFolderProblem(ctx, "bas.export_dir", "/mnt/bas", nil, testT0); err != nil {
		t.Fatal(err)
	}
	if st, err := s.WatchState(ctx); err != nil || len(st.Waiting)+len(st.Problems) != 0 {
		t.Fatalf("cleared: %+v %v", st, err)
	}
}
