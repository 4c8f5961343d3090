package exchange

import (
	"testing"

	"obmin/internal/config"
)

// The service takes its defaults from internal/config; a Catalog built by hand (tests, tools) falls back to
// the package's own. They must be one and the same, or the two would send different files.
func TestCatalogDefaultsAreTheConfigs(t *testing.T) {
	d := config.Default().Checkbox
	if d.BulkBatch != DefaultBulkBatch {
		t.Errorf("checkbox.bulk_batch default %d, exchange.DefaultBulkBatch %d", d.BulkBatch, DefaultBulkBatch)
	}
	if got := (&Catalog{}).bulkBatch(); got != d.BulkBatch {
		t.Errorf("a Catalog with no BulkBatch sends files of %d rows, the service's default is %d", got, d.BulkBatch)
	}
}
