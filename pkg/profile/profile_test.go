package profile

import (
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name      string
		sel       Selection
		wantName  string
		wantNS    string
		wantPairs int
		wantFlags string
		wantErr   string
	}{
		{name: "default is the AKS Backup extension", sel: Selection{}, wantName: "aks-backup", wantNS: "dataprotection-microsoft", wantPairs: 3, wantFlags: ""},
		{name: "context namespace does not move a fixed profile", sel: Selection{DefaultNamespace: "default"}, wantName: "aks-backup", wantNS: "dataprotection-microsoft", wantPairs: 3},
		{name: "-n overrides", sel: Selection{Namespace: "e2e-1"}, wantName: "aks-backup", wantNS: "e2e-1", wantPairs: 3, wantFlags: " -n e2e-1"},
		{name: "velero", sel: Selection{Profile: "velero"}, wantName: "velero", wantNS: "velero", wantPairs: 2, wantFlags: " --profile velero"},
		{name: "upbound needs -n", sel: Selection{Profile: "upbound-spaces"}, wantErr: "give the namespace with -n"},
		{name: "upbound with -n", sel: Selection{Profile: "upbound-spaces", Namespace: "mxp-1"}, wantName: "upbound-spaces", wantNS: "mxp-1", wantPairs: 1, wantFlags: " --profile upbound-spaces -n mxp-1"},
		{name: "unknown profile", sel: Selection{Profile: "kasten"}, wantErr: `unknown profile "kasten"`},
		{name: "custom pairs use the context namespace", sel: Selection{ServiceAccounts: []string{"sa1", "sa2"}, Workloads: []string{"d1", "d2"}, DefaultNamespace: "backup"}, wantName: "custom", wantNS: "backup", wantPairs: 2, wantFlags: " --service-account sa1 --deployment d1 --service-account sa2 --deployment d2 -n backup"},
		{name: "unbalanced pairs", sel: Selection{ServiceAccounts: []string{"sa1"}}, wantErr: "come in pairs"},
		{name: "pairs and profile together", sel: Selection{Profile: "velero", ServiceAccounts: []string{"a"}, Workloads: []string{"b"}}, wantErr: "cannot be combined"},
		{name: "duplicate deployment", sel: Selection{ServiceAccounts: []string{"a", "b"}, Workloads: []string{"d", "d"}, Namespace: "x"}, wantErr: "named twice"},
		{name: "workload kinds pair in order", sel: Selection{ServiceAccounts: []string{"velero", "velero", "x"}, Workloads: []string{"deployment/velero", "ds/node-agent", "StatefulSet/x"}, Namespace: "v"}, wantName: "custom", wantNS: "v", wantPairs: 3, wantFlags: " --service-account velero --deployment velero --service-account velero --workload daemonset/node-agent --service-account x --workload statefulset/x -n v"},
		{name: "same name, different kinds", sel: Selection{ServiceAccounts: []string{"a", "a"}, Workloads: []string{"d", "daemonset/d"}, Namespace: "x"}, wantName: "custom", wantNS: "x", wantPairs: 2, wantFlags: " --service-account a --deployment d --service-account a --workload daemonset/d -n x"},
		{name: "unsupported kind", sel: Selection{ServiceAccounts: []string{"a"}, Workloads: []string{"job/x"}, Namespace: "x"}, wantErr: `unsupported kind "job"`},
		{name: "kind without a name", sel: Selection{ServiceAccounts: []string{"a"}, Workloads: []string{"daemonset/"}, Namespace: "x"}, wantErr: "empty"},
		{name: "empty name in a pair", sel: Selection{ServiceAccounts: []string{" "}, Workloads: []string{"d"}, Namespace: "x"}, wantErr: "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Resolve(tc.sel)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != tc.wantName || p.Namespace != tc.wantNS || len(p.Pairs) != tc.wantPairs {
				t.Errorf("got %s/%s with %d pairs", p.Name, p.Namespace, len(p.Pairs))
			}
			if got := p.SelectorFlags(); got != tc.wantFlags {
				t.Errorf("SelectorFlags() = %q, want %q", got, tc.wantFlags)
			}
		})
	}
}

func TestResolveDoesNotShareTableState(t *testing.T) {
	a, _ := Resolve(Selection{})
	a.Pairs[0].ServiceAccount = "mutated"
	b, _ := Resolve(Selection{})
	if b.Pairs[0].ServiceAccount == "mutated" {
		t.Fatal("Resolve returned the built-in table's slice")
	}
}

func TestParseWorkload(t *testing.T) {
	tests := []struct {
		in      string
		want    Workload
		wantErr string
	}{
		{in: "velero", want: Workload{Kind: KindDeployment, Name: "velero"}},
		{in: "deploy/velero", want: Workload{Kind: KindDeployment, Name: "velero"}},
		{in: "deployments/velero", want: Workload{Kind: KindDeployment, Name: "velero"}},
		{in: "daemonset/node-agent", want: Workload{Kind: KindDaemonSet, Name: "node-agent"}},
		{in: "DS/node-agent", want: Workload{Kind: KindDaemonSet, Name: "node-agent"}},
		{in: "sts/db", want: Workload{Kind: KindStatefulSet, Name: "db"}},
		{in: "statefulsets/db", want: Workload{Kind: KindStatefulSet, Name: "db"}},
		{in: "cronjob/x", wantErr: "unsupported kind"},
		{in: "/x", wantErr: "unsupported kind"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseWorkload(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := (Workload{Kind: KindDaemonSet, Name: "node-agent"}).Ref(); got != "daemonset/node-agent" {
		t.Errorf("Ref() = %q", got)
	}
}
