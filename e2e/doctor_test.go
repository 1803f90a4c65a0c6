package e2e

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/azurelab"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

type doctorDoc struct {
	Verdict    string `json:"verdict"`
	Summary    string `json:"summary"`
	RootCauses []struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	} `json:"rootCauses"`
	Checks []struct {
		ID        string `json:"id"`
		Status    string `json:"status"`
		BlockedBy string `json:"blockedBy"`
		Wave      int    `json:"wave"`
	} `json:"checks"`
	Waves    int `json:"waves"`
	Requests struct {
		Kubernetes int `json:"kubernetes"`
		Azure      int `json:"azure"`
	} `json:"requests"`
}

func (d doctorDoc) check(id string) (status, blockedBy string) {
	for _, c := range d.Checks {
		if c.ID == id {
			return c.Status, c.BlockedBy
		}
	}
	return "absent", ""
}

// wiredDoctorNamespace is a fixture namespace wired end to end (Azure and cluster) whose BSL Velero
// has validated: the healthy starting point of every fault.
func wiredDoctorNamespace(t *testing.T, lab *labtest.Lab, env []string) string {
	t.Helper()
	ns := lab.NewFixtureNamespace(t, "doctor")
	lab.AzureScenario(t, "wired", ns)
	if r := kubectlEnv(t, lab, env, "aksbackup", "identity", "configure", "-n", ns, "--yes", "--timeout", "3m"); r.code != 0 {
		t.Fatalf("configure:\n%s", r)
	}
	lab.WaitBSLPhase(t, ns, "default", "Available", 2*time.Minute)
	return ns
}

func runDoctor(t *testing.T, lab *labtest.Lab, env []string, args ...string) (doctorDoc, result) {
	t.Helper()
	r := kubectlEnv(t, lab, env, append([]string{"aksbackup", "doctor", "-o", "json"}, args...)...)
	var doc doctorDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("doctor -o json: %v\n%s", err, r)
	}
	return doc, r
}

// TestDoctorFaultMatrix injects one fault at a time into a wired lab namespace, across the cluster,
// Azure and storage, and checks that doctor names exactly the expected root cause first, skips the
// checks that depend on the broken link ("blocked by" it), and exits 1; the healthy lab exits 0 in
// at most 3 waves.
func TestDoctorFaultMatrix(t *testing.T) {
	lab := labtest.Load(t)
	env := lab.AzureEnv(t)
	ns := wiredDoctorNamespace(t, lab, env)
	client := lab.Clientset(t)
	ctx := context.Background()
	agent, agentSA := deployments[1], serviceAccounts[1]

	healthy := func(t *testing.T) {
		t.Helper()
		doc, r := runDoctor(t, lab, env, "-n", ns)
		if r.code != 0 || doc.Verdict != "HEALTHY" {
			t.Fatalf("the wired lab is not healthy:\n%s", r)
		}
		if doc.Waves > 3 {
			t.Errorf("doctor took %d waves, want at most 3", doc.Waves)
		}
		t.Logf("healthy: %s; %d waves, %d Kubernetes and %d ARM requests", doc.Summary, doc.Waves, doc.Requests.Kubernetes, doc.Requests.Azure)
	}
	t.Run("healthy", healthy)
	t.Run("fleet: three contexts, one unreachable", func(t *testing.T) {
		kubeconfig := fleetKubeconfig(t, lab)
		fleetEnv := append(append([]string{}, env...), "KUBECONFIG="+kubeconfig)
		r := kubectlEnv(t, lab, fleetEnv, "aksbackup", "doctor", "-n", ns, "--contexts", "lab-a,lab-b,lab-down", "-o", "json")
		var fleet struct {
			Clusters []struct {
				Context string `json:"context"`
				Verdict string `json:"verdict"`
			} `json:"clusters"`
			Healthy     int `json:"healthy"`
			CouldNotRun int `json:"couldNotRun"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &fleet); err != nil || r.code != 1 {
			t.Fatalf("fleet doctor: %v\n%s", err, r)
		}
		if len(fleet.Clusters) != 3 || fleet.Healthy != 2 || fleet.CouldNotRun != 1 || fleet.Clusters[2].Context != "lab-down" || fleet.Clusters[2].Verdict != "COULD-NOT-RUN" {
			t.Fatalf("fleet rows %+v", fleet)
		}
		text := kubectlEnv(t, lab, fleetEnv, "aksbackup", "doctor", "-n", ns, "--all-contexts")
		if text.code != 1 || strings.Count(text.stdout, "HEALTHY") < 2 || !strings.Contains(text.stdout, "lab-down") || !strings.Contains(text.stdout, "1 could not run") {
			t.Fatalf("fleet table:\n%s", text)
		}
	})

	patch := func(t *testing.T, kind, name, body string) {
		t.Helper()
		var err error
		switch kind {
		case "sa":
			_, err = client.CoreV1().ServiceAccounts(ns).Patch(ctx, name, types.MergePatchType, []byte(body), metav1.PatchOptions{})
		case "deploy":
			_, err = client.AppsV1().Deployments(ns).Patch(ctx, name, types.MergePatchType, []byte(body), metav1.PatchOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	azureFault := func(fault string) func(t *testing.T) {
		return func(t *testing.T) { lab.AzureScenario(t, "wired", ns, fault) }
	}
	azureRestore := func(t *testing.T) { lab.AzureScenario(t, "wired", ns) }
	// doctorFix is the restore of every fault the tool can repair: doctor --fix plans, applies, waits
	// for the BSL and checks again.
	doctorFix := func(t *testing.T) {
		t.Helper()
		r := kubectlEnv(t, lab, env, "aksbackup", "doctor", "-n", ns, "--fix", "--yes", "--bsl-timeout", "2m")
		if r.code != 0 || !strings.Contains(r.stdout, "After:  HEALTHY") || !strings.Contains(r.stdout, "Before: UNHEALTHY") {
			t.Fatalf("doctor --fix did not repair the fault:\n%s", r)
		}
	}

	faults := []struct {
		name    string
		inject  func(t *testing.T)
		want    string
		skipped map[string]string // check → blocked by
		restore func(t *testing.T)
	}{
		{"pod label removed", func(t *testing.T) {
			patch(t, "deploy", agent, `{"spec":{"template":{"metadata":{"labels":{"azure.workload.identity/use":null}}}}}`)
			lab.WaitRollout(t, ns, agent)
		}, "wi-label-missing", map[string]string{"blob-write-probe": "wi-label-missing"}, doctorFix},
		{"client-id annotation removed", func(t *testing.T) {
			patch(t, "sa", agentSA, `{"metadata":{"annotations":{"azure.workload.identity/client-id":null}}}`)
		}, "wi-client-id-missing", nil, doctorFix},
		{"agent scaled to zero", func(t *testing.T) {
			patch(t, "deploy", agent, `{"spec":{"replicas":0}}`)
		}, "backup-server-scaled-down", nil, func(t *testing.T) {
			patch(t, "deploy", agent, `{"spec":{"replicas":1}}`)
			lab.WaitRollout(t, ns, agent)
		}},
		{"OIDC issuer disabled", azureFault("oidc-issuer-disabled"), "oidc-issuer-disabled",
			map[string]string{"federated-credentials": "oidc-issuer-disabled", "blob-write-probe": "oidc-issuer-disabled"}, azureRestore},
		{"workload identity disabled", azureFault("workload-identity-disabled"), "workload-identity-disabled",
			map[string]string{"federated-credentials": "workload-identity-disabled"}, azureRestore},
		{"extension failed", azureFault("extension-failed"), "extension-not-succeeded",
			map[string]string{"federated-credentials": "extension-not-succeeded", "storage-roles": "extension-not-succeeded"}, azureRestore},
		{"credential issuer without trailing slash", azureFault("issuer-no-trailing-slash"), "federated-credential-mismatch", nil, doctorFix},
		{"credential subject in another namespace", azureFault("subject-wrong-namespace"), "federated-credential-mismatch", nil, doctorFix},
		{"credential audience wrong", azureFault("audience-wrong"), "federated-credential-mismatch", nil, doctorFix},
		{"only Storage Account Contributor", azureFault("role-account-contributor-only"), "blob-data-role-missing", nil, doctorFix},
		{"role on a sibling scope", azureFault("role-sibling-scope"), "blob-data-role-missing", nil, doctorFix},
		{"storage network deny", azureFault("network-deny"), "storage-network-blocked", map[string]string{"storage-roles": "storage-network-blocked"}, azureRestore},
		{"container missing", azureFault("container-missing"), "container-not-found", map[string]string{"storage-roles": "container-not-found"}, azureRestore},
		{"DataProtection provider unregistered", azureFault("provider-dataprotection-unregistered"), "resource-provider-not-registered", nil, azureRestore},
		{"BSL deleted", func(t *testing.T) {
			r := kubectl(t, lab, "delete", "backupstoragelocations.velero.io", "-n", ns, "default")
			if r.code != 0 {
				t.Fatalf("delete bsl:\n%s", r)
			}
		}, "bsl-missing", map[string]string{"blob-write-probe": "bsl-missing"}, nil},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			f.inject(t)
			doc, r := runDoctor(t, lab, env, "-n", ns)
			if r.code != 1 || doc.Verdict != "UNHEALTHY" {
				t.Fatalf("doctor exit %d, verdict %s, want 1 UNHEALTHY\n%s", r.code, doc.Verdict, r)
			}
			if len(doc.RootCauses) == 0 || doc.RootCauses[0].ID != f.want {
				t.Fatalf("first root cause %+v, want %s\n%s", doc.RootCauses, f.want, r.stdout)
			}
			if !strings.Contains(doc.Summary, "root cause "+f.want) {
				t.Errorf("verdict line %q does not name %s", doc.Summary, f.want)
			}
			for check, by := range f.skipped {
				if status, blocked := doc.check(check); status != "skipped" || blocked != by {
					t.Errorf("check %s: %s blocked by %q, want skipped blocked by %s", check, status, blocked, by)
				}
			}
			if f.restore != nil {
				f.restore(t)
				// Velero validates again and logs it, so the next fault starts from a clean log.
				lab.WaitBSLPhase(t, ns, "default", "Available", 2*time.Minute)
			}
		})
	}
}

// TestDoctorWithoutAzureRunsTheClusterChecks: no Azure access still gives a report of the in-cluster
// checks, with each Azure check skipped and the reason.
func TestDoctorWithoutAzureRunsTheClusterChecks(t *testing.T) {
	lab := labtest.Load(t)
	ns := lab.NewFixtureNamespace(t, "doctor-noaz")
	doc, r := runDoctor(t, lab, nil, "-n", ns, "--no-azure")
	if r.code != 1 || doc.RootCauses[0].ID != "wi-client-id-missing" && doc.RootCauses[0].ID != "wi-label-missing" {
		t.Fatalf("doctor on an unwired namespace without Azure:\n%s", r)
	}
	for _, check := range []string{"aks-cluster", "managed-identity", "federated-credentials", "storage-account", "storage-roles"} {
		if status, _ := doc.check(check); status != "skipped" {
			t.Errorf("check %s is %s without Azure, want skipped", check, status)
		}
	}
	if status, _ := doc.check("workload-identity"); status != "failed" {
		t.Errorf("workload-identity is %s, want failed", status)
	}
	text := aksbackup(t, lab, "doctor", "-n", ns, "--no-azure")
	if !strings.HasPrefix(text.stdout, "UNHEALTHY: backups cannot be written — root cause ") || !strings.Contains(text.stdout, "no Azure access") {
		t.Errorf("text report:\n%s", text)
	}
}

// TestBundleOnTheLab writes a bundle of a wired-then-broken namespace and checks its contents: the
// reports, the objects, the logs, the manifest, and no Secret value.
func TestBundleOnTheLab(t *testing.T) {
	lab := labtest.Load(t)
	ns := lab.NewFixtureNamespace(t, "bundle")
	secretValue := "bundle-e2e-secret-value-never-in-the-archive"
	if r := kubectl(t, lab, "create", "secret", "generic", "-n", ns, "cloud-credentials", "--from-literal=cloud=AZURE_CLIENT_SECRET="+secretValue); r.code != 0 {
		t.Fatalf("create secret:\n%s", r)
	}
	// The agent's pod must be running for its log to be collected.
	lab.WaitRollout(t, ns, deployments[1])
	out := filepath.Join(t.TempDir(), "ticket.tar.gz")
	r := aksbackup(t, lab, "bundle", "-n", ns, "--file", out, "--no-azure")
	if r.code != 0 || !strings.Contains(r.stdout, "Wrote "+out) {
		t.Fatalf("bundle:\n%s", r)
	}
	files := untar(t, out)
	for _, want := range []string{"MANIFEST.yaml", "version.json", "reports/identity-status.json", "reports/bsl.json",
		"objects/backupstoragelocations.yaml", "objects/serviceaccounts.yaml", "objects/deployments.yaml", "objects/pods.yaml", "events.yaml"} {
		if _, ok := files[want]; !ok {
			t.Errorf("the bundle lacks %s", want)
		}
	}
	logs := 0
	for name, content := range files {
		if strings.HasPrefix(name, "logs/") {
			logs++
		}
		if strings.Contains(content, secretValue) {
			t.Errorf("%s holds the Secret's value", name)
		}
	}
	// A kwok pod's log exists only once the Velero double has written one; when none could be read
	// the manifest must say so, never leave it out silently (the log content is unit-tested).
	if logs == 0 && !strings.Contains(files["MANIFEST.yaml"], "logs/") {
		t.Errorf("the bundle holds no logs and the manifest does not say why: %v\n%s", keysOf(files), files["MANIFEST.yaml"])
	}
	if r := aksbackup(t, lab, "bundle", "-n", ns, "--file", out, "--no-azure"); r.code != 2 || !strings.Contains(r.stderr, "--overwrite") {
		t.Errorf("a second bundle to the same file:\n%s", r)
	}
}

func untar(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := map[string]string{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name] = string(b)
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// fleetKubeconfig copies the lab's kubeconfig with three contexts: lab-a and lab-b reach the lab's
// API server, lab-down a port where nothing listens.
func fleetKubeconfig(t *testing.T, lab *labtest.Lab) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(lab.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	base := cfg.Contexts[cfg.CurrentContext]
	down := cfg.Clusters[base.Cluster].DeepCopy()
	down.Server = "https://127.0.0.1:1"
	cfg.Clusters["down"] = down
	for _, name := range []string{"lab-a", "lab-b"} {
		c := base.DeepCopy()
		cfg.Contexts[name] = c
	}
	d := base.DeepCopy()
	d.Cluster = "down"
	cfg.Contexts["lab-down"] = d
	for name := range cfg.Contexts {
		if name != "lab-a" && name != "lab-b" && name != "lab-down" {
			delete(cfg.Contexts, name)
		}
	}
	cfg.CurrentContext = "lab-a"
	path := filepath.Join(t.TempDir(), "fleet.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// doctorVerboseLine is the summary -v prints on stderr.
var doctorVerboseLine = regexp.MustCompile(`doctor: (\d+) checks in (\d+) waves, (\d+) Kubernetes and (\d+) ARM requests`)

// TestDoctorReadmeClaims backs the README's doctor sentences no other test shows: -v's request count
// and waves, bounded --parallel over contexts, --fix --dry-run=server changing nothing (Kubernetes
// resourceVersions and the ARM double's write log) and saying that ARM has no server-side dry run,
// and --fix --vault-id creating a missing Trusted Access binding.
func TestDoctorReadmeClaims(t *testing.T) {
	lab := labtest.Load(t)
	env := lab.AzureEnv(t)
	ns := wiredDoctorNamespace(t, lab, env)
	client := lab.Clientset(t)
	ctx := context.Background()

	t.Run("-v prints the request count and at most 3 waves", func(t *testing.T) {
		r := kubectlEnv(t, lab, env, "aksbackup", "doctor", "-n", ns, "-v")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "HEALTHY: ") {
			t.Fatalf("doctor -v on the wired lab:\n%s", r)
		}
		m := doctorVerboseLine.FindStringSubmatch(r.stderr)
		if m == nil {
			t.Fatalf("no request and wave line on stderr:\n%s", r)
		}
		waves, _ := strconv.Atoi(m[2])
		kubeRequests, _ := strconv.Atoi(m[3])
		armRequests, _ := strconv.Atoi(m[4])
		if waves < 1 || waves > 3 {
			t.Errorf("%d waves, want 1 to 3", waves)
		}
		if kubeRequests == 0 || armRequests == 0 {
			t.Errorf("request counts %d Kubernetes, %d ARM: want both non-zero", kubeRequests, armRequests)
		}
		// Each check that ran has its wave and duration line.
		for _, check := range []string{"kube-api", "identity-read", "backup-storage-locations"} {
			if !regexp.MustCompile(`(?m)^  wave \d+  ` + check + ` +\S+$`).MatchString(r.stderr) {
				t.Errorf("no wave line for %s:\n%s", check, r.stderr)
			}
		}
		if strings.Contains(r.stdout, "checks in") {
			t.Errorf("-v wrote its figures to stdout:\n%s", r.stdout)
		}
		t.Logf("doctor -v: %s", m[0])
	})

	t.Run("--contexts a,b --parallel 1 gives the same verdicts as the default bound", func(t *testing.T) {
		fleetEnv := append(append([]string{}, env...), "KUBECONFIG="+fleetKubeconfig(t, lab))
		verdicts := func(parallel string) map[string]string {
			t.Helper()
			r := kubectlEnv(t, lab, fleetEnv, "aksbackup", "doctor", "-n", ns, "--contexts", "lab-a,lab-b", "--parallel", parallel, "-o", "json")
			var fleet struct {
				Clusters []struct {
					Context string `json:"context"`
					Verdict string `json:"verdict"`
				} `json:"clusters"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &fleet); err != nil || r.code != 0 {
				t.Fatalf("--parallel %s: %v\n%s", parallel, err, r)
			}
			out := map[string]string{}
			for _, c := range fleet.Clusters {
				out[c.Context] = c.Verdict
			}
			return out
		}
		one, four := verdicts("1"), verdicts("4")
		if len(one) != 2 || one["lab-a"] != "HEALTHY" || one["lab-b"] != "HEALTHY" {
			t.Fatalf("--parallel 1: %v", one)
		}
		if !maps.Equal(one, four) {
			t.Errorf("--parallel 1 gave %v, --parallel 4 gave %v", one, four)
		}
		if r := kubectlEnv(t, lab, fleetEnv, "aksbackup", "doctor", "-n", ns, "--contexts", "lab-a,lab-b", "--parallel", "0"); r.code != 2 || !strings.Contains(r.stderr, "--parallel must be at least 1") {
			t.Errorf("--parallel 0:\n%s", r)
		}
	})

	t.Run("--fix --dry-run=server changes nothing and says ARM has no server-side dry run", func(t *testing.T) {
		// One cluster fault and one Azure fault, both repaired by identity configure.
		lab.AzureScenario(t, "wired", ns, "role-account-contributor-only")
		if _, err := client.CoreV1().ServiceAccounts(ns).Patch(ctx, serviceAccounts[1], types.MergePatchType,
			[]byte(`{"metadata":{"annotations":{"azure.workload.identity/client-id":null}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		kubeBefore, armBefore := resourceVersions(t, client, ns), labARMState(t, lab)
		r := kubectlEnv(t, lab, env, "aksbackup", "doctor", "-n", ns, "--fix", "--dry-run=server")
		if r.code != 1 {
			t.Fatalf("want exit 1 (findings left):\n%s", r)
		}
		for _, want := range []string{"Before: UNHEALTHY", "identity configure (fixes ", "sent with dryRun=All", "not-sent", "ARM has no server-side dry run", "Dry run: nothing was changed."} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r)
			}
		}
		if strings.Contains(r.stdout, "After:") || strings.Contains(r.stdout, "Applying") {
			t.Errorf("a dry run applied:\n%s", r)
		}
		assertUnchanged(t, kubeBefore, resourceVersions(t, client, ns), "doctor --fix --dry-run=server")
		assertNoARMWrites(t, armBefore, labARMState(t, lab), "doctor --fix --dry-run=server")

		// The same faults, applied for real, end healthy.
		r = kubectlEnv(t, lab, env, "aksbackup", "doctor", "-n", ns, "--fix", "--yes", "--bsl-timeout", "2m")
		if r.code != 0 || !strings.Contains(r.stdout, "After:  HEALTHY") {
			t.Fatalf("doctor --fix --yes:\n%s", r)
		}
		lab.WaitBSLPhase(t, ns, "default", "Available", 2*time.Minute)
	})

	t.Run("--fix --vault-id creates the missing Trusted Access binding", func(t *testing.T) {
		lab.AzureScenario(t, "wired", ns) // no binding for the vault
		before, r := runDoctor(t, lab, env, "-n", ns, "--vault-id", labVault)
		if status, _ := before.check("trusted-access"); r.code != 1 || status != "failed" || !hasRootCause(before, "trusted-access-missing") {
			t.Fatalf("doctor --vault-id without a binding:\n%s", r)
		}
		r = kubectlEnv(t, lab, env, "aksbackup", "doctor", "-n", ns, "--vault-id", labVault, "--fix", "--yes", "--bsl-timeout", "2m")
		for _, want := range []string{"trusted-access create (fixes trusted-access-missing)", "Applying trusted-access create", "Created Trusted Access binding", "After:  "} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r)
			}
		}
		bound := false
		for _, b := range labARMState(t, lab).Bindings {
			bound = bound || strings.EqualFold(b.Source, labVault)
		}
		if !bound {
			t.Fatalf("the ARM double holds no binding for %s after doctor --fix", labVault)
		}
		after, r := runDoctor(t, lab, env, "-n", ns, "--vault-id", labVault)
		if hasRootCause(after, "trusted-access-missing") {
			t.Fatalf("trusted-access-missing after doctor --fix:\n%s", r)
		}
		// What the tool cannot grant (the vault's roles of the enable-backup matrix) is left, named with its own fix.
		if hasRootCause(after, "backup-role-missing") && !strings.Contains(r.stdout, "az role assignment create") {
			t.Errorf("backup-role-missing without its fix:\n%s", r)
		}
		t.Logf("after doctor --fix --vault-id: %s %s", after.Verdict, after.Summary)
	})
}

func hasRootCause(d doctorDoc, id string) bool {
	for _, rc := range d.RootCauses {
		if rc.ID == id {
			return true
		}
	}
	return false
}

// TestDoctorFixesTheBSLConfig: on plain Velero the BackupStorageLocation is the user's. A location
// back on account keys (useAAD false) against an account that refuses them has the root causes
// shared-key-disabled and storage-key-misconfigured; doctor --fix --dry-run=server plans the useAAD patch and changes nothing;
// doctor --fix --yes patches it, waits, and Velero validates the location on Entra ID.
func TestDoctorFixesTheBSLConfig(t *testing.T) {
	lab := labtest.Load(t)
	ns := lab.NewVeleroNamespace(t)
	lab.AzureScenario(t, "unwired", ns, "shared-key-disabled")
	env := lab.AzureEnv(t)
	sel := []string{"--profile", "velero", "-n", ns}
	run := func(args ...string) result { return kubectlEnv(t, lab, env, append([]string{"aksbackup"}, args...)...) }
	r := run(append(append([]string{"identity", "configure"}, sel...), "--identity", azurelab.VeleroIdentityName,
		"--identity-resource-group", azurelab.VeleroResourceGroup, "--yes", "--timeout", "3m")...)
	if r.code != 0 {
		t.Fatalf("configure:\n%s", r)
	}
	lab.WaitBSLPhase(t, ns, "default", "Available", 2*time.Minute)
	locations := bslClient(t, lab).Namespace(ns)
	ctx := context.Background()
	if _, err := locations.Patch(ctx, "default", types.MergePatchType, []byte(`{"spec":{"config":{"useAAD":"false"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	lab.WaitBSLPhase(t, ns, "default", "Unavailable", 2*time.Minute)
	location := func() (resourceVersion, useAAD string) {
		t.Helper()
		obj, err := locations.Get(ctx, "default", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v, _, _ := unstructured.NestedString(obj.Object, "spec", "config", "useAAD")
		return obj.GetResourceVersion(), v
	}

	doc, r := runDoctor(t, lab, env, sel...)
	// Velero's log names the refused key (storage-key-misconfigured), ARM the account that refuses it.
	if r.code != 1 || !hasRootCause(doc, "shared-key-disabled") || !hasRootCause(doc, "storage-key-misconfigured") {
		t.Fatalf("want the root causes shared-key-disabled and storage-key-misconfigured:\n%s", r)
	}
	rvBefore, _ := location()
	r = run(append(append([]string{"doctor"}, sel...), "--fix", "--dry-run=server")...)
	for _, want := range []string{"BackupStorageLocation config (fixes bsl-not-using-aad, storage-key-misconfigured, shared-key-disabled):",
		"backupstoragelocation/default spec.config.useAAD: false -> true", "sent with dryRun=All", "Dry run: nothing was changed."} {
		// Word by word: the plan table's padding is the table printer's.
		if !strings.Contains(strings.Join(strings.Fields(r.stdout), " "), want) {
			t.Errorf("dry run lacks %q:\n%s", want, r)
		}
	}
	if rv, useAAD := location(); r.code != 1 || rv != rvBefore || useAAD != "false" {
		t.Fatalf("the server dry run changed the location (resourceVersion %s -> %s, useAAD %q) or exit %d", rvBefore, rv, useAAD, r.code)
	}

	r = run(append(append([]string{"doctor"}, sel...), "--fix", "--yes", "--bsl-timeout", "2m")...)
	if r.code != 0 || !strings.Contains(r.stdout, "Applying the BackupStorageLocation config:") || !strings.Contains(r.stdout, "After:  HEALTHY") {
		t.Fatalf("doctor --fix --yes:\n%s", r)
	}
	if _, useAAD := location(); useAAD != "true" {
		t.Fatalf("useAAD is %q after the fix", useAAD)
	}
}
