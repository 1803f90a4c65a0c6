// Command lab-podcheck runs in a pod on the lab's real node and reports, as JSON in its termination
// message, what the kubelet and runc really gave it: its uid/gid, capabilities, seccomp and
// no_new_privs state, whether the root filesystem is read-only, the projected token file's mode,
// owner and audience (never the token), and whether an address on the lab bridge answers.
//
// Environment: AZURE_FEDERATED_TOKEN_FILE (set by the workload-identity webhook), LAB_CHECK_URL and
// LAB_CHECK_CA (a URL to GET and the CA file that verifies it).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"
)

// Report is the termination message.
type Report struct {
	UID, GID      int
	CapEff        string
	Seccomp       string
	NoNewPrivs    string
	RootReadOnly  bool
	TokenFile     string   `json:",omitempty"`
	TokenMode     string   `json:",omitempty"`
	TokenUID      int      `json:",omitempty"`
	TokenAudience string   `json:",omitempty"`
	CheckURL      string   `json:",omitempty"`
	CheckStatus   int      `json:",omitempty"`
	Errors        []string `json:",omitempty"`
}

func main() {
	r := Report{UID: os.Getuid(), GID: os.Getgid()}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch k {
		case "CapEff":
			r.CapEff = v
		case "Seccomp":
			r.Seccomp = v
		case "NoNewPrivs":
			r.NoNewPrivs = v
		}
	}
	if err := os.WriteFile("/podcheck-write-test", []byte("x"), 0o600); err != nil {
		r.RootReadOnly = strings.Contains(err.Error(), syscall.EROFS.Error())
	} else {
		_ = os.Remove("/podcheck-write-test")
	}
	if f := os.Getenv("AZURE_FEDERATED_TOKEN_FILE"); f != "" {
		r.TokenFile = f
		checkToken(&r, f)
	}
	if u := os.Getenv("LAB_CHECK_URL"); u != "" {
		r.CheckURL = u
		if code, err := get(u, os.Getenv("LAB_CHECK_CA")); err != nil {
			r.Errors = append(r.Errors, err.Error())
		} else {
			r.CheckStatus = code
		}
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	if err := os.WriteFile("/dev/termination-log", out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "writing the termination message:", err)
	}
}

// checkToken records the file's mode, owner and audience; the token itself stays in the file.
func checkToken(r *Report, file string) {
	fi, err := os.Stat(file)
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
		return
	}
	r.TokenMode = fmt.Sprintf("%04o", fi.Mode().Perm())
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		r.TokenUID = int(st.Uid)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
		return
	}
	parts := strings.Split(strings.TrimSpace(string(raw)), ".")
	if len(parts) != 3 {
		r.Errors = append(r.Errors, "the token file does not hold a JWT")
		return
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		r.Errors = append(r.Errors, "the token's payload is not base64url")
		return
	}
	var claims struct {
		Aud any `json:"aud"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		r.Errors = append(r.Errors, "the token's payload is not JSON")
		return
	}
	switch aud := claims.Aud.(type) {
	case string:
		r.TokenAudience = aud
	case []any:
		if len(aud) > 0 {
			r.TokenAudience, _ = aud[0].(string)
		}
	}
}

func get(url, caFile string) (int, error) {
	pool := x509.NewCertPool()
	if caFile != "" {
		ca, err := os.ReadFile(caFile)
		if err != nil {
			return 0, err
		}
		pool.AppendCertsFromPEM(ca)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
