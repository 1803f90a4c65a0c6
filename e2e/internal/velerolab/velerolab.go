// Package velerolab is the lab's Velero: a double of Velero's BackupStorageLocation controller with
// the azure object-store plugin behind it, for every BSL with provider azure. It runs each
// validation as the namespace's Velero pod would (that pod's env as the workload-identity webhook
// injected it, its service account's projected token, the BSL's credential), with the real
// azidentity, armstorage and azblob clients against the lab's Azure doubles; sets the BSL's status
// as Velero does; and writes Velero's log lines into a per-pod CRI log file that kwok serves to
// `kubectl logs`.
package velerolab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Config starts the double.
type Config struct {
	Kubeconfig string
	// CAFile is the lab CA the doubles' certificates chain to.
	CAFile string
	// Loopback URLs of the Entra, ARM, blob front and IMDS doubles.
	EntraURL, ARMURL, BlobURL, IMDSURL string
	// BlobAccount is the path-style account Azurite serves (devstoreaccount1); Accounts are the
	// storage accounts that exist in the lab's Azure.
	BlobAccount string
	Accounts    []string
	// StorageSuffix is the lab cloud's storage suffix ("" or core.windows.net: the public one).
	StorageSuffix string
	// LogDir holds one CRI log file per Velero pod.
	LogDir string
	// Interval is the validation frequency of BSLs that set none (Velero's server default is 1m).
	Interval time.Duration
	// Port serves /healthz on loopback (0 = none).
	Port int
	// Out gets the double's own messages: each change of a BSL's validation result and problems.
	Out io.Writer
}

// Run validates BSLs until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	restCfg, err := clientcmd.BuildConfigFromFlags("", cfg.Kubeconfig)
	if err != nil {
		return err
	}
	restCfg.QPS, restCfg.Burst = 50, 100
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return err
	}
	base, err := NewBaseTransport(ca)
	if err != nil {
		return err
	}
	doubles := Doubles{BlobAccountPath: "/" + strings.Trim(cfg.BlobAccount, "/"), Accounts: cfg.Accounts}
	if cfg.StorageSuffix != "core.windows.net" {
		doubles.BlobSuffix = cfg.StorageSuffix
	}
	for _, p := range []struct {
		dst **url.URL
		raw string
	}{{&doubles.Entra, cfg.EntraURL}, {&doubles.ARM, cfg.ARMURL}, {&doubles.Blob, cfg.BlobURL}, {&doubles.IMDS, cfg.IMDSURL}} {
		if p.raw == "" {
			continue
		}
		u, err := url.Parse(p.raw)
		if err != nil {
			return fmt.Errorf("double URL %q: %w", p.raw, err)
		}
		*p.dst = u
	}
	tmp, err := os.MkdirTemp("", "aksbackup-lab-velero-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	l := &loop{
		cfg:   cfg,
		rec:   &Reconciler{Client: client, Dynamic: dyn, Doubles: doubles, Base: base, TempDir: tmp},
		logs:  &podLogs{dir: cfg.LogDir, dyn: dyn, pods: map[string]*podLog{}},
		seen:  map[string]seen{},
		last:  map[string]string{},
		busy:  map[string]bool{},
		warns: map[string]bool{},
	}
	if cfg.Port != 0 {
		srv := &http.Server{Addr: "127.0.0.1:" + strconv.Itoa(cfg.Port), ReadHeaderTimeout: 5 * time.Second,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/healthz" {
					http.NotFound(w, r)
					return
				}
				_, _ = w.Write([]byte("ok"))
			})}
		go func() {
			<-ctx.Done()
			_ = srv.Close()
		}()
		go func() {
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintf(cfg.Out, "healthz: %v\n", err)
			}
		}()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		l.tick(ctx)
		select {
		case <-ctx.Done():
			l.wg.Wait()
			return nil
		case <-tick.C:
		}
	}
}

type seen struct {
	spec   string
	podUID string
	at     time.Time
}

type loop struct {
	cfg  Config
	rec  *Reconciler
	logs *podLogs
	wg   sync.WaitGroup

	mu    sync.Mutex
	seen  map[string]seen   // by ns/name: what the last validation ran with
	busy  map[string]bool   // namespaces with a validation running
	warns map[string]bool   // problems already reported once
	last  map[string]string // by ns/name: the last result reported
}

// report prints a BSL's validation result when it differs from the previous one.
func (l *loop) report(key, pod string, res Result, err error) {
	line := string(res.Phase)
	if res.Message != "" {
		line += ": " + firstLine(res.Message)
	}
	if err != nil {
		line += " (" + err.Error() + ")"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last[key] != line {
		l.last[key] = line
		fmt.Fprintf(l.cfg.Out, "%s %s (validated by pod %s): %s\n", time.Now().UTC().Format(time.RFC3339), key, pod, line)
	}
}

func (l *loop) warnOnce(key, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.warns[key] {
		l.warns[key] = true
		fmt.Fprintf(l.cfg.Out, format+"\n", args...)
	}
}

// tick finds the Velero pods and the azure BSLs, and starts the validations that are due: one
// worker per namespace, validating its BSLs one after the other as Velero's controller does.
func (l *loop) tick(ctx context.Context) {
	ul, err := l.rec.Dynamic.Resource(BSLResource).Namespace("").List(ctx, metav1.ListOptions{})
	if err != nil {
		l.warnOnce("list-bsl", "listing backupstoragelocations: %v (retrying)", err)
		return
	}
	pods, err := l.rec.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		l.warnOnce("list-pods", "listing pods: %v (retrying)", err)
		return
	}
	alive := map[string]bool{}
	servers := map[string]*corev1.Pod{}
	for i := range pods.Items {
		p := &pods.Items[i]
		if findContainer(p, VeleroContainer) == nil {
			continue
		}
		alive[string(p.UID)] = true
		if !running(p) {
			continue
		}
		if _, err := l.logs.get(ctx, p); err != nil {
			l.warnOnce("logs/"+string(p.UID), "serving the logs of %s/%s: %v", p.Namespace, p.Name, err)
		}
		if cur := servers[p.Namespace]; cur == nil || newer(p, cur) {
			servers[p.Namespace] = p
		}
	}
	l.logs.forget(alive)
	l.mu.Lock()
	for key := range l.warns {
		if uid, ok := strings.CutPrefix(key, "logs/"); ok && !alive[uid] {
			delete(l.warns, key)
		}
	}
	l.mu.Unlock()

	due := map[string][]string{}
	now := time.Now()
	l.mu.Lock()
	present := map[string]bool{}
	for _, u := range ul.Items {
		var b velerov1.BackupStorageLocation
		if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &b) != nil || !azureProvider(b.Spec.Provider) {
			continue
		}
		key := b.Namespace + "/" + b.Name
		present[key] = true
		pod := servers[b.Namespace]
		if pod == nil || l.busy[b.Namespace] {
			continue
		}
		// Like Velero: every BSL at the server's start (a new pod), on a spec change, and when its
		// validation frequency has passed since the last validation.
		last, ok := l.seen[key]
		periodic := ok && readyToValidate(b.Spec.ValidationFrequency, b.Status.LastValidationTime, l.cfg.Interval, now) &&
			readyToValidate(b.Spec.ValidationFrequency, &metav1.Time{Time: last.at}, l.cfg.Interval, now)
		// Velero's CRD has no status subresource, so every status update bumps the generation:
		// compare the spec itself, as Velero's SpecChangePredicate does.
		spec, _ := json.Marshal(b.Spec)
		if !ok || last.podUID != string(pod.UID) || last.spec != string(spec) || periodic {
			due[b.Namespace] = append(due[b.Namespace], b.Name)
			l.seen[key] = seen{spec: string(spec), podUID: string(pod.UID), at: now}
		}
	}
	for key := range l.seen {
		if !present[key] {
			delete(l.seen, key)
			delete(l.last, key)
		}
	}
	for ns := range due {
		l.busy[ns] = true
	}
	l.mu.Unlock()

	for ns, names := range due {
		sort.Strings(names)
		pod := servers[ns]
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer func() {
				l.mu.Lock()
				delete(l.busy, ns)
				l.mu.Unlock()
			}()
			pl, err := l.logs.get(ctx, pod)
			if pl == nil {
				l.warnOnce("logs/"+string(pod.UID), "no log file for %s/%s: %v", pod.Namespace, pod.Name, err)
				return
			}
			for _, name := range names {
				vctx, cancel := context.WithTimeout(ctx, time.Minute)
				res, err := l.rec.Reconcile(vctx, ns, name, pod, pl.logger)
				cancel()
				if ctx.Err() == nil {
					l.report(ns+"/"+name, pod.Name, res, err)
				}
			}
		}()
	}
}

// readyToValidate is Velero's IsReadyToValidate with the lab's server frequency.
func readyToValidate(freq *metav1.Duration, last *metav1.Time, server time.Duration, now time.Time) bool {
	f := server
	if freq != nil {
		f = freq.Duration
	}
	if f < 0 {
		f = server
	}
	if last == nil {
		return true
	}
	if f == 0 {
		return false
	}
	return !now.UTC().Before(last.Add(f))
}

func azureProvider(p string) bool {
	return p == "azure" || p == "velero.io/azure"
}

func running(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning
}

// newer prefers pods a ReplicaSet owns (Velero runs as a deployment), then the newest.
func newer(a, b *corev1.Pod) bool {
	if ca, cb := ownedByReplicaSet(a), ownedByReplicaSet(b); ca != cb {
		return ca
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return b.CreationTimestamp.Before(&a.CreationTimestamp)
	}
	return a.Name > b.Name
}

func ownedByReplicaSet(p *corev1.Pod) bool {
	for _, o := range p.OwnerReferences {
		if o.Controller != nil && *o.Controller && o.Kind == "ReplicaSet" {
			return true
		}
	}
	return false
}
