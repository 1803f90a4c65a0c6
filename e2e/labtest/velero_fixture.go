package labtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/fixture"
)

// NewVeleroNamespace installs the plain Velero fixture (fixture.InstallVelero: service account velero,
// deployment velero, daemonset node-agent, secret cloud-credentials, BSL default) in a fresh
// namespace, and deletes it afterwards.
func (l *Lab) NewVeleroNamespace(t testing.TB) string {
	t.Helper()
	raw := make([]byte, 3)
	_, _ = rand.Read(raw)
	ns := "e2e-velero-" + hex.EncodeToString(raw)
	cfg, err := clientcmd.BuildConfigFromFlags("", l.State.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if client, err := l.State.Clientset(); err == nil {
			_ = client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		}
	})
	if err := fixture.InstallVelero(ctx, cfg, fixture.Options{Namespace: ns, CRDFile: l.State.CRDFile, StorageAccountURI: l.State.StorageAccountURI()}); err != nil {
		t.Fatalf("installing the velero fixture in %s: %v", ns, err)
	}
	return ns
}
