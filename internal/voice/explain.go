package voice

import (
	"regexp"
	"strings"
	"unicode"
)

// Explain turns an error text meant for programmers (Checkbox's answers, the operating system's, a
// parser's) into what staff should do, in Ukrainian, keeping the original in brackets for whoever fixes it:
//
//	Checkbox не прийняв вхід: перевірте логін і пароль касира … (checkbox: POST /api/v1/cashier/signin: 401 Unauthorized)
//
// A text obmin wrote in Ukrainian comes back as it is, and so does one already explained. A file and line
// the text starts with ("import.xml:12: …") are kept in front. An error the table does not know still gets
// a Ukrainian lead.
func Explain(text string) string {
	text = strings.TrimSpace(text)
	if text == "" || !hasEnglish(text) {
		return text
	}
	where, rest := location(text)
	advice := unknownAdvice
	lower := strings.ToLower(rest)
	for _, k := range known {
		if k.match(lower) {
			advice = k.advice
			break
		}
	}
	return where + advice + " (" + text + ")"
}

// unknownAdvice leads an error the table does not know.
const unknownAdvice = "Помилка, якої obmin не вміє пояснити; передайте цей текст адміністраторові obmin"

// knownError is one row of the table: when every one of all, and one of any (if given), is in the
// lowercased text.
type knownError struct {
	all    []string
	any    []string
	advice string
}

func (k knownError) match(lower string) bool {
	for _, s := range k.all {
		if !strings.Contains(lower, s) {
			return false
		}
	}
	if len(k.any) == 0 {
		return true
	}
	for _, s := range k.any {
		if strings.Contains(lower, s) {
			return true
		}
	}
	return false
}

// known are the errors obmin meets, most specific first.
var known = []knownError{
	{any: []string{"unexpected end of file", "truncated"},
		advice: "Файл обірвано посередині: BAS не дописав вивантаження. Вивантажте з BAS ще раз"},
	// Checkbox's answers (checkbox.APIError: "checkbox: METHOD PATH: STATUS Text: message").
	{all: []string{"checkbox:", "signin"}, any: []string{" 401", " 403", " 400", " 422"},
		advice: "Checkbox не прийняв вхід касира: перевірте логін і пароль (або PIN-код і ключ ліцензії) у налаштуваннях obmin"},
	{all: []string{"checkbox:"}, any: []string{" 401 "},
		advice: "Checkbox не прийняв вхід касира: перевірте логін і пароль (або PIN-код і ключ ліцензії) у налаштуваннях obmin"},
	{all: []string{"checkbox:"}, any: []string{" 403 "},
		advice: "Касир, від імені якого працює obmin, не має в Checkbox права на цю дію: дайте йому права або вкажіть іншого касира"},
	{all: []string{"checkbox:"}, any: []string{" 429 "},
		advice: "Checkbox просить рідше звертатися до нього; obmin зачекає й повторить сам"},
	{all: []string{"checkbox:"}, any: []string{" 500 ", " 502 ", " 503 ", " 504 "},
		advice: "Checkbox тимчасово не працює; obmin повторить сам, нічого робити не треба"},
	{all: []string{"checkbox:"}, any: []string{" 404 "},
		advice: "Checkbox не знайшов запису (можливо, його видалено в Checkbox вручну)"},
	{all: []string{"checkbox:"}, any: []string{" 422 ", " 400 ", " 409 "},
		advice: "Checkbox відхилив дані: виправте в BAS те, що названо в дужках (ціну, код, штрихкод, податок), і вивантажте знову"},
	// The network.
	{any: []string{"connection refused", "no such host", "i/o timeout", "network is unreachable", "connection reset",
		"tls handshake", "timeout awaiting", "client.timeout", ": eof", "server misbehaving", "no route to host"},
		advice: "Немає зв'язку з сервером: перевірте інтернет (або мережу до сервера BAS) на комп'ютері, де працює obmin; obmin повторить сам"},
	{any: []string{"context deadline exceeded"},
		advice: "Сервер не відповів вчасно; obmin повторить сам"},
	// Files and folders.
	{any: []string{"no space left", "disk full", "not enough space"},
		advice: "Диск заповнено: звільніть місце на диску, де лежать теки obmin"},
	{any: []string{"permission denied", "access is denied", "operation not permitted"},
		advice: "Немає прав на файл або теку: дайте обліковому запису, від якого працює obmin, право читати й писати цю теку"},
	{any: []string{"no such file or directory", "cannot find the path", "cannot find the file", "file does not exist"},
		advice: "Файл або теку не знайдено: перевірте шлях у налаштуваннях obmin і чи доступна тека"},
	{any: []string{"database is locked", "sqlite_busy"},
		advice: "Файл стану obmin зайнятий: чи не працюють дві копії obmin з одним файлом стану?"},
	// What BAS sends.
	{any: []string{"beyond the reader's limits"},
		advice: "Файл завеликий або має надто довгий елемент (у названому місці): перевірте вивантаження BAS, зокрема описи й картинки товарів"},
	{any: []string{"commerceml 3.x"},
		advice: "Це CommerceML 3, а obmin читає CommerceML 2: у вузлі обміну BAS оберіть версію схеми 2.x"},
	{any: []string{"not a commerceml file", "not a marketplace feed"},
		advice: "Це не файл обміну, який obmin читає (CommerceML 2 з BAS або фід маркетплейсу): приберіть його з теки вивантаження"},
	{any: []string{"unsupported encoding"},
		advice: "Кодування файлу не підтримується: у вузлі обміну BAS оберіть UTF-8 або windows-1251"},
	{all: []string{"price type", "not among"},
		advice: "Типу цін із налаштування mapping.price_type немає у вивантаженні: вкажіть у mapping.price_type роздрібний тип цін BAS (назву або Ид)"},
	{all: []string{"several price types"},
		advice: "У вивантаженні кілька типів цін: вкажіть роздрібний у налаштуванні mapping.price_type"},
	{all: []string{"zip"}, any: []string{"exceeds a limit", "not a readable zip", "unsafe zip"},
		advice: "Архів з BAS пошкоджений або завеликий: вивантажте знову (або без архівування)"},
	{any: []string{"is in the drop twice", "lie in several folders"},
		advice: "У пакеті одні й ті самі файли двічі: вивантажте з BAS ще раз, один пакет за раз"},
	{any: []string{"reserved windows device name", "is not allowed", "starts with", "ends with", "longer than 200 characters"},
		advice: "Назву файлу не можна використати: перейменуйте файл у теці вивантаження BAS або вивантажте знову"},
	{any: []string{"clock"},
		advice: "Годинник комп'ютера, де працює obmin, відстає: виправте дату й час"},
	{any: []string{"no bas order numbers left"},
		advice: "Номери замовлень BAS на цей рік закінчилися: розширте sales.number_last або перейдіть на звіти про роздрібні продажі"},
	{any: []string{"invalid", "parse", "syntax", "expected"},
		advice: "У файлі неправильне значення або розмітка в названому місці: виправте його в BAS і вивантажте знову"},
}

// locationRE is a file and line in front of an error: "import.xml:12: ".
var locationRE = regexp.MustCompile(`^([^\s:()]+\.(?i:xml|zip|yml|yaml|txt)):(\d+): `)

// location splits "file:line: rest" into the Ukrainian "Файл file, рядок line: " and rest.
func location(text string) (where, rest string) {
	m := locationRE.FindStringSubmatch(text)
	if m == nil {
		return "", text
	}
	return "Файл " + m[1] + ", рядок " + m[2] + ": ", text[len(m[0]):]
}

// englishWords are words that make a text English prose rather than Ukrainian with names in it.
var englishWords = map[string]bool{
	"error": true, "failed": true, "fail": true, "cannot": true, "can't": true, "invalid": true, "unexpected": true,
	"not": true, "no": true, "denied": true, "refused": true, "timeout": true, "unknown": true, "missing": true,
	"unsupported": true, "exceeds": true, "reserved": true, "is": true, "the": true, "of": true, "to": true,
	"found": true, "unauthorized": true, "forbidden": true, "request": true, "server": true, "such": true,
	"file": true, "directory": true, "connection": true, "expected": true, "read": true, "write": true, "open": true,
	"permission": true, "dial": true, "exceeded": true, "deadline": true, "internal": true, "unavailable": true,
	"too": true, "many": true, "requests": true, "entity": true, "unprocessable": true, "and": true, "or": true,
}

// HasEnglish reports whether text has English prose outside what is quoted or in brackets (names, codes,
// originals kept for an administrator): the test of a staff-facing text.
func HasEnglish(text string) bool { return hasEnglish(text) }

func hasEnglish(text string) bool {
	for _, tok := range strings.Fields(stripQuoted(text)) {
		if strings.ContainsAny(tok, `/\._@`) {
			continue // a path, a file or folder name ("failed/", ".error.txt"), an address
		}
		for _, w := range strings.FieldsFunc(tok, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }) {
			if englishWords[strings.ToLower(w)] {
				return true
			}
		}
	}
	return false
}

// stripQuoted removes what is in brackets or quotes, where names and original texts stand.
func stripQuoted(s string) string {
	var b strings.Builder
	depth := 0
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '(' || r == '[':
			depth++
		case (r == ')' || r == ']') && depth > 0:
			depth--
		case depth > 0:
		case r == '«':
			quote = '»'
		case r == '"':
			quote = '"'
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
