package staff

// words are the page's words: Ukrainian, then English. What obmin wrote elsewhere (reasons, reports) stays
// in Ukrainian in both.
var words = map[string][2]string{
	"title":         {"obmin — сторінка персоналу", "obmin — staff page"},
	"lang":          {"English", "Українська"},
	"at":            {"Стан на", "As of"},
	"emulated":      {"УВАГА: Checkbox — вбудований ЕМУЛЯТОР, справжня каса не отримує нічого.", "WARNING: Checkbox is the built-in EMULATOR; no real cash register receives anything."},
	"unavailable":   {"Стан недоступний:", "Status unavailable:"},
	"links":         {"Зв'язок", "Connections"},
	"link.up":       {"відповідає", "answers"},
	"link.unknown":  {"ще не зверталися", "not called yet"},
	"link.down":     {"не відповідає з", "not answering since"},
	"spool":         {"Папки обміну", "Spool folders"},
	"spool.inbox":   {"чекають обробки (inbox)", "waiting (inbox)"},
	"spool.proc":    {"обробляються (processing)", "being applied (processing)"},
	"spool.done":    {"оброблено (done)", "applied (done)"},
	"spool.failed":  {"з помилками (failed)", "failed"},
	"failed":        {"Пакети з помилками (failed/)", "Failed drops (failed/)"},
	"failed.none":   {"Немає.", "None."},
	"failed.do":     {"Виправте причину (налаштування obmin або вивантаження в BAS), потім поверніть пакет в обробку.", "Fix the cause (obmin's settings or BAS's export), then put the drop back."},
	"failed.empty":  {"Файли цього пакета не взято: вивантажте з BAS знову.", "This drop's files were never taken: export again from BAS."},
	"btn.replay":    {"Повернути в обробку", "Put back"},
	"waiting":       {"Вивантаження BAS, що ще не взято", "BAS exports not taken yet"},
	"drops":         {"Останні пакети BAS", "Recent BAS drops"},
	"col.drop":      {"Пакет", "Drop"},
	"col.state":     {"Стан", "State"},
	"col.when":      {"Коли", "When"},
	"col.reason":    {"Причина", "Reason"},
	"col.receipt":   {"Чек", "Receipt"},
	"col.sum":       {"Сума, грн", "Sum, UAH"},
	"col.todo":      {"Що зробити", "What to do"},
	"col.job":       {"Завдання", "Job"},
	"col.result":    {"Результат", "Result"},
	"col.who":       {"Хто", "Who"},
	"col.action":    {"Дія", "Action"},
	"held":          {"Затримані чеки", "Held receipts"},
	"held.none":     {"Немає.", "None."},
	"held.do":       {"Вивантажте з BAS товар, якого бракує (з артикулом, як код у Checkbox), і натисніть «Передати знову»; або «Зняти», якщо чек внесете в BAS вручну.", "Export the missing good from BAS (its article as the Checkbox code), then «Send again»; or «Drop» if you will enter the receipt in BAS by hand."},
	"btn.release":   {"Передати знову", "Send again"},
	"btn.drop":      {"Зняти (внесу вручну)", "Drop (enter by hand)"},
	"reports":       {"Затримані звіти про роздрібні продажі", "Held retail sales reports"},
	"runs":          {"Останні запити чеків і передачі", "Last pulls and deliveries"},
	"orders":        {"Файл замовлень BAS", "BAS orders file"},
	"orders.in":     {"чеків у файлі замовлень", "receipts in the orders file"},
	"orders.runs":   {"обмінів BAS за добу", "BAS exchange runs in 24 h"},
	"orders.last":   {"останній помічено", "last seen"},
	"next":          {"Наступні запуски", "Next scheduled runs"},
	"next.none":     {"Розклад діє, коли obmin працює як служба (obmin run).", "Schedules run while obmin runs as a service (obmin run)."},
	"rec":           {"Остання звірка BAS і Checkbox", "Last reconciliation of BAS and Checkbox"},
	"rec.none":      {"Звірки ще не було.", "No reconciliation yet."},
	"rec.clean":     {"Розбіжностей немає: BAS і Checkbox збігаються.", "No differences: BAS and Checkbox agree."},
	"rec.found":     {"Розбіжностей:", "Differences:"},
	"rec.left":      {"після виправлення лишилося:", "left after repair:"},
	"rec.for":       {"за", "for"},
	"rec.report":    {"Повний звіт", "Full report"},
	"rec.running":   {"Звірка триває за", "Reconciliation running for"},
	"btn.reconcile": {"Звірити знову", "Reconcile again"},
	"btn.repair":    {"Звірити й виправити", "Reconcile and repair"},
	"actions":       {"Дії персоналу", "Staff actions"},
	"confirm":       {"Підтвердження", "Confirm"},
	"btn.yes":       {"Так, виконати", "Yes, do it"},
	"btn.no":        {"Скасувати", "Cancel"},
	"ok":            {"успішно", "ok"},

	"confirm.replay":    {"Повернути пакет %s в обробку?", "Put drop %s back for another try?"},
	"effect.replay":     {"Пакет перейде з failed/ до inbox/ і obmin застосує його знову. Робіть це, коли причину помилки виправлено.", "The drop moves from failed/ to inbox/ and obmin applies it again. Do this once the cause is fixed."},
	"confirm.release":   {"Передати затриманий чек %s знову?", "Send held receipt %s again?"},
	"effect.release":    {"obmin перевірить чек зараз: якщо BAS уже вивантажив його товари, чек піде у файл замовлень.", "obmin checks the receipt now: if BAS has exported its goods, it goes into the orders file."},
	"confirm.drop":      {"Зняти чек %s із затримки?", "Drop held receipt %s?"},
	"effect.drop":       {"obmin більше не передаватиме цей чек у BAS: внесіть його в BAS вручну.", "obmin will never send this receipt to BAS: enter it in BAS by hand."},
	"confirm.reconcile": {"Звірити BAS і Checkbox за %s?", "Reconcile BAS and Checkbox for %s?"},
	"effect.reconcile":  {"obmin порівняє товари й чеки дня та запише новий звіт; нічого не змінює.", "obmin compares the goods and the day's receipts and writes a new report; it changes nothing."},
	"confirm.repair":    {"Звірити й виправити за %s?", "Reconcile and repair for %s?"},
	"effect.repair":     {"obmin порівняє, надішле в Checkbox товари, що відрізняються від BAS, і передасть у BAS чеки, яких там бракує.", "obmin compares, sends Checkbox the goods that differ from BAS, and offers BAS the receipts it lacks."},

	"done.replay":    {"Пакет %s повернуто в обробку.", "Drop %s put back."},
	"done.release":   {"Чек %s передано у файл замовлень.", "Receipt %s sent to the orders file."},
	"done.still":     {"Чек %s досі затримано: %s", "Receipt %s is still held: %s"},
	"done.drop":      {"Чек %s знято із затримки: внесіть його в BAS вручну.", "Receipt %s dropped: enter it in BAS by hand."},
	"done.reconcile": {"Звірку за %s запущено; оновіть сторінку за хвилину.", "Reconciliation for %s started; reload the page in a minute."},
	"done.busy":      {"Звірка вже триває; звірку за %s не запущено.", "A reconciliation is already running; the one for %s was not started."},
	"done.failed":    {"Не вдалося:", "Failed:"},
	"done.notheld":   {"Чек уже не затримано.", "The receipt is not held any more."},

	"job.drops":          {"пакети BAS", "BAS drops"},
	"job.pull-receipts":  {"запит чеків", "receipts pull"},
	"job.retail-reports": {"звіти про роздрібні продажі", "retail sales reports"},
	"job.retention":      {"прибирання архіву", "archive cleanup"},
	"job.reconcile":      {"звірка", "reconciliation"},
	"job.staff":          {"дія персоналу", "staff action"},

	"state.inbox":      {"чекає", "waiting"},
	"state.processing": {"обробляється", "being applied"},
	"state.done":       {"оброблено", "applied"},
	"state.failed":     {"помилка", "failed"},
	"state.duplicate":  {"повтор", "duplicate"},

	"act.replay":    {"повернути пакет", "put drop back"},
	"act.release":   {"передати чек знову", "send receipt again"},
	"act.drop":      {"зняти чек", "drop receipt"},
	"act.reconcile": {"звірка", "reconcile"},
	"act.repair":    {"звірка з виправленням", "reconcile and repair"},

	"sum.new":     {"нових чеків", "new receipts"},
	"sum.pending": {"у файл", "to the file"},
	"sum.held":    {"затримано", "held"},
	"sum.drops":   {"пакетів", "drops"},
}

// tr is a word in lang; a key without words is itself.
func tr(lang, key string) string {
	w, ok := words[key]
	if !ok {
		return key
	}
	if lang == "en" {
		return w[1]
	}
	return w[0]
}
