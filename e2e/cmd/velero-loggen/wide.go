package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// fieldNames are the keys of Velero's, its plugins' and controller-runtime's logrus fields; a wide
// line carries a random subset of them, so the set of keys differs from line to line.
var fieldNames = []string{
	"backup", "restore", "schedule", "namespace", "name", "resource", "group", "version", "kind",
	"controller", "controllerGroup", "controllerKind", "reconcileID", "logSource", "pluginName", "cmd",
	"item", "progress", "phase", "volume", "persistentVolume", "persistentVolumeClaim", "snapshotID",
	"repository", "repositoryType", "uploader", "dataUpload", "dataDownload", "node", "pod", "podVolumeBackup",
	"duration", "bytesDone", "totalBytes", "itemsBackedUp", "totalItems", "backupStorageLocation", "requestID",
	"traceID", "spanID", "attempt", "retry", "concurrency", "worker", "queue", "labels", "annotations",
}

var wideMessages = []string{
	"Processing item", "Backing up item", "Executing custom action", "Skipping item because it's already been backed up.",
	"Waiting for all pod volume backups to complete", "Pod volume backup completed", "Reconciling data upload",
	"Snapshot created", "Restoring resource", "Getting client for resource", "Listing items", "Retrieved items",
	"Running post-backup hooks", "Found associated CRD to add to backup", "Checking for existing repository",
	"Summary for skipped PVs", "Patching backup status", "Sync backup from backup location",
}

// wideLine is one line of the wide shape: a failure, a success, or an ordinary line with many
// fields and, now and then, a very long value.
func wideLine(rng *rand.Rand, r, failureRate, successRate float64) string {
	loc := fmt.Sprintf("velero/location-%d", rng.IntN(50))
	account := fmt.Sprintf("backupacct%04d", rng.IntN(500))
	switch {
	case r < failureRate:
		line := failures[rng.IntN(len(failures))]
		line = strings.ReplaceAll(line, "velero/default", loc)
		line = strings.ReplaceAll(line, "labstorage", account)
		return line + " " + fields(rng, 8+rng.IntN(12))
	case r < failureRate+successRate:
		return strings.ReplaceAll(success, "velero/default", loc)
	}
	level := []string{"info", "info", "info", "debug", "debug", "warning", "error"}[rng.IntN(7)]
	var b strings.Builder
	fmt.Fprintf(&b, "level=%s msg=%q %s", level, wideMessages[rng.IntN(len(wideMessages))]+" "+randomName(rng, "item"), fields(rng, 10+rng.IntN(25)))
	switch p := rng.IntN(100); {
	case p < 3:
		// An item list: the kind of value that makes a line tens of kilobytes long.
		var items []string
		for i, n := 0, 200+rng.IntN(2000); i < n; i++ {
			items = append(items, randomName(rng, "ns")+"/"+randomName(rng, "pod"))
		}
		fmt.Fprintf(&b, " items=%q", strings.Join(items, ","))
	case p < 10:
		// An embedded manifest, escaped as logrus writes a multi-line value.
		fmt.Fprintf(&b, " object=%q", fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: %s\n  labels:\n    app: %s\n    pod-template-hash: %x\n  uid: %s\nspec:\n  containers:\n  - name: main\n    image: registry.example/%s:%d\n    args: [%q]\n",
			randomName(rng, "pod"), randomName(rng, "ns"), randomName(rng, "app"), rng.Uint32(), uuid(rng), randomName(rng, "img"), rng.IntN(100), strings.Repeat("x", rng.IntN(2000))))
	}
	return b.String()
}

// fields writes n random key=value pairs, values fresh on most lines.
func fields(rng *rand.Rand, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		key := fieldNames[rng.IntN(len(fieldNames))]
		switch rng.IntN(4) {
		case 0:
			fmt.Fprintf(&b, "%s=%s", key, uuid(rng))
		case 1:
			fmt.Fprintf(&b, "%s=%d", key, rng.Int64N(1<<40))
		case 2:
			fmt.Fprintf(&b, "%s=%s/%s", key, randomName(rng, "ns"), randomName(rng, key))
		default:
			fmt.Fprintf(&b, "%s=%q", key, "value with spaces "+randomName(rng, key)+" "+uuid(rng))
		}
	}
	return b.String()
}

func randomName(rng *rand.Rand, prefix string) string {
	return fmt.Sprintf("%s-%x", strings.ToLower(prefix), rng.Uint64()&0xffffffffff)
}

func uuid(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, a>>16&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}
