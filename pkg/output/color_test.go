//go:build linux

package output

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY returns the terminal side of a new pseudo-terminal, so that color is tested on a real TTY.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var unlock int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Skipf("unlockpt: %v", errno)
	}
	var n uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Skipf("ptsname: %v", errno)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening the terminal side: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty
}

func TestColorEnabledFollowsNoColorOrg(t *testing.T) {
	tty := openPTY(t)
	tests := []struct {
		name      string
		noColor   *string
		term      string
		wantColor bool
	}{
		{name: "terminal", term: "xterm-256color", wantColor: true},
		{name: "NO_COLOR=1", noColor: ptr("1"), term: "xterm-256color"},
		{name: "NO_COLOR=false still disables (any non-empty value)", noColor: ptr("false"), term: "xterm"},
		{name: "empty NO_COLOR is ignored", noColor: ptr(""), term: "xterm", wantColor: true},
		{name: "TERM=dumb", term: "dumb"},
		{name: "no TERM at all", term: "", wantColor: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TERM", tc.term)
			t.Setenv("NO_COLOR", "")
			if tc.noColor == nil {
				os.Unsetenv("NO_COLOR")
			} else {
				os.Setenv("NO_COLOR", *tc.noColor)
			}
			if got := ColorEnabled(tty); got != tc.wantColor {
				t.Errorf("ColorEnabled(terminal) = %v, want %v", got, tc.wantColor)
			}
			if ColorEnabled(&bytes.Buffer{}) {
				t.Error("color on a buffer, which is no terminal")
			}
		})
	}
}

func ptr(s string) *string { return &s }
