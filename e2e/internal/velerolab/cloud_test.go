package velerolab

import "testing"

// TestRouteFollowsTheLabCloud: in a custom-cloud lab the blob hosts of that cloud's suffix reach the
// blob front, and the public ones no longer do.
func TestRouteFollowsTheLabCloud(t *testing.T) {
	d := Doubles{Blob: mustURL(t, "https://127.0.0.1:1003/"), BlobAccountPath: "/devstoreaccount1", Accounts: []string{"labstorage"}, BlobSuffix: "core.aksbackup-lab.example"}
	tr := NewTransport(d, nil)
	for raw, want := range map[string]route{
		"https://labstorage.blob.core.aksbackup-lab.example/velero": routeBlob,
		"https://labstorage.blob.core.windows.net/velero":           routeRefused,
		"https://other.blob.core.aksbackup-lab.example/velero":      routeRefused,
	} {
		if got, _ := tr.route(mustURL(t, raw)); got != want {
			t.Errorf("route(%s) = %v, want %v", raw, got, want)
		}
	}
}
