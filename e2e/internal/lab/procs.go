package lab

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start launches a detached process in its own session, logging to <dir>/logs/<name>.log.
func start(dir, name, bin string, args ...string) (int, error) {
	return startEnv(dir, name, nil, bin, args...)
}

// startEnv is start with variables added to the environment.
func startEnv(dir, name string, env []string, bin string, args ...string) (int, error) {
	logFile, err := os.OpenFile(filepath.Join(dir, "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting %s: %w", name, err)
	}
	// Reap it if it dies while we still run, so an early crash is visible as a dead pid.
	go func() { _ = cmd.Wait() }()
	return cmd.Process.Pid, nil
}

func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// stopAll sends SIGTERM to each process group, then SIGKILL to whatever is left after a grace period.
func stopAll(pids map[string]int, grace time.Duration) []string {
	names := make([]string, 0, len(pids))
	for n := range pids {
		names = append(names, n)
	}
	sort.Strings(names)
	var stopped []string
	for _, n := range names {
		if pid := pids[n]; alive(pid) {
			_ = syscall.Kill(-pid, syscall.SIGTERM)
			stopped = append(stopped, n)
		}
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		any := false
		for _, pid := range pids {
			if alive(pid) && !isZombie(pid) {
				any = true
			}
		}
		if !any {
			return stopped
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, pid := range pids {
		if alive(pid) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
	return stopped
}

func isZombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	// Field 3 is the state; Z is a zombie waiting for its parent.
	for i := 0; i < len(data); i++ {
		if data[i] == ')' && i+2 < len(data) {
			return data[i+2] == 'Z'
		}
	}
	return false
}
