package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func flagsFor(kubeconfig string) *genericclioptions.ConfigFlags {
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &kubeconfig
	return flags
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const clusterOnly = `apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: https://127.0.0.1:6443
`

// TestKubeconfigErrorsSayWhatIsWrong: each broken kubeconfig gets its own message, naming the file.
func TestKubeconfigErrorsSayWhatIsWrong(t *testing.T) {
	empty := writeFile(t, "apiVersion: v1\nkind: Config\n")
	noContexts := writeFile(t, clusterOnly)
	noCurrent := writeFile(t, clusterOnly+"contexts:\n- name: a\n  context: {cluster: lab, user: u}\n- name: b\n  context: {cluster: lab, user: u}\nusers:\n- name: u\n  user: {token: x}\n")
	danglingCurrent := writeFile(t, clusterOnly+"contexts:\n- name: a\n  context: {cluster: lab, user: u}\ncurrent-context: gone\nusers:\n- name: u\n  user: {token: x}\n")
	missing := filepath.Join(t.TempDir(), "nope")
	tests := []struct {
		name, kubeconfig, context string
		want                      string
	}{
		{"explicit empty file", empty, "", "--kubeconfig " + empty + " has no contexts"},
		{"explicit file with a cluster and no context", noContexts, "", "--kubeconfig " + noContexts + " has no contexts"},
		{"explicit missing file", missing, "", "--kubeconfig " + missing + " does not exist"},
		{"no current context", noCurrent, "", "--kubeconfig " + noCurrent + " sets no current-context (known: a, b); pass --context NAME"},
		{"current context not defined", danglingCurrent, "", `the current-context "gone" of --kubeconfig ` + danglingCurrent + " is not defined there (known: a)"},
		{"--context in a file without contexts", empty, "prod", `context "prod" does not exist in --kubeconfig ` + empty + " (it has no contexts)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flags := flagsFor(tc.kubeconfig)
			if tc.context != "" {
				flags.Context = &tc.context
			}
			_, err := NewFactory(flags).Clientset()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "no kubeconfig found") {
				t.Fatalf("an explicit --kubeconfig is reported as not found: %v", err)
			}
		})
	}
}

func TestNoKubeconfigAtAll(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent")
	t.Setenv("KUBECONFIG", missing)
	_, err := NewFactory(genericclioptions.NewConfigFlags(false)).Clientset()
	if err == nil || !strings.Contains(err.Error(), "no kubeconfig found (looked for "+missing+")") {
		t.Fatalf("err = %v", err)
	}
}

func execKubeconfig(t *testing.T, command string) string {
	t.Helper()
	return writeFile(t, fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: aks
  cluster: {server: "https://127.0.0.1:6443"}
contexts:
- name: aks
  context: {cluster: aks, user: clusterUser_rg_aks}
current-context: aks
users:
- name: clusterUser_rg_aks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: %s
      args: [get-token, --login, azurecli, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]
      interactiveMode: Never
      installHint: "custom hint from the kubeconfig"
`, command))
}

// TestMissingExecPluginIsNamed: a kubeconfig that runs kubelogin, which is not installed, says so
// before any request, naming the user and how to install it.
func TestMissingExecPluginIsNamed(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // nothing on PATH
	_, err := NewFactory(flagsFor(execKubeconfig(t, "kubelogin"))).Clientset()
	want := `kubeconfig user "clusterUser_rg_aks" runs kubelogin, which is not on PATH; install it: ` + "`az aks install-cli`"
	if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrCredentialPlugin) {
		t.Fatalf("err = %v\nwant %q", err, want)
	}
	// Another program: the kubeconfig's own install hint.
	_, err = NewFactory(flagsFor(execKubeconfig(t, "gke-gcloud-auth-plugin"))).Clientset()
	if err == nil || !strings.Contains(err.Error(), "runs gke-gcloud-auth-plugin, which is not on PATH; install it: custom hint from the kubeconfig") {
		t.Fatalf("err = %v", err)
	}
	// Installed: no error.
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "kubelogin"), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	if _, err := NewFactory(flagsFor(execKubeconfig(t, "kubelogin"))).Clientset(); err != nil {
		t.Fatalf("kubelogin is on PATH: %v", err)
	}
}

// TestExplainNamesMissingExecPlugin covers client-go's own text, for a plugin that vanished
// between the check and the request.
func TestExplainNamesMissingExecPlugin(t *testing.T) {
	err := fmt.Errorf(`Get "https://aks/api": getting credentials: exec: executable kubelogin not found`)
	got := Explain(err, "https://aks")
	if !errors.Is(got, ErrCredentialPlugin) || strings.Contains(got.Error(), "unreachable") || !strings.Contains(got.Error(), "az aks install-cli") {
		t.Fatalf("Explain = %v", got)
	}
}

// TestCheckAPIServer tells a Kubernetes API server from other servers by its /version.
func TestCheckAPIServer(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		wantErr     string
	}{
		{"kubernetes", 200, "application/json", `{"major":"1","minor":"34","gitVersion":"v1.34.4"}`, ""},
		{"kubernetes refusing anonymous", 403, "application/json", `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403}`, ""},
		{"404 page", 404, "text/html", "<html>Not Found</html>", `GET /version answered 404 with "<html>Not Found</html>"`},
		{"200 page", 200, "text/html", "<!doctype html><title>Welcome</title>", `answered "<!doctype html><title>Welcome</title>", not a Kubernetes version document`},
		{"other JSON", 200, "application/json", `{"kind":"APIGroupList"}`, "not a Kubernetes version document"},
		{"long body is cut", 502, "text/plain", strings.Repeat("x", 500), `"` + strings.Repeat("x", 60) + `"...`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/version" {
					t.Errorf("asked for %s", r.URL.Path)
				}
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			err = CheckAPIServer(context.Background(), client.Discovery().RESTClient(), srv.URL)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrNotKubernetes) || !strings.Contains(err.Error(), "the server at "+srv.URL+" does not look like a Kubernetes API server") || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v\nwant %q", err, tc.wantErr)
			}
		})
	}
}

// TestDefaultRequestTimeout: without --request-timeout each request gives up when the server does
// not answer; with it, client-go's whole-request timeout applies instead.
func TestDefaultRequestTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // never answers
		}
	}()
	kubeconfig := writeFile(t, fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"http://%s\"}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\nusers:\n- name: u\n  user: {token: x}\n", ln.Addr()))

	f := &flagsFactory{flags: flagsFor(kubeconfig), requestTimeout: 200 * time.Millisecond}
	client, err := f.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := client.CoreV1().Namespaces().Get(context.Background(), "velero", metav1.GetOptions{})
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the request did not give up")
	}
	var timeout *RequestTimeoutError
	if !errors.As(err, &timeout) {
		t.Fatalf("err = %v, want a RequestTimeoutError", err)
	}
	if got := Explain(err, "http://x").Error(); !strings.Contains(got, "the API server at http://x did not answer in time") || !strings.Contains(got, "no response within the 200ms request timeout") {
		t.Fatalf("Explain = %s", got)
	}

	flags := flagsFor(kubeconfig)
	explicit := "7s"
	flags.Timeout = &explicit
	explicitFactory := &flagsFactory{flags: flags, requestTimeout: DefaultRequestTimeout}
	cfg, err := explicitFactory.restConfig()
	if err != nil || cfg.Timeout != 7*time.Second || explicitFactory.headerTimeout {
		t.Fatalf("--request-timeout 7s: timeout %s, header timeout applied %v, %v", cfg.Timeout, explicitFactory.headerTimeout, err)
	}
}

// TestHeaderTimeoutKeepsLongStreams: the default timeout bounds the wait for an answer, not the
// reading of a body that keeps coming (a log stream), which kubectl's --request-timeout would cut.
func TestHeaderTimeoutKeepsLongStreams(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for i := range 5 {
			fmt.Fprintf(w, "line %d\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
	}))
	defer srv.Close()
	client := &http.Client{Transport: withHeaderTimeout(150 * time.Millisecond)(http.DefaultTransport)}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || strings.Count(string(body), "line") != 5 {
		t.Fatalf("stream cut: %v after %q", err, body)
	}
}
