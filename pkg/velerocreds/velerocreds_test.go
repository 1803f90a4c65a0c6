package velerocreds

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const secretValue = "Sup3r-S3cret-Value~never.printed"

func TestCheck(t *testing.T) {
	complete := "AZURE_SUBSCRIPTION_ID=00000000-0000-0000-0000-000000000001\nAZURE_RESOURCE_GROUP=rg\nAZURE_CLOUD_NAME=AzurePublicCloud\n"
	tests := []struct {
		name     string
		file     string // "" means no secret
		wi       bool
		forbid   bool
		wantIDs  []string
		wantNote bool
	}{
		{name: "complete, workload identity", file: complete, wi: true},
		{name: "a client secret while the pods use workload identity", file: complete + "AZURE_CLIENT_SECRET=" + secretValue + "\n", wi: true, wantIDs: []string{"velero-credentials-client-secret"}},
		{name: "a client secret without workload identity is how that setup works", file: complete + "AZURE_CLIENT_SECRET=" + secretValue + "\n"},
		{name: "missing keys, comments and export", file: "# velero\nexport AZURE_SUBSCRIPTION_ID=x\nAZURE_RESOURCE_GROUP=\n", wi: true, wantIDs: []string{"velero-credentials-incomplete"}},
		{name: "no secret", wantIDs: []string{"velero-credentials-missing"}},
		{name: "forbidden", forbid: true, wantNote: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset()
			if tc.file != "" {
				_, _ = client.CoreV1().Secrets("velero").Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: Secret, Namespace: "velero"},
					Data: map[string][]byte{Key: []byte(tc.file)}}, metav1.CreateOptions{})
			}
			if tc.forbid {
				client.PrependReactor("get", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, Secret, errors.New("no"))
				})
			}
			res, err := Check(context.Background(), client, "velero", tc.wi)
			if err != nil {
				t.Fatal(err)
			}
			fs, note := res.Findings, res.Note
			if wantRG := map[bool]string{true: "rg"}[strings.Contains(tc.file, "AZURE_RESOURCE_GROUP=rg")]; res.ResourceGroup != wantRG {
				t.Errorf("resource group %q, want %q", res.ResourceGroup, wantRG)
			}
			var ids []string
			for _, f := range fs {
				ids = append(ids, f.ID)
			}
			if !slices.Equal(ids, tc.wantIDs) || (note != "") != tc.wantNote {
				t.Fatalf("ids %v note %q, want %v note %v", ids, note, tc.wantIDs, tc.wantNote)
			}
			doc, _ := json.Marshal(fs)
			if strings.Contains(string(doc), secretValue) || strings.Contains(note, secretValue) {
				t.Fatalf("the secret's value reached the findings: %s", doc)
			}
		})
	}
}

func TestResourceGroup(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"plain", "AZURE_SUBSCRIPTION_ID=x\nAZURE_RESOURCE_GROUP=velero-rg\n", "velero-rg"},
		{"export, double quotes and CRLF", "export AZURE_RESOURCE_GROUP=\"Backup.RG(prod)_1\"\r\n", "Backup.RG(prod)_1"},
		{"single quotes and a comment", "AZURE_RESOURCE_GROUP='rg-1' # the storage account's group\n", "rg-1"},
		{"unquoted with a comment", "AZURE_RESOURCE_GROUP = rg-2 # note\n", "rg-2"},
		{"commented out", "# AZURE_RESOURCE_GROUP=old-rg\n", ""},
		{"empty", "AZURE_RESOURCE_GROUP=\n", ""},
		{"empty quotes", `AZURE_RESOURCE_GROUP=""` + "\n", ""},
		// Not a resource group name: never returned, so a value pasted into the wrong key never shows.
		{"a secret in the wrong key", "AZURE_RESOURCE_GROUP=" + secretValue + "=\n", ""},
		{"ends in a period", "AZURE_RESOURCE_GROUP=rg.\n", ""},
		{"too long", "AZURE_RESOURCE_GROUP=" + strings.Repeat("r", 91) + "\n", ""},
		{"longest", "AZURE_RESOURCE_GROUP=" + strings.Repeat("r", 90) + "\n", strings.Repeat("r", 90)},
		{"unset", "AZURE_SUBSCRIPTION_ID=x\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ResourceGroup([]byte(tc.file)); got != tc.want {
				t.Errorf("ResourceGroup = %q, want %q", got, tc.want)
			}
		})
	}
}
