package httpapi

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
)

var statusPage = template.Must(template.New("status").Parse(`<!doctype html>
<html lang="uk"><head><meta charset="utf-8"><title>obmin — стан</title>
<style>body{font-family:sans-serif;margin:2em}pre{background:#f4f4f4;padding:1em;white-space:pre-wrap}</style>
</head><body>
<h1>obmin — стан</h1>
{{if .Emulated}}<p><strong>УВАГА: Checkbox — вбудований ЕМУЛЯТОР.</strong></p>{{end}}
<pre>{{.Text}}</pre>
<p><a href="status.json">JSON</a></p>
</body></html>
`))

// status renders exchange.Status for staff, as HTML.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	st, err := s.agent.Snapshot(r.Context())
	if err != nil {
		http.Error(w, "status unavailable: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	st.Text(&b)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	statusPage.Execute(w, struct {
		Emulated bool
		Text     string
	}{st.Emulated, strings.ReplaceAll(b.String(), "\r\n", "\n")})
}

// statusJSON is the same status as JSON, for monitoring.
func (s *Server) statusJSON(w http.ResponseWriter, r *http.Request) {
	st, err := s.agent.Snapshot(r.Context())
	if err != nil {
		http.Error(w, "status unavailable: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(st)
}
