package wiwebhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
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
