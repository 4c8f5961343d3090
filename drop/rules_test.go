package drop

import (
	"sort"
	"testing"
)

func TestFileOrder(t *testing.T) {
	names := []string{"offers1.xml", "import10.xml", "import.xml", "offers.xml", "import2.xml", "import1.xml"}
	sort.Slice(names, func(i, j int) bool { return Order(names[i]) < Order(names[j]) })
	want := []string{"import.xml", "import1.xml", "import2.xml", "import10.xml", "offers.xml", "offers1.xml"}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("order = %v, want %v", names, want)
		}
	}
}
