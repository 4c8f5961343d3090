package basodata

import (
	"context"
	"fmt"
	"strings"
)

// TillConfig names, by Ref_Key, code or name, the BAS objects one Checkbox register's reports go to.
// Empty fields take the till's own values (docs/bas-odata.md §5).
type TillConfig struct {
	Till      string // Catalog.КассыККМ: required
	Store     string // Catalog.СтруктурныеЕдиницы; default the till's
	PriceKind string // Catalog.ВидыЦен; default the store's retail price kind
	Terminal  string // Catalog.ЭквайринговыеТерминалы for card payments; empty: cards need no terminal
	CardKind  string // ВидПлатежнойКарты written on card rows; must be one the terminal lists
}

// TillSetup is a till's configuration resolved against the base: every key a report's header needs.
type TillSetup struct {
	Till         Till
	Store        Store
	Organization string // the till's owner
	Department   string
	PriceKind    string
	Currency     string
	CashFlowItem string // the predefined ОплатаОтПокупателей
	Terminal     string
	CardKind     string
	// ShiftStatus is what a finished shift's report carries: Закрыта, or ЗакрытаЧекиЗаархивированы for
	// a fiscal-register till, whose full posting needs it (ObjectModule.ДобавитьРеквизитыВДополнительныеСвойстваДляПроведения).
	ShiftStatus string
}

// ResolveTill looks the configured objects up once and checks they fit together, so a wrong mapping
// stops obmin at start with the object named, not at the first shift.
func (c *Client) ResolveTill(ctx context.Context, cfg TillConfig) (TillSetup, error) {
	var s TillSetup
	till, err := Lookup[Till](ctx, c, SetTills, cfg.Till)
	if err != nil {
		return s, fmt.Errorf("till %q: %w", cfg.Till, err)
	}
	if till.DeletionMark {
		return s, fmt.Errorf("till %q («%s») is marked for deletion in BAS", cfg.Till, till.Description)
	}
	s.Till, s.Organization, s.Department, s.Currency = till, till.Organization, till.Department, till.Currency
	for what, ref := range map[string]string{"organisation (Owner)": till.Organization, "department (Подразделение)": till.Department, "currency (ВалютаДенежныхСредств)": till.Currency} {
		if IsEmptyRef(ref) {
			return s, fmt.Errorf("till %q («%s») has no %s in BAS", cfg.Till, till.Description, what)
		}
	}
	storeKey := cfg.Store
	if storeKey == "" {
		storeKey = till.Store
	}
	if IsEmptyRef(storeKey) {
		return s, fmt.Errorf("till %q («%s») has no store and none is configured", cfg.Till, till.Description)
	}
	if s.Store, err = Lookup[Store](ctx, c, SetUnitsOrg, storeKey); err != nil {
		return s, fmt.Errorf("store %q: %w", storeKey, err)
	}
	s.PriceKind = s.Store.RetailPriceKind
	if cfg.PriceKind != "" {
		pk, err := Lookup[PriceKind](ctx, c, SetPriceKinds, cfg.PriceKind)
		if err != nil {
			return s, fmt.Errorf("price kind %q: %w", cfg.PriceKind, err)
		}
		s.PriceKind = pk.Ref
	}
	if IsEmptyRef(s.PriceKind) {
		return s, fmt.Errorf("store «%s» has no retail price kind (РозничныйВидЦен) in BAS; set one there or configure the price kind", s.Store.Description)
	}
	cf, err := c.Predefined(ctx, SetCashFlowItems, "ОплатаОтПокупателей")
	if err != nil {
		return s, err
	}
	s.CashFlowItem = cf.Ref
	s.ShiftStatus = ShiftClosed
	if till.Type == TillFiscalRegister {
		s.ShiftStatus = ShiftClosedArchived
	}
	if cfg.Terminal != "" {
		t, err := Lookup[Terminal](ctx, c, SetTerminals, cfg.Terminal)
		if err != nil {
			return s, fmt.Errorf("acquiring terminal %q: %w", cfg.Terminal, err)
		}
		s.Terminal = t.Ref
		s.CardKind = cfg.CardKind
		if s.CardKind == "" && len(t.CardKinds) > 0 {
			s.CardKind = t.CardKinds[0].Kind
		}
		if len(t.CardKinds) > 0 {
			ok := false
			var kinds []string
			for _, k := range t.CardKinds {
				ok = ok || strings.EqualFold(k.Kind, s.CardKind)
				kinds = append(kinds, k.Kind)
			}
			if !ok {
				return s, fmt.Errorf("acquiring terminal «%s» does not list the card kind %q (it lists %s)", t.Description, s.CardKind, strings.Join(kinds, ", "))
			}
		}
	}
	if s.CardKind == "" {
		s.CardKind = cfg.CardKind
	}
	return s, nil
}
