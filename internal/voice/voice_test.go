package voice

import (
	"strings"
	"testing"
	"time"
)

func TestTimeAndDayAreKyivs(t *testing.T) {
	at := time.Date(2026, 3, 28, 22, 30, 0, 0, time.UTC) // 00:30 in Kyiv on the 29th (EET, before the change)
	if got := Time(at); got != "29.03.2026 00:30:00" {
		t.Errorf("Time = %q", got)
	}
	if got := Date(at); got != "2026-03-29" {
		t.Errorf("Date = %q", got)
	}
	if Time(time.Time{}) != "—" {
		t.Error("the zero time must read as a dash")
	}
	// The day the clocks go forward has 23 hours.
	from, to, err := Day("2026-03-29")
	if err != nil || to.Sub(from) != 23*time.Hour {
		t.Errorf("Day: %v %v %v", from, to, err)
	}
	if _, _, err := Day("29.03.2026"); err == nil {
		t.Error("a day must be 2006-01-02")
	}
}

func TestExplain(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"checkbox: POST /api/v1/cashier/signin: 401 Unauthorized: bad password", "Checkbox не прийняв вхід касира"},
		{"list cash registers: checkbox: GET /api/v1/cash-registers: 503 Service Unavailable", "тимчасово не працює"},
		{"checkbox: POST /api/v1/goods: 422 Unprocessable Entity; body.price: value is not a valid integer", "Checkbox відхилив дані"},
		{`Get "https://api.checkbox.ua/api/v1/receipts": dial tcp: lookup api.checkbox.ua: no such host`, "Немає зв'язку"},
		{"import.xml:12: <Цена>: unexpected end of file", "Файл import.xml, рядок 12: Файл обірвано"},
		{"open /srv/bas/orders.xml: permission denied", "Немає прав"},
		{"something nobody foresaw failed", unknownAdvice},
	} {
		got := Explain(tc.in)
		if !strings.Contains(got, tc.want) || !strings.HasSuffix(got, "("+tc.in+")") {
			t.Errorf("Explain(%q) = %q, want %q and the original in brackets", tc.in, got, tc.want)
		}
		if HasEnglish(got) {
			t.Errorf("Explain(%q) still reads English outside brackets: %q", tc.in, got)
		}
		if again := Explain(got); again != got {
			t.Errorf("Explain is not idempotent: %q → %q", got, again)
		}
	}
	for _, uk := range []string{"Пакет «import.xml» не взято: у ньому немає товарів", "", "Товар KN-0001 «Кобзар»: ціна 0"} {
		if got := Explain(uk); got != uk {
			t.Errorf("a Ukrainian text must stay as it is: %q → %q", uk, got)
		}
	}
}
