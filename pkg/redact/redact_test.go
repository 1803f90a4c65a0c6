package redact

import (
	"strings"
	"testing"
)

// Made-up secrets in the shapes the real ones have.
const (
	// storageKey is 64 bytes in base64: 86 characters and "==", like an Azure storage account key.
	storageKey    = "p5Mzntk8+tZ1wxo5qPM3bnG+J+t6xeQPlt9lq//KjYj7hMuZYRLdn3fI7pJnur8//g3T+XKo0WXCjU3tOv+veg=="
	storageKeyRaw = "p5Mzntk8+tZ1wxo5qPM3bnG+J+t6xeQPlt9lq//KjYj7hMuZYRLdn3fI7pJnur8//g3T+XKo0WXCjU3tOv+veg"
	// storageKeyURL is storageKey percent-encoded, as in a query string.
	storageKeyURL = "p5Mzntk8%2BtZ1wxo5qPM3bnG%2BJ%2Bt6xeQPlt9lq%2F%2FKjYj7hMuZYRLdn3fI7pJnur8%2F%2Fg3T%2BXKo0WXCjU3tOv%2Bveg%3D%3D"
	sasSig        = "Xy7Kq2Lm9Pz4Rt8Vw1Bn6Cd3Fg5Hj0Kl2Mn4Op6Qr8%3D"
	clientSecret  = "Qx8Q~vLm2.Tz9_Rb4kWn7-Hs1Yc5Ud3Fg6Jp0Aa" // the Entra format: 40 characters with ~
	password      = "Tr0ub4dor&3horse"
	jwt           = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJodHRwczovL2lzc3Vlci9hYmMiLCJzdWIiOiJ4In0.c2lnbmF0dXJlLXBhcnQtMTIzNDU2"
	// jwe has five parts; the second (the encrypted key) is empty with direct encryption.
	jwe = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..OHd3aXZfdGhpc19pdg.Y2lwaGVydGV4dF9oZXJlX2xvbmdlcg.dGFnX2hlcmVfMTI"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in string
		secrets  []string // each must be gone
		keep     []string // each must stay
	}{
		// SAS tokens and connection strings.
		{"sas url", `GET https://acct.blob.core.windows.net/velero?sv=2021-08-06&se=2026-11-23&sr=c&sp=rl&sig=` + sasSig + `&x=1`,
			[]string{sasSig}, []string{"sv=2021-08-06", "se=2026-11-23", "&x=1", "acct.blob.core.windows.net"}},
		{"sas url json-escaped by Go", `{"url":"https://acct.blob.core.windows.net/velero?sv=2021-08-06\u0026sig=` + sasSig + `\u0026se=2026"}`,
			[]string{sasSig}, []string{`\u0026se=2026`, "sv=2021-08-06"}},
		{"sas url-encoded inside a query", `redirect=https%3A%2F%2Facct.blob.core.windows.net%2Fv%3Fsv%3D2021%26sig%3D` + sasSig + `%26se%3D2026`,
			[]string{sasSig}, []string{"%26se%3D2026", "sv%3D2021"}},
		{"sas in connection string", `BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2021&sig=` + sasSig,
			[]string{sasSig}, []string{"BlobEndpoint=https://a.blob.core.windows.net/"}},
		{"account key in connection string", `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=` + storageKey + `;EndpointSuffix=core.windows.net`,
			[]string{storageKeyRaw}, []string{"AccountName=acct", "EndpointSuffix=core.windows.net"}},
		{"short account key in connection string", `AccountName=acct;AccountKey=c2VjcmV0a2V5;EndpointSuffix=x`,
			[]string{"c2VjcmV0a2V5"}, []string{"AccountName=acct", "EndpointSuffix=x"}},
		{"shared access key", `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=` + clientSecret,
			[]string{clientSecret}, []string{"SharedAccessKeyName=Root"}},
		{"shared key header", `Authorization: SharedKey devstoreaccount1:Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq`,
			[]string{"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq"}, []string{"devstoreaccount1:"}},

		// Tokens.
		{"basic", `Authorization: Basic dXNlcjpodW50ZXIy`, []string{"dXNlcjpodW50ZXIy"}, []string{"Authorization: Basic "}},
		{"basic in json header", `{"Authorization":"Basic dXNlcjpodW50ZXIy"}`, []string{"dXNlcjpodW50ZXIy"}, []string{"Basic "}},
		{"basic as a word", `basic tier account; Basic authentication failed`, nil, []string{"basic tier", "Basic authentication failed"}},
		{"bearer", `Authorization: Bearer abc.def.ghijklmnopqrstu`, []string{"abc.def.ghijklmnopqrstu"}, []string{"Authorization"}},
		{"jwt alone", `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer token ` + jwt,
			[]string{jwt[:40], jwt[len(jwt)-20:]}, []string{"client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}},
		{"jwe five parts", `got ` + jwe + ` back`, []string{"OHd3aXZfdGhpc19pdg", "Y2lwaGVydGV4dF9oZXJlX2xvbmdlcg", "dGFnX2hlcmVfMTI"}, []string{"got ", " back"}},
		{"jwt cut short", `assertion was eyJhbGciOiJSUzI1NiIsImtpZCI6Ij`, []string{"eyJhbGciOiJSUzI1NiIsImtpZCI6Ij"}, []string{"assertion was"}},
		{"client assertion form field", `grant_type=client_credentials&client_assertion=` + jwt + `&scope=x`, []string{jwt[:40]}, []string{"scope=x"}},
		{"escaped json in logrus", `error="{\"access_token\":\"abcdefghijklmnop\",\"expires_in\":3599}"`, []string{"abcdefghijklmnop"}, []string{"expires_in", "3599"}},
		{"token form field", `refresh_token=0.AXkAabcdefghij&x=1`, []string{"0.AXkAabcdefghij"}, []string{"x=1"}},

		// Client secrets and passwords in every encoding.
		{"client secret env", `AZURE_CLIENT_SECRET=` + clientSecret, []string{clientSecret}, []string{"AZURE_CLIENT_SECRET="}},
		{"client secret form", `grant_type=client_credentials&client_secret=` + clientSecret + `&scope=x`, []string{clientSecret}, []string{"scope=x", "grant_type=client_credentials"}},
		{"client secret url-encoded", `body=grant_type%3Dclient_credentials%26client_secret%3D` + strings.ReplaceAll(clientSecret, "~", "%7E") + `%26scope%3Dx`,
			[]string{strings.ReplaceAll(clientSecret, "~", "%7E")}, []string{"%26scope%3Dx"}},
		{"json secret", `{"clientSecret": "hunter2hunter2", "tenantId": "t"}`, []string{"hunter2hunter2"}, []string{`"tenantId": "t"`}},
		{"json secret with escaped quote", `{"client_secret":"ab\"cd\\ef","x":1}`, []string{`ab\"cd`, `cd\\ef`}, []string{`"x":1`}},
		{"escaped json in a logrus field", `level=error error="{\"client_secret\":\"` + clientSecret + `\",\"tenant\":\"t1\"}"`,
			[]string{clientSecret}, []string{`\"tenant\":\"t1\"`, "level=error"}},
		{"json inside json inside logrus", `{"msg":"x","error":"{\\\"client_secret\\\":\\\"` + clientSecret + `\\\"}"}`, []string{clientSecret}, []string{`"msg":"x"`}},
		{"logfmt quoted password with spaces", `password="` + password + ` more words" user=bob`, []string{password, "more words"}, []string{"user=bob"}},
		{"single-quoted", `AZURE_PASSWORD='` + password + `'`, []string{password}, []string{"AZURE_PASSWORD="}},
		{"certificate password", `AZURE_CLIENT_CERTIFICATE_PASSWORD: ` + password, []string{password}, []string{"AZURE_CLIENT_CERTIFICATE_PASSWORD:"}},
		{"cli flag", `az storage container list --account-name acct --account-key ` + storageKey + ` -o table`, []string{storageKeyRaw}, []string{"--account-name acct", "-o table"}},
		{"cli flag with =", `--client-secret=` + clientSecret, []string{clientSecret}, []string{"--client-secret="}},
		{"yaml secret data", "AZURE_STORAGE_ACCOUNT_ACCESS_KEY: " + storageKey + "\nAZURE_CLOUD_NAME: AzurePublicCloud", []string{storageKeyRaw}, []string{"AzurePublicCloud"}},

		// Velero's and the Azure SDK's credential files, line by line.
		{"velero credentials file", "AZURE_SUBSCRIPTION_ID=0a1b2c3d-0000-4000-8000-000000000001\nAZURE_TENANT_ID=0a1b2c3d-0000-4000-8000-000000000002\nAZURE_CLIENT_ID=0a1b2c3d-0000-4000-8000-000000000003\n" +
			"AZURE_CLIENT_SECRET=" + clientSecret + "\nAZURE_RESOURCE_GROUP=rg-backup\nAZURE_CLOUD_NAME=AzurePublicCloud\nAZURE_STORAGE_KEY=c2VjcmV0LXN0b3JhZ2Uta2V5\nAZURE_PASSWORD=" + password,
			[]string{clientSecret, "c2VjcmV0LXN0b3JhZ2Uta2V5", password},
			[]string{"0a1b2c3d-0000-4000-8000-000000000001", "0a1b2c3d-0000-4000-8000-000000000003", "AZURE_RESOURCE_GROUP=rg-backup", "AzurePublicCloud"}},
		{"plugin access key file", "AZURE_STORAGE_ACCOUNT_ACCESS_KEY=" + storageKey + "\nAZURE_CLOUD_NAME=AzurePublicCloud", []string{storageKeyRaw}, []string{"AZURE_CLOUD_NAME=AzurePublicCloud"}},
		{"storageAccountKey config", `config: storageAccountKey=abcd1234efgh storageAccount=acct`, []string{"abcd1234efgh"}, []string{"storageAccount=acct"}},
		{"key env var name is not a secret", `storageAccountKeyEnvVar=AZURE_STORAGE_ACCOUNT_ACCESS_KEY storageAccount=acct`, nil,
			[]string{"storageAccountKeyEnvVar=AZURE_STORAGE_ACCOUNT_ACCESS_KEY"}},
		{"pem private key", "AZURE_CLIENT_CERTIFICATE=-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nMIIC",
			[]string{"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "BKcwggSjAgEAAoIBAQC7"}, []string{"-----END PRIVATE KEY-----", "BEGIN CERTIFICATE", "MIIC"}},
		{"pem private key escaped", `error="-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAxyz\n-----END RSA PRIVATE KEY-----"`, []string{"MIIEowIBAAKCAQEAxyz"}, []string{"END RSA PRIVATE KEY"}},

		// YAML and JSON env pairs: the value follows the name of a secret.
		{"yaml env pair", "env:\n- name: AZURE_CLIENT_ID\n  value: 0a1b2c3d-0000-4000-8000-000000000003\n- name: AZURE_CLIENT_SECRET\n  value: " + clientSecret + "\n- name: AZURE_TENANT_ID\n  value: t1",
			[]string{clientSecret}, []string{"value: 0a1b2c3d-0000-4000-8000-000000000003", "value: t1"}},
		{"yaml env pair quoted", "- name: \"AZURE_STORAGE_ACCOUNT_ACCESS_KEY\"\n  value: \"" + storageKey + "\"", []string{storageKeyRaw}, []string{"AZURE_STORAGE_ACCOUNT_ACCESS_KEY"}},
		{"yaml env pair with short value", "- name: AZURE_CLIENT_SECRET\n  value: abc", []string{"value: abc"}, []string{"AZURE_CLIENT_SECRET"}},
		{"yaml env pair escaped in a log field", `msg="pod spec" env="- name: AZURE_PASSWORD\n  value: ` + password + `\n"`, []string{password}, []string{"AZURE_PASSWORD", `\n"`}},
		{"yaml env pair in evidence", "- name: AZURE_CLIENT_SECRET ⏎   value: " + clientSecret + " ⏎ - name: X", []string{clientSecret}, []string{"name: X"}},
		{"yaml block scalar", "stringData:\n  AZURE_CLIENT_SECRET: |\n    " + clientSecret + "\n  AZURE_CLIENT_ID: c1", []string{clientSecret}, []string{"AZURE_CLIENT_ID: c1"}},
		{"yaml block scalar escaped", `data="AZURE_PASSWORD: >-\n  ` + password + `\n"`, []string{password}, []string{"AZURE_PASSWORD", `\n"`}},
		{"json env pair", `"env":[{"name":"AZURE_CLIENT_SECRET","value":"` + clientSecret + `"},{"name":"AZURE_CLIENT_ID","value":"c1"}]`,
			[]string{clientSecret}, []string{`"value":"c1"`}},
		{"yaml env from secret ref", "- name: AZURE_CLIENT_SECRET\n  valueFrom:\n    secretKeyRef:\n      name: velero-creds\n      key: cloud", nil,
			[]string{"name: velero-creds", "key: cloud"}},

		// URL userinfo.
		{"url userinfo", `dial https://backup:` + password + `@proxy.corp:8080/x failed`, []string{password}, []string{"https://backup:", "@proxy.corp:8080/x failed"}},
		{"url userinfo encoded", `u=https%3A%2F%2Fbackup%3A` + "s3cretpass" + `%40proxy.corp`, []string{"s3cretpass"}, []string{"%40proxy.corp", "backup%3A"}},
		{"url with port only", `https://acct.blob.core.windows.net:443/velero?restype=container`, nil, []string{"https://acct.blob.core.windows.net:443/velero?restype=container"}},

		// Structural fallback: the shape alone gives a storage key away.
		{"bare storage key", `key is ` + storageKey + ` here`, []string{storageKeyRaw}, []string{"key is ", " here"}},
		{"storage key containing eyJ", `the key EIiZcWC9oc3eiNoKDeyJCUk2PPXKl4bkg6pET0wEAkmbu7s3kZqCyWEe9SNqLuc1Y8nAyFLZzLNT7Ox/hKhnZA== was rotated`,
			[]string{"EIiZcWC9oc3e", "hKhnZA"}, []string{"the key ", " was rotated"}}, // found by FuzzRedact
		{"bare storage key unpadded", `"` + storageKeyRaw + `"`, []string{storageKeyRaw}, nil},
		{"bare storage key url-encoded", `x%3D` + storageKeyURL + `%26y`, []string{"p5Mzntk8%2BtZ1wxo5qPM3bnG"}, []string{"%26y"}},
		{"bare storage key after escaped newline", `\n` + storageKey + `\n`, []string{storageKeyRaw[:40]}, nil},
		{"generic name with secret value", `apiKey=ab12cd34 userSecret=zz99yy88`, []string{"ab12cd34", "zz99yy88"}, nil},
		{"signature name", `x-ms-signature: ab12cd34ef56 other`, []string{"ab12cd34ef56"}, []string{"other"}},

		// What must stay: IDs, names, paths, prose.
		{"nothing secret", `level=error msg="fail to validate backup store" error="ContainerNotFound"`, nil, []string{"ContainerNotFound"}},
		{"token file path", `tokenFile=/var/run/secrets/azure/tokens/azure-identity-token AZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/tokens/azure-identity-token`, nil,
			[]string{"tokenFile=/var/run/secrets/azure/tokens/azure-identity-token", "AZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/tokens/azure-identity-token"}},
		{"token value that is a path", `token=/var/run/secrets/azure/tokens/azure-identity-token`, nil, []string{"/var/run/secrets/azure/tokens/azure-identity-token"}},
		{"client secret value that looks like a path", `AZURE_CLIENT_SECRET=/abc/def`, []string{"/abc/def"}, nil},
		{"token file prose", `WorkloadIdentityCredential: no token file specified; token: expired, secret: missing`, nil,
			[]string{"no token file specified", "token: expired", "secret: missing"}},
		{"ids stay", `AZURE_CLIENT_ID=0a1b2c3d-0000-4000-8000-000000000003 request-id=9f8e7d6c-0000-4000-8000-000000000004 storageAccount=acct x-ms-request-id: 11112222-3333-4444-5555-666677778888 keyId=k1 secretName=velero-creds`, nil,
			[]string{"0a1b2c3d-0000-4000-8000-000000000003", "9f8e7d6c-0000-4000-8000-000000000004", "storageAccount=acct", "11112222-3333-4444-5555-666677778888", "keyId=k1", "secretName=velero-creds"}},
		{"klog source line", `E1027 23:39:22.893319       1 token_credential.go:62] "failed to acquire token"`, nil, []string{"token_credential.go:62]"}},
		{"service account subject", `Assertion Subject: 'system:serviceaccount:external-secrets:external-secrets'. secret:abc123`, nil,
			[]string{"external-secrets:external-secrets", "secret:abc123"}},
		{"credential name with a tight colon", `AccountKey:abc123def;`, []string{"abc123def"}, nil},
		{"object key in blob logs", `key=backups/daily-20261123/velero-backup.json`, nil, []string{"backups/daily-20261123/velero-backup.json"}},
		{"sig inside words", `signal=term assignment=a1b2c3d4 design=x`, nil, []string{"signal=term", "assignment=a1b2c3d4"}},
		{"placeholders", `--account-key <KEY> AZURE_CLIENT_SECRET=${AZURE_CLIENT_SECRET} useAAD=true`, nil,
			[]string{"<KEY>", "${AZURE_CLIENT_SECRET}", "useAAD=true"}},
		{"assertion type", `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`, nil, []string{"jwt-bearer"}},
		{"long path is not a key", `/var/lib/kubelet/pods/abc/volumes/kubernetes.io~projected/azure-identity-token/token`, nil, []string{"azure-identity-token"}},
		{"86 lower-case letters are not a key", strings.Repeat("a", 86), nil, []string{strings.Repeat("a", 86)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := String(tt.in)
			for _, s := range tt.secrets {
				if strings.Contains(got, s) {
					t.Errorf("secret %q survived: %s", s, got)
				}
			}
			if len(tt.secrets) > 0 && !strings.Contains(got, Mask) {
				t.Errorf("no mask in %s", got)
			}
			for _, k := range tt.keep {
				if !strings.Contains(got, k) {
					t.Errorf("lost %q: %s", k, got)
				}
			}
			if len(tt.secrets) == 0 && got != tt.in {
				t.Errorf("changed text without secrets:\n got %s\nwant %s", got, tt.in)
			}
			if again := String(got); again != got {
				t.Errorf("not idempotent:\n once %s\ntwice %s", got, again)
			}
		})
	}
}

func TestValue(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"storageAccountKey", "abc123", Mask},
		{"AZURE_CLIENT_SECRET", "short", Mask},
		{"password", "/abc/def", Mask},
		{"token", "/var/run/secrets/azure/tokens/azure-identity-token", "/var/run/secrets/azure/tokens/azure-identity-token"},
		{"storageAccountKeyEnvVar", "AZURE_STORAGE_ACCOUNT_ACCESS_KEY", "AZURE_STORAGE_ACCOUNT_ACCESS_KEY"},
		{"storageAccount", "acct", "acct"},
		{"clientID", "0a1b2c3d-0000-4000-8000-000000000003", "0a1b2c3d-0000-4000-8000-000000000003"},
		{"message", "AccountKey=abc123;", "AccountKey=" + Mask + ";"},
		{"useAAD", "true", "true"},
		{"secret", "", ""},
	}
	for _, tt := range tests {
		if got := Value(tt.name, tt.value); got != tt.want {
			t.Errorf("Value(%q, %q) = %q, want %q", tt.name, tt.value, got, tt.want)
		}
	}
}

func TestClassify(t *testing.T) {
	for name, want := range map[string]kind{
		"AZURE_STORAGE_ACCOUNT_ACCESS_KEY": credential, "AZURE_STORAGE_KEY": credential, "AZURE_CLIENT_SECRET": credential,
		"AZURE_CLIENT_CERTIFICATE_PASSWORD": credential, "AZURE_PASSWORD": credential, "AZURE_CLIENT_CERTIFICATE": credential,
		"storageAccountKey": credential, "AccountKey": credential, "SharedAccessSignature": credential, "sig": credential,
		"client_secret": credential, "client_assertion": credential, "access_token": credential,
		"apiKey": credential, "token": generic, "secret": generic, "x-ms-signature": generic, "userSecret": generic, "dbPassword": generic,
		"AZURE_CLIENT_ID": notSecret, "AZURE_TENANT_ID": notSecret, "AZURE_FEDERATED_TOKEN_FILE": notSecret,
		"AZURE_CLIENT_CERTIFICATE_PATH": notSecret, "storageAccountKeyEnvVar": notSecret, "tokenFile": notSecret,
		"client_assertion_type": notSecret, "secretName": notSecret, "key": notSecret, "keyId": notSecret,
		"signal": notSecret, "assignment": notSecret, "storageAccount": notSecret, "AccountName": notSecret,
	} {
		if got := classify(name); got != want {
			t.Errorf("classify(%q) = %d, want %d", name, got, want)
		}
	}
}
