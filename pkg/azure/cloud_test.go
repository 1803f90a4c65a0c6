package azure

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveCloudConfigRequiresHTTPS(t *testing.T) {
	tests := []struct {
		name, json, wantErr string
	}{
		{"https endpoints", `{"resourceManagerEndpoint":"https://arm.example/","activeDirectoryAuthorityHost":"https://login.example/"}`, ""},
		{"http resource manager", `{"resourceManagerEndpoint":"http://arm.example/","activeDirectoryAuthorityHost":"https://login.example/"}`,
			`resourceManagerEndpoint "http://arm.example/" is not https`},
		{"http authority", `{"resourceManagerEndpoint":"https://arm.example/","activeDirectoryAuthorityHost":"http://127.0.0.1:8080/"}`,
			`activeDirectoryAuthorityHost "http://127.0.0.1:8080/" is not https`},
		{"no scheme", `{"resourceManagerEndpoint":"arm.example","activeDirectoryAuthorityHost":"https://login.example/"}`,
			`resourceManagerEndpoint "arm.example" is not https`},
		{"no host", `{"resourceManagerEndpoint":"https:///path","activeDirectoryAuthorityHost":"https://login.example/"}`,
			`resourceManagerEndpoint "https:///path" has no host`},
		{"control characters are escaped", `{"resourceManagerEndpoint":"ftp://x\u001b[31m","activeDirectoryAuthorityHost":"https://login.example/"}`,
			`resourceManagerEndpoint "ftp://x\x1b[31m"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cloud.json")
			if err := os.WriteFile(path, []byte(tc.json), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := ResolveCloud("", path)
			if tc.wantErr == "" {
				if err != nil || !c.Custom {
					t.Fatalf("ResolveCloud = %+v, %v", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "use an https:// URL") {
				t.Fatalf("err = %v, want it to name the file and %s", err, tc.wantErr)
			}
		})
	}
}
