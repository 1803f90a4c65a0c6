package redact

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJodHRwczovL2lzc3Vlci9hYmMiLCJzdWIiOiJ4In0.c2lnbmF0dXJlLXBhcnQtMTIzNDU2"
	tests := []struct {
		name, in string
		secret   string // must be gone
		keep     string // must stay
	}{
		{"sas url", `GET https://acct.blob.core.windows.net/velero?sv=2021-08-06&se=2026-11-23&sr=c&sp=rl&sig=AbCdEf%2Bghij%3D&x=1`, "AbCdEf%2Bghij%3D", "sv=2021-08-06"},
		{"sas in connection string", `BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2021&sig=zzzzsecretzzzz`, "zzzzsecretzzzz", "BlobEndpoint"},
		{"account key", `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0a2V5c2VjcmV0a2V5==;EndpointSuffix=core.windows.net`, "c2VjcmV0a2V5c2VjcmV0a2V5==", "AccountName=acct"},
		{"bearer", `Authorization: Bearer abc.def.ghijklmnopqrstu`, "abc.def.ghijklmnopqrstu", "Authorization"},
		{"jwt alone", `client_assertion_type=jwt-bearer token ` + jwt, jwt, "client_assertion_type"},
		{"client secret env", `AZURE_CLIENT_SECRET=s3cr3t~value.123`, "s3cr3t~value.123", "AZURE_CLIENT_SECRET="},
		{"client secret form", `grant_type=client_credentials&client_secret=s3cr3t~value&scope=x`, "s3cr3t~value", "scope=x"},
		{"json secret", `{"clientSecret": "hunter2hunter2", "tenantId": "t"}`, "hunter2hunter2", `"tenantId": "t"`},
		{"escaped json in logrus", `error="{\"access_token\":\"abcdefghijklmnop\",\"expires_in\":3599}"`, "abcdefghijklmnop", "expires_in"},
		{"storage key env", `AZURE_STORAGE_KEY=Zm9vYmFyYmF6cXV4`, "Zm9vYmFyYmF6cXV4", "AZURE_STORAGE_KEY="},
		{"shared key header", `Authorization: SharedKey devstoreaccount1:Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq`, "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq", "devstoreaccount1:"},
		{"nothing secret", `level=error msg="fail to validate backup store" error="ContainerNotFound"`, "", "ContainerNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := String(tt.in)
			if tt.secret != "" && strings.Contains(got, tt.secret) {
				t.Errorf("secret survived: %s", got)
			}
			if tt.secret != "" && !strings.Contains(got, Mask) {
				t.Errorf("no mask in %s", got)
			}
			if !strings.Contains(got, tt.keep) {
				t.Errorf("lost %q: %s", tt.keep, got)
			}
			if tt.secret == "" && got != tt.in {
				t.Errorf("changed text without secrets: %s", got)
			}
		})
	}
}
