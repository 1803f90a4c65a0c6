package bsl

import (
	"strings"
	"testing"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAnalyze(t *testing.T) {
	now := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: now.Add(-d)} }
	base := func() velerov1.BackupStorageLocation {
		return velerov1.BackupStorageLocation{
			ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "velero"},
			Spec: velerov1.BackupStorageLocationSpec{Provider: "azure", StorageType: velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{Bucket: "b", Prefix: "p"}},
				Config: map[string]string{"storageAccount": "sa", "useAAD": "true"}},
			Status: velerov1.BackupStorageLocationStatus{Phase: "Available", LastValidationTime: at(30 * time.Second), LastSyncedTime: at(30 * time.Second)},
		}
	}
	tests := []struct {
		name   string
		mutate func(*velerov1.BackupStorageLocation)
		want   []string // finding IDs in order
	}{
		{"healthy", func(*velerov1.BackupStorageLocation) {}, nil},
		{"validation stale", func(b *velerov1.BackupStorageLocation) { b.Status.LastValidationTime = at(3 * time.Minute) }, []string{"bsl-validation-stale"}},
		{"custom frequency keeps it fresh", func(b *velerov1.BackupStorageLocation) {
			b.Status.LastValidationTime = at(3 * time.Minute)
			b.Spec.ValidationFrequency = &metav1.Duration{Duration: 5 * time.Minute}
		}, nil},
		{"sync stale", func(b *velerov1.BackupStorageLocation) { b.Status.LastSyncedTime = at(time.Hour) }, []string{"bsl-sync-stale"}},
		{"no storage account, keys", func(b *velerov1.BackupStorageLocation) { b.Spec.Config = map[string]string{} }, []string{"bsl-azure-config-missing", "bsl-not-using-aad"}},
		{"unavailable with an unknown cause", func(b *velerov1.BackupStorageLocation) {
			b.Status.Phase, b.Status.Message = "Unavailable", `BackupStorageLocation "default" is unavailable: something nobody has seen`
		}, []string{"bsl-unavailable"}},
		{"unavailable, cause known", func(b *velerov1.BackupStorageLocation) {
			b.Status.Phase, b.Status.Message = "Unavailable", `BackupStorageLocation "default" is unavailable: ContainerNotFound: The specified container does not exist.`
		}, []string{"container-not-found", "bsl-unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := base()
			tt.mutate(&b)
			rep := Analyze("velero", []velerov1.BackupStorageLocation{b}, now)
			var got []string
			for _, f := range rep.Locations[0].Findings {
				got = append(got, f.ID)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("findings %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSecretsInConfigAndMessageAreRedacted(t *testing.T) {
	b := velerov1.BackupStorageLocation{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "velero"},
		Spec:   velerov1.BackupStorageLocationSpec{Provider: "azure", Config: map[string]string{"storageAccount": "sa", "connection": "AccountName=sa;AccountKey=c2VjcmV0c2VjcmV0"}},
		Status: velerov1.BackupStorageLocationStatus{Phase: "Unavailable", Message: "GET https://sa.blob.core.windows.net/b?sig=SIGSIGSIG AuthorizationFailure"}}
	rep := Analyze("velero", []velerov1.BackupStorageLocation{b}, time.Now())
	l := rep.Locations[0]
	if strings.Contains(l.Config["connection"], "c2VjcmV0c2VjcmV0") || strings.Contains(l.Message, "SIGSIGSIG") {
		t.Fatalf("secret printed: %v %q", l.Config, l.Message)
	}
}
