package exchange

import "slices"

// ApplyOrder unpacks the archives of a claimed drop folder, as the service does, and returns its files in
// the order Catalog.Apply applies them: what `obmin inspect` must announce (package inspect checks it).
func ApplyOrder(dir string) ([]string, error) {
	df, err := classify(dir)
	if err != nil {
		return nil, err
	}
	return slices.Concat(df.Catalog, df.Offers, df.Documents), nil
}
