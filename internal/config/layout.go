package config

import (
	"path"
	"path/filepath"
	"strings"
)

// The folders' layout (docs/folders.md): BAS's export folder, where its node writes «webdata - <node>»
// and empties it at every run, and the orders file, which obmin writes and BAS reads.

// OrdersInExportDir returns the orders file's path relative to BAS's export folder (slash-separated)
// when it lies inside it: locally (bas.export_dir, bas.orders_file) or on the SFTP server
// (bas.sftp.export_dir, bas.sftp.orders_dir).
func (c *Config) OrdersInExportDir() (rel string, ok bool) {
	name := filepath.Base(c.BAS.OrdersFile)
	if s := c.BAS.SFTP; s != nil {
		exp, dir := path.Clean("/"+s.ExportDir), path.Clean("/"+s.OrdersDir)
		if dir == exp {
			return name, true
		}
		if strings.HasPrefix(dir, strings.TrimSuffix(exp, "/")+"/") {
			return strings.TrimPrefix(dir, strings.TrimSuffix(exp, "/")+"/") + "/" + name, true
		}
		return "", false
	}
	if c.BAS.ExportDir == "" || c.BAS.OrdersFile == "" {
		return "", false
	}
	r, err := filepath.Rel(filepath.Clean(c.BAS.ExportDir), filepath.Clean(c.BAS.OrdersFile))
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
		return "", false
	}
	return filepath.ToSlash(r), true
}

// OwnFilesInExportDir are obmin's files inside the export folder (relative, slash-separated): the
// orders file and the returns list beside it, when they lie there.
func (c *Config) OwnFilesInExportDir() []string {
	rel, ok := c.OrdersInExportDir()
	if !ok {
		return nil
	}
	out := []string{rel}
	if c.Sales.ReturnsFile != "" {
		out = append(out, path.Join(path.Dir(rel), c.Sales.ReturnsFile))
	}
	return out
}

func isBASFolder(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "webdata")
}

// Warnings lists what is allowed but invites trouble: `obmin check` prints them, the service logs them
// at start.
func (c *Config) Warnings() []string {
	var w []string
	if rel, ok := c.OrdersInExportDir(); ok && !strings.Contains(rel, "/") {
		w = append(w, "bas.orders_file lies in BAS's export folder ("+rel+"). obmin recognises its own file there and never takes it "+
			"for an export of BAS, but people and other programs may: give it a folder of its own beside the export folder (docs/folders.md)")
	}
	if c.Sales.Returns == "list" && c.Sales.OrderStatus == "" {
		w = append(w, "sales.order_status is empty: BAS then re-fills every order obmin sends again (and unposts it if posted) on every "+
			"exchange while it is in the file; send a status and map it to «Завершений» in the node's settings (README, BAS set-up)")
	}
	if c.Sales.Returns == "amend" {
		w = append(w, "sales.returns is amend: orders are not completed, so BAS re-fills them (and unposts any posted one) on every "+
			"exchange while they are in the orders file; post them only after they left it (docs/bas-orders.md)")
	}
	if c.Sales.PaymentRequisites {
		w = append(w, "sales.payment_requisites is on: with the exchange node's online-payments option BAS creates a payment for each "+
			"order and may queue a second fiscal receipt for a sale Checkbox has already fiscalised (docs/bas-orders.md)")
	}
	w = append(w, c.basODataWarnings()...)
	return w
}
