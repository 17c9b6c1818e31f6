//go:build linux

package pluto

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"goswan/routing"
)

// TestKernelErrorReachesWhack: the initiator's real kernel refuses its SA
// (a host without ESP; --use-netkey in a network namespace of its own).
// whack --initiate ends with RC_INTERNALERR and the kernel's words, and
// nothing — no state, no policy, not the SPI's larval state — is left in
// that kernel; the responder (nostack) is told and deletes its SA. Where
// the kernel has ESP (the VM) there is nothing to refuse: skipped, and
// TestKernelRefusesSA covers the logic with a fake kernel.
func TestKernelErrorReachesWhack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("xfrm: needs root for a network namespace")
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Skipf("xfrm: %v", err)
	}
	ns, err := netns.New()
	if serr := netns.Set(orig); serr != nil {
		t.Fatalf("cannot return to the test's namespace: %v", serr)
	}
	orig.Close()
	runtime.UnlockOSThread()
	if err != nil {
		t.Skipf("xfrm: cannot create a network namespace: %v", err)
	}
	defer ns.Close()
	x, err := routing.NewXFRMAt(ns)
	if err != nil {
		t.Skipf("xfrm: %v", err)
	}
	perr := x.ProbeESP()
	if perr == nil {
		x.Close()
		t.Skip("xfrm: this kernel has ESP: it does not refuse the SA (TestKernelRefusesSA fakes it)")
	}
	if !errors.Is(perr, routing.ErrNoESP) {
		x.Close()
		t.Fatal(perr)
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()

	west := startDaemon(t, "127.0.0.1", psk, 0)
	east := startDaemon(t, "127.0.0.2", psk, 0)
	west.d.Do(func() { west.d.kernel = x })
	// Host to host: the default updown has no route to add.
	for _, td := range []*testDaemon{west, east} {
		if out, code := td.whack(t, "--name", "west-east", "--host", west.addr, "--ikeport", fmt.Sprint(west.port),
			"--to", "--host", east.addr, "--ikeport", fmt.Sprint(east.port), "--psk", "--encrypt", "--tunnel"); code != 0 {
			t.Fatalf("add: %d\n%s", code, out)
		}
	}
	out, code := west.whack(t, "--name", "west-east", "--initiate")
	t.Logf("whack --initiate (exit %d):\n%s", code, out)
	if code != 32 || !strings.Contains(out, `032 "west-east" #2: state transition function for STATE_QUICK_I1 had internal error: kernel: cannot add ESP SA 0x`) ||
		!strings.Contains(out, "protocol not supported (no ESP in this kernel?)") {
		t.Errorf("whack did not get the kernel's error: exit %d", code)
	}
	states, _ := h.XfrmStateList(netlink.FAMILY_ALL)
	pols, _ := h.XfrmPolicyList(netlink.FAMILY_ALL)
	if len(states) != 0 || len(pols) != 0 {
		t.Errorf("left in the kernel: states %v, policies %v", states, pols)
	}
	if st, ok := waitStatus(t, east, 5*time.Second, func(s string) bool { return !strings.Contains(s, "STATE_QUICK") }); !ok {
		t.Errorf("the responder kept its SA:\n%s", st)
	}
	if n := east.d.kernel.(*routing.NoStack).Installed(); n != 0 {
		t.Errorf("the responder's kernel holds %d SA pairs", n)
	}
}
