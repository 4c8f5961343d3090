package exchange

import (
	"encoding/json"
	"time"

	"obmin/store"
)

// MarshalJSON writes the status for machines (obmin status -json, /status.json): snake_case keys
// throughout, and a job's summary as the object it is rather than JSON text inside a string.
func (st Status) MarshalJSON() ([]byte, error) {
	type plain Status // the fields and tags of Status, without this method
	jobs := make([]jobJSON, len(st.Jobs))
	for i, j := range st.Jobs {
		jobs[i] = newJobJSON(j)
	}
	drops := make([]dropJSON, len(st.Drops))
	for i, d := range st.Drops {
		drops[i] = dropJSON{ID: d.ID, State: d.State, Error: d.Error, Files: d.Files, Source: d.Source,
			Fingerprint: d.Fingerprint, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	}
	return json.Marshal(struct {
		plain
		Jobs  []jobJSON  `json:"jobs"`
		Drops []dropJSON `json:"recent_drops"`
	}{plain(st), jobs, drops})
}

// jobJSON is a job's last run.
type jobJSON struct {
	Name    string          `json:"name"`
	Start   time.Time       `json:"start"`
	End     time.Time       `json:"end"`
	OK      bool            `json:"ok"`
	Error   string          `json:"error,omitempty"`
	Summary json.RawMessage `json:"summary,omitempty"` // the job's own figures, an object
}

func newJobJSON(j store.JobRun) jobJSON {
	out := jobJSON{Name: j.Name, Start: j.Start, End: j.End, OK: j.Err == "", Error: j.Err}
	switch {
	case j.Summary == "" || j.Summary == "null":
	case json.Valid([]byte(j.Summary)):
		out.Summary = json.RawMessage(j.Summary)
	default: // not JSON after all: kept as a string rather than lost
		out.Summary, _ = json.Marshal(j.Summary)
	}
	return out
}

// dropJSON is one drop.
type dropJSON struct {
	ID          string          `json:"id"`
	State       store.DropState `json:"state"`
	Error       string          `json:"error,omitempty"`
	Files       int             `json:"files"`
	Source      string          `json:"source"`
	Fingerprint string          `json:"fingerprint"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}
