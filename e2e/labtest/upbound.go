package labtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/fixture"
)

// NewControlPlaneNamespace installs an un-wired Upbound Spaces control-plane namespace (its
// mxp-controller) in a fresh namespace, and deletes it afterwards.
func (l *Lab) NewControlPlaneNamespace(t testing.TB) string {
	t.Helper()
	raw := make([]byte, 3)
	_, _ = rand.Read(raw)
	ns := "mxp-lab-" + hex.EncodeToString(raw)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := fixture.InstallMXPController(ctx, l.Clientset(t), ns, 2*time.Minute); err != nil {
		t.Fatalf("installing the mxp-controller fixture in %s: %v", ns, err)
	}
	t.Cleanup(func() {
		if client, err := l.State.Clientset(); err == nil {
			_ = client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		}
	})
	return ns
}
