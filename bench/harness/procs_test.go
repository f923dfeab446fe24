package harness

import (
	"context"
	"os/exec"
	"strings"
	"testing"
)

func TestProcsStopAll(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep(1)")
	}
	var ps Procs
	dir := t.TempDir()
	// A shell waiting on a child of its own, and a plain process.
	p, err := ps.Start("group", dir, "", "", []string{"sh", "-c", sleep + " 300 & wait"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ps.Start("single", dir, "", "", []string{sleep, "300"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps.StopAll()
	for _, proc := range []*Proc{p, q} {
		if !proc.Exited() {
			t.Errorf("%s still running after StopAll", proc.Name)
		}
	}
	ps.StopAll() // nothing left: harmless
}

func TestWaitReadyReportsAnEarlyExit(t *testing.T) {
	var ps Procs
	defer ps.StopAll()
	p, err := ps.Start("failing", t.TempDir(), "", "", []string{"sh", "-c", "echo 'listen: address in use' >&2; exit 3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitReady(context.Background(), addr, "", defaultTestTimeout)
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "address in use") {
		t.Errorf("WaitReady = %v, want an early-exit error quoting the process's output", err)
	}
}

func TestFreeAddrIsLoopback(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Errorf("FreeAddr = %q, want 127.0.0.1 with a port", addr)
	}
}
