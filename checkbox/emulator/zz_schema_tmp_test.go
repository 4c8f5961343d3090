package emulator

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"obmin/internal/apischema"
)

var schemaTransport *apischema.Transport

func TestMain(m *testing.M) {
	doc, err := apischema.Load("/work/shared/checkbox/openapi-2.105.1-subset.json")
	if err != nil {
		fmt.Println("LOAD", err)
		os.Exit(1)
	}
	schemaTransport = &apischema.Transport{Doc: doc}
	testHTTP = &http.Client{Transport: schemaTransport}
	code := m.Run()
	for _, f := range schemaTransport.Failures() {
		if strings.Contains(f, "response") {
			fmt.Println("FAIL:", f)
		}
	}
	fmt.Println("=== all failures:", len(schemaTransport.Failures()))
	for _, f := range schemaTransport.Failures() {
		fmt.Println("  ", strings.ReplaceAll(f, "\n", "\n     "))
	}
	fmt.Println("OPS", schemaTransport.Operations())
	os.Exit(code)
}
