// Command lab-pause is the lab's pod sandbox ("pause") image: it holds the pod's namespaces open,
// reaps any orphaned children, and exits on SIGTERM or SIGINT. It is static, so it runs on an empty base.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			return
		}
		// As PID 1 of a shared PID namespace, orphans are ours to reap.
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
