// Package wiwebhook is the lab's double of the Azure Workload Identity mutating webhook. It injects
// what the real webhook injects into pods labelled azure.workload.identity/use: "true": the AZURE_*
// variables from the service account's annotations, and a projected service-account token with
// audience api://AzureADTokenExchange, honouring azure.workload.identity/skip-containers.
package wiwebhook

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The webhook's contract (azure-workload-identity, token mount path of v1.5 and earlier).
const (
	LabelUse                 = "azure.workload.identity/use"
	AnnotationClientID       = "azure.workload.identity/client-id"
	AnnotationTenantID       = "azure.workload.identity/tenant-id"
	AnnotationSkipContainers = "azure.workload.identity/skip-containers"
	AnnotationTokenExpiry    = "azure.workload.identity/service-account-token-expiration"
	TokenVolume              = "azure-identity-token"
	TokenDir                 = "/var/run/secrets/azure/tokens"
	TokenFile                = "azure-identity-token"
	Audience                 = "api://AzureADTokenExchange"
	defaultExpirySeconds     = 3600
)

// Config is what the real webhook is configured with.
type Config struct {
	TenantID      string
	AuthorityHost string
}

// Mutate injects the identity into pod in place and reports whether anything changed.
func Mutate(pod *corev1.Pod, sa *corev1.ServiceAccount, cfg Config) (bool, error) {
	if pod.Labels[LabelUse] != "true" {
		return false, nil
	}
	clientID := sa.Annotations[AnnotationClientID]
	tenantID := sa.Annotations[AnnotationTenantID]
	if tenantID == "" {
		tenantID = cfg.TenantID
	}
	expiry := int64(defaultExpirySeconds)
	for _, src := range []map[string]string{sa.Annotations, pod.Annotations} {
		if v := src[AnnotationTokenExpiry]; v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 3600 || n > 86400 {
				return false, fmt.Errorf("%s must be between 3600 and 86400 seconds, got %q", AnnotationTokenExpiry, v)
			}
			expiry = n
		}
	}
	skip := map[string]bool{}
	for _, name := range strings.Split(pod.Annotations[AnnotationSkipContainers], ";") {
		if name = strings.TrimSpace(name); name != "" {
			skip[name] = true
		}
	}
	env := []corev1.EnvVar{
		{Name: "AZURE_CLIENT_ID", Value: clientID},
		{Name: "AZURE_TENANT_ID", Value: tenantID},
		{Name: "AZURE_FEDERATED_TOKEN_FILE", Value: TokenDir + "/" + TokenFile},
		{Name: "AZURE_AUTHORITY_HOST", Value: cfg.AuthorityHost},
	}
	changed := false
	inject := func(c *corev1.Container) {
		if skip[c.Name] {
			return
		}
		for _, e := range env {
			if e.Value == "" || hasEnv(c, e.Name) {
				continue
			}
			c.Env = append(c.Env, e)
			changed = true
		}
		if !hasMount(c, TokenVolume) {
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: TokenVolume, MountPath: TokenDir, ReadOnly: true})
			changed = true
		}
	}
	for i := range pod.Spec.InitContainers {
		inject(&pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		inject(&pod.Spec.Containers[i])
	}
	if !hasVolume(pod, TokenVolume) {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: TokenVolume, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: TokenFile, ExpirationSeconds: &expiry, Audience: Audience}}},
		}}})
		changed = true
	}
	return changed, nil
}

func hasEnv(c *corev1.Container, name string) bool {
	for _, e := range c.Env {
		if e.Name == name {
			return true
		}
	}
	return false
}

func hasMount(c *corev1.Container, name string) bool {
	for _, m := range c.VolumeMounts {
		if m.Name == name {
			return true
		}
	}
	return false
}

func hasVolume(pod *corev1.Pod, name string) bool {
	for _, v := range pod.Spec.Volumes {
		if v.Name == name {
			return true
		}
	}
	return false
}

// Handler serves AdmissionReview v1 requests for pods.
type Handler struct {
	Client kubernetes.Interface
	Config Config
}

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
		http.Error(w, "expected an AdmissionReview", http.StatusBadRequest)
		return
	}
	review.Response = h.review(r.Context(), review.Request)
	review.Response.UID = review.Request.UID
	review.Request = nil
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(review)
}

func (h *Handler) review(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	deny := func(err error) *admissionv1.AdmissionResponse {
		return &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{Message: err.Error(), Code: http.StatusForbidden}}
	}
	var pod corev1.Pod
	if err := json.Unmarshal(req.Object.Raw, &pod); err != nil {
		return deny(fmt.Errorf("decoding pod: %w", err))
	}
	ns := pod.Namespace
	if ns == "" {
		ns = req.Namespace // on CREATE the pod may not carry its namespace yet
	}
	saName := pod.Spec.ServiceAccountName
	if saName == "" {
		saName = "default"
	}
	sa, err := h.Client.CoreV1().ServiceAccounts(ns).Get(ctx, saName, metav1.GetOptions{})
	if err != nil {
		return deny(fmt.Errorf("reading service account %s/%s: %w", ns, saName, err))
	}
	before := pod.DeepCopy()
	changed, err := Mutate(&pod, sa, h.Config)
	if err != nil {
		return deny(err)
	}
	resp := &admissionv1.AdmissionResponse{Allowed: true}
	if !changed {
		return resp
	}
	ops := []patchOp{{Op: opFor(before.Spec.Containers), Path: "/spec/containers", Value: pod.Spec.Containers}}
	if len(pod.Spec.InitContainers) > 0 {
		ops = append(ops, patchOp{Op: opFor(before.Spec.InitContainers), Path: "/spec/initContainers", Value: pod.Spec.InitContainers})
	}
	ops = append(ops, patchOp{Op: opFor(before.Spec.Volumes), Path: "/spec/volumes", Value: pod.Spec.Volumes})
	patch, err := json.Marshal(ops)
	if err != nil {
		return deny(err)
	}
	pt := admissionv1.PatchTypeJSONPatch
	resp.Patch, resp.PatchType = patch, &pt
	return resp
}

// opFor picks add or replace, since JSON Patch's replace fails on a missing member.
func opFor[T any](existing []T) string {
	if existing == nil {
		return "add"
	}
	return "replace"
}
