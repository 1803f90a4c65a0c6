package wiwebhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

var cfg = Config{TenantID: "tenant-from-config", AuthorityHost: "https://login.example/"}

func envOf(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		out[e.Name] = e.Value
	}
	return out
}

func TestMutate(t *testing.T) {
	sa := func(ann map[string]string) *corev1.ServiceAccount {
		return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "sa", Annotations: ann}}
	}
	pod := func(labels, ann map[string]string, containers ...corev1.Container) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: ann},
			Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "init"}}, Containers: containers}}
	}
	use := map[string]string{LabelUse: "true"}
	tests := []struct {
		name    string
		pod     *corev1.Pod
		sa      *corev1.ServiceAccount
		changed bool
		check   func(t *testing.T, p *corev1.Pod)
	}{
		{name: "no label: untouched", pod: pod(nil, nil, corev1.Container{Name: "a"}), sa: sa(map[string]string{AnnotationClientID: "c"})},
		{name: "label false: untouched", pod: pod(map[string]string{LabelUse: "false"}, nil, corev1.Container{Name: "a"}), sa: sa(nil)},
		{name: "injects env, mount and projected token into every container", pod: pod(use, nil, corev1.Container{Name: "a"}, corev1.Container{Name: "b"}),
			sa: sa(map[string]string{AnnotationClientID: "client"}), changed: true,
			check: func(t *testing.T, p *corev1.Pod) {
				for _, c := range append(p.Spec.InitContainers, p.Spec.Containers...) {
					e := envOf(c)
					if e["AZURE_CLIENT_ID"] != "client" || e["AZURE_TENANT_ID"] != "tenant-from-config" || e["AZURE_FEDERATED_TOKEN_FILE"] != TokenDir+"/"+TokenFile || e["AZURE_AUTHORITY_HOST"] != cfg.AuthorityHost {
						t.Errorf("%s env %v", c.Name, e)
					}
					if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != TokenDir {
						t.Errorf("%s mounts %v", c.Name, c.VolumeMounts)
					}
				}
				src := p.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken
				if src.Audience != Audience || *src.ExpirationSeconds != 3600 || src.Path != TokenFile {
					t.Errorf("token %+v", src)
				}
			}},
		{name: "skip-containers, tenant annotation, existing env kept, expiry annotation", changed: true,
			pod: pod(use, map[string]string{AnnotationSkipContainers: "b; init", AnnotationTokenExpiry: "7200"},
				corev1.Container{Name: "a", Env: []corev1.EnvVar{{Name: "AZURE_CLIENT_ID", Value: "mine"}}}, corev1.Container{Name: "b"}),
			sa: sa(map[string]string{AnnotationClientID: "client", AnnotationTenantID: "tenant-from-sa"}),
			check: func(t *testing.T, p *corev1.Pod) {
				if e := envOf(p.Spec.Containers[0]); e["AZURE_CLIENT_ID"] != "mine" || e["AZURE_TENANT_ID"] != "tenant-from-sa" {
					t.Errorf("a env %v", e)
				}
				if len(p.Spec.Containers[1].Env)+len(p.Spec.InitContainers[0].Env) != 0 {
					t.Error("skipped containers were injected")
				}
				if *p.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds != 7200 {
					t.Error("expiry annotation ignored")
				}
			}},
		{name: "no client-id annotation: no AZURE_CLIENT_ID", pod: pod(use, nil, corev1.Container{Name: "a"}), sa: sa(nil), changed: true,
			check: func(t *testing.T, p *corev1.Pod) {
				if _, ok := envOf(p.Spec.Containers[0])["AZURE_CLIENT_ID"]; ok {
					t.Error("empty values must not be injected")
				}
			}},
		{name: "tenant annotation present but empty: no AZURE_TENANT_ID (the annotation wins over the configured tenant)",
			pod: pod(use, nil, corev1.Container{Name: "a"}), sa: sa(map[string]string{AnnotationClientID: "client", AnnotationTenantID: ""}), changed: true,
			check: func(t *testing.T, p *corev1.Pod) {
				if e := envOf(p.Spec.Containers[0]); e["AZURE_CLIENT_ID"] != "client" || e["AZURE_TENANT_ID"] != "" {
					t.Errorf("env %v", e)
				}
			}},
		{name: "expiry from the service account when the pod has none", changed: true,
			pod: pod(use, nil, corev1.Container{Name: "a"}), sa: sa(map[string]string{AnnotationTokenExpiry: "86400"}),
			check: func(t *testing.T, p *corev1.Pod) {
				if got := *p.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds; got != 86400 {
					t.Errorf("expiry %d", got)
				}
			}},
		{name: "the pod's expiry wins over an invalid one on the service account", changed: true,
			pod: pod(use, map[string]string{AnnotationTokenExpiry: "4000"}, corev1.Container{Name: "a"}), sa: sa(map[string]string{AnnotationTokenExpiry: "60"}),
			check: func(t *testing.T, p *corev1.Pod) {
				if got := *p.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds; got != 4000 {
					t.Errorf("expiry %d", got)
				}
			}},
		{name: "init containers only, skipping the main container", changed: true,
			pod: pod(use, map[string]string{AnnotationSkipContainers: "main"}, corev1.Container{Name: "main"}), sa: sa(map[string]string{AnnotationClientID: "client"}),
			check: func(t *testing.T, p *corev1.Pod) {
				if e := envOf(p.Spec.InitContainers[0]); len(e) != 4 || len(p.Spec.InitContainers[0].VolumeMounts) != 1 {
					t.Errorf("init container env %v mounts %v", e, p.Spec.InitContainers[0].VolumeMounts)
				}
				if len(p.Spec.Containers[0].Env)+len(p.Spec.Containers[0].VolumeMounts) != 0 {
					t.Error("the skipped main container was injected")
				}
			}},
		{name: "a stale token mount and volume of the same name are replaced", changed: true,
			pod: func() *corev1.Pod {
				p := pod(use, nil, corev1.Container{Name: "a", VolumeMounts: []corev1.VolumeMount{{Name: TokenVolume, MountPath: "/old"}}})
				p.Spec.Volumes = []corev1.Volume{{Name: TokenVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
				return p
			}(), sa: sa(nil),
			check: func(t *testing.T, p *corev1.Pod) {
				if m := p.Spec.Containers[0].VolumeMounts; len(m) != 1 || m[0].MountPath != TokenDir || !m[0].ReadOnly {
					t.Errorf("mounts %v", m)
				}
				if v := p.Spec.Volumes; len(v) != 1 || v[0].Projected == nil || v[0].EmptyDir != nil {
					t.Errorf("volumes %+v", v)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			changed, err := Mutate(tc.pod, tc.sa, cfg)
			if err != nil || changed != tc.changed {
				t.Fatalf("changed %v err %v", changed, err)
			}
			if tc.check != nil {
				tc.check(t, tc.pod)
			}
			if again, _ := Mutate(tc.pod, tc.sa, cfg); again {
				t.Error("a second invocation changed the pod again (reinvocation must be idempotent)")
			}
		})
	}
	if _, err := Mutate(pod(use, map[string]string{AnnotationTokenExpiry: "60"}), sa(nil), cfg); err == nil {
		t.Error("an expiry under an hour must be refused")
	}
}

func TestHandlerPatches(t *testing.T) {
	client := fake.NewClientset(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: "ns", Annotations: map[string]string{AnnotationClientID: "c"}}})
	srv := httptest.NewServer(&Handler{Client: client, Config: cfg})
	defer srv.Close()
	pod := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{LabelUse: "true"}}, Spec: corev1.PodSpec{ServiceAccountName: "velero", Containers: []corev1.Container{{Name: "velero"}}}}
	raw, _ := json.Marshal(pod)
	review := admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: "u1", Namespace: "ns", Object: runtime.RawExtension{Raw: raw}}}
	body, _ := json.Marshal(review)
	resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if !out.Response.Allowed || out.Response.UID != "u1" || *out.Response.PatchType != admissionv1.PatchTypeJSONPatch || !bytes.Contains(out.Response.Patch, []byte(`"path":"/spec/volumes"`)) {
		t.Fatalf("response %+v patch %s", out.Response, out.Response.Patch)
	}
}

// review posts one AdmissionReview (CREATE of pod in namespace ns) to h and returns its response.
func review(t *testing.T, h *Handler, ns string, pod corev1.Pod) *admissionv1.AdmissionResponse {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	raw, _ := json.Marshal(pod)
	body, _ := json.Marshal(admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: "u2", Namespace: ns, Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw}}})
	resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Response
}

// applyPatch applies the handler's JSON Patch (add/replace of whole /spec members) to pod.
func applyPatch(t *testing.T, pod corev1.Pod, patch []byte) corev1.Pod {
	t.Helper()
	var ops []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(patch, &ops); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(pod)
	var doc map[string]any
	_ = json.Unmarshal(raw, &doc)
	spec := doc["spec"].(map[string]any)
	for _, op := range ops {
		key, ok := strings.CutPrefix(op.Path, "/spec/")
		if !ok || strings.Contains(key, "/") {
			t.Fatalf("unexpected patch path %s", op.Path)
		}
		if _, exists := spec[key]; exists != (op.Op == "replace") {
			t.Fatalf("%s on %s, which exists=%v (JSON Patch would fail)", op.Op, op.Path, exists)
		}
		var v any
		_ = json.Unmarshal(op.Value, &v)
		spec[key] = v
	}
	raw, _ = json.Marshal(doc)
	var out corev1.Pod
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHandlerUsesTheRequestNamespaceAndItsPatchApplies(t *testing.T) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "team", Annotations: map[string]string{AnnotationClientID: "c"}}}
	h := &Handler{Client: fake.NewClientset(sa), Config: cfg}
	// No serviceAccountName (so "default") and no namespace on the object, as on CREATE from a ReplicaSet.
	pod := corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "x-", Labels: map[string]string{LabelUse: "true"}},
		Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "init"}}, Containers: []corev1.Container{{Name: "app", Env: []corev1.EnvVar{{Name: "AZURE_AUTHORITY_HOST", Value: "mine"}}}}}}
	resp := review(t, h, "team", pod)
	if !resp.Allowed || resp.UID != "u2" {
		t.Fatalf("response %+v", resp)
	}
	got := applyPatch(t, pod, resp.Patch)
	want := pod.DeepCopy()
	if _, err := Mutate(want, sa, cfg); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(got.Spec, want.Spec) {
		t.Fatalf("patched pod spec\n%+v\nwant\n%+v", got.Spec, want.Spec)
	}
	if e := envOf(got.Spec.Containers[0]); e["AZURE_AUTHORITY_HOST"] != "mine" || e["AZURE_CLIENT_ID"] != "c" {
		t.Errorf("env %v", e)
	}
	// Reinvoked on the already-mutated pod: allowed, nothing to patch.
	if again := review(t, h, "team", got); !again.Allowed || len(again.Patch) != 0 {
		t.Errorf("reinvocation patched again: %s", again.Patch)
	}
}

func TestHandlerRefusesWhenTheServiceAccountIsMissing(t *testing.T) {
	h := &Handler{Client: fake.NewClientset(), Config: cfg}
	pod := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{LabelUse: "true"}}, Spec: corev1.PodSpec{ServiceAccountName: "gone", Containers: []corev1.Container{{Name: "a"}}}}
	resp := review(t, h, "ns", pod)
	if resp.Allowed || resp.Result == nil || resp.Result.Code != http.StatusBadRequest || !strings.Contains(resp.Result.Message, "gone") {
		t.Fatalf("response %+v", resp)
	}
}
