// Package velerocreds checks Velero's credentials secret for workload identity by its key names only:
// no value is ever returned, printed or logged, except AZURE_RESOURCE_GROUP's, a resource group name
// (not a secret) that Velero uses when the BackupStorageLocation names none.
package velerocreds

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
)

// Secret and Key are where `velero install` and the Helm chart put the credentials file.
const (
	Secret = "cloud-credentials"
	Key    = "cloud"
)

// required are the keys velero-plugin-for-microsoft-azure reads from the file for workload identity.
var required = []string{"AZURE_SUBSCRIPTION_ID", ResourceGroupKey, "AZURE_CLOUD_NAME"}

// secretKeys make the SDK's credential chain pick a secret over the federated token.
var secretKeys = []string{"AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_PASSWORD"}

// ResourceGroupKey is the credentials file's resource group: Velero's fallback for the storage
// account's resource group when the BSL config has no resourceGroup.
const ResourceGroupKey = "AZURE_RESOURCE_GROUP"

// Keys returns the names set in an env-style credentials file (KEY=VALUE lines, # comments).
func Keys(file []byte) map[string]bool {
	keys := map[string]bool{}
	for name := range entries(file) {
		keys[name] = true
	}
	return keys
}

// entries reads an env-style file as Velero's godotenv does: KEY=VALUE lines, an optional export,
// # comments, quoted values. Only names, and the resource group, leave this package.
func entries(file []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(file))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		value = unquote(strings.TrimSpace(value))
		if ok && value != "" {
			out[strings.TrimSpace(name)] = value
		}
	}
	return out
}

// unquote takes a quoted value's text, or an unquoted value's text before a " #" comment.
func unquote(v string) string {
	if v != "" && (v[0] == '"' || v[0] == '\'') {
		if end := strings.IndexByte(v[1:], v[0]); end >= 0 {
			return v[1 : 1+end]
		}
		return v
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

// resourceGroupName is what ARM accepts as a resource group name: up to 90 letters, digits,
// underscores, hyphens, periods and parentheses, not ending in a period.
var resourceGroupName = regexp.MustCompile(`^[\p{L}\p{N}_().-]{0,89}[\p{L}\p{N}_()-]$`)

// ResourceGroup is the file's AZURE_RESOURCE_GROUP; "" when it is unset or is not a resource group
// name (then it is never shown).
func ResourceGroup(file []byte) string {
	if rg := entries(file)[ResourceGroupKey]; resourceGroupName.MatchString(rg) {
		return rg
	}
	return ""
}

// Judge turns the key names of the credentials file into findings; workloadIdentity says whether the
// component's pods carry the workload identity (then a client secret overrides it).
func Judge(namespace string, keys map[string]bool, workloadIdentity bool) []findings.Finding {
	object := "secret/" + namespace + "/" + Secret
	var fs []findings.Finding
	var missing []string
	for _, k := range required {
		if !keys[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		fs = append(fs, catalog.VeleroCredentialsIncomplete.New(object,
			fmt.Sprintf("key %s of secret %s has no %s", Key, Secret, strings.Join(missing, ", ")),
			fmt.Sprintf("kubectl create secret generic %s -n %s --from-file=%s=<file with AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP and AZURE_CLOUD_NAME=AzurePublicCloud> --dry-run=client -o yaml | kubectl apply -f -", Secret, namespace, Key)))
	}
	var secrets []string
	for _, k := range secretKeys {
		if keys[k] {
			secrets = append(secrets, k)
		}
	}
	if workloadIdentity && len(secrets) > 0 {
		sort.Strings(secrets)
		fs = append(fs, catalog.VeleroCredentialsClientSecret.New(object,
			fmt.Sprintf("the credentials file sets %s, which the Azure SDK uses before the workload identity", strings.Join(secrets, ", ")),
			fmt.Sprintf("remove %s from key %s of secret %s in namespace %s, then restart Velero: kubectl aksbackup restart --profile velero -n %s", strings.Join(secrets, ", "), Key, Secret, namespace, namespace)))
	}
	return fs
}

// Result is what Check learned from the secret.
type Result struct {
	Findings []findings.Finding
	// Note says why the secret was not checked ("" when it was).
	Note string
	// ResourceGroup is the file's AZURE_RESOURCE_GROUP (see ResourceGroup).
	ResourceGroup string
}

// Check reads the secret and judges it. A secret the caller may not read is a note, not a finding.
func Check(ctx context.Context, client kubernetes.Interface, namespace string, workloadIdentity bool) (Result, error) {
	s, err := client.CoreV1().Secrets(namespace).Get(ctx, Secret, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return Result{Findings: []findings.Finding{catalog.VeleroCredentialsMissing.New("secret/"+namespace+"/"+Secret,
			fmt.Sprintf("namespace %s has no secret %s", namespace, Secret),
			fmt.Sprintf("kubectl create secret generic %s -n %s --from-file=%s=<credentials file>", Secret, namespace, Key))}}, nil
	case apierrors.IsForbidden(err):
		return Result{Note: fmt.Sprintf("the credentials secret %s was not checked: you may not get secrets in namespace %s", Secret, namespace)}, nil
	case err != nil:
		return Result{}, fmt.Errorf("reading secret %s/%s: %w", namespace, Secret, err)
	}
	file := s.Data[Key]
	return Result{Findings: Judge(namespace, Keys(file), workloadIdentity), ResourceGroup: ResourceGroup(file)}, nil
}
