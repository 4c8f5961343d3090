package basodata

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

// Metadata is what a base's $metadata publishes: its entity sets with their properties, the complex
// types (tabular-section rows) and the bound functions (Post, Unpost).
type Metadata struct {
	Sets      map[string]map[string]string // entity set → property → EDM type
	Complex   map[string]map[string]string // complex type → property → EDM type
	Functions map[string][]string          // function name → the entity types it is bound to
}

// edmx is the part of an EDMX document the check reads.
type edmx struct {
	Schemas []struct {
		Namespace string `xml:"Namespace,attr"`
		Entities  []struct {
			Name  string    `xml:"Name,attr"`
			Props []edmProp `xml:"Property"`
		} `xml:"EntityType"`
		Complex []struct {
			Name  string    `xml:"Name,attr"`
			Props []edmProp `xml:"Property"`
		} `xml:"ComplexType"`
		Containers []struct {
			Sets []struct {
				Name string `xml:"Name,attr"`
				Type string `xml:"EntityType,attr"`
			} `xml:"EntitySet"`
			Functions []struct {
				Name   string `xml:"Name,attr"`
				Params []struct {
					Name string `xml:"Name,attr"`
					Type string `xml:"Type,attr"`
				} `xml:"Parameter"`
			} `xml:"FunctionImport"`
		} `xml:"EntityContainer"`
	} `xml:"DataServices>Schema"`
}

type edmProp struct {
	Name string `xml:"Name,attr"`
	Type string `xml:"Type,attr"`
}

// ParseMetadata reads an EDMX document. The container may sit in its own schema, as in 1C's real
// answers (docs/bas-odata.md §1).
func ParseMetadata(r io.Reader) (*Metadata, error) {
	var doc edmx
	if err := xml.NewDecoder(io.LimitReader(r, maxBody)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("BAS OData: $metadata: %w", err)
	}
	types := map[string]map[string]string{}
	m := &Metadata{Sets: map[string]map[string]string{}, Complex: map[string]map[string]string{}, Functions: map[string][]string{}}
	props := func(ps []edmProp) map[string]string {
		out := make(map[string]string, len(ps))
		for _, p := range ps {
			out[p.Name] = p.Type
		}
		return out
	}
	for _, s := range doc.Schemas {
		for _, e := range s.Entities {
			types[s.Namespace+"."+e.Name] = props(e.Props)
		}
		for _, ct := range s.Complex {
			m.Complex[ct.Name] = props(ct.Props)
		}
	}
	for _, s := range doc.Schemas {
		for _, c := range s.Containers {
			for _, set := range c.Sets {
				m.Sets[set.Name] = types[set.Type]
			}
			for _, f := range c.Functions {
				for _, p := range f.Params {
					if p.Name == "bindingParameter" {
						m.Functions[f.Name] = append(m.Functions[f.Name], p.Type[strings.LastIndex(p.Type, ".")+1:])
					}
				}
			}
		}
	}
	if len(m.Sets) == 0 {
		return nil, errors.New("BAS OData: $metadata lists no entity sets: no object is published through the standard OData interface (docs/bas-odata.md §2)")
	}
	return m, nil
}

// Metadata reads the base's $metadata.
func (c *Client) Metadata(ctx context.Context) (*Metadata, error) {
	var m *Metadata
	err := c.doRaw(ctx, "$metadata", func(r io.Reader) error {
		var err error
		m, err = ParseMetadata(r)
		return err
	})
	return m, err
}

// doRaw GETs path and hands the body to read, with the same retries as do.
func (c *Client) doRaw(ctx context.Context, path string, read func(io.Reader) error) error {
	var sink rawSink
	sink.read = read
	return c.do(ctx, request{method: http.MethodGet, path: path}, &sink)
}

// rawSink lets do hand over a body that is not JSON.
type rawSink struct{ read func(io.Reader) error }

// Check compares the metadata with what obmin needs and returns a *MissingError naming every object
// and property the administrator must publish, or nil.
func (m *Metadata) Check(reqs []Requirement) error {
	var missing []Missing
	for _, r := range reqs {
		var props map[string]string
		var ok bool
		switch r.Kind {
		case KindFunction:
			if bound := m.Functions[r.Name]; !contains(bound, r.Set) {
				missing = append(missing, Missing{Requirement: r, Whole: true})
			}
			continue
		case KindRow:
			props, ok = m.Complex[r.Set]
		default:
			props, ok = m.Sets[r.Set]
		}
		if !ok {
			missing = append(missing, Missing{Requirement: r, Whole: true})
			continue
		}
		var absent []string
		for _, p := range r.Props {
			if _, ok := props[p]; !ok {
				absent = append(absent, p)
			}
		}
		if len(absent) > 0 {
			missing = append(missing, Missing{Requirement: r, Props: absent})
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &MissingError{Missing: missing}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Missing is one requirement the base does not meet: the whole object, or some of its properties.
type Missing struct {
	Requirement
	Whole bool
	Props []string
}

// MissingError lists what the base's OData composition lacks.
type MissingError struct{ Missing []Missing }

func (e *MissingError) Error() string {
	var lines []string
	for _, m := range e.Missing {
		switch {
		case m.Kind == KindFunction:
			lines = append(lines, fmt.Sprintf("%s: no %s function: posting through OData is not available", m.Object, m.Name))
		case m.Whole:
			lines = append(lines, fmt.Sprintf("%s (%s) is not published", m.Object, m.Set))
		default:
			lines = append(lines, fmt.Sprintf("%s (%s) lacks %s", m.Object, m.Set, strings.Join(m.Props, ", ")))
		}
	}
	sort.Strings(lines)
	return "BAS OData: the base's standard OData interface lacks what obmin needs; add these objects to its composition " +
		"with the data processor «Настройка стандартного интерфейса OData» (docs/bas-odata.md §2): " + strings.Join(lines, "; ")
}

// CheckMetadata reads $metadata and checks it against Requirements().
func (c *Client) CheckMetadata(ctx context.Context) (*Metadata, error) {
	m, err := c.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	return m, m.Check(Requirements())
}
