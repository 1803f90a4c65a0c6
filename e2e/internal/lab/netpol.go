package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// The lab's bridge CNI enforces no NetworkPolicy. The netpol process enforces their egress part for
// the one destination that matters in the lab, the bridge gateway where every double listens: a pod
// of the real node whose policies deny it gets its packets to the gateway dropped, as a real CNI
// drops them (connections time out; nothing is refused).
const (
	// EgressChain is the iptables filter chain, jumped to from INPUT, that holds the drops.
	EgressChain = "AKSBLAB-EGRESS"
	iptablesBin = "iptables"
)

// GatewayEgress says what a pod's NetworkPolicies admit of its traffic to the gateway.
type GatewayEgress struct {
	// Restricted is true when a policy with Egress selects the pod and none admits every port.
	Restricted bool
	// TCPPorts are the ports ("443" or a range "8000:8080") some rule still admits.
	TCPPorts []string
	// Policies names the policies that restrict the pod.
	Policies []string
}

// EvaluateGatewayEgress applies the namespace's policies to a pod with these labels: egress is
// restricted as soon as one Egress policy selects the pod, and admitted by any rule of those
// policies that reaches the gateway (no `to`, or an ipBlock holding it outside its except list).
// Peers by pod or namespace selector never admit it: the gateway is the host, not a pod.
func EvaluateGatewayEgress(policies []networkingv1.NetworkPolicy, podLabels map[string]string, gateway net.IP) GatewayEgress {
	var g GatewayEgress
	ports := map[string]bool{}
	for _, np := range policies {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil || !sel.Matches(labels.Set(podLabels)) || !hasEgressType(np) {
			continue
		}
		g.Restricted = true
		g.Policies = append(g.Policies, np.Name)
		for _, rule := range np.Spec.Egress {
			if !rulePeersAdmit(rule.To, gateway) {
				continue
			}
			if len(rule.Ports) == 0 {
				return GatewayEgress{Policies: g.Policies}
			}
			for _, p := range rule.Ports {
				if spec := tcpPortSpec(p); spec != "" {
					ports[spec] = true
				}
			}
		}
	}
	for p := range ports {
		g.TCPPorts = append(g.TCPPorts, p)
	}
	sort.Strings(g.TCPPorts)
	return g
}

func hasEgressType(np networkingv1.NetworkPolicy) bool {
	for _, t := range np.Spec.PolicyTypes {
		if t == networkingv1.PolicyTypeEgress {
			return true
		}
	}
	// The API server defaults policyTypes; an object without them (a fake) has Egress when it has rules.
	return len(np.Spec.PolicyTypes) == 0 && len(np.Spec.Egress) > 0
}

func rulePeersAdmit(peers []networkingv1.NetworkPolicyPeer, gateway net.IP) bool {
	if len(peers) == 0 {
		return true
	}
	for _, peer := range peers {
		if peer.IPBlock != nil && ipBlockHolds(peer.IPBlock, gateway) {
			return true
		}
	}
	return false
}

func ipBlockHolds(b *networkingv1.IPBlock, ip net.IP) bool {
	_, cidr, err := net.ParseCIDR(b.CIDR)
	if err != nil || !cidr.Contains(ip) {
		return false
	}
	for _, e := range b.Except {
		if _, ex, err := net.ParseCIDR(e); err == nil && ex.Contains(ip) {
			return false
		}
	}
	return true
}

// tcpPortSpec is iptables' --dport for a TCP port rule; "" for other protocols and named ports (the
// gateway is no pod, so a name resolves to nothing).
func tcpPortSpec(p networkingv1.NetworkPolicyPort) string {
	if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP {
		return ""
	}
	if p.Port == nil {
		return "1:65535"
	}
	if p.Port.StrVal != "" || p.Port.IntVal == 0 {
		return ""
	}
	if p.EndPort != nil && *p.EndPort > p.Port.IntVal {
		return fmt.Sprintf("%d:%d", p.Port.IntVal, *p.EndPort)
	}
	return strconv.Itoa(int(p.Port.IntVal))
}

// egressRules are the chain's rules (iptables -A arguments after the chain name) for the pods of
// the node, given each pod's evaluation.
func egressRules(podIP string, g GatewayEgress, gateway string) [][]string {
	if !g.Restricted {
		return nil
	}
	var rules [][]string
	for _, p := range g.TCPPorts {
		rules = append(rules, []string{"-s", podIP, "-d", gateway, "-p", "tcp", "--dport", p, "-j", "RETURN"})
	}
	return append(rules, []string{"-s", podIP, "-d", gateway, "-m", "comment", "--comment", "NetworkPolicy " + strings.Join(g.Policies, ","), "-j", "DROP"})
}

// NetpolOptions configure RunNetpol.
type NetpolOptions struct {
	Client  kubernetes.Interface
	Node    string
	Gateway net.IP
	Chain   string
	// Bridge is the pods' interface, for the drops made before a restricted pod's IP is known.
	Bridge string
	Log    io.Writer
}

// RunNetpol creates the chain and its jump from INPUT, then watches NetworkPolicies and the node's
// pods and rebuilds the chain on every change, until ctx ends. The chain stays: the lab's teardown
// removes it.
func RunNetpol(ctx context.Context, o NetpolOptions) error {
	if err := ensureEgressChain(o.Chain); err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactory(o.Client, 0)
	podFactory := informers.NewSharedInformerFactoryWithOptions(o.Client, 0, informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
		lo.FieldSelector = "spec.nodeName=" + o.Node
	}))
	changed := make(chan struct{}, 1)
	notify := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke(changed) },
		UpdateFunc: func(any, any) { poke(changed) },
		DeleteFunc: func(any) { poke(changed) },
	}
	policies := factory.Networking().V1().NetworkPolicies()
	pods := podFactory.Core().V1().Pods()
	if _, err := policies.Informer().AddEventHandler(notify); err != nil {
		return err
	}
	if _, err := pods.Informer().AddEventHandler(notify); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	podFactory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	podFactory.WaitForCacheSync(ctx.Done())
	fmt.Fprintf(o.Log, "enforcing NetworkPolicy egress to %s for pods of %s in chain %s\n", o.Gateway, o.Node, o.Chain)
	last := ""
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
		allPods, err := pods.Lister().List(labels.Everything())
		if err != nil {
			return err
		}
		var rules, open [][]string
		ipless := 0
		for _, p := range allPods {
			if p.Spec.HostNetwork || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				continue
			}
			nps, err := policies.Lister().NetworkPolicies(p.Namespace).List(labels.Everything())
			if err != nil {
				return err
			}
			list := make([]networkingv1.NetworkPolicy, 0, len(nps))
			for _, np := range nps {
				list = append(list, *np)
			}
			g := EvaluateGatewayEgress(list, p.Labels, o.Gateway)
			switch {
			case p.Status.PodIP == "" && g.Restricted:
				ipless++
			case p.Status.PodIP != "" && !g.Restricted:
				open = append(open, []string{"-s", p.Status.PodIP, "-d", o.Gateway.String(), "-j", "RETURN"})
			case p.Status.PodIP != "":
				rules = append(rules, egressRules(p.Status.PodIP, g, o.Gateway.String())...)
			}
		}
		if ipless > 0 {
			// A restricted pod's container starts before its IP reaches the API server: until then,
			// every address of the bridge but the known open pods' is treated as that pod's.
			rules = append(append(open, rules...), []string{"-i", o.Bridge, "-d", o.Gateway.String(), "-m", "comment", "--comment", "a restricted pod has no IP yet", "-j", "DROP"})
		}
		key := fmt.Sprint(rules)
		if key == last {
			continue
		}
		if err := rebuildChain(o.Chain, rules); err != nil {
			fmt.Fprintf(o.Log, "%s: %v\n", time.Now().UTC().Format(time.RFC3339), err)
			continue
		}
		last = key
		fmt.Fprintf(o.Log, "%s: %d rule(s) in %s\n", time.Now().UTC().Format(time.RFC3339), len(rules), o.Chain)
	}
}

func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// ensureEgressChain creates the chain (or empties a leftover) and jumps to it first thing in INPUT.
func ensureEgressChain(chain string) error {
	if iptables("-n", "-L", chain) != nil {
		if err := iptables("-N", chain); err != nil {
			return err
		}
	} else if err := iptables("-F", chain); err != nil {
		return err
	}
	if iptables("-C", "INPUT", "-j", chain) == nil {
		return nil
	}
	return iptables("-I", "INPUT", "1", "-j", chain)
}

// rebuildChain flushes the chain and adds the rules.
func rebuildChain(chain string, rules [][]string) error {
	if err := iptables("-F", chain); err != nil {
		return err
	}
	for _, r := range rules {
		if err := iptables(append([]string{"-A", chain}, r...)...); err != nil {
			return err
		}
	}
	return nil
}

// removeEgressChain deletes the jump (every copy) and the chain; each step tolerates what is gone.
func removeEgressChain(chain string) {
	if _, err := exec.LookPath(iptablesBin); err != nil {
		return
	}
	for i := 0; i < 10 && iptables("-C", "INPUT", "-j", chain) == nil; i++ {
		_ = iptables("-D", "INPUT", "-j", chain)
	}
	if iptables("-n", "-L", chain) == nil {
		_ = iptables("-F", chain)
		_ = iptables("-X", chain)
	}
}

func iptables(args ...string) error {
	// -w: wait for the xtables lock rather than fail while another tool holds it.
	return run(iptablesBin, append([]string{"-w", "5"}, args...)...)
}

// startNetpol starts the netpol process for the real node, or says why the lab enforces no
// NetworkPolicy (no iptables).
func startNetpol(s *State, rn *RealNode, o Options) error {
	if _, err := exec.LookPath(iptablesBin); err != nil {
		fmt.Fprintf(o.Log, "real node: iptables is not installed, so NetworkPolicies are not enforced (install Debian's iptables)\n")
		return nil
	}
	rn.EgressChain = EgressChain
	if err := rn.save(); err != nil {
		return err
	}
	pid, err := start(s.Dir, "netpol", o.Self, "netpol", "--kubeconfig="+s.Kubeconfig, "--node="+rn.Name,
		"--gateway="+rn.GatewayIP, "--bridge="+rn.Bridge, "--chain="+rn.EgressChain)
	if err != nil {
		return err
	}
	s.PIDs["netpol"] = pid
	return s.Save()
}
