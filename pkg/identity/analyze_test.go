package identity

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
)

func ids(fs []findings.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func TestAnalyze(t *testing.T) {
	legacy, v16 := TokenPaths[0], TokenPaths[1]
	tests := []struct {
		name string
		opts []option
		// wantIDs must all appear; wantAbsent must not; firstID is the root cause ranked first.
		wantIDs     []string
		wantAbsent  []string
		firstID     string
		wantHealthy bool
		check       func(t *testing.T, st *Status)
	}{
		{
			name:       "unwired fixture: annotation, label and injection missing for all three",
			opts:       []option{withPods(legacy)},
			wantIDs:    []string{"wi-client-id-missing", "wi-label-missing", "wi-not-injected", "helm-managed"},
			wantAbsent: []string{"wi-restart-needed", "wi-webhook-not-injecting"},
			check: func(t *testing.T, st *Status) {
				for _, id := range []string{"wi-client-id-missing", "wi-label-missing", "wi-not-injected"} {
					if n := count(st.Findings, id); n != 3 {
						t.Errorf("%s: got %d findings, want one per pair (3)", id, n)
					}
				}
				for _, f := range st.Findings {
					if f.ID == "wi-not-injected" && !slices.Contains(f.CausedBy, "wi-label-missing") {
						t.Errorf("wi-not-injected for %s not linked to its root cause: %v", f.Component, f.CausedBy)
					}
				}
				last := st.Findings[len(st.Findings)-1]
				if last.ID == "wi-label-missing" || last.ID == "wi-client-id-missing" {
					t.Errorf("root causes must rank before symptoms, last is %s", last.ID)
				}
			},
		},
		{
			name:        "wired with legacy token path is healthy",
			opts:        []option{wired(testClientID), withPods(legacy)},
			wantAbsent:  []string{"wi-not-injected", "wi-label-missing", "wi-client-id-missing"},
			wantHealthy: true,
			check: func(t *testing.T, st *Status) {
				for _, c := range st.Components {
					if c.InjectedPods != 1 || c.Pods[0].ClientID != testClientID || c.Pods[0].Audience != TokenAudience {
						t.Errorf("%s: pods %+v", c.Workload, c.Pods)
					}
				}
			},
		},
		{
			name:        "webhook v1.6 token path is accepted",
			opts:        []option{wired(testClientID), withPods(v16)},
			wantHealthy: true,
		},
		{
			name: "pods older than the label need a restart",
			opts: []option{withPods(legacy), wired(testClientID)},
			// Pods were built before wiring: unlabelled, uninjected.
			wantIDs:    []string{"wi-restart-needed", "wi-not-injected"},
			wantAbsent: []string{"wi-label-missing", "wi-client-id-missing"},
			firstID:    "wi-restart-needed",
		},
		{
			name: "pods injected with a previous client ID need a restart",
			opts: []option{wired(otherClient), withPods(legacy), func(w *world) {
				for _, sa := range w.sas {
					sa.Annotations[AnnotationClientID] = testClientID
				}
			}},
			wantIDs:    []string{"wi-restart-needed"},
			wantAbsent: []string{"wi-not-injected"},
		},
		{
			name: "labelled pods the webhook never touched",
			opts: []option{wired(testClientID), withPods(legacy), func(w *world) {
				for i := range w.pods {
					w.pods[i].Spec.Containers[0].Env = nil
					w.pods[i].Spec.Containers[0].VolumeMounts = nil
					w.pods[i].Spec.Volumes = nil
				}
			}},
			wantIDs: []string{"wi-webhook-not-injecting", "wi-not-injected"},
			firstID: "wi-webhook-not-injecting",
		},
		{
			name: "label on the deployment instead of the pod template",
			opts: []option{func(w *world) {
				for _, sa := range w.sas {
					sa.Annotations[AnnotationClientID] = testClientID
				}
				for _, d := range w.deps {
					d.Labels[LabelUse] = "true"
				}
			}, withPods(legacy)},
			wantIDs: []string{"wi-label-missing"},
			check: func(t *testing.T, st *Status) {
				if f := find(st.Findings, "wi-label-missing"); !strings.Contains(f.Message, "deployment's own metadata") {
					t.Errorf("message does not point at the misplaced label: %q", f.Message)
				}
			},
		},
		{
			name: "wrong audience is not an injection",
			opts: []option{wired(testClientID), withPods(legacy), func(w *world) {
				w.pods[0].Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken.Audience = "api://wrong"
			}},
			wantIDs: []string{"wi-not-injected"},
			check: func(t *testing.T, st *Status) {
				if f := find(st.Findings, "wi-not-injected"); !strings.Contains(f.Message, "token audience") {
					t.Errorf("message should name the audience: %q", f.Message)
				}
			},
		},
		{
			name: "skip-containers naming velero",
			opts: []option{wired(testClientID), func(w *world) {
				w.deps["dataprotection-microsoft-kubernetes-agent"].Spec.Template.Annotations = map[string]string{AnnotationSkipContainers: "velero"}
			}, withPods(legacy)},
			wantIDs: []string{"wi-container-skipped"},
		},
		{
			name: "client IDs disagree and one is malformed",
			opts: []option{wired(testClientID), withPods(legacy), func(w *world) {
				w.sas["dataprotection-microsoft-geneva-sa"].Annotations[AnnotationClientID] = otherClient
				w.sas["dataprotection-microsoft-controller-sa"].Annotations[AnnotationClientID] = "not-a-guid"
			}},
			wantIDs: []string{"wi-client-id-inconsistent", "wi-client-id-invalid"},
		},
		{
			name: "missing objects and service account mismatch",
			opts: []option{func(w *world) {
				delete(w.deps, "dataprotection-microsoft-geneva-service")
				delete(w.sas, "dataprotection-microsoft-controller-sa")
				w.deps["dataprotection-microsoft-kubernetes-agent"].Spec.Template.Spec.ServiceAccountName = "default"
			}, withPods(legacy)},
			wantIDs: []string{"deployment-missing", "serviceaccount-missing", "deployment-serviceaccount-mismatch"},
		},
		{
			name: "rollout in progress and no pods",
			opts: []option{wired(testClientID), func(w *world) {
				d := w.deps["dataprotection-microsoft-controller"]
				d.Generation = 2
			}},
			wantIDs: []string{"rollout-incomplete", "deployment-no-pods"},
		},
		{
			name: "scaled to zero is only a warning",
			opts: []option{wired(testClientID), withPods(legacy), func(w *world) {
				d := w.deps["dataprotection-microsoft-geneva-service"]
				d.Spec.Replicas = new(int32)
				d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1}
				w.pods = w.pods[:2]
			}},
			wantIDs:     []string{"deployment-scaled-down"},
			wantHealthy: true,
		},
		{
			name: "a tenant-id annotation that is not a GUID",
			opts: []option{wired(testClientID), withPods(legacy), func(w *world) {
				w.sas["dataprotection-microsoft-controller-sa"].Annotations[AnnotationTenantID] = "contoso.onmicrosoft.com"
			}},
			wantIDs: []string{"wi-tenant-id-invalid"},
		},
		{
			name: "the Velero workload scaled to zero is an error: no backup runs",
			opts: []option{wired(testClientID), withPods(legacy), func(w *world) {
				d := w.deps["dataprotection-microsoft-kubernetes-agent"]
				d.Spec.Replicas = new(int32)
				d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1}
				w.pods = []corev1.Pod{w.pods[0], w.pods[2]}
			}},
			wantIDs: []string{"backup-server-scaled-down"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(aksProfile(), tc.opts...)
			st := Analyze(w.prof, w.snapshot())
			got := ids(st.Findings)
			for _, id := range tc.wantIDs {
				if !slices.Contains(got, id) {
					t.Errorf("missing finding %s; got %v", id, got)
				}
			}
			for _, id := range tc.wantAbsent {
				if slices.Contains(got, id) {
					t.Errorf("unexpected finding %s; got %v", id, got)
				}
			}
			if tc.firstID != "" && (len(got) == 0 || got[0] != tc.firstID) {
				t.Errorf("first finding = %v, want %s", got, tc.firstID)
			}
			if st.Healthy() != tc.wantHealthy {
				t.Errorf("healthy = %v, want %v (findings %v)", st.Healthy(), tc.wantHealthy, got)
			}
			for _, f := range st.Findings {
				if f.Severity == findings.SeverityError && len(f.Remediation) == 0 {
					t.Errorf("error finding %s has no remediation", f.ID)
				}
			}
			if tc.check != nil {
				tc.check(t, st)
			}
		})
	}
}

func count(fs []findings.Finding, id string) int {
	n := 0
	for _, f := range fs {
		if f.ID == id {
			n++
		}
	}
	return n
}

func find(fs []findings.Finding, id string) findings.Finding {
	for _, f := range fs {
		if f.ID == id {
			return f
		}
	}
	return findings.Finding{}
}

func TestInspectPodEnvFromReference(t *testing.T) {
	w := newWorld(aksProfile(), wired(testClientID), withPods(TokenPaths[0]))
	pod := w.pods[0]
	c := &pod.Spec.Containers[0]
	for i := range c.Env {
		if c.Env[i].Name == EnvTenantID {
			c.Env[i] = corev1.EnvVar{Name: EnvTenantID, ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Key: "tenant"}}}
		}
	}
	if got := inspectPod(&pod, ""); !got.Injected {
		t.Fatalf("a variable set from a reference still counts as injected: %+v", got)
	}
}

func TestIsGUID(t *testing.T) {
	for s, want := range map[string]bool{
		testClientID:                             true,
		"AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE":   true,
		"":                                       false,
		"abc":                                    false,
		"{11111111-2222-3333-4444-555555555555}": false,
		"11111111-2222-3333-4444-5555555555555":  false,
		"1111111g-2222-3333-4444-555555555555":   false,
	} {
		if got := IsGUID(s); got != want {
			t.Errorf("IsGUID(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzIsGUID(f *testing.F) {
	f.Add(testClientID)
	f.Add("")
	f.Add("11111111-2222-3333-4444-55555555555\n")
	f.Fuzz(func(t *testing.T, s string) {
		if IsGUID(s) {
			if len(s) != 36 || strings.Count(s, "-") != 4 {
				t.Fatalf("accepted %q", s)
			}
		}
	})
}
