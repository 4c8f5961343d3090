package emulator

import (
	"encoding/xml"
	"strings"
)

// EDMX renders the model as 1C's standard OData $metadata does: EDMX 1.0, DataServiceVersion 3.0,
// schema StandardODATA, container EnterpriseV8 (docs/bas-odata.md §3). A reference whose target the
// model holds gets a NavigationProperty and an Association (Begin * → End 0..1).
func (m *Model) EDMX() []byte {
	var b strings.Builder
	esc := func(s string) string {
		var w strings.Builder
		xml.EscapeText(&w, []byte(s)) //nolint:errcheck // a strings.Builder does not fail
		return strings.ReplaceAll(w.String(), `"`, "&#34;")
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" Version="1.0">` + "\n")
	b.WriteString("\t" + `<edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" m:DataServiceVersion="3.0" m:MaxDataServiceVersion="3.0">` + "\n")
	b.WriteString("\t\t" + `<Schema xmlns="http://schemas.microsoft.com/ado/2009/11/edm" Namespace="StandardODATA">` + "\n")
	var assocs []string
	for _, t := range m.Types {
		if t.Entity {
			b.WriteString("\t\t\t<EntityType Name=\"" + esc(t.Name) + "\">\n\t\t\t\t<Key>\n")
			for _, k := range t.Keys {
				b.WriteString("\t\t\t\t\t<PropertyRef Name=\"" + esc(k) + "\"/>\n")
			}
			b.WriteString("\t\t\t\t</Key>\n")
		} else {
			b.WriteString("\t\t\t<ComplexType Name=\"" + esc(t.Name) + "\">\n")
		}
		for _, p := range t.Props {
			null := "true"
			if p.NotNull {
				null = "false"
			}
			b.WriteString("\t\t\t\t<Property Name=\"" + esc(p.Name) + "\" Type=\"" + esc(p.Edm) + "\" Nullable=\"" + null + "\"/>\n")
		}
		if t.Entity {
			for _, nav := range m.navigations(t) {
				rel := t.Name + "_" + nav[0]
				b.WriteString("\t\t\t\t<NavigationProperty Name=\"" + esc(nav[0]) + "\" Relationship=\"StandardODATA." + esc(rel) + "\" FromRole=\"Begin\" ToRole=\"End\"/>\n")
				assocs = append(assocs, "\t\t\t<Association Name=\""+esc(rel)+"\">\n\t\t\t\t<End Role=\"Begin\" Type=\"StandardODATA."+esc(t.Name)+
					"\" Multiplicity=\"*\"/>\n\t\t\t\t<End Role=\"End\" Type=\"StandardODATA."+esc(nav[1])+"\" Multiplicity=\"0..1\"/>\n\t\t\t</Association>\n")
			}
			b.WriteString("\t\t\t</EntityType>\n")
		} else {
			b.WriteString("\t\t\t</ComplexType>\n")
		}
	}
	for _, a := range assocs {
		b.WriteString(a)
	}
	for _, e := range m.Enums {
		b.WriteString("\t\t\t<EnumType Name=\"" + esc(e.Name) + "\" UnderlyingType=\"Edm.Int32\">\n")
		for _, v := range e.Members {
			b.WriteString("\t\t\t\t<Member Name=\"" + esc(v) + "\"/>\n")
		}
		b.WriteString("\t\t\t</EnumType>\n")
	}
	b.WriteString("\t\t\t" + `<EntityContainer Name="EnterpriseV8" m:IsDefaultEntityContainer="true">` + "\n")
	for _, t := range m.Types {
		if t.Entity {
			b.WriteString("\t\t\t\t<EntitySet Name=\"" + esc(t.Name) + "\" EntityType=\"StandardODATA." + esc(t.Name) + "\"/>\n")
		}
	}
	for _, f := range m.Functions {
		side := "false"
		if f.SideEffects {
			side = "true"
		}
		ret := ""
		if f.Returns != "" {
			ret = " ReturnType=\"Collection(StandardODATA." + esc(f.Returns) + ")\""
		}
		b.WriteString("\t\t\t\t<FunctionImport Name=\"" + esc(f.Name) + "\" IsBindable=\"true\" IsSideEffecting=\"" + side + "\"" + ret + ">\n")
		b.WriteString("\t\t\t\t\t<Parameter Name=\"bindingParameter\" Type=\"StandardODATA." + esc(f.Bind) + "\"/>\n")
		for _, p := range f.Params {
			b.WriteString("\t\t\t\t\t<Parameter Name=\"" + esc(p[0]) + "\" Type=\"" + esc(p[1]) + "\"/>\n")
		}
		b.WriteString("\t\t\t\t</FunctionImport>\n")
	}
	b.WriteString("\t\t\t</EntityContainer>\n\t\t</Schema>\n\t</edmx:DataServices>\n</edmx:Edmx>\n")
	return []byte(b.String())
}

// navigations lists (name, target) of t's navigation properties: one per reference whose target the
// model holds, Parent for Parent_Key and Owner for Owner_Key.
func (m *Model) navigations(t *Type) [][2]string {
	var out [][2]string
	for _, p := range t.Props {
		if p.Name == "Parent_Key" {
			out = append(out, [2]string{"Parent", t.Name})
			continue
		}
		if p.Kind != "Ref" {
			continue
		}
		if target := m.ByName[p.Target]; target != nil && target.Entity && strings.HasSuffix(p.Name, "_Key") {
			out = append(out, [2]string{strings.TrimSuffix(p.Name, "_Key"), p.Target})
		}
	}
	return out
}
