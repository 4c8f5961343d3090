// Package inspect is `obmin inspect`: it tells what files and export folders hold without touching any
// state (format, encoding, counts, the first problems with file, line, element and value) and, for a
// folder, how the service would apply each drop in it. It judges with the service's own rules: the drop
// rules of package drop and the price rules and default mapping of package exchange, so the plan it
// announces is the one the service carries out (TestInspectPlanIsTheService).
//
// It imports the readers (commerceml, feed), drop and exchange; nothing imports it but cmd/obmin.
package inspect
