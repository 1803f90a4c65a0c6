package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/ociimage"
)

// The real node: a kubelet with containerd and runc beside the kwok node, so that a pod can really
// run (the verifier). Only one can exist on a machine: containerd 1.6 keeps shim sockets and runc
// state under /run/containerd whatever its config says. A machine-wide record (RealNodeLockFile)
// names the lab that owns it.
const (
	RealNodeName = "lab-real-0"
	// RealNodeBridge is the lab's bridge; its gateway address is where pods reach the doubles.
	RealNodeBridge = "aksblab0"
	// RealNodeLockFile names the lab that owns the machine's real node, and what it created.
	RealNodeLockFile = "/run/aksbackup-lab/realnode.json"
	// Images the lab imports into its containerd.
	PauseImage    = "localhost/aksbackup-lab/pause:lab"
	PodCheckImage = "localhost/aksbackup-lab/podcheck:lab"
	VerifierImage = "localhost/aksbackup-verifier:lab"
	// RealNodeLabel marks the real node; the kwok node has type=kwok.
	RealNodeLabel = "aksbackup.lab/real-node"
)

// RealNodeMode says whether Up boots a real node.
type RealNodeMode string

const (
	// RealNodeAuto boots one when the host can (root, containerd, runc, CNI plugins, the kubelet
	// built) and no other lab holds it; otherwise the lab runs with kwok only and says why.
	RealNodeAuto RealNodeMode = "auto"
	RealNodeOn   RealNodeMode = "on"
	RealNodeOff  RealNodeMode = "off"
)

// ParseRealNodeMode reads a flag or AKSBACKUP_LAB_REAL_NODE value.
func ParseRealNodeMode(v string) (RealNodeMode, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "auto":
		return RealNodeAuto, nil
	case "1", "true", "on", "yes":
		return RealNodeOn, nil
	case "0", "false", "off", "no":
		return RealNodeOff, nil
	}
	return "", fmt.Errorf("real node %q: use auto, on or off", v)
}

// RealNode is what the lab created for its real node, recorded before each step, so that Down (or
// the next Up) undoes exactly that even when the lab died halfway.
type RealNode struct {
	Name      string `json:"name"`
	LabDir    string `json:"labDir"`
	Dir       string `json:"dir"`
	Bridge    string `json:"bridge"`
	Subnet    string `json:"subnet"`
	GatewayIP string `json:"gatewayIP"`
	// Socket is containerd's gRPC socket (ctr -a SOCKET -n k8s.io ...).
	Socket        string `json:"socket"`
	KubeletRoot   string `json:"kubeletRoot"`
	KubeletPort   int    `json:"kubeletPort"`
	ContainerdPID int    `json:"containerdPID,omitempty"`
	KubeletPID    int    `json:"kubeletPID,omitempty"`
	// Images maps pause, podcheck and verifier to the refs imported.
	Images map[string]string `json:"images"`
	// Sysctls are the values before the kubelet set its kernel tunables; Down restores them.
	Sysctls map[string]string `json:"sysctls,omitempty"`
	// EgressChain is the iptables chain (jumped to from INPUT) where the netpol process enforces
	// NetworkPolicy egress to the gateway; recorded before it exists, so teardown removes it.
	EgressChain string `json:"egressChain,omitempty"`
	// BootSeconds is how long the real node took to be Ready after containerd started.
	BootSeconds float64 `json:"bootSeconds"`
}

// realNodeCheck says why this host cannot run the real node ("" when it can).
func realNodeCheck(binDir string) string {
	if os.Geteuid() != 0 {
		return "not running as root"
	}
	for _, cmd := range []string{"containerd", "runc", "ctr", "ip"} {
		if _, err := exec.LookPath(cmd); err != nil {
			return cmd + " is not installed (e2e/scripts/build-tools.sh installs Debian's containerd, runc and containernetworking-plugins)"
		}
	}
	if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
		return "the bridge CNI plugin is missing (/usr/lib/cni/bridge; install Debian's containernetworking-plugins)"
	}
	for _, b := range []string{"kubelet", "lab-pause", "lab-podcheck"} {
		if _, err := os.Stat(filepath.Join(binDir, b)); err != nil {
			return b + " is not built in " + binDir + " (run make lab-build)"
		}
	}
	return ""
}

// claimRealNode takes the machine's real node for this lab. It cleans up after a lab that died
// holding it; it refuses while another live lab holds it.
func claimRealNode(labDir string, log io.Writer) (*RealNode, error) {
	if err := os.MkdirAll(filepath.Dir(RealNodeLockFile), 0o700); err != nil {
		return nil, err
	}
	if prev, err := readRealNodeLock(); err == nil {
		if prev.LabDir != labDir && prev.alive() {
			return nil, fmt.Errorf("the lab in %s runs this machine's real node (only one can: containerd 1.6 shares /run/containerd); stop it with `aksbackup-lab down --dir %s`", prev.LabDir, prev.LabDir)
		}
		fmt.Fprintf(log, "cleaning up the real node left by the lab in %s\n", prev.LabDir)
		teardownRealNode(nil, prev, log)
	}
	rn := &RealNode{Name: RealNodeName, LabDir: labDir, Dir: filepath.Join(labDir, "realnode"), Bridge: RealNodeBridge, Images: map[string]string{}}
	rn.Socket = filepath.Join(rn.Dir, "containerd.sock")
	rn.KubeletRoot = filepath.Join(rn.Dir, "kubelet")
	f, err := os.OpenFile(RealNodeLockFile, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("another lab is claiming the real node right now (%s): %w", RealNodeLockFile, err)
	}
	f.Close()
	return rn, rn.save()
}

func readRealNodeLock() (*RealNode, error) {
	data, err := os.ReadFile(RealNodeLockFile)
	if err != nil {
		return nil, err
	}
	var rn RealNode
	if err := json.Unmarshal(data, &rn); err != nil {
		// A torn record: nothing in it can be undone, so it only blocks.
		return &RealNode{Bridge: RealNodeBridge}, nil
	}
	return &rn, nil
}

// save records rn machine-wide (the lab state records it too).
func (rn *RealNode) save() error {
	data, err := json.MarshalIndent(rn, "", "  ")
	if err != nil {
		return err
	}
	tmp := RealNodeLockFile + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, RealNodeLockFile)
}

// alive reports whether the owner's containerd or kubelet still runs (a pid of ours, checked by its
// command line naming the owner's directory, so a reused pid does not count).
func (rn *RealNode) alive() bool {
	for _, pid := range []int{rn.ContainerdPID, rn.KubeletPID} {
		if alive(pid) && !isZombie(pid) && strings.Contains(cmdline(pid), rn.Dir) {
			return true
		}
	}
	return false
}

func cmdline(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return string(bytes.ReplaceAll(data, []byte{0}, []byte{' '}))
}

// setupBridge creates the lab bridge with its gateway address on the first free 10.244.N.0/24. The
// address exists before any pod, so the doubles can bind it; pods get no default route, and the
// host forwards nothing (no isGateway, no masquerade).
func setupBridge(rn *RealNode) error {
	_ = run("ip", "link", "del", rn.Bridge) // a leftover of ours
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return err
	}
	routes, _ := exec.Command("ip", "-4", "route", "show", "table", "all").Output()
	for n := 61; n < 250; n++ {
		_, subnet, _ := net.ParseCIDR(fmt.Sprintf("10.244.%d.0/24", n))
		if subnetInUse(subnet, addrs, string(routes)) {
			continue
		}
		rn.Subnet, rn.GatewayIP = subnet.String(), fmt.Sprintf("10.244.%d.1", n)
		break
	}
	if rn.Subnet == "" {
		return errors.New("no free 10.244.N.0/24 subnet for the lab bridge")
	}
	if err := rn.save(); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"link", "add", rn.Bridge, "type", "bridge"},
		{"addr", "add", rn.GatewayIP + "/24", "dev", rn.Bridge},
		{"link", "set", rn.Bridge, "up"},
	} {
		if err := run("ip", args...); err != nil {
			return fmt.Errorf("creating the lab bridge %s: %w", rn.Bridge, err)
		}
	}
	return nil
}

func subnetInUse(subnet *net.IPNet, addrs []net.Addr, routes string) bool {
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && (subnet.Contains(ipn.IP) || ipn.Contains(subnet.IP)) {
			return true
		}
	}
	for _, line := range strings.Split(routes, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		dst := f[0]
		if dst == "local" || dst == "broadcast" || dst == "unicast" {
			if len(f) < 2 {
				continue
			}
			dst = f[1]
		}
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		if _, r, err := net.ParseCIDR(dst); err == nil && (r.Contains(subnet.IP) || subnet.Contains(r.IP)) {
			return true
		}
	}
	return false
}

// startContainerd writes containerd's config (everything under the lab dir, no metrics, no
// debug socket) and the CNI conflist, and starts containerd.
func startContainerd(s *State, rn *RealNode) error {
	for _, sub := range []string{"containerd/root", "containerd/state", "containerd/opt", "cni/conf", "cni/ipam", "pod-logs", "kubelet", "images"} {
		if err := os.MkdirAll(filepath.Join(rn.Dir, sub), 0o700); err != nil {
			return err
		}
	}
	d := func(sub string) string { return filepath.Join(rn.Dir, sub) }
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = %q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  # Lowering a process's oom_score_adj needs CAP_SYS_RESOURCE, which root lacks here.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
`, d("containerd/root"), d("containerd/state"), rn.Socket, filepath.Join(rn.Dir, "containerd-ttrpc.sock"), d("containerd/opt"), PauseImage, d("cni/conf"))
	if err := os.WriteFile(d("containerd.toml"), []byte(config), 0o600); err != nil {
		return err
	}
	// No isGateway (it would switch on the host's IP forwarding), no ipMasq, no routes: a pod
	// reaches its subnet, the gateway address included, and nothing else.
	conflist := fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": "aksbackup-lab",
  "plugins": [
    {"type": "bridge", "bridge": %q, "isGateway": false, "ipMasq": false, "hairpinMode": false,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": %q, "gateway": %q}]], "routes": [], "dataDir": %q}}
  ]
}
`, rn.Bridge, rn.Subnet, rn.GatewayIP, d("cni/ipam"))
	if err := os.WriteFile(filepath.Join(d("cni/conf"), "10-aksbackup-lab.conflist"), []byte(conflist), 0o600); err != nil {
		return err
	}
	// Image pulls go to a proxy that is not there: every image comes from the lab's imports and
	// no pull leaves the machine.
	pid, err := startEnv(s.Dir, "containerd", []string{"HTTP_PROXY=http://127.0.0.1:9", "HTTPS_PROXY=http://127.0.0.1:9", "NO_PROXY="},
		"containerd", "--config", d("containerd.toml"), "--log-level", "warn")
	if err != nil {
		return err
	}
	rn.ContainerdPID, s.PIDs["containerd"] = pid, pid
	return rn.save()
}

// importImages builds the pause and pod-check images (and the verifier's, when its binary is
// built) and imports them into the lab's containerd.
func importImages(ctx context.Context, s *State, rn *RealNode, verifierBin string, log io.Writer) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := run("ctr", "-a", rn.Socket, "version"); err == nil {
			break
		} else if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("containerd did not answer on %s: %w", rn.Socket, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	images := []struct{ key, ref, bin, path string }{
		{"pause", PauseImage, filepath.Join(s.BinDir, "lab-pause"), "/pause"},
		{"podcheck", PodCheckImage, filepath.Join(s.BinDir, "lab-podcheck"), "/podcheck"},
		{"verifier", VerifierImage, verifierBin, "/aksbackup-verifier"},
	}
	for _, img := range images {
		if _, err := os.Stat(img.bin); err != nil {
			fmt.Fprintf(log, "real node: no %s image (%s is not built; run make build)\n", img.key, img.bin)
			continue
		}
		tar := filepath.Join(rn.Dir, "images", img.key+".tar")
		if err := buildImage(img.bin, img.ref, img.path, tar); err != nil {
			return err
		}
		if err := ImportImage(rn.Socket, tar); err != nil {
			return err
		}
		rn.Images[img.key] = img.ref
	}
	return rn.save()
}

// ImportImage loads an image tarball into the real node's containerd, where the kubelet finds it.
func ImportImage(socket, tarball string) error {
	if err := run("ctr", "-a", socket, "-n", "k8s.io", "images", "import", "--snapshotter", "overlayfs", tarball); err != nil {
		return fmt.Errorf("importing %s: %w", tarball, err)
	}
	return nil
}

// startKubelet writes the kubelet's kubeconfig and configuration and starts it.
func startKubelet(s *State, rn *RealNode) error {
	pkiDir := filepath.Join(s.Dir, "pki")
	at := func(name string) string { return filepath.Join(pkiDir, name) }
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {server: %q, certificate-authority: %q}
users:
- name: kubelet
  user: {client-certificate: %q, client-key: %q}
contexts:
- name: lab
  context: {cluster: lab, user: kubelet}
current-context: lab
`, s.APIServerURL, at("ca.crt"), at("kubelet.crt"), at("kubelet.key"))
	if err := os.WriteFile(filepath.Join(rn.Dir, "kubelet.kubeconfig"), []byte(kubeconfig), 0o600); err != nil {
		return err
	}
	healthz, err := FreePort()
	if err != nil {
		return err
	}
	s.Ports["kubelet-healthz"] = healthz
	config := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %s
port: %d
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: %d
authentication:
  x509: {clientCAFile: %q}
  webhook: {enabled: false}
  anonymous: {enabled: false}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://%s
cgroupDriver: cgroupfs
cgroupsPerQOS: true
enforceNodeAllocatable: []
failSwapOn: false
failCgroupV1: false
localStorageCapacityIsolation: false
podLogsDir: %q
clusterDNS: []
resolvConf: ""
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {"memory.available": "1Mi", "nodefs.available": "1%%", "imagefs.available": "1%%", "nodefs.inodesFree": "1%%"}
maxPods: 30
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
staticPodPath: ""
shutdownGracePeriod: 0s
`, rn.GatewayIP, rn.KubeletPort, healthz, at("ca.crt"), rn.Socket, filepath.Join(rn.Dir, "pod-logs"))
	if err := os.WriteFile(filepath.Join(rn.Dir, "kubelet.yaml"), []byte(config), 0o600); err != nil {
		return err
	}
	rn.Sysctls = map[string]string{}
	for _, k := range kubeletSysctls {
		if v, err := os.ReadFile(filepath.Join("/proc/sys", k)); err == nil {
			rn.Sysctls[k] = strings.TrimSpace(string(v))
		}
	}
	if err := rn.save(); err != nil {
		return err
	}
	pid, err := start(s.Dir, "kubelet", filepath.Join(s.BinDir, "kubelet"),
		"--config="+filepath.Join(rn.Dir, "kubelet.yaml"), "--kubeconfig="+filepath.Join(rn.Dir, "kubelet.kubeconfig"),
		"--root-dir="+rn.KubeletRoot, "--cert-dir="+filepath.Join(rn.Dir, "kubelet-pki"),
		"--hostname-override="+rn.Name, "--node-ip="+rn.GatewayIP,
		"--node-labels=type=real,"+RealNodeLabel+"=true", "--v=1")
	if err != nil {
		return err
	}
	rn.KubeletPID, s.PIDs["kubelet"] = pid, pid
	return rn.save()
}

// kubeletSysctls are the kernel tunables the kubelet sets when protectKernelDefaults is off.
var kubeletSysctls = []string{"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops", "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes"}

// teardownRealNode stops the real node in LAB-NOTES order, then the rest of the lab's processes
// (when s is given): pods, kubelet and its mounts, the control plane and doubles, containerd, leftover
// shims and containers, the kubepods cgroups, the bridge, containerd's /run directories. Every
// step tolerates what an earlier, interrupted teardown already did.
func teardownRealNode(s *State, rn *RealNode, log io.Writer) {
	if s != nil {
		deleteRealNodePods(s, rn)
	}
	if rn.Socket != "" && alive(rn.ContainerdPID) {
		// What the kubelet did not stop: every task of the CRI namespace.
		stopTasks(rn.Socket)
	}
	if alive(rn.KubeletPID) && strings.Contains(cmdline(rn.KubeletPID), rn.Dir) {
		stopAll(map[string]int{"kubelet": rn.KubeletPID}, 5*time.Second)
	}
	if rn.KubeletRoot != "" {
		unmountUnder(rn.KubeletRoot)
	}
	if s != nil {
		rest := map[string]int{}
		for name, pid := range s.PIDs {
			if name != "containerd" && name != "kubelet" {
				rest[name] = pid
			}
		}
		stopAll(rest, 5*time.Second)
	}
	// After the netpol process stopped, so nothing adds the chain back.
	if rn.EgressChain != "" {
		removeEgressChain(rn.EgressChain)
	}
	if alive(rn.ContainerdPID) && strings.Contains(cmdline(rn.ContainerdPID), rn.Dir) {
		stopAll(map[string]int{"containerd": rn.ContainerdPID}, 5*time.Second)
	}
	if rn.Socket != "" {
		killShims(rn.Socket)
	}
	removeKubepodsCgroups()
	if rn.Dir != "" {
		unmountUnder(rn.Dir)
	}
	// The CRI's network namespaces and containerd's runtime state: ours alone while we hold the
	// real node, unless some other containerd runs on the machine.
	if !otherContainerd(rn) {
		unmountUnder("/run/containerd")
		netns, _ := filepath.Glob("/run/netns/cni-*")
		for _, ns := range netns {
			_ = syscall.Unmount(ns, syscall.MNT_DETACH)
			_ = os.Remove(ns)
		}
		_ = os.RemoveAll("/run/containerd")
		removeHostLeftovers()
	}
	if rn.Bridge != "" {
		_ = run("ip", "link", "del", rn.Bridge)
	}
	// The kubelet links each container's log into /var/log/containers whatever podLogsDir says.
	if rn.Dir != "" {
		links, _ := filepath.Glob("/var/log/containers/*.log")
		for _, l := range links {
			if target, err := os.Readlink(l); err == nil && strings.HasPrefix(target, rn.Dir+"/") {
				_ = os.Remove(l)
			}
		}
	}
	for k, v := range rn.Sysctls {
		_ = os.WriteFile(filepath.Join("/proc/sys", k), []byte(v), 0o644)
	}
	if prev, err := readRealNodeLock(); err == nil && prev.LabDir == rn.LabDir {
		_ = os.Remove(RealNodeLockFile)
	}
	fmt.Fprintf(log, "real node %s removed\n", rn.Name)
}

// deleteRealNodePods asks the kubelet to stop every pod bound to the real node and waits until it
// confirmed, so no shim outlives containerd.
func deleteRealNodePods(s *State, rn *RealNode) {
	if !alive(rn.KubeletPID) {
		return
	}
	token, _ := os.ReadFile(s.TokenFile)
	if waitHTTP(context.Background(), s.caPool(), s.APIServerURL+"/readyz", strings.TrimSpace(string(token)), 2*time.Second) != nil {
		return
	}
	client, err := s.Clientset()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sel := "spec.nodeName=" + rn.Name
	pods, err := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return
	}
	grace := int64(1)
	for _, p := range pods.Items {
		_ = client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
	}
	for ctx.Err() == nil {
		left, err := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil || len(left.Items) == 0 {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// stopTasks kills and deletes every task in containerd's k8s.io namespace.
func stopTasks(socket string) {
	out, err := exec.Command("ctr", "-a", socket, "-n", "k8s.io", "tasks", "ls", "-q").Output()
	if err != nil {
		return
	}
	for _, id := range strings.Fields(string(out)) {
		_ = run("ctr", "-a", socket, "-n", "k8s.io", "tasks", "kill", "-s", "SIGKILL", id)
		_ = run("ctr", "-a", socket, "-n", "k8s.io", "tasks", "delete", "-f", id)
	}
}

// killShims kills the runc shims started for our containerd: the shim names our socket.
func killShims(socket string) {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil {
			continue
		}
		c := cmdline(pid)
		if strings.Contains(c, "containerd-shim") && strings.Contains(c+" ", "-address "+socket+" ") {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// removeKubepodsCgroups kills what is left in the kubelet's cgroup trees and removes them depth
// first, in every cgroup v1 hierarchy (and the v2 one, if any).
func removeKubepodsCgroups() {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*/kubepods")
	if _, err := os.Stat("/sys/fs/cgroup/kubepods"); err == nil {
		roots = append(roots, "/sys/fs/cgroup/kubepods")
	}
	for attempt := 0; attempt < 20; attempt++ {
		left := false
		for _, root := range roots {
			var dirs []string
			_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					dirs = append(dirs, path)
				}
				return nil
			})
			for i := len(dirs) - 1; i >= 0; i-- {
				procs, _ := os.ReadFile(filepath.Join(dirs[i], "cgroup.procs"))
				for _, f := range strings.Fields(string(procs)) {
					if pid, err := strconv.Atoi(f); err == nil {
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
				}
				if err := syscall.Rmdir(dirs[i]); err != nil && !errors.Is(err, syscall.ENOENT) {
					left = true
				}
			}
		}
		if !left {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// unmountUnder detaches every mount at or below dir, deepest first.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMount(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			points = append(points, mp)
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		_ = syscall.Unmount(points[i], syscall.MNT_DETACH)
	}
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// otherContainerd reports whether a containerd that is not this lab's runs on the machine.
func otherContainerd(rn *RealNode) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, p := range procs {
		comm, _ := os.ReadFile(p)
		if strings.TrimSpace(string(comm)) != "containerd" {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if isZombie(pid) {
			continue // an exited containerd that its parent never reaped
		}
		if rn.Dir == "" || !strings.Contains(cmdline(pid), rn.Dir) {
			return true
		}
	}
	return false
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func buildImage(bin, ref, path, out string) error {
	return ociimage.WriteTarball(ociimage.Spec{Binary: bin, Ref: ref, Path: path}, out)
}

// claimIfPossible claims the real node when the host can run one, or says why not.
func claimIfPossible(o Options) (*RealNode, string) {
	if why := realNodeCheck(o.BinDir); why != "" {
		return nil, why
	}
	rn, err := claimRealNode(o.Dir, o.Log)
	if err != nil {
		return nil, err.Error()
	}
	return rn, ""
}

// removeHostLeftovers removes what the kubelet and the CNI library keep at fixed host paths whatever
// the configuration says: the device-plugin socket, the cached results of the lab's networks (left
// when a pod's network was never torn down), and the directories they created, when empty.
func removeHostLeftovers() {
	_ = os.Remove("/var/lib/kubelet/device-plugins/kubelet.sock")
	results, _ := filepath.Glob("/var/lib/cni/results/aksbackup-lab-*")
	for _, r := range results {
		// <network>-<container id>-<interface>: the same container's loopback result goes too.
		if id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(r), "aksbackup-lab-"), "-eth0"); id != "" {
			_ = os.Remove(filepath.Join("/var/lib/cni/results", "cni-loopback-"+id+"-lo"))
		}
		_ = os.Remove(r)
	}
	for _, d := range []string{"/var/lib/kubelet/device-plugins", "/var/lib/kubelet", "/var/lib/cni/results", "/var/lib/cni", "/var/log/containers", "/run/netns"} {
		_ = os.Remove(d) // only when empty
	}
}
