// Package emulator is an in-process stand-in for BAS Малий бізнес's standard OData interface, for
// obmin's tests and demo, as checkbox/emulator is for Checkbox. An *Emulator is an http.Handler that
// serves $metadata generated from its model (model.txt, checked against the reference EDMX of the
// configuration by model_test.go), validates every request against that model, and applies the rules
// of the document «Отчет о розничных продажах» as the configuration's modules do: СуммаДокумента = Σ
// Запасы.Всего on every write (unless in data-load mode), the fill checks on posting (required fields,
// Количество ≠ 0, card payments ≤ the total, the shift checks of a fiscal-register till), full posting
// only for a shift status that allows it, and the stock balance (AccumulationRegister.Запасы) moved by
// posted reports. docs/bas-odata.md says where each rule comes from.
//
// Where a real base's behaviour is not known the emulator takes the strict reading (see validate.go):
// a client that copes with it does not lean on a base's leniency. Faults (5xx from a proxy or from 1C,
// lock conflicts, dropped connections, answers lost after the write, outages) are injected with
// InjectFault or over the admin API (admin.go, with a typed AdminClient).
//
// It imports basodata (the document's shape), commerceml (the goods it is seeded with) and internal/emuadmin; only tests, the
// demo and `obmin bas-emulator` use it.
package emulator
