package checkbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// Shift statuses (ShiftStatus in the OpenAPI). Only a CLOSED shift's receipts are final.
const (
	ShiftOpened = "OPENED"
	ShiftClosed = "CLOSED"
)

// ShiftBalance is a shift's BalanceModel, in kopecks: what the register took, by payment kind.
type ShiftBalance struct {
	Initial        int64 `json:"initial"`
	Balance        int64 `json:"balance"`
	CashSales      int64 `json:"cash_sales"`
	CardSales      int64 `json:"card_sales"`
	DiscountsSum   int64 `json:"discounts_sum"`
	ExtraChargeSum int64 `json:"extra_charge_sum"`
	CashReturns    int64 `json:"cash_returns"`
	CardReturns    int64 `json:"card_returns"`
	ServiceIn      int64 `json:"service_in"`
	ServiceOut     int64 `json:"service_out"`
}

// Takings is the money the shift's sales and returns took: sales less returns.
func (b ShiftBalance) Takings() int64 {
	return b.CashSales + b.CardSales - b.CashReturns - b.CardReturns
}

// ShiftDetail is ShiftWithCashierAndCashRegister as GET /api/v1/shifts/{shift_id} answers it: the
// shift with its balance.
type ShiftDetail struct {
	Shift
	Balance *ShiftBalance `json:"balance,omitempty"`
}

// UnmarshalJSON reads the shift leniently (see Shift) and its balance.
func (s *ShiftDetail) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &s.Shift); err != nil {
		return err
	}
	var aux struct {
		Balance *ShiftBalance `json:"balance"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	s.Balance = aux.Balance
	return nil
}

// Shift returns one shift by id (GET /api/v1/shifts/{shift_id}): its status, opening and closing
// times, register and balance.
func (c *Client) Shift(ctx context.Context, id string) (ShiftDetail, error) {
	var s ShiftDetail
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/shifts/" + url.PathEscape(id), auth: true}, &s)
	return s, err
}
