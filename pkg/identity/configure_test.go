package identity

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

type changeKey struct{ phase, action, object string }

func keys(cp *ConfigurePlan) []changeKey {
	var out []changeKey
	for _, c := range cp.Changes {
		out = append(out, changeKey{c.Phase, c.Action, c.Object})
	}
	return out
}

func TestPlanConfigure(t *testing.T) {
	legacy := TokenPaths[0]
	tests := []struct {
		name       string
		opts       []option
		req        ConfigureRequest
		wantErr    string
		wantCounts map[string]int // action -> count
		wantWait   int
		wantWarn   string
	}{
		{
			name:       "unwired: annotate, label and let the template change roll out",
			opts:       []option{withPods(legacy)},
			req:        ConfigureRequest{ClientID: testClientID},
			wantCounts: map[string]int{"annotate": 3, "label": 3, "rollout": 3},
			wantWait:   3,
			wantWarn:   "Helm-managed",
		},
		{
			name:       "already wired and injected: nothing to do",
			opts:       []option{wired(testClientID), withPods(legacy)},
			req:        ConfigureRequest{ClientID: testClientID},
			wantCounts: map[string]int{},
		},
		{
			name:    "different client ID is refused without --overwrite",
			opts:    []option{wired(otherClient), withPods(legacy)},
			req:     ConfigureRequest{ClientID: testClientID},
			wantErr: "already has azure.workload.identity/client-id=" + otherClient + "; rerun with --overwrite",
		},
		{
			name:       "overwrite replaces the client ID and restarts the stale pods",
			opts:       []option{wired(otherClient), withPods(legacy)},
			req:        ConfigureRequest{ClientID: testClientID, Overwrite: true},
			wantCounts: map[string]int{"annotate": 3, "restart": 3},
			wantWait:   3,
		},
		{
			name:       "tenant ID is annotated too",
			opts:       []option{wired(testClientID), withPods(legacy)},
			req:        ConfigureRequest{ClientID: testClientID, TenantID: testTenantID},
			wantCounts: map[string]int{"annotate": 3},
		},
		{
			name: "label false is a conflict",
			opts: []option{withPods(legacy), func(w *world) {
				w.deps["dataprotection-microsoft-controller"].Spec.Template.Labels[LabelUse] = "false"
			}},
			req:     ConfigureRequest{ClientID: testClientID},
			wantErr: `has azure.workload.identity/use="false"`,
		},
		{
			name: "annotated and labelled but old pods: restart only",
			opts: []option{withPods(legacy), wired(testClientID)},
			req:  ConfigureRequest{ClientID: testClientID},
			// Pods were created before the wiring.
			wantCounts: map[string]int{"restart": 3},
			wantWait:   3,
		},
		{
			name:       "restart skipped leaves a warning",
			opts:       []option{withPods(legacy), wired(testClientID)},
			req:        ConfigureRequest{ClientID: testClientID, Skip: map[string]bool{PhaseRestart: true}},
			wantCounts: map[string]int{},
			wantWarn:   "phase restart is skipped",
		},
		{
			name:       "pod-label skipped warns that a restart cannot inject",
			opts:       []option{withPods(legacy)},
			req:        ConfigureRequest{ClientID: testClientID, Skip: map[string]bool{PhasePodLabel: true}},
			wantCounts: map[string]int{"annotate": 3},
			wantWarn:   "a restart would not inject",
		},
		{
			name: "missing objects are all named",
			opts: []option{func(w *world) {
				delete(w.deps, "dataprotection-microsoft-geneva-service")
				delete(w.sas, "dataprotection-microsoft-controller-sa")
			}},
			req:     ConfigureRequest{ClientID: testClientID},
			wantErr: "serviceaccount dataprotection-microsoft-controller-sa not found",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(aksProfile(), tc.opts...)
			tc.req.Profile, tc.req.Now = w.prof, now
			cp, err := PlanConfigure(fake.NewClientset(), w.snapshot(), tc.req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, k := range keys(cp) {
				got[k.action]++
			}
			if len(got) != len(tc.wantCounts) {
				t.Errorf("changes %v, want %v", got, tc.wantCounts)
			}
			for action, n := range tc.wantCounts {
				if got[action] != n {
					t.Errorf("%s: %d changes, want %d (all: %v)", action, got[action], n, keys(cp))
				}
			}
			if len(cp.Rollouts) != tc.wantWait {
				t.Errorf("rollouts %v, want %d", cp.Rollouts, tc.wantWait)
			}
			if tc.wantWarn != "" && !strings.Contains(strings.Join(cp.Warnings, "\n"), tc.wantWarn) {
				t.Errorf("warnings %q lack %q", cp.Warnings, tc.wantWarn)
			}
		})
	}
}

func TestConfigureAppliesAndPreservesOtherMetadata(t *testing.T) {
	w := newWorld(aksProfile(), withPods(TokenPaths[0]))
	client := fake.NewClientset(w.objects()...)
	ctx := context.Background()
	snap, err := Read(ctx, client, w.prof)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := PlanConfigure(client, snap, ConfigureRequest{Profile: w.prof, ClientID: testClientID, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.Execute(ctx, false); err != nil {
		t.Fatal(err)
	}
	for _, pair := range w.prof.Pairs {
		sa, _ := client.CoreV1().ServiceAccounts(testNS).Get(ctx, pair.ServiceAccount, metav1.GetOptions{})
		if sa.Annotations[AnnotationClientID] != testClientID || sa.Annotations["keep"] != "me" || sa.Labels["team"] != "backup" {
			t.Errorf("serviceaccount %s metadata: labels %v annotations %v", sa.Name, sa.Labels, sa.Annotations)
		}
		d, _ := client.AppsV1().Deployments(testNS).Get(ctx, pair.Workload.Name, metav1.GetOptions{})
		if l := d.Spec.Template.Labels; l[LabelUse] != "true" || l["tier"] != "backup" || l["app"] != pair.Workload.Name {
			t.Errorf("deployment %s template labels %v", d.Name, l)
		}
	}

	// A second plan over the new state has nothing to write.
	snap, _ = Read(ctx, client, w.prof)
	again, err := PlanConfigure(client, snap, ConfigureRequest{Profile: w.prof, ClientID: testClientID, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	// Pods in a fake clientset are never recreated, so only restarts may remain.
	for _, c := range again.Changes {
		if c.Action == "annotate" || c.Action == "label" {
			t.Errorf("second run plans %s %s", c.Action, c.Object)
		}
	}
}

func TestExecuteStopsAndReportsWhatLanded(t *testing.T) {
	w := newWorld(aksProfile(), withPods(TokenPaths[0]))
	client := fake.NewClientset(w.objects()...)
	patches := 0
	client.PrependReactor("patch", "*", func(action k8stesting.Action) (bool, runtime.Object, error) {
		patches++
		if patches == 2 {
			return true, nil, errors.New("etcdserver: request timed out")
		}
		return false, nil, nil
	})
	ctx := context.Background()
	snap, _ := Read(ctx, client, w.prof)
	cp, err := PlanConfigure(client, snap, ConfigureRequest{Profile: w.prof, ClientID: testClientID, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	err = cp.Execute(ctx, false)
	if err == nil || !strings.Contains(err.Error(), "request timed out") {
		t.Fatalf("err = %v", err)
	}
	counts := cp.Counts()
	if counts[plan.Applied] != 1 || counts[plan.Failed] != 1 || counts[plan.NotApplied] != 4 {
		t.Fatalf("counts %v, want 1 applied, 1 failed, 4 not applied", counts)
	}
}

func TestServerDryRunPersistsNothing(t *testing.T) {
	w := newWorld(aksProfile(), withPods(TokenPaths[0]))
	client := fake.NewClientset(w.objects()...)
	var dryRuns int
	client.PrependReactor("patch", "*", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if opts := action.(k8stesting.PatchActionImpl).PatchOptions; len(opts.DryRun) == 1 && opts.DryRun[0] == metav1.DryRunAll {
			dryRuns++
			return true, nil, nil // the fake tracker ignores dryRun; a real server validates and discards
		}
		t.Errorf("patch without dryRun=All")
		return true, nil, nil
	})
	ctx := context.Background()
	snap, _ := Read(ctx, client, w.prof)
	cp, _ := PlanConfigure(client, snap, ConfigureRequest{Profile: w.prof, ClientID: testClientID, Now: now})
	if err := cp.Execute(ctx, true); err != nil {
		t.Fatal(err)
	}
	if dryRuns != 6 {
		t.Errorf("%d dry-run patches, want 6", dryRuns)
	}
}
