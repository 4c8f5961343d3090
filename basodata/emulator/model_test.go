package emulator

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"obmin/basodata"
	"obmin/internal/testenv"
)

// packType is a type of the reference EDMX, with the comment it carries after each property: the 1C
// type, its qualifiers and FillChecking, as read from the configuration dump.
type packType struct {
	name     string
	entity   bool
	keys     []string
	props    []packProp
	navs     []string
	sets     bool
	complete bool
}

type packProp struct{ name, typ, nullable, comment string }

type packDoc struct {
	types     []*packType
	sets      []string
	functions []string
	enums     []string
}

// readPack reads the EDMX with its comments (encoding/xml hands them over as tokens).
func readPack(t *testing.T, r io.Reader) *packDoc {
	t.Helper()
	d := xml.NewDecoder(r)
	doc := &packDoc{}
	var cur *packType
	var lastProp *packProp
	var fn, enum string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			attr := func(n string) string {
				for _, a := range el.Attr {
					if a.Name.Local == n {
						return a.Value
					}
				}
				return ""
			}
			lastProp = nil
			switch el.Name.Local {
			case "EntityType", "ComplexType":
				cur = &packType{name: attr("Name"), entity: el.Name.Local == "EntityType"}
				doc.types = append(doc.types, cur)
			case "PropertyRef":
				cur.keys = append(cur.keys, attr("Name"))
			case "Property":
				cur.props = append(cur.props, packProp{name: attr("Name"), typ: attr("Type"), nullable: attr("Nullable")})
				lastProp = &cur.props[len(cur.props)-1]
			case "NavigationProperty":
				cur.navs = append(cur.navs, attr("Name")+"->"+attr("Relationship"))
			case "EntitySet":
				doc.sets = append(doc.sets, attr("Name")+"="+attr("EntityType"))
			case "FunctionImport":
				fn = attr("Name") + " side=" + attr("IsSideEffecting") + " ret=" + attr("ReturnType")
			case "Parameter":
				fn += " " + attr("Name") + ":" + attr("Type")
			case "EnumType":
				enum = attr("Name") + ":" + attr("UnderlyingType")
			case "Member":
				enum += " " + attr("Name")
			}
		case xml.EndElement:
			switch el.Name.Local {
			case "FunctionImport":
				doc.functions = append(doc.functions, fn)
			case "EnumType":
				doc.enums = append(doc.enums, enum)
			case "Property":
				continue
			}
			if el.Name.Local != "Property" {
				lastProp = nil
			}
		case xml.Comment:
			if lastProp != nil {
				lastProp.comment = strings.TrimSpace(string(el))
				lastProp = nil
			}
		}
	}
	return doc
}

// TestModelMatchesReferenceEDMX proves model.txt says what the reference EDMX (built from the
// configuration dump) says: the same types, keys, properties in order with their EDM types and
// nullability, the same 1C types, lengths, precisions, signs and FillChecking, the same navigation
// properties, entity sets, functions and enums. It skips without the shared reference folder.
func TestModelMatchesReferenceEDMX(t *testing.T) {
	path := testenv.Shared(t, "reference/bas-odata/metadata.xml")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pack := readPack(t, f)
	ours := readPack(t, bytes.NewReader(LoadModel().EDMX()))
	m := LoadModel()

	if len(pack.types) != len(ours.types) {
		t.Errorf("types: reference has %d, model %d", len(pack.types), len(ours.types))
	}
	for _, pt := range pack.types {
		mt := m.ByName[pt.name]
		if mt == nil {
			t.Errorf("%s: not in the model", pt.name)
			continue
		}
		if mt.Entity != pt.entity || !slices.Equal(mt.Keys, pt.keys) {
			t.Errorf("%s: entity %v keys %v, reference entity %v keys %v", pt.name, mt.Entity, mt.Keys, pt.entity, pt.keys)
		}
		var names []string
		for _, p := range pt.props {
			names = append(names, p.name)
		}
		var mnames []string
		for _, p := range mt.Props {
			mnames = append(mnames, p.name())
		}
		if !slices.Equal(names, mnames) {
			t.Errorf("%s: properties\n model     %v\n reference %v", pt.name, mnames, names)
			continue
		}
		for i, pp := range pt.props {
			mp := mt.Props[i]
			null := strconv.FormatBool(!mp.NotNull)
			if mp.Edm != pp.typ || null != pp.nullable {
				t.Errorf("%s.%s: %s nullable=%s, reference %s nullable=%s", pt.name, pp.name, mp.Edm, null, pp.typ, pp.nullable)
			}
			if want := qualifiers(pp.comment); want != mp.qualifiers() {
				t.Errorf("%s.%s: 1C type %q, reference %q (%s)", pt.name, pp.name, mp.qualifiers(), want, pp.comment)
			}
		}
	}
	for _, pt := range pack.types {
		for _, ot := range ours.types {
			if ot.name == pt.name && !slices.Equal(ot.navs, pt.navs) {
				t.Errorf("%s: navigation properties\n model     %v\n reference %v", pt.name, ot.navs, pt.navs)
			}
		}
	}
	for what, pair := range map[string][2][]string{"entity sets": {ours.sets, pack.sets}, "functions": {ours.functions, pack.functions}, "enums": {ours.enums, pack.enums}} {
		if !slices.Equal(pair[0], pair[1]) {
			t.Errorf("%s differ\n model     %v\n reference %v", what, pair[0], pair[1])
		}
	}
}

func (p *Prop) name() string { return p.Name }

// qualifiers renders a property's 1C type in the form qualifiers() of a reference comment gives.
func (p *Prop) qualifiers() string {
	s := p.Kind
	switch p.Kind {
	case "Str":
		s = fmt.Sprintf("Str(%d,%v)", p.Len, p.Fixed)
	case "Num":
		s = fmt.Sprintf("Num(%d,%d,%v)", p.Prec, p.Scale, p.NonNeg)
	case "Ref", "TypeOf", "Enum":
		s += "(" + p.Target + ")"
	case "Comp":
		s += "(" + strings.Join(p.Targets, "|") + ")"
	case "Rows":
		s = ""
	}
	if p.Required {
		s += " req"
	}
	return strings.TrimSpace(s)
}

var (
	reStr  = regexp.MustCompile(`^(?:Строка|String)\((\d+)(?:,(\w+))?\)`)
	reNum  = regexp.MustCompile(`^Число\((\d+),(\d+),(\w+)\)$`)
	reRef  = regexp.MustCompile(`^(Catalog|Document|Enum|ChartOfAccounts|ChartOfCharacteristicTypes|Characteristic)(?:Ref)?\.([\p{L}\p{N}_]+)$`)
	reFill = regexp.MustCompile(`;? ?FillChecking=(\w+)`)
)

// qualifiers reads a reference comment, e.g. "Число(15,2,Nonnegative); FillChecking=ShowError".
func qualifiers(c string) string {
	req := ""
	if m := reFill.FindStringSubmatch(c); m != nil && m[1] == "ShowError" {
		req = " req"
	}
	c = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(reFill.ReplaceAllString(c, "")), ";"))
	for _, p := range []string{"dimension; ", "resource; ", "attribute; "} {
		c = strings.TrimPrefix(c, p)
	}
	ref := func(s string) string {
		m := reRef.FindStringSubmatch(strings.TrimSpace(s))
		if m == nil {
			return "?" + s
		}
		return m[1] + "_" + m[2]
	}
	refs := func(s string) string {
		var out []string
		for _, x := range strings.Split(s, "|") {
			out = append(out, ref(x))
		}
		return strings.Join(out, "|")
	}
	switch {
	case c == "" || c == "group / parent element" || c == "owner's Ref_Key" || c == "row number, 1..n" ||
		c == "Ref_Key of the recording document" || c == "periodicity Day" || c == "tabular section" || strings.HasPrefix(c, "e.g."):
		return strings.TrimSpace(req)
	case c == "Receipt | Expense":
		return "Enum(RecordType)" + req
	case strings.HasPrefix(c, "type of "):
		return "TypeOf(" + strings.TrimPrefix(c, "type of ") + ")" + req
	case strings.HasPrefix(c, "owner: "):
		return "Ref(" + ref(strings.TrimPrefix(c, "owner: ")) + ")" + req
	case strings.HasPrefix(c, "owner (composite): "):
		return "Comp(" + refs(strings.TrimPrefix(c, "owner (composite): ")) + ")" + req
	case reStr.MatchString(c):
		m := reStr.FindStringSubmatch(c)
		n, _ := strconv.Atoi(m[1])
		return fmt.Sprintf("Str(%d,%v)", n, m[2] == "Fixed") + req
	case reNum.MatchString(c):
		m := reNum.FindStringSubmatch(c)
		return fmt.Sprintf("Num(%s,%s,%v)", m[1], m[2], m[3] == "Nonnegative") + req
	case c == "Булево":
		return "Bool" + req
	case c == "Дата(Date)":
		return "Date" + req
	case c == "Дата(DateTime)":
		return "DateTime" + req
	case strings.Contains(c, "|") || strings.HasPrefix(c, "Characteristic."):
		return "Comp(" + refs(c) + ")" + req
	}
	return "Ref(" + ref(c) + ")" + req
}

// The client's requirements are all in the model, so a check against the emulator's $metadata passes
// exactly when the model carries what obmin needs.
func TestRequirementsInModel(t *testing.T) {
	m := LoadModel()
	for _, r := range basodata.Requirements() {
		if r.Kind == basodata.KindFunction {
			found := false
			for _, f := range m.Functions {
				found = found || (f.Name == r.Name && f.Bind == r.Set)
			}
			if !found {
				t.Errorf("function %s on %s: not in the model", r.Name, r.Set)
			}
			continue
		}
		typ := m.ByName[r.Set]
		if typ == nil {
			t.Errorf("%s: not in the model", r.Set)
			continue
		}
		for _, p := range r.Props {
			if typ.Prop(p) == nil {
				t.Errorf("%s.%s: not in the model", r.Set, p)
			}
		}
	}
}
