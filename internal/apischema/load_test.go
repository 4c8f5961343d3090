package apischema

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// tinyDoc compiles testdata/tiny-openapi.json, a small OpenAPI 3.1 document written for these tests, once
// per test binary.
var tiny struct {
	once sync.Once
	doc  *Doc
	err  error
}

func tinyDoc(t testing.TB) *Doc {
	t.Helper()
	tiny.once.Do(func() { tiny.doc, tiny.err = Load(filepath.Join("testdata", "tiny-openapi.json")) })
	if tiny.err != nil {
		t.Fatalf("load tiny document: %v", tiny.err)
	}
	return tiny.doc
}

// writeVersioned writes a copy of the tiny document with another info.version into dir.
func writeVersioned(t *testing.T, dir, name, version string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "tiny-openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Replace(string(data), `"version": "1.2.0"`, `"version": "`+version+`"`, 1)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadNewestPicksHighestVersion(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string // file name → info.version
		want    string
		wantErr string
	}{
		{
			name:  "numeric not lexical",
			files: map[string]string{"openapi-a.json": "1.9.2+abc", "openapi-b.json": "1.10.0+def", "openapi-c.json": "1.10.0-rc1"},
			want:  "1.10.0+def",
		},
		{
			name:  "file name does not matter",
			files: map[string]string{"openapi-v9.json": "0.1.79+1ee1e68a", "openapi-2.json": "2.105.1+62034299"},
			want:  "2.105.1+62034299",
		},
		{
			name:    "same version twice is ambiguous",
			files:   map[string]string{"openapi-full.json": "2.0.0+1", "openapi-subset.json": "2.0.0+2"},
			wantErr: "both claim version",
		},
		{
			name:    "no documents",
			files:   map[string]string{"other.json": "1.0.0"},
			wantErr: "no openapi-*.json",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, v := range tt.files {
				writeVersioned(t, dir, name, v)
			}
			d, got, err := LoadNewest(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || d.Version() != tt.want {
				t.Errorf("version = %q (Doc.Version %q), want %q", got, d.Version(), tt.want)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2.105.1+62034299", "0.1.79+1ee1e68a", 1},
		{"1.10.0", "1.9.9", 1},
		{"1.2", "1.2.0", -1},
		{"1.2.0+a", "1.2.0+b", 0},
		{"1.2.0-rc1", "1.2.0", -1},
		{"1.2.0-rc1", "1.2.0-rc2", -1},
		{"2.108.3", "2.107.0+7e00a4c6", 1},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := compareVersions(tt.b, tt.a); got != -tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"openapi 3.0", `{"openapi": "3.0.2", "info": {"version": "0.1.79"}, "paths": {}}`, "only OpenAPI 3.1"},
		{"not json", `{"openapi": `, "invalid JSON"},
		{"trailing data", `{"openapi": "3.1.0", "paths": {}} {}`, "data after"},
		{"other dialect", `{"openapi": "3.1.0", "jsonSchemaDialect": "http://json-schema.org/draft-07/schema#", "paths": {}}`, "jsonSchemaDialect"},
		{"dangling ref", `{"openapi": "3.1.0", "paths": {"/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/Nope"}}}}}}`, "does not resolve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "openapi-x.json")
			if err := os.WriteFile(p, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestQuirksListRepairs(t *testing.T) {
	got := tinyDoc(t).Quirks()
	want := []string{`components/schemas/Item/required: dropped duplicate "name"`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Quirks = %q, want %q", got, want)
	}
}

func TestValidateComponent(t *testing.T) {
	d := tinyDoc(t)
	if err := d.ValidateComponent("Item", []byte(`{"id":"3fa85f64-5717-4562-b3fc-2c963f66afa6","name":"x","note":null}`)); err != nil {
		t.Errorf("valid item: %v", err)
	}
	err := d.ValidateComponent("Item", []byte(`{"id":"nope","name":""}`))
	want := "Item component: body.id: 'nope' is not valid uuid: must have 5 elements; body.name: length must be >= 1, got 0"
	if err == nil || err.Error() != want {
		t.Errorf("invalid item: %v\nwant %s", err, want)
	}
	if err := d.ValidateComponent("Nope", []byte(`{}`)); err == nil {
		t.Error("unknown component: no error")
	}
}
