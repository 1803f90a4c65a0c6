package kube

import (
	"os"
	"testing"
)

func writeKubeconfig(t *testing.T, path string) {
	t.Helper()
	const config = `apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: https://127.0.0.1:6443
contexts:
- name: lab
  context:
    cluster: lab
    user: admin
    namespace: team-a
current-context: lab
users:
- name: admin
  user:
    token: not-a-real-token
`
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
}
