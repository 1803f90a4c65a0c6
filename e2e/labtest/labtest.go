// Package labtest gives end-to-end tests the running lab: its kubeconfig, an admin client, a fresh
// fixture namespace per test, and a user without write rights.
package labtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/fixture"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/lab"
)

// Lab is the running lab as tests see it.
type Lab struct {
	*lab.State
}

// Load finds the lab (AKSBACKUP_LAB_DIR, else e2e/.lab) and fails the test when it is not up.
func Load(t testing.TB) *Lab {
	t.Helper()
	dir := os.Getenv("AKSBACKUP_LAB_DIR")
	if dir == "" {
		wd, _ := os.Getwd()
		for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "e2e", "go.mod")); err == nil {
				dir = filepath.Join(d, "e2e", ".lab")
				break
			}
			if filepath.Base(d) == "e2e" {
				dir = filepath.Join(d, ".lab")
				break
			}
		}
	}
	s, err := lab.Load(dir)
	if err != nil {
		t.Fatalf("the lab is not up: %v; run `make lab-up` (or `make e2e`)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := lab.Healthy(ctx, s); err != nil {
		t.Fatalf("the lab in %s is not healthy: %v; run `make lab-down lab-up`", dir, err)
	}
	return &Lab{State: s}
}

// Clientset is an admin client.
func (l *Lab) Clientset(t testing.TB) kubernetes.Interface {
	t.Helper()
	c, err := l.State.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewFixtureNamespace installs the un-wired fixture in a fresh namespace and deletes it afterwards.
func (l *Lab) NewFixtureNamespace(t testing.TB, prefix string) string {
	t.Helper()
	raw := make([]byte, 3)
	_, _ = rand.Read(raw)
	ns := "e2e-" + prefix + "-" + hex.EncodeToString(raw)
	cfg, err := clientcmd.BuildConfigFromFlags("", l.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := fixture.Install(ctx, cfg, fixture.Options{Namespace: ns, CRDFile: l.CRDFile, StorageAccountURI: l.StorageAccountURI()}); err != nil {
		t.Fatalf("installing the fixture in %s: %v", ns, err)
	}
	t.Cleanup(func() {
		client, err := l.State.Clientset()
		if err == nil {
			_ = client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		}
	})
	return ns
}

// WaitRollout waits for a deployment to roll out.
func (l *Lab) WaitRollout(t testing.TB, ns, name string) {
	t.Helper()
	if err := fixture.WaitRollout(context.Background(), l.Clientset(t), ns, name, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
}

// CreateLimitedUser returns a user name (for --as) that can read everything in ns but change nothing.
func (l *Lab) CreateLimitedUser(t testing.TB, ns string) string {
	t.Helper()
	user := "viewer-" + ns
	_, err := l.Clientset(t).RbacV1().RoleBindings(ns).Create(context.Background(), &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-viewer"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
		Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: user}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return user
}
