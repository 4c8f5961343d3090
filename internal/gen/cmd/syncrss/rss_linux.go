package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// watchPeakRSS follows the peak resident set size of process pid (VmHWM, in KiB) until it ends; the
// function it returns stops the watch and gives the highest value seen.
//
// Not the child's rusage maxrss: Go starts a child with vfork, and at exec Linux records the high-water
// mark of the memory the child shared with its parent (this program, which holds the emulator's whole
// catalogue) into the child's maxrss. VmHWM belongs to the memory obmin's own image mapped after exec.
func watchPeakRSS(pid int) func() int64 {
	var mu sync.Mutex
	var peak int64
	read := func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return false
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
				kib, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))), 10, 64)
				if err == nil {
					mu.Lock()
					peak = max(peak, kib)
					mu.Unlock()
				}
			}
		}
		return true
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for read() {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}
