package httpapi

import (
	"obmin/store"

	"github.com/prometheus/client_golang/prometheus"

	"obmin/exchange"
)

// Metrics of BAS's retail sales reports (exchange/retail.go), present when that channel is on.
var (
	descRetailReports = prometheus.NewDesc("obmin_retail_reports",
		"Checkbox shifts by the state of their retail sales report in BAS: open (shift not closed), pending (to be sent), "+
			"held (a good BAS never exported, an unmapped VAT code or register), error (BAS refused it), sent (not posted), posted, empty (no sales).",
		[]string{"state"}, nil)
	descRetailOldestWaiting = prometheus.NewDesc("obmin_retail_report_oldest_waiting_age_seconds",
		"How long ago the shift closed whose report has waited longest (pending, held or refused by BAS); 0 when none waits: alert on it.",
		nil, nil)
)

var reportStates = []string{store.ReportStateOpen, store.ReportStatePending, store.ReportStateHeld, store.ReportStateError,
	store.ReportStateSent, store.ReportStatePosted, store.ReportStateEmpty}

// collectRetail exports the reports' state from a status snapshot.
func collectRetail(st exchange.Status, gauge func(d *prometheus.Desc, v float64, labels ...string)) {
	if st.Retail == nil {
		return
	}
	for _, state := range reportStates {
		gauge(descRetailReports, float64(st.Retail.Counts[state]), state)
	}
	oldest := 0.0
	if !st.Retail.OldestWaiting.IsZero() {
		oldest = max(st.At.Sub(st.Retail.OldestWaiting).Seconds(), 0)
	}
	gauge(descRetailOldestWaiting, oldest)
}
