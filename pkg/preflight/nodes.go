package preflight

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
)

// maxProxySamples bounds how many distinct NO_PROXY values the pod scan keeps.
const maxProxySamples = 10

// room is what is left on one eligible node, in millicores and bytes.
type room struct {
	name     string
	cpu, mem int64
}

// nodeScan is what the node pass keeps: eligible nodes and why the others are not.
type nodeScan struct {
	eligible map[string]*room
	excluded map[string]*tally // reason -> count and sample names
	total    int
}

func (r *runner) checkNodesAndProxy(ctx context.Context) error {
	scan, ok, err := r.scanNodes(ctx)
	if err != nil || !ok {
		return err
	}
	proxies, ok, err := r.scanPods(ctx, scan)
	if err != nil {
		return err
	}
	if ok {
		r.scheduling(scan)
	}
	if c := r.in.Cluster; c != nil && c.HTTPProxy.Enabled() {
		proxies = append([]proxyObservation{{source: "cluster/httpProxyConfig", noProxy: c.HTTPProxy.NoProxy, fromARM: true}}, proxies...)
	}
	if !ok {
		return nil // pods could not be read: the proxy check already says so
	}
	const name = "proxy"
	if len(proxies) == 0 {
		r.add(Check{Name: name, Status: StatusOK, Detail: "no HTTP(S)_PROXY in the cluster's httpProxyConfig or pods"})
		return nil
	}
	fs := r.proxyFindings(proxies)
	r.add(Check{Name: name, Status: statusOf(fs), Detail: fmt.Sprintf("proxy set (%s); NO_PROXY checked for %s", proxies[0].source, strings.Join(append(slices.Clone(RequiredNoProxy), "the API server"), ", "))}, fs...)
	return nil
}

// scanNodes pages through the nodes and keeps the Linux ones the extension could run on.
func (r *runner) scanNodes(ctx context.Context) (*nodeScan, bool, error) {
	const name = "scheduling"
	scan := &nodeScan{eligible: map[string]*room{}, excluded: map[string]*tally{}}
	exclude := func(reason, node string) {
		if scan.excluded[reason] == nil {
			scan.excluded[reason] = newTally(r.in.Samples)
		}
		scan.excluded[reason].add("", node)
	}
	opts := metav1.ListOptions{Limit: r.in.PageSize}
	for {
		page, err := r.in.Client.CoreV1().Nodes().List(ctx, opts)
		if err != nil {
			if r.forbidden(name, "list", "nodes", err) {
				r.add(Check{Name: "proxy", Status: StatusSkipped, Detail: "needs the node list"})
				return nil, false, nil
			}
			return nil, false, readError("list Nodes", err)
		}
		for i := range page.Items {
			n := &page.Items[i]
			scan.total++
			if reason := ineligible(n); reason != "" {
				exclude(reason, n.Name)
				continue
			}
			scan.eligible[n.Name] = &room{name: n.Name, cpu: n.Status.Allocatable.Cpu().MilliValue(), mem: n.Status.Allocatable.Memory().Value()}
		}
		if opts.Continue = page.Continue; opts.Continue == "" {
			return scan, true, nil
		}
	}
}

// ineligible says why the extension's pods cannot run on a node ("" when they can).
func ineligible(n *corev1.Node) string {
	if os := n.Labels[corev1.LabelOSStable]; os != "linux" {
		return "not Linux"
	}
	if n.Spec.Unschedulable {
		return "cordoned"
	}
	ready := slices.ContainsFunc(n.Status.Conditions, func(c corev1.NodeCondition) bool {
		return c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue
	})
	if !ready {
		return "not Ready"
	}
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectPreferNoSchedule || slices.Contains(ExtensionTolerations, t.Key) {
			continue
		}
		return "taint " + t.Key + ":" + string(t.Effect)
	}
	return ""
}

// scanPods pages through the running pods: it subtracts their requests from their node's room and
// collects the NO_PROXY of pods that use a proxy. ok is false when pods may not be listed.
func (r *runner) scanPods(ctx context.Context, scan *nodeScan) ([]proxyObservation, bool, error) {
	var proxies []proxyObservation
	opts := metav1.ListOptions{Limit: r.in.PageSize, FieldSelector: "status.phase!=Succeeded,status.phase!=Failed"}
	for {
		page, err := r.in.Client.CoreV1().Pods("").List(ctx, opts)
		if err != nil {
			if r.forbidden("scheduling", "list", "pods --all-namespaces", err) {
				r.add(Check{Name: "proxy", Status: StatusSkipped, Detail: "needs the pod list"})
				return nil, false, nil
			}
			return nil, false, readError("list Pods", err)
		}
		for i := range page.Items {
			p := &page.Items[i]
			if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				continue
			}
			if n := scan.eligible[p.Spec.NodeName]; n != nil {
				cpu, mem := podRequests(p)
				n.cpu -= cpu
				n.mem -= mem
			}
			if noProxy, ok := proxyEnv(p); ok && len(proxies) < maxProxySamples &&
				!slices.ContainsFunc(proxies, func(o proxyObservation) bool { return slices.Equal(o.noProxy, noProxy) }) {
				proxies = append(proxies, proxyObservation{source: "pod/" + p.Namespace + "/" + p.Name, noProxy: noProxy})
			}
		}
		if opts.Continue = page.Continue; opts.Continue == "" {
			return proxies, true, nil
		}
	}
}

// podRequests is what the scheduler counts for a pod: its containers' requests, or its largest init
// container's when that is more.
func podRequests(p *corev1.Pod) (cpu, mem int64) {
	for _, c := range p.Spec.Containers {
		cpu += c.Resources.Requests.Cpu().MilliValue()
		mem += c.Resources.Requests.Memory().Value()
	}
	for _, c := range p.Spec.InitContainers {
		cpu = max(cpu, c.Resources.Requests.Cpu().MilliValue())
		mem = max(mem, c.Resources.Requests.Memory().Value())
	}
	return cpu, mem
}

// proxyEnv returns the NO_PROXY entries of the first container that sets HTTP_PROXY or HTTPS_PROXY.
func proxyEnv(p *corev1.Pod) ([]string, bool) {
	for _, c := range p.Spec.Containers {
		proxied, noProxy := false, ""
		for _, e := range c.Env {
			switch strings.ToUpper(e.Name) {
			case "HTTP_PROXY", "HTTPS_PROXY":
				proxied = proxied || e.Value != ""
			case "NO_PROXY":
				noProxy = e.Value
			}
		}
		if proxied {
			return SplitNoProxy(noProxy), true
		}
	}
	return nil, false
}

// scheduling places each of the extension's pods, largest first, on the eligible node with the most
// room left, the way a scheduler spreading them would.
func (r *runner) scheduling(scan *nodeScan) {
	const name = "scheduling"
	if len(scan.eligible) == 0 {
		var reasons []string
		for _, reason := range slices.Sorted(maps.Keys(scan.excluded)) {
			t := scan.excluded[reason]
			reasons = append(reasons, fmt.Sprintf("%d %s (%s)", t.counts[""], reason, strings.Join(t.names[""], ", ")))
		}
		msg := fmt.Sprintf("none of the %d nodes is a Ready, schedulable Linux node without a NoSchedule/NoExecute taint", scan.total)
		if len(reasons) > 0 {
			msg += ": " + strings.Join(reasons, "; ")
		}
		r.add(Check{Name: name, Status: StatusFailed, Detail: fmt.Sprintf("0 of %d nodes eligible", scan.total)},
			catalog.NoLinuxNodeSchedulable.New("nodes", msg,
				r.azNodepool("add", "backup", "--os-type Linux --node-count 1   # a user pool without taints")))
		return
	}
	nodes := make([]*room, 0, len(scan.eligible))
	for _, n := range scan.eligible {
		nodes = append(nodes, n)
	}
	slices.SortFunc(nodes, func(a, b *room) int { return cmp.Or(cmp.Compare(b.cpu, a.cpu), cmp.Compare(a.name, b.name)) })
	best := *nodes[0] // the most CPU left before the extension's pods are placed
	pods := slices.Clone(ExtensionPods)
	slices.SortStableFunc(pods, func(a, b PodRequest) int { return b.CPU.Cmp(a.CPU) })
	var unplaced []string
	for _, p := range pods {
		slices.SortFunc(nodes, func(a, b *room) int { return cmp.Or(cmp.Compare(b.cpu, a.cpu), cmp.Compare(a.name, b.name)) })
		i := slices.IndexFunc(nodes, func(n *room) bool { return n.cpu >= p.CPU.MilliValue() && n.mem >= p.Memory.Value() })
		if i < 0 {
			unplaced = append(unplaced, fmt.Sprintf("%s (cpu %s, memory %s)", p.Name, p.CPU.String(), p.Memory.String()))
			continue
		}
		nodes[i].cpu -= p.CPU.MilliValue()
		nodes[i].mem -= p.Memory.Value()
	}
	detail := fmt.Sprintf("%d of %d nodes eligible", len(scan.eligible), scan.total)
	if len(unplaced) == 0 {
		r.add(Check{Name: name, Status: StatusOK, Detail: detail + "; room for the extension's requests"})
		return
	}
	r.add(Check{Name: name, Status: StatusFailed, Detail: detail + "; no room for " + strings.Join(unplaced, ", ")},
		catalog.NodeCapacityInsufficient.New("nodes",
			fmt.Sprintf("no eligible node has room for %s; the most free is %s with %dm CPU and %dMi memory unrequested", strings.Join(unplaced, ", "), best.name, max(best.cpu, 0), max(best.mem, 0)>>20),
			r.azNodepool("scale", "<pool>", "--node-count <current+1>   # or add a pool of a larger VM size")))
}
