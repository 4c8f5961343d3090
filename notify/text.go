package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"obmin/internal/voice"
)

// Message is one notification: the same words on every channel.
type Message struct {
	ID       string // the same on every retry of this message: receivers may drop repeats by it
	Instance string // which obmin speaks (Config.Name)
	Kind     Kind
	Phase    Phase
	Title    string // one line, without the instance
	Text     string // the whole message, the title line first
	At       time.Time
	Events   []Event // the conditions it is about
}

// maxListed bounds the conditions one message lists; the rest are counted.
const maxListed = 20

// kyiv is the time zone of every time staff read.
var kyiv = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Kyiv"); err == nil {
		return loc
	}
	return time.FixedZone("EET", 2*3600)
}()

func kyivTime(t time.Time) string { return voice.Time(t) }

// span says a duration the way a person would: "2 год 5 хв", "40 с", "3 дн 4 год".
func span(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d с", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d хв", int(d.Minutes()))
	case d < 24*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%d год", h)
		}
		return fmt.Sprintf("%d год %d хв", h, m)
	default:
		days, h := int(d.Hours())/24, int(d.Hours())%24
		if h == 0 {
			return fmt.Sprintf("%d дн", days)
		}
		return fmt.Sprintf("%d дн %d год", days, h)
	}
}

// clip keeps the first n characters of s, on one line when oneLine.
func clip(s string, n int, oneLine bool) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if oneLine {
		s, _, _ = strings.Cut(s, "\n")
	}
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// titles are each kind's title lines: open, reminder, resolved.
var titles = map[Kind][3]string{
	DropFailed:      {"Пакет BAS не оброблено", "Нагадування: пакет BAS досі в failed/", "Пакет прибрано з failed/"},
	CheckboxDown:    {"Checkbox недоступний", "Нагадування: Checkbox досі недоступний", "Checkbox знову доступний"},
	BASDown:         {"Тека обміну з BAS недоступна", "Нагадування: тека обміну з BAS досі недоступна", "Тека обміну з BAS знову доступна"},
	HeldReceipts:    {"Чеки затримано", "Нагадування: чеки досі затримано", "Затриманих чеків більше немає"},
	HeldReports:     {"Звіти змін не передано в BAS", "Нагадування: звіти змін досі не передано в BAS", "Затриманих звітів змін більше немає"},
	ReconcileDiffer: {"Звірка знайшла розбіжності", "Нагадування: розбіжності звірки не усунуто", "Розбіжностей звірки більше немає"},
}

// advice is what to do about an open condition of a kind.
var advice = map[Kind]string{
	DropFailed: "Що зробити: прочитайте файл .error.txt поруч із пакетом у failed/ — там сказано, який файл, елемент і рядок; " +
		"виправте вивантаження в BAS (або налаштування obmin) і вивантажте знову, або поверніть пакет в обробку на сторінці obmin " +
		"(/staff/) чи командою obmin replay. Пакет можна прибрати з failed/, коли він більше не потрібен.",
	CheckboxDown: "obmin повторює сам: товари й ціни чекають у черзі, чеки буде забрано, щойно Checkbox відповість. " +
		"Якщо це триває довго, перевірте інтернет на комп'ютері, де працює obmin.",
	BASDown: "obmin повторює сам. Перевірте, чи ввімкнено комп'ютер або сервер BAS і чи доступна тека обміну (мережевий диск, SFTP) " +
		"з комп'ютера, де працює obmin.",
	HeldReceipts: "Чек затримується, коли в ньому є товар, якого BAS ще не вивантажував. Що зробити: подивіться теку held/ — там сказано, " +
		"яких товарів бракує; вивантажте їх із BAS, і чеки підуть до BAS самі.",
	HeldReports: "Звіт про роздрібні продажі зміни затримується, коли в ній є товар, якого BAS ще не вивантажував, або коли BAS " +
		"відмовив його провести. Що зробити: подивіться теку held-shifts/ або сторінку obmin (/staff/) — там сказано причину " +
		"і що зробити; після виправлення звіт піде сам (або натисніть «Спробувати знову»).",
	ReconcileDiffer: "Що зробити: відкрийте звіт звірки — там сказано, що саме різниться і що можна виправити.",
}

func phaseIndex(p Phase) int {
	switch p {
	case PhaseReminder:
		return 1
	case PhaseResolved:
		return 2
	}
	return 0
}

// message renders the message about conditions of one kind in one phase; s.mu is held.
func (s *Service) message(kind Kind, phase Phase, items []item, now time.Time) Message {
	m := Message{Instance: s.cfg.Name, Kind: kind, Phase: phase, At: now}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s", s.cfg.Name, kind, phase)
	for _, it := range items {
		m.Events = append(m.Events, it.c.Event)
		fmt.Fprintf(h, "\x00%s\x00%d\x00%d", it.key, it.c.Seq, it.c.Opened.UnixNano())
	}
	m.ID = hex.EncodeToString(h.Sum(nil))[:24]

	t, ok := titles[kind]
	if !ok {
		t = [3]string{string(kind), string(kind), string(kind) + ": усунуто"}
	}
	m.Title = t[phaseIndex(phase)]
	if len(items) > 1 {
		m.Title += fmt.Sprintf(" (%d)", len(items))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "obmin «%s»: %s\n", s.cfg.Name, m.Title)
	if len(items) == 1 {
		b.WriteString(describe(items[0].c, phase, now, false))
	} else {
		for i, it := range items {
			if i == maxListed {
				fmt.Fprintf(&b, "… і ще %d\n", len(items)-i)
				break
			}
			b.WriteString("• " + describe(it.c, phase, now, true) + "\n")
		}
	}
	if a := advice[kind]; a != "" && phase != PhaseResolved {
		b.WriteString("\n" + a)
	}
	m.Text = strings.TrimSpace(b.String())
	return m
}

// heldTexts say what is held, in the open, reminder and resolved phases: how many, since when (the oldest
// receipt's sale, the oldest shift's close), how long.
var heldTexts = map[Kind][3]string{
	HeldReceipts: {"Затримано чеків: %d; найстаріший — від %s (уже %s).", "Досі затримано чеків: %d; найстаріший — від %s (уже %s).",
		"Чеків, затриманих довше за поріг, більше немає (%s)."},
	HeldReports: {"Не передано в BAS звітів змін: %d; найстаріша зміна закрита %s (уже %s).",
		"Досі не передано в BAS звітів змін: %d; найстаріша зміна закрита %s (уже %s).", "Звітів змін, затриманих довше за поріг, більше немає (%s)."},
}

// describe tells one condition in a phase: a paragraph, or one line for a list.
func describe(c *condition, phase Phase, now time.Time, short bool) string {
	e := c.Event
	since := kyivTime(e.Since)
	lasted := span(now.Sub(e.Since))
	reason := ""
	if e.Reason != "" {
		said := voice.Explain(e.Reason) // an outage's error, in what to do
		if short {
			reason = ": " + clip(said, 200, true)
		} else {
			reason = "\nПричина: " + clip(said, 1000, false)
		}
	}
	switch e.Kind {
	case DropFailed:
		where := ""
		if e.Where != "" && !short {
			where = "\nФайл з описом: " + e.Where
		}
		switch phase {
		case PhaseResolved:
			return fmt.Sprintf("Пакета %s більше немає в failed/ (прибрано або повернуто в обробку).", e.Key)
		case PhaseReminder:
			return fmt.Sprintf("Пакет %s досі в failed/ (з %s)%s%s", e.Key, since, reason, where)
		}
		return fmt.Sprintf("Пакет %s перенесено в failed/ о %s%s%s", e.Key, since, reason, where)
	case CheckboxDown, BASDown:
		what := "Checkbox не відповідає"
		back := "Checkbox знову відповідає"
		if e.Kind == BASDown {
			what, back = "obmin не може прочитати або записати теку обміну з BAS", "Тека обміну з BAS знову доступна"
		}
		last := strings.Replace(reason, "Причина:", "Остання помилка:", 1)
		switch phase {
		case PhaseResolved:
			return fmt.Sprintf("%s з %s; недоступно було %s.", back, kyivTime(c.Resolved), span(c.Resolved.Sub(e.Since)))
		case PhaseReminder:
			return fmt.Sprintf("%s досі: з %s (уже %s).%s", what, since, lasted, last)
		}
		return fmt.Sprintf("%s з %s (уже %s).%s", what, since, lasted, last)
	case HeldReceipts, HeldReports:
		f := heldTexts[e.Kind]
		switch phase {
		case PhaseResolved:
			return fmt.Sprintf(f[2], kyivTime(c.Resolved))
		case PhaseReminder:
			return fmt.Sprintf(f[1], e.Count, since, lasted)
		}
		return fmt.Sprintf(f[0], e.Count, since, lasted)
	case ReconcileDiffer:
		report := ""
		if e.Where != "" {
			report = " Звіт: " + e.Where
		}
		switch phase {
		case PhaseResolved:
			return fmt.Sprintf("Звірка за %s більше не знаходить розбіжностей.", e.Key)
		case PhaseReminder:
			return fmt.Sprintf("Розбіжностей звірки за %s досі не усунуто: %d.%s", e.Key, e.Count, report)
		}
		return fmt.Sprintf("Звірка за %s знайшла розбіжностей: %d.%s", e.Key, e.Count, report)
	}
	return fmt.Sprintf("%s %s з %s%s", e.Kind, e.Key, since, reason)
}
