// Command velero-loggen writes a large synthetic Velero log for the triage benchmark: logrus text
// lines of mixed levels from Velero's controllers, of which about one in a hundred carries a failure
// that the triage catalog recognises. The output is deterministic for a given seed.
//
// -shape compact (the default) repeats a few real line templates. -shape wide writes what a busy
// cluster with many backups looks like instead: longer lines (up to tens of kilobytes: item lists,
// embedded YAML and JSON), many distinct field names and values (a fresh backup, namespace, pod
// and request ID on most lines), failures naming many locations and accounts, and successes for
// many locations. A memory bound measured on one shape of log says little about another.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

// ordinary lines are what a healthy Velero server logs all day.
var ordinary = []string{
	`level=info msg="Validating BackupStorageLocation" backup-storage-location=velero/default controller=backup-storage-location logSource="pkg/controller/backup_storage_location_controller.go:252"`,
	`level=debug msg="Checking for existing backup locations ready to be verified; there needs to be at least 1 backup location available" controller=backup-storage-location logSource="pkg/controller/backup_storage_location_controller.go:192"`,
	`level=info msg="Found 3 backups in the backup location that do not exist in the cluster and need to be synced" backupLocation=default controller=backup-sync logSource="pkg/controller/backup_sync_controller.go:205"`,
	`level=info msg="Backup completed" backup=velero/daily-20261121020000 controller=backup logSource="pkg/controller/backup_controller.go:791"`,
	`level=debug msg="Getting backup" backup=velero/daily-20261121020000 controller=backup logSource="pkg/controller/backup_controller.go:240"`,
	`level=info msg="plugin process exited" cmd=/plugins/velero-plugin-for-microsoft-azure controller=backup-sync id=3120 logSource="pkg/plugin/clientmgmt/process/logrus_adapter.go:80" plugin=/plugins/velero-plugin-for-microsoft-azure`,
	`level=warning msg="Skipping resource because it is in the excluded list" backup=velero/daily-20261121020000 logSource="pkg/backup/item_backupper.go:120" resource=events`,
	`level=info msg="Processing item" backup=velero/daily-20261121020000 logSource="pkg/backup/backup.go:451" name=coredns-6d4b75cb6d-8xk2p namespace=kube-system progress= resource=pods`,
	`level=info msg="Backed up 212 items out of an estimated total of 534 (estimate will change throughout the backup)" backup=velero/daily-20261121020000 logSource="pkg/backup/backup.go:499" name=coredns namespace=kube-system progress= resource=deployments.apps`,
	`level=error msg="Error getting volume snapshotter for volume snapshot location" backup=velero/daily-20261121020000 error="rpc error: code = Unavailable desc = connection refused" logSource="pkg/backup/item_backupper.go:524" name=pvc-1 volumeSnapshotLocation=default`,
	`level=info msg="Reconciling schedule" controller=schedule logSource="pkg/controller/schedule_controller.go:110" schedule=velero/daily`,
}

// success is Velero's line for a good validation; triage reads it to mark earlier errors resolved.
const success = `level=info msg="BackupStorageLocations is valid, marking as available" backup-storage-location=velero/default controller=backup-storage-location logSource="pkg/controller/backup_storage_location_controller.go:231"`

// failures are lines the catalog must recognise.
var failures = []string{
	`level=error msg="fail to validate backup store" backup-storage-location=velero/default controller=backup-storage-location error="rpc error: code = Unknown desc = ManagedIdentityCredential authentication failed. the requested identity isn't assigned to this resource\nGET http://169.254.169.254/metadata/identity/oauth2/token\n--------------------------------------------------------------------------------\nRESPONSE 400: 400 Bad Request\n--------------------------------------------------------------------------------\n{\n  \"error\": \"invalid_request\",\n  \"error_description\": \"Identity not found\"\n}\n--------------------------------------------------------------------------------\n" logSource="pkg/controller/backup_storage_location_controller.go:255"`,
	`level=error msg="fail to validate backup store" backup-storage-location=velero/default controller=backup-storage-location error="rpc error: code = Unknown desc = GET https://labstorage.blob.core.windows.net/velero\n--------------------------------------------------------------------------------\nRESPONSE 403: 403 Key based authentication is not permitted on this storage account.\nERROR CODE: KeyBasedAuthenticationNotPermitted\n--------------------------------------------------------------------------------\n" logSource="pkg/controller/backup_storage_location_controller.go:255"`,
	`level=error msg="fail to validate backup store" backup-storage-location=velero/default controller=backup-storage-location error="rpc error: code = Unknown desc = GET https://labstorage.blob.core.windows.net/velero\n--------------------------------------------------------------------------------\nRESPONSE 403: 403 This request is not authorized to perform this operation using this permission.\nERROR CODE: AuthorizationPermissionMismatch\n--------------------------------------------------------------------------------\n<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthorizationPermissionMismatch</Code><Message>This request is not authorized to perform this operation using this permission.\nRequestId:1c2f4a1e-001e-0063-2a1f-1c2f4a000000\nTime:2026-11-21T02:00:00.0000000Z</Message></Error>\n--------------------------------------------------------------------------------\n" error.file="/go/src/github.com/vmware-tanzu/velero/pkg/persistence/object_store.go:191" error.function="github.com/vmware-tanzu/velero/pkg/persistence.(*objectBackupStore).IsValid" logSource="pkg/controller/backup_storage_location_controller.go:255"`,
	`level=error msg="Error getting a backup store" backup-storage-location=velero/default controller=backup-storage-location error="rpc error: code = Unknown desc = WorkloadIdentityCredential authentication failed. \nPOST https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token\n--------------------------------------------------------------------------------\nRESPONSE 400: 400 Bad Request\n--------------------------------------------------------------------------------\n{\n  \"error\": \"invalid_request\",\n  \"error_description\": \"AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:velero:velero'. Trace ID: 0e6c Correlation ID: 5a1b Timestamp: 2026-11-21 02:00:00Z\",\n  \"error_codes\": [700213]\n}\n--------------------------------------------------------------------------------\n" logSource="pkg/controller/backup_storage_location_controller.go:248"`,
	`level=info msg="failed to retrieve the storage account properties: GET https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/lab-rg/providers/Microsoft.Storage/storageAccounts/labstorage\n--------------------------------------------------------------------------------\nRESPONSE 403: 403 Forbidden\nERROR CODE: AuthorizationFailed\n--------------------------------------------------------------------------------\n, fallback to use the default URI \"https://labstorage.blob.core.windows.net\"" cmd=/plugins/velero-plugin-for-microsoft-azure logSource="/go/src/velero-plugin-for-microsoft-azure/object_store.go:212" pluginName=velero-plugin-for-microsoft-azure`,
	`level=error msg="Current BackupStorageLocations available/unavailable/unknown: 0/1/0, BackupStorageLocation \"default\" is unavailable: ContainerNotFound: The specified container does not exist.)" controller=backup-storage-location logSource="pkg/controller/backup_storage_location_controller.go:291"`,
}

func main() {
	size := flag.Int64("size", 1<<30, "bytes to write (at least)")
	failureRate := flag.Float64("failure-rate", 0.01, "fraction of lines that carry a recognised failure")
	successRate := flag.Float64("success-rate", 0.001, "fraction of lines that report a successful BSL validation")
	seed := flag.Uint64("seed", 1, "random seed")
	shape := flag.String("shape", "compact", "compact: a few real line templates; wide: long lines, many distinct fields and names")
	flag.Parse()
	if *shape != "compact" && *shape != "wide" {
		fmt.Fprintf(os.Stderr, "-shape must be compact or wide, got %q\n", *shape)
		os.Exit(2)
	}
	rng := rand.New(rand.NewPCG(*seed, *seed))
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	t := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	var written int64
	for written < *size {
		t = t.Add(time.Duration(rng.IntN(900)) * time.Millisecond)
		var line string
		if *shape == "wide" {
			line = wideLine(rng, rng.Float64(), *failureRate, *successRate)
		} else {
			line = ordinary[rng.IntN(len(ordinary))]
			switch r := rng.Float64(); {
			case r < *failureRate:
				line = failures[rng.IntN(len(failures))]
			case r < *failureRate+*successRate:
				line = success
			}
		}
		n, err := fmt.Fprintf(w, "time=\"%s\" %s\n", t.Format(time.RFC3339), line)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		written += int64(n)
	}
}
