package exchange_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/exchange"
	"obmin/internal/demo"
	"obmin/sftpdir"
	"obmin/sftpdir/sftptest"
	"obmin/watch"
)

// sftpRig is the end-to-end rig with BAS's folders on an SFTP server on loopback: the server serves the
// rig's local folders, so the test plays BAS with the os package while obmin sees only SFTP.
type sftpRig struct {
	*rig
	srv  *sftptest.Server
	conn *sftpdir.Conn
}

func newSFTPRig(t *testing.T, kind sftptest.Kind) *sftpRig {
	t.Helper()
	r := newRig(t, nil)
	srv := sftptest.Start(t, kind, filepath.Dir(r.export))
	conn, err := sftpdir.New(sftpdir.Config{
		Address: srv.Addr, User: sftptest.User, Password: sftptest.Password, PrivateKey: srv.ClientKey,
		HostKeyFingerprint: srv.Fingerprint(), DialTimeout: 5 * time.Second, KeepAlive: time.Second,
		MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	src := conn.Source(filepath.ToSlash(r.export))
	log := logrus.New()
	log.SetOutput(io.Discard)
	w, err := watch.New(watch.Config{Source: src, Interval: 10 * time.Millisecond, MinAge: time.Millisecond, Logger: logrus.NewEntry(log), OnList: r.runs.Observe})
	if err != nil {
		t.Fatal(err)
	}
	r.agent.Source, r.agent.Watcher = src, w

	r.agent.Sales.Cfg.Out = conn.Target(filepath.ToSlash(filepath.Dir(r.orders)))
	// The drops below are BAS's runs too; the orders stay in the file for the counts.
	r.agent.Sales.Cfg.KeepRuns = 1000
	return &sftpRig{rig: r, srv: srv, conn: conn}
}

// passUntil runs `obmin once` passes until done says the work arrived, tolerating the failures a cut
// connection causes (each is reported and retried, as the service's next tick would).
func (r *sftpRig) passUntil(t *testing.T, what string, done func() bool) {
	t.Helper()
	for i := 0; i < 30; i++ {
		// Each `obmin once` is a new process with a new watcher. (One Agent's Once called again keeps its
		// watcher, whose first scan may return a drop the previous pass saw settle; Once discards what its
		// first scan returns.)
		w, err := watch.New(watch.Config{Source: r.agent.Source, Interval: 10 * time.Millisecond, MinAge: time.Millisecond, OnList: r.runs.Observe})
		if err != nil {
			t.Fatal(err)
		}
		r.agent.Watcher = w
		err = r.agent.Once(context.Background(), 5*time.Millisecond)
		if err == nil && done() {
			return
		}
		if err != nil {
			t.Logf("%s, pass %d: %v", what, i, err)
		}

	}
	t.Fatalf("%s: not done after 30 passes", what)
}

func (r *sftpRig) spoolCount(state string) int {
	counts, err := r.spool.Counts()
	if err != nil {
		r.t.Fatal(err)
	}
	return counts[state]
}

// TestSFTPExchange: a drop placed in an SFTP folder reaches Checkbox and the orders file comes back to
// the SFTP folder; connections cut at many points in either direction lose nothing and duplicate nothing.
func TestSFTPExchange(t *testing.T) {
	for _, kind := range []sftptest.Kind{sftptest.PkgSFTP, sftptest.OpenSSH} {
		t.Run(string(kind), func(t *testing.T) {
			r := newSFTPRig(t, kind)
			r.drop(demo.Books, time.Now())
			r.pass()
			if n := len(r.emu.Goods()); n != len(demo.Books)-1 {
				t.Fatalf("Checkbox holds %d goods after an SFTP drop, want %d", n, len(demo.Books)-1)
			}
			rnd := rand.New(rand.NewPCG(5, 6))
			made, err := r.emu.GenerateSales(rnd, 12, 3)
			if err != nil {
				t.Fatal(err)
			}
			r.pass()
			r.checkOrders(t, salesIn(made))

			// BAS side → obmin: the connection is cut while the watcher lists or obmin copies a drop.
			for i, cut := range []int64{200, 4000, 20000, 40000} {
				books := append([]demo.Book(nil), demo.Books...)
				books[2].Price = fmt.Sprintf("%d.00", 300+i)
				before, done := r.goodsWrites(), r.spoolCount("done")
				r.dropAt(t, books, time.Now().Add(time.Duration(i+1)*time.Minute))
				cuts := r.srv.Cuts()
				r.srv.CutAfter(cut)
				r.passUntil(t, fmt.Sprintf("drop with a cut after %d bytes", cut), func() bool { return r.spoolCount("done") > done })
				if r.srv.Cuts() != cuts+1 {
					t.Errorf("the connection was not cut after %d bytes", cut)
				}
				if n := r.goodsWrites() - before; n != 1 {
					t.Errorf("cut after %d bytes: %d goods writes for one changed price", cut, n)
				}
				if g, _ := r.emu.GoodByCode(books[2].Article); g.Price != int64(300+i)*100 {
					t.Errorf("cut after %d bytes: price %d, want %d", cut, g.Price, (300+i)*100)
				}
				if n := r.spoolCount("failed"); n != 0 {
					t.Fatalf("cut after %d bytes: %d failed drops", cut, n)
				}
			}

			// obmin → BAS side: the connection is cut while the orders file goes out.
			// Sales first reads the orders file (size s) to skip an unchanged write, then uploads the new
			// one: cuts land in the read (retried inside), the upload, and the verification after it.
			for _, part := range []float64{0.2, 1.1, 1.6, 2.3} {
				st, err := os.Stat(r.orders)
				if err != nil {
					t.Fatal(err)
				}
				cut := int64(float64(st.Size()) * part)
				more, err := r.emu.GenerateSales(rnd, 6, 2)
				if err != nil {
					t.Fatal(err)
				}
				made = append(made, more...)
				cuts := r.srv.Cuts()
				r.srv.CutAfter(cut)
				if _, err := r.agent.PullReceipts(context.Background()); err != nil {
					t.Logf("pull with a cut after %d bytes: %v", cut, err)
				}
				if r.srv.Cuts() != cuts+1 {
					t.Errorf("the connection was not cut after %d bytes", cut)
				}
				r.checkOrdersParse(t) // old or new, never half a file
				r.passUntil(t, fmt.Sprintf("orders with a cut after %d bytes", cut), func() bool { return len(r.ordersFile()) == salesIn(made) })
				r.checkOrders(t, salesIn(made))
			}
		})
	}
}

// salesIn counts the sales among receipts: a return is no order of its own.
func salesIn(rs []checkbox.Receipt) int {
	n := 0
	for _, r := range rs {
		if r.Type == checkbox.ReceiptSell {
			n++
		}
	}
	return n
}

// TestSFTPNeverItsOwnEcho: the orders file in the export folder on the SFTP server, as the old example
// configuration had it, is never a drop or BAS's confirmation.
func TestSFTPNeverItsOwnEcho(t *testing.T) {
	r := newSFTPRig(t, sftptest.PkgSFTP)
	r.orders = filepath.Join(r.export, "orders.xml")
	r.agent.Sales.Cfg.Out = r.conn.Target(filepath.ToSlash(r.export))
	r.agent.Own = exchange.NewOwnFiles("orders.xml")
	r.drop(demo.Books, time.Now())
	r.pass()
	if _, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.agent.PullReceipts(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(r.orders)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.export, demo.FolderName, "orders-copy.xml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		r.pass()
	}
	st, err := r.agent.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Receipts[exchange.StateConfirmed] != 0 || st.Receipts[exchange.StatePending] != 1 || st.Spool["failed"] != 0 {
		t.Errorf("obmin took its own file over SFTP: receipts %v, spool %v", st.Receipts, st.Spool)
	}
}

// dropAt writes a drop with its files' mtimes at at: SFTP carries mtimes in whole seconds, and BAS's
// exports are minutes apart, not within one second as a test's would be.
func (r *sftpRig) dropAt(t *testing.T, books []demo.Book, at time.Time) {
	t.Helper()
	r.drop(books, at)
	for _, name := range []string{"import.xml", "offers.xml"} {
		if err := os.Chtimes(filepath.Join(r.export, demo.FolderName, name), at, at); err != nil {
			t.Fatal(err)
		}
	}
}

// checkOrders: the orders file in the SFTP folder holds want documents, each receipt once.
func (r *sftpRig) checkOrders(t *testing.T, want int) {
	t.Helper()
	docs := r.ordersFile()
	seen := map[string]int{}
	for _, d := range docs {
		seen[d.ID]++
		if seen[d.ID] > 1 {
			t.Errorf("receipt %s is in the orders file twice", d.ID)
		}
	}
	if len(docs) != want {
		t.Fatalf("orders file holds %d documents, want %d", len(docs), want)
	}
	st, err := r.agent.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Receipts[exchange.StatePending] != want {
		t.Errorf("pending receipts %v, want %d", st.Receipts, want)
	}
}

// checkOrdersParse: whatever is at the orders file's name is a whole document.
func (r *sftpRig) checkOrdersParse(t *testing.T) {
	t.Helper()
	r.ordersFile()
}
