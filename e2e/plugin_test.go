package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

// result of one `kubectl aksbackup ...` run.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\n--- stdout\n" + r.stdout + "\n--- stderr\n" + r.stderr
}

// pluginBinDir is where `make build` put kubectl-aksbackup.
func pluginBinDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("AKSBACKUP_BIN_DIR")
	if dir == "" {
		dir = filepath.Join("..", "bin")
	}
	dir, _ = filepath.Abs(dir)
	if _, err := os.Stat(filepath.Join(dir, "kubectl-aksbackup")); err != nil {
		t.Fatalf("kubectl-aksbackup not built in %s: run `make build` (or `make e2e`)", dir)
	}
	return dir
}

// kubectl runs the lab's kubectl with only the plugin's bin directory and the lab's tools on PATH and
// an isolated HOME, so the plugin is found the way a user's kubectl finds it.
func kubectl(t *testing.T, lab *labtest.Lab, args ...string) result {
	t.Helper()
	return kubectlEnv(t, lab, nil, args...)
}

// kubectlEnv is kubectl with extra environment (the Azure doubles' settings).
func kubectlEnv(t *testing.T, lab *labtest.Lab, extraEnv []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	kubectlPath := filepath.Join(lab.BinDir, "kubectl")
	cmd := exec.CommandContext(ctx, kubectlPath, args...)
	home := t.TempDir()
	cmd.Env = []string{
		"PATH=" + pluginBinDir(t) + ":" + lab.BinDir + ":/usr/bin:/bin",
		"HOME=" + home,
		"KUBECONFIG=" + lab.Kubeconfig,
		"NO_COLOR=1",
	}
	// make test collects the finding IDs the plugin produces here (internal/catalog/cmd/findings-coverage).
	if log := os.Getenv("AKSBACKUP_FINDINGS_LOG"); log != "" {
		cmd.Env = append(cmd.Env, "AKSBACKUP_FINDINGS_LOG="+log)
	}
	cmd.Env = append(cmd.Env, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin = strings.NewReader("")
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("running kubectl %v: %v", args, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// aksbackup runs `kubectl aksbackup args...`.
func aksbackup(t *testing.T, lab *labtest.Lab, args ...string) result {
	t.Helper()
	return kubectl(t, lab, append([]string{"aksbackup"}, args...)...)
}

func TestPluginIsFoundByKubectl(t *testing.T) {
	lab := labtest.Load(t)
	list := kubectl(t, lab, "plugin", "list")
	if list.code != 0 || !strings.Contains(list.stdout, filepath.Join(pluginBinDir(t), "kubectl-aksbackup")) {
		t.Fatalf("kubectl plugin list does not show the plugin:\n%s", list)
	}
	v := aksbackup(t, lab, "version", "-o", "json")
	var info struct{ Version, Platform string }
	if v.code != 0 || json.Unmarshal([]byte(v.stdout), &info) != nil || info.Version == "" {
		t.Fatalf("kubectl aksbackup version -o json:\n%s", v)
	}
	// kubectl's plugin completion calls kubectl_complete-aksbackup.
	comp := kubectl(t, lab, "__complete", "aksbackup", "identity", "")
	if !strings.Contains(comp.stdout, "status") || !strings.Contains(comp.stdout, "configure") {
		t.Fatalf("plugin completion through kubectl:\n%s", comp)
	}
}
