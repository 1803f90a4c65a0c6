package azurecheck

import (
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
)

// TestStorageFixesQuoteSettings feeds storage settings read from the cluster that hold shell
// metacharacters: each fix command carries them as one quoted word, and ordinary names unquoted.
func TestStorageFixesQuoteSettings(t *testing.T) {
	no, deny := false, "Deny"
	tests := []struct {
		name       string
		settings   StorageSettings
		want, bans []string
	}{
		{"ordinary names stay as they are", StorageSettings{Account: "acct01", ResourceGroup: "rg-backup", Container: "velero"},
			[]string{"--account-name acct01", "--resource-group rg-backup", "--name velero "}, nil},
		{"hostile names are quoted", StorageSettings{Account: "acct$(id)", ResourceGroup: "rg; reboot", Container: "c'x"},
			[]string{"--account-name 'acct$(id)'", "--resource-group 'rg; reboot'", `--name 'c'\''x'`}, []string{" acct$(id) ", " rg; reboot"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Facts{Settings: tt.settings, AccountID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a",
				Account: &azure.StorageAccount{AllowSharedKeyAccess: &no, DefaultAction: deny}, ContainerExists: &no}
			var fixes []string
			for _, fd := range storageFindings(f, Input{}) {
				fixes = append(fixes, fd.Remediation...)
			}
			all := strings.Join(fixes, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("missing %q in\n%s", w, all)
				}
			}
			for _, b := range tt.bans {
				if strings.Contains(all, b) {
					t.Errorf("unquoted %q in\n%s", b, all)
				}
			}
		})
	}
}
