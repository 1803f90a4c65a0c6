package redact

import (
	"strings"
	"testing"
	"time"
)

// benchLines are what the printers pass through String: evidence lines with and without secrets.
var benchLines = []string{
	`time="2026-11-23T10:00:00Z" level=error msg="fail to validate backup store for backup storage location" backup-storage-location=velero/default controller=backup-storage-location error="rpc error: code = Unknown desc = ContainerNotFound: The specified container does not exist." error.file="/go/src/velero-plugin-for-microsoft-azure/velero-plugin-for-microsoft-azure/object_store.go:226" logSource="pkg/controller/backup_storage_location_controller.go:180"`,
	`{"level":"error","msg":"fail to validate backup store","backup-storage-location":"velero/default","error":"GET https://acct.blob.core.windows.net/velero?restype=container\u0026sv=2021-08-06\u0026sig=AbCdEfGh%2Bij%3D","time":"2026-11-23T10:00:00Z"}`,
	`kubectl aksbackup identity configure -n velero --yes`,
	`AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:velero:velero'. Trace ID: 3f5e8a2c-1b4d-4e6f-9a8b-7c6d5e4f3a2b Correlation ID: 0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d`,
}

// bench runs String over lines and reports its cost as a multiple of one strings.ToLower pass over
// the same text, measured in the same run (the machine's speed cancels out).
func bench(b *testing.B, lines []string) {
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	b.SetBytes(int64(n))
	for b.Loop() {
		for _, l := range lines {
			_ = String(l)
		}
	}
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	start := time.Now()
	for range b.N {
		for _, l := range lines {
			_ = strings.ToLower(l)
		}
	}
	if base := float64(time.Since(start).Nanoseconds()) / float64(b.N); base > 0 {
		b.ReportMetric(perOp/base, "x-ToLower")
	}
}

func BenchmarkString(b *testing.B) { bench(b, benchLines) }

func BenchmarkStringLong(b *testing.B) { bench(b, []string{strings.Repeat(benchLines[0]+" ", 20)}) }
