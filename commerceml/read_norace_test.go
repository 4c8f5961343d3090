//go:build !race

package commerceml

// readRaceEnabled: the race detector slows encoding/xml about tenfold, so stream-size tests shrink.
const readRaceEnabled = false
