package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/fixture"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

// TestLabIsAnOIDCIssuer checks that the API server publishes the discovery document anonymously, with
// the issuer the lab recorded, as AKS does for its OIDC issuer.
func TestLabIsAnOIDCIssuer(t *testing.T) {
	lab := labtest.Load(t)
	ca, err := os.ReadFile(lab.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(lab.APIServerURL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("anonymous discovery: %d %v", resp.StatusCode, err)
	}
	if doc.Issuer != lab.IssuerURL || !strings.HasPrefix(doc.JWKSURI, lab.APIServerURL) {
		t.Fatalf("discovery %+v, lab issuer %s", doc, lab.IssuerURL)
	}
}

// TestWebhookDoubleInjects creates pods directly: a labelled one gets the injection, a plain one none.
func TestWebhookDoubleInjects(t *testing.T) {
	lab := labtest.Load(t)
	ns := lab.NewFixtureNamespace(t, "webhook")
	client := lab.Clientset(t)
	ctx := context.Background()
	sa := "dataprotection-microsoft-kubernetes-agent-server"
	if _, err := client.CoreV1().ServiceAccounts(ns).Patch(ctx, sa, "application/merge-patch+json",
		[]byte(`{"metadata":{"annotations":{"azure.workload.identity/client-id":"`+clientID+`"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	mk := func(name string, labels map[string]string) *corev1.Pod {
		pod, err := client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: map[string]string{"azure.workload.identity/skip-containers": "sidecar"}},
			// The kwok node runs these pods: their images exist nowhere.
			Spec: corev1.PodSpec{ServiceAccountName: sa, NodeSelector: fixture.KwokNodeSelector, Tolerations: []corev1.Toleration{fixture.KwokToleration},
				Containers: []corev1.Container{{Name: "velero", Image: "velero"}, {Name: "sidecar", Image: "x"}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return pod
	}
	labelled := mk("labelled", map[string]string{"azure.workload.identity/use": "true"})
	plain := mk("plain", nil)
	env := map[string]string{}
	for _, e := range labelled.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if env["AZURE_CLIENT_ID"] != clientID || env["AZURE_TENANT_ID"] == "" || env["AZURE_FEDERATED_TOKEN_FILE"] != "/var/run/secrets/azure/tokens/azure-identity-token" || env["AZURE_AUTHORITY_HOST"] == "" {
		t.Errorf("labelled pod env %v", env)
	}
	if len(labelled.Spec.Containers[1].Env) != 0 {
		t.Error("skip-containers was ignored")
	}
	var audience string
	for _, v := range labelled.Spec.Volumes {
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.ServiceAccountToken != nil {
					audience = s.ServiceAccountToken.Audience
				}
			}
		}
	}
	if audience != "api://AzureADTokenExchange" {
		t.Errorf("projected token audience %q", audience)
	}
	for _, c := range plain.Spec.Containers {
		if len(c.Env) != 0 {
			t.Errorf("an unlabelled pod was mutated: %v", c.Env)
		}
	}
	// kwok runs both pods on the lab node.
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		p, err := client.CoreV1().Pods(ns).Get(ctx, "labelled", metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodRunning, nil
	})
	if err != nil {
		t.Fatalf("labelled pod never ran under kwok: %v", err)
	}
}

// TestKubectlRolloutOnTheLab proves the real controller-manager and scheduler roll deployments out.
func TestKubectlRolloutOnTheLab(t *testing.T) {
	lab := labtest.Load(t)
	ns := lab.NewFixtureNamespace(t, "rollout")
	d := deployments[0]
	if r := kubectl(t, lab, "rollout", "restart", "deployment/"+d, "-n", ns); r.code != 0 {
		t.Fatal(r)
	}
	if r := kubectl(t, lab, "rollout", "status", "deployment/"+d, "-n", ns, "--timeout=2m"); r.code != 0 || !strings.Contains(r.stdout, "successfully rolled out") {
		t.Fatal(r)
	}
}
