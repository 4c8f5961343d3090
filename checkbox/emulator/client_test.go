package emulator

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"obmin/checkbox"
)

// TestClientConversation drives the emulator with obmin's own Checkbox client, so that the two cannot
// drift apart unnoticed.
func TestClientConversation(t *testing.T) {
	for _, short := range []bool{false, true} {
		name := "full search results"
		if short {
			name = "short search results"
		}
		t.Run(name, func(t *testing.T) {
			en := newEnv(t, Config{ShortSearch: short})
			ctx := context.Background()
			c, err := checkbox.New(checkbox.Config{
				BaseURL: en.url, Login: "emulator", Password: "emulator",
				RequestsPerSecond: 1000, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Clock: en.clock.Now,
				HTTPClient: testHTTP,
			})
			if err != nil {
				t.Fatal(err)
			}

			g, err := c.CreateGood(ctx, checkbox.GoodPayload{Name: "Кобзар", Type: "good", Code: "B-001", Price: 35000, TaxCodes: []int{8}})
			if err != nil {
				t.Fatal(err)
			}
			if found, err := c.GoodByCode(ctx, "B-001"); err != nil || found.ID != g.ID || found.Taxes[0].Symbol != "З" {
				t.Errorf("GoodByCode = %+v, %v", found, err)
			}
			if _, err := c.GoodByCode(ctx, "NOPE"); !errors.Is(err, checkbox.ErrNotFound) {
				t.Errorf("unknown code: %v", err)
			}

			five := decimal.NewFromInt(5)
			if _, err := c.ImportGoods(ctx, checkbox.ImportFile{Goods: []checkbox.ImportGood{
				{Name: "Кобзар", Code: "B-001", Price: "350.00", Type: "good", Taxes: "З", Leftovers: &five},
				{Name: "Енеїда", Code: "B-002", Price: "280.00", Type: "good", Taxes: "З", Leftovers: &five},
			}}, checkbox.ImportOptions{AutoSupply: true, PollInterval: time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			left, err := c.Leftovers(ctx, []string{g.ID})
			if err != nil || left[g.ID] != 5000 {
				t.Errorf("Leftovers = %v, %v", left, err)
			}

			// Retries through faults and a revoked token.
			en.e.InjectFault(Fault{Method: "GET", PathPrefix: "/api/v1/receipts/search", Status: 503, Times: 2})
			en.e.ExpireTokens()
			want, err := en.e.GenerateSales(rand.New(rand.NewPCG(3, 4)), 30, 5)
			if err != nil {
				t.Fatal(err)
			}
			var got []checkbox.Receipt
			if err := c.SearchReceipts(ctx, checkbox.ReceiptQuery{}, func(r checkbox.Receipt) error {
				got = append(got, r)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("client read %d receipts, emulator made %d", len(got), len(want))
			}
			for i := range want {
				if got[i].ID != want[i].ID || got[i].TotalSum != want[i].TotalSum || len(got[i].Goods) != len(want[i].Goods) ||
					got[i].RegisterID() != want[i].RegisterID() {
					t.Errorf("receipt %d: got %+v, want %+v", i, got[i], want[i])
				}
			}
			if n := en.e.CountCalls("POST", "/api/v1/cashier/signin"); n != 2 {
				t.Errorf("%d sign-ins, want 2 (the second after ExpireTokens)", n)
			}
		})
	}
}
