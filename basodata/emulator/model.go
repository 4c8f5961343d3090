package emulator

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

//go:embed model.txt
var modelText string

// Model is the emulator's description of the base's OData objects (model.txt): what it serves as
// $metadata and what it validates requests against.
type Model struct {
	Types     []*Type          // in declaration order
	ByName    map[string]*Type // entity and complex types
	Enums     []Enum
	EnumByKey map[string][]string
	Functions []Function
}

// Type is an EntityType (with an EntitySet of its name) or a ComplexType.
type Type struct {
	Name    string
	Entity  bool
	Keys    []string
	Props   []*Prop
	Comment string // the model's note on the object, e.g. its hierarchy and predefined items
	prop    map[string]*Prop
}

// Prop returns the property called name, or nil.
func (t *Type) Prop(name string) *Prop { return t.prop[name] }

// Prop is one property: its EDM type and the 1C type behind it.
type Prop struct {
	Name     string
	Edm      string // Edm.String, Edm.Guid, …, or Collection(StandardODATA.X)
	NotNull  bool
	Kind     string // Str, Num, Bool, Date, DateTime, Ref, Comp, TypeOf, Enum, Rows, or "" (standard)
	Len      int    // Str: maximum length, 0 unlimited
	Fixed    bool
	Prec     int // Num
	Scale    int
	NonNeg   bool
	Target   string   // Ref: target entity; Rows: row type; TypeOf: the composite property; Enum: enum name
	Targets  []string // Comp
	Required bool     // FillChecking = ShowError
}

// Enum is an EnumType.
type Enum struct {
	Name    string
	Members []string
}

// Function is a bound FunctionImport.
type Function struct {
	Name        string
	SideEffects bool
	Returns     string // a type name, "" for none
	Bind        string
	Params      [][2]string // name, EDM type
}

// LoadModel parses model.txt. A malformed line is a bug in the file, so the emulator panics on it.
func LoadModel() *Model {
	m, err := parseModel(modelText)
	if err != nil {
		panic("basodata emulator: model.txt: " + err.Error())
	}
	return m
}

func parseModel(text string) (*Model, error) {
	m := &Model{ByName: map[string]*Type{}, EnumByKey: map[string][]string{}}
	var cur, row *Type
	comment := ""
	for n, line := range strings.Split(text, "\n") {
		bad := func(format string, a ...any) error {
			return fmt.Errorf("line %d: %s: %s", n+1, fmt.Sprintf(format, a...), line)
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			comment = strings.TrimSpace(strings.TrimPrefix(line, "#"))
			continue
		}
		f := strings.Fields(line)
		if strings.HasPrefix(line, "\t") {
			if cur == nil {
				return nil, bad("property outside a type")
			}
			p, err := parseProp(f)
			if err != nil {
				return nil, bad("%v", err)
			}
			cur.add(p)
			if row != nil {
				row.add(p)
			}
			continue
		}
		cur, row = nil, nil
		switch f[0] {
		case "entity", "complex":
			cur = &Type{Name: f[1], Entity: f[0] == "entity", prop: map[string]*Prop{}, Comment: comment}
			for _, a := range f[2:] {
				if k, ok := strings.CutPrefix(a, "key="); ok {
					cur.Keys = strings.Split(k, ",")
				}
			}
			m.addType(cur)
		case "table":
			cur = &Type{Name: f[1], Entity: true, Keys: []string{"Ref_Key", "LineNumber"}, prop: map[string]*Prop{}, Comment: "tabular section"}
			cur.add(&Prop{Name: "Ref_Key", Edm: "Edm.Guid", NotNull: true})
			row = &Type{Name: f[1] + "_RowType", prop: map[string]*Prop{}, Comment: "row of " + f[1]}
			m.addType(cur)
			m.addType(row)
		case "enum":
			m.Enums = append(m.Enums, Enum{Name: f[1], Members: f[2:]})
			m.EnumByKey[f[1]] = f[2:]
		case "function":
			fn := Function{Name: f[1]}
			for _, a := range f[2:] {
				switch {
				case a == "sideeffect":
					fn.SideEffects = true
				case strings.HasPrefix(a, "returns="):
					fn.Returns = strings.TrimPrefix(a, "returns=")
				case strings.HasPrefix(a, "bind="):
					fn.Bind = strings.TrimPrefix(a, "bind=")
				default:
					name, typ, ok := strings.Cut(a, ":")
					if !ok {
						return nil, bad("parameter %q", a)
					}
					fn.Params = append(fn.Params, [2]string{name, typ})
				}
			}
			m.Functions = append(m.Functions, fn)
		default:
			return nil, bad("unknown declaration %q", f[0])
		}
		comment = ""
	}
	return m, nil
}

func (m *Model) addType(t *Type) {
	m.Types = append(m.Types, t)
	m.ByName[t.Name] = t
}

func (t *Type) add(p *Prop) {
	t.Props = append(t.Props, p)
	t.prop[p.Name] = p
}

func parseProp(f []string) (*Prop, error) {
	if len(f) < 2 {
		return nil, fmt.Errorf("want NAME TYPE")
	}
	p := &Prop{Name: f[0], Edm: f[1]}
	if t, ok := strings.CutPrefix(f[1], "Rows("); ok {
		p.Kind, p.Target = "Rows", strings.TrimSuffix(t, ")")
		p.Edm = "Collection(StandardODATA." + p.Target + ")"
	}
	for _, a := range f[2:] {
		kind, args, _ := strings.Cut(strings.TrimSuffix(a, ")"), "(")
		switch kind {
		case "notnull":
			p.NotNull = true
		case "req":
			p.Required = true
		case "Str":
			p.Kind = kind
			if args != "" {
				l, fixed, _ := strings.Cut(args, ",")
				p.Len, _ = strconv.Atoi(l)
				p.Fixed = fixed == "fixed"
			}
		case "Num":
			p.Kind = kind
			parts := strings.Split(args, ",")
			if len(parts) < 2 {
				return nil, fmt.Errorf("Num needs (precision,scale)")
			}
			p.Prec, _ = strconv.Atoi(parts[0])
			p.Scale, _ = strconv.Atoi(parts[1])
			p.NonNeg = len(parts) > 2 && parts[2] == "nn"
		case "Bool", "Date", "DateTime":
			p.Kind = kind
		case "Ref", "TypeOf", "Enum":
			p.Kind, p.Target = kind, args
		case "Comp":
			p.Kind, p.Targets = kind, strings.Split(args, "|")
		default:
			return nil, fmt.Errorf("unknown qualifier %q", a)
		}
	}
	return p, nil
}
