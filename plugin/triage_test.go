package plugin

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/triage"
)

const veleroLog = `time="2026-11-21T02:00:00Z" level=info msg="Validating BackupStorageLocation" backup-storage-location=velero/default controller=backup-storage-location
time="2026-11-21T02:00:01Z" level=error msg="fail to validate backup store" backup-storage-location=velero/default controller=backup-storage-location error="rpc error: code = Unknown desc = GET https://backupsa01.blob.core.windows.net/velero?sig=TOPSECRETSIG\nRESPONSE 404: 404 The specified container does not exist.\nERROR CODE: ContainerNotFound"
time="2026-11-21T02:00:01Z" level=info msg="BackupStorageLocation is invalid, marking as unavailable" backup-storage-location=velero/default controller=backup-storage-location
`

func writeLog(t *testing.T, name, content string, compress bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	data := []byte(content)
	if compress {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write(data)
		w.Close()
		data = b.Bytes()
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTriageFiles(t *testing.T) {
	plain := writeLog(t, "velero.log", veleroLog, false)
	gz := writeLog(t, "velero.log.gz", veleroLog, true)
	healthy := writeLog(t, "ok.log", `time="2026-11-21T02:00:00Z" level=info msg="BackupStorageLocations is valid, marking as available" backup-storage-location=velero/default`+"\n", false)
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		want     []string
		never    []string
	}{
		{"plain file", []string{"--file", plain}, "", exitcode.Findings, []string{"Read 3 lines from file " + plain, "container-not-found", "az storage container create --account-name backupsa01 --name velero", "affects: bsl/velero/default"}, []string{"TOPSECRETSIG"}},
		{"a saved log's fixes name its own namespace", []string{"--file", plain}, "", exitcode.Findings, []string{"aksbackup bsl -n velero --wait-available"}, []string{"-n dataprotection-microsoft"}},
		{"-n wins over the log's namespace", []string{"--file", plain, "-n", "dataprotection-microsoft"}, "", exitcode.Findings, []string{"aksbackup bsl -n dataprotection-microsoft --wait-available"}, []string{"-n velero"}},
		{"gzip file", []string{"-f", gz}, "", exitcode.Findings, []string{"container-not-found"}, nil},
		{"stdin", []string{"--file", "-"}, veleroLog, exitcode.Findings, []string{"Read 3 lines from standard input", "container-not-found"}, nil},
		{"healthy log", []string{"--file", healthy}, "", 0, []string{"No known root cause found.", "no problems found"}, nil},
		{"missing file", []string{"--file", filepath.Join(dir, "nope.log")}, "", exitcode.InvalidInput, []string{"cannot read --file", "no such file or directory"}, nil},
		{"directory", []string{"--file", dir}, "", exitcode.InvalidInput, []string{"is a directory"}, nil},
		{"previous with file", []string{"--file", plain, "--previous"}, "", exitcode.InvalidInput, []string{"cannot be combined with --file"}, nil},
		{"stdin twice", []string{"--file", "-", "--file", "-"}, "", exitcode.InvalidInput, []string{"read only once"}, nil},
		{"catalog", []string{"--catalog"}, "", 0, []string{"wi-not-injected", "storage-account-read-denied", "info"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeFactory{client: unwiredCluster(true)}
			out, errOut, err := run(t, f, tt.stdin, append([]string{"triage"}, tt.args...)...)
			expectRun(t, out, errOut, err, tt.wantCode, tt.want, tt.never)
		})
	}
}

// TestTriageJSONContract pins the documented -o json shape.
func TestTriageJSONContract(t *testing.T) {
	path := writeLog(t, "velero.log", veleroLog, false)
	out, _, err := run(t, &fakeFactory{client: unwiredCluster(true)}, "", "triage", "--file", path, "-o", "json")
	if exitcode.Code(err) != exitcode.Findings {
		t.Fatalf("exit %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["source"] != "file "+path || doc["linesRead"] != float64(3) {
		t.Errorf("header %v %v", doc["source"], doc["linesRead"])
	}
	fs := doc["findings"].([]any)
	first := fs[0].(map[string]any)
	for _, key := range []string{"id", "severity", "title", "count", "firstSeen", "lastSeen", "evidence", "remediation"} {
		if _, ok := first[key]; !ok {
			t.Errorf("finding lacks %q: %v", key, first)
		}
	}
	if first["id"] != "container-not-found" || first["severity"] != "error" || first["firstSeen"] != "2026-11-21T02:00:01Z" {
		t.Errorf("first finding %v", first)
	}
	if ev := first["evidence"].([]any); len(ev) == 0 || len(ev) > 3 || strings.Contains(out, "TOPSECRETSIG") {
		t.Errorf("evidence %v", ev)
	}
}

// TestTriageCluster reads pod state and BSL messages besides the logs (the fake's logs are fixed text).
func TestTriageCluster(t *testing.T) {
	client := unwiredCluster(true)
	ns := "dataprotection-microsoft"
	pod, err := client.CoreV1().Pods(ns).Get(context.Background(), "dataprotection-microsoft-kubernetes-agent-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "velero", RestartCount: 4,
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}}}}
	if _, err := client.CoreV1().Pods(ns).UpdateStatus(context.Background(), pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f := &fakeFactory{client: client, dyn: dynamicWith(t, location("default", "Unavailable", roleMessage, metav1.Now().Time))}
	out, errOut, err := run(t, f, "", "triage", "-o", "json")
	if exitcode.Code(err) != exitcode.Findings {
		t.Fatalf("exit %v\n%s%s", err, out, errOut)
	}
	var rep triage.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range rep.Findings {
		got[f.ID] = true
	}
	if !got["plugin-oom"] || !got["blob-data-role-missing"] || rep.Findings[len(rep.Findings)-1].ID != "bsl-unavailable" {
		t.Errorf("findings %+v", rep.Findings)
	}
	if !strings.Contains(rep.Source, "pod dataprotection-microsoft/dataprotection-microsoft-kubernetes-agent-1 container velero") {
		t.Errorf("source %q", rep.Source)
	}
}

func TestTriageClusterNamespaceMissing(t *testing.T) {
	f := &fakeFactory{client: unwiredCluster(true), dyn: dynamicWith(t), explicitNS: "nowhere"}
	_, _, err := run(t, f, "", "triage")
	if exitcode.Code(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "is the product installed in namespace nowhere") {
		t.Fatalf("%v", err)
	}
}

// --max-pod-logs bounds the logs read per workload and says how many replicas were left out; a
// negative bound is bad input.
func TestTriageMaxPodLogs(t *testing.T) {
	client := unwiredCluster(true)
	ns, agent := "dataprotection-microsoft", "dataprotection-microsoft-kubernetes-agent"
	for _, name := range []string{agent + "-2", agent + "-3"} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": agent}}}
		if _, err := client.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	f := &fakeFactory{client: client, dyn: dynamicWith(t)}
	out, errOut, _ := run(t, f, "", "triage", "--max-pod-logs", "1")
	if want := "read the logs of 1 replicas of " + agent + " and the state of all 3"; !strings.Contains(out+errOut, want) {
		t.Errorf("no %q in:\n%s%s", want, out, errOut)
	}
	out, errOut, _ = run(t, f, "", "triage", "--max-pod-logs", "0")
	if strings.Contains(out+errOut, "read the logs of") {
		t.Errorf("--max-pod-logs 0 left logs out:\n%s%s", out, errOut)
	}
	if _, errOut, err := run(t, f, "", "triage", "--max-pod-logs", "-1"); exitcode.Code(err) != exitcode.InvalidInput || !strings.Contains(errOut+err.Error(), "--max-pod-logs must be 0 (all) or more") {
		t.Errorf("exit %d (%v)\n%s", exitcode.Code(err), err, errOut)
	}
}
