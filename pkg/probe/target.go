// Package probe proves that an identity can write to a BackupStorageLocation: it lists the common
// prefixes as Velero's validation does, puts one flat blob, reads it back, deletes it and confirms it
// is gone, timing each step and naming the failing link with the shared finding IDs. The plugin's
// local mode and the in-cluster verifier both run it; the plugin also builds and watches the verifier
// pod and cleans up after crashes.
package probe

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// BlobPrefix starts every probe blob's name (after the BSL prefix); cleanup deletes nothing else.
const BlobPrefix = "aksbackup-probe-"

// Target is the storage a location points at.
type Target struct {
	// BSL names the BackupStorageLocation the target came from ("" when flags alone gave it).
	BSL       string `json:"bsl,omitempty"`
	Container string `json:"container"`
	// Prefix is the BSL's prefix as Velero normalizes it: "" or ending with "/".
	Prefix  string `json:"prefix,omitempty"`
	Account string `json:"storageAccount,omitempty"`
	// ServiceURL is the blob service endpoint: storageAccountURI, or https://<account>.blob.<suffix>.
	ServiceURL string `json:"serviceURL"`
	UseAAD     bool   `json:"useAAD"`
	// ResourceGroup and Subscription let key auth list the account's keys, as Velero does.
	ResourceGroup string `json:"resourceGroup,omitempty"`
	Subscription  string `json:"subscriptionId,omitempty"`
}

// Overrides are the command-line values that replace a location's.
type Overrides struct {
	Container, Prefix, Account, ServiceURL string
	UseAAD                                 *bool
}

// RootPrefix normalizes a BSL prefix as Velero's object store layout does: "" stays "", anything
// else ends with exactly one "/".
func RootPrefix(prefix string) string {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return prefix
}

// BlobName is the probe's one blob: flat under the root prefix, so Velero's listing of common
// prefixes never sees a directory it does not own.
func BlobName(prefix, runID string) string { return RootPrefix(prefix) + BlobPrefix + runID }

// NewRunID is a short random ID, unique enough to tell concurrent probes apart, and valid as a label
// value and a blob name.
func NewRunID(now time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return strconv.FormatInt(now.UTC().Unix(), 36) + "-" + hex.EncodeToString(b)
}

// RunIDTime returns when a run ID was made, for cleanup's --older-than.
func RunIDTime(runID string) (time.Time, bool) {
	stamp, random, ok := strings.Cut(runID, "-")
	if _, err := hex.DecodeString(random); !ok || err != nil || len(random) != 8 {
		return time.Time{}, false
	}
	secs, err := strconv.ParseInt(stamp, 36, 64)
	if err != nil || secs <= 0 {
		return time.Time{}, false
	}
	return time.Unix(secs, 0).UTC(), true
}

// Location is what the probe reads of a BackupStorageLocation.
type Location struct {
	Name, Bucket, Prefix string
	Config               map[string]string
}

// FromLocation builds a target from a BSL, the cloud's storage suffix (core.windows.net) and overrides.
func FromLocation(l Location, storageSuffix string, o Overrides) (Target, error) {
	t := Target{BSL: l.Name, Container: l.Bucket, Prefix: l.Prefix, Account: l.Config["storageAccount"], ServiceURL: l.Config["storageAccountURI"],
		UseAAD: strings.EqualFold(l.Config["useAAD"], "true"), ResourceGroup: l.Config["resourceGroup"], Subscription: l.Config["subscriptionId"]}
	return t.apply(storageSuffix, o)
}

// FromFlags builds a target from flags alone.
func FromFlags(storageSuffix string, o Overrides) (Target, error) {
	t := Target{UseAAD: true}
	return t.apply(storageSuffix, o)
}

func (t Target) apply(storageSuffix string, o Overrides) (Target, error) {
	if o.Container != "" {
		t.Container = o.Container
	}
	if o.Prefix != "" {
		t.Prefix = o.Prefix
	}
	if o.Account != "" {
		t.Account = o.Account
		if o.ServiceURL == "" {
			t.ServiceURL = "" // a new account means its default endpoint, not the BSL's URI
		}
	}
	if o.ServiceURL != "" {
		t.ServiceURL = o.ServiceURL
	}
	if o.UseAAD != nil {
		t.UseAAD = *o.UseAAD
	}
	t.Prefix = RootPrefix(strings.TrimPrefix(t.Prefix, "/"))
	where := "flags"
	if t.BSL != "" {
		where = "BackupStorageLocation " + t.BSL
	}
	if t.Container == "" {
		return t, fmt.Errorf("%s names no container (bucket): give --container", where)
	}
	if t.ServiceURL == "" {
		if t.Account == "" {
			return t, fmt.Errorf("%s names no storage account: give --storage-account or --storage-account-uri", where)
		}
		if storageSuffix == "" {
			return t, fmt.Errorf("the cloud has no storage suffix for account %s: give --storage-account-uri", t.Account)
		}
		t.ServiceURL = "https://" + t.Account + ".blob." + storageSuffix
	}
	u, err := url.Parse(t.ServiceURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return t, fmt.Errorf("storage account URI %q of %s is not an http(s) URL", t.ServiceURL, where)
	}
	if t.Account == "" {
		// https://<account>.blob..., or path-style (an IP or emulator): https://host/<account>.
		t.Account, _, _ = strings.Cut(u.Hostname(), ".")
		if net.ParseIP(u.Hostname()) != nil || u.Hostname() == "localhost" {
			t.Account, _, _ = strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
		}
	}
	return t, nil
}

// Host is the blob endpoint's host:port.
func (t Target) Host() string {
	u, err := url.Parse(t.ServiceURL)
	if err != nil {
		return ""
	}
	return hostPort(u)
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "http" {
		return u.Hostname() + ":80"
	}
	return u.Hostname() + ":443"
}
