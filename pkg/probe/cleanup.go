package probe

import (
	"context"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// Leftover is a probe blob or verifier pod found by cleanup.
type Leftover struct {
	Kind string `json:"kind"` // blob or pod
	// Name is the blob's name in its container, or the pod's namespace/name.
	Name    string    `json:"name"`
	Where   string    `json:"where"`
	Created time.Time `json:"created"`
	Deleted bool      `json:"deleted"`
	Error   string    `json:"error,omitempty"`
}

// IsProbeBlob reports whether name is a blob the probe writes under prefix: the root prefix, the
// probe's name prefix, a run ID and nothing else. Cleanup deletes nothing that fails this test.
func IsProbeBlob(prefix, name string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(name, RootPrefix(prefix)+BlobPrefix)
	if !ok || strings.Contains(rest, "/") {
		return time.Time{}, false
	}
	return RunIDTime(rest)
}

// CleanupBlobs lists the probe blobs under the target's prefix and deletes those made before cutoff
// (all of them with dryRun false; none with dryRun true).
func CleanupBlobs(ctx context.Context, client *azblob.Client, t Target, cutoff time.Time, dryRun bool) ([]Leftover, error) {
	namePrefix := RootPrefix(t.Prefix) + BlobPrefix
	pager := client.ServiceClient().NewContainerClient(t.Container).NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &namePrefix})
	var out []Leftover
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, b := range page.Segment.BlobItems {
			if b.Name == nil {
				continue
			}
			made, ok := IsProbeBlob(t.Prefix, *b.Name)
			if !ok || !made.Before(cutoff) {
				continue
			}
			l := Leftover{Kind: "blob", Name: *b.Name, Where: t.ServiceURL + "/" + t.Container, Created: made}
			if !dryRun {
				if _, err := client.DeleteBlob(ctx, t.Container, *b.Name, nil); err != nil {
					l.Error = oneLine(err)
				} else {
					l.Deleted = true
				}
			}
			out = append(out, l)
		}
	}
	return out, nil
}
