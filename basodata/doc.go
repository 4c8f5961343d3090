// Package basodata talks to BAS Малий бізнес (1C:Enterprise 8) through its standard OData interface: it
// reads and checks $metadata, looks catalogue items up, and writes and posts the document «Отчет о
// розничных продажах» (Document_ОтчетОРозничныхПродажах), one per cash register shift.
//
// What the code relies on, and which of it is confirmed by captures of real bases or read in the
// configuration's code rather than inferred, is in docs/bas-odata.md; comments cite its sections.
//
// Calls that can be repeated without harm (reads, PATCH of a whole report, Post, Unpost) are retried
// with back-off on 5xx answers that are not 1C's own refusals, on lock conflicts and on network
// failures. A create is never repeated blindly: Sync looks the report up first, by obmin's Ref_Key and
// by a marker in Комментарий, so a report is made once even when an answer is lost. The password is
// sent only in the Authorization header and never appears in a log record or an error.
//
// It imports only internal/quietlog of obmin (the logging convention).
package basodata
