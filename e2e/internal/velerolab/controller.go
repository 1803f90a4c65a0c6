package velerolab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// BSLResource is Velero's BackupStorageLocation.
var BSLResource = schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "backupstoragelocations"}

// Where Velero v1.18.3 logs and raises what the double reproduces.
const (
	controllerName   = "backup-storage-location"
	controllerSource = "pkg/controller/backup_storage_location_controller.go"
	objectStoreFile  = "/go/src/github.com/vmware-tanzu/velero/pkg/persistence/object_store.go"
	isValidFunction  = "github.com/vmware-tanzu/velero/pkg/persistence.(*objectBackupStore).IsValid"
	// credentialsRoot is where Velero writes a BSL's credential secret for the plugin.
	credentialsRoot = "/tmp/credentials"
)

// locatedError carries the error.file and error.function Velero's ErrorLocationHook logs for an
// error with a stack trace.
type locatedError struct {
	err            error
	file, function string
}

func (e *locatedError) Error() string { return e.err.Error() }
func (e *locatedError) Unwrap() error { return e.err }

// rpcError is an error as it comes back from the plugin process through gRPC.
type rpcError struct{ err error }

func (e *rpcError) Error() string { return "rpc error: code = Unknown desc = " + e.err.Error() }
func (e *rpcError) Unwrap() error { return e.err }

// at is a log entry with Velero's logSource for a line of the BSL controller.
func at(log *logrus.Entry, line int) *logrus.Entry {
	return log.WithField("logSource", fmt.Sprintf("%s:%d", controllerSource, line))
}

// withError is log.WithError plus Velero's error location fields.
func withError(log *logrus.Entry, err error) *logrus.Entry {
	e := log.WithError(err)
	var le *locatedError
	if errors.As(err, &le) {
		e = e.WithFields(logrus.Fields{"error.file": le.file, "error.function": le.function})
	}
	return e
}

// Reconciler validates BSLs as Velero's BackupStorageLocation controller does with the azure
// plugin, from the point of view of one Velero pod.
type Reconciler struct {
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	Doubles Doubles
	// Base is the HTTP transport to the doubles (trusting the lab CA).
	Base http.RoundTripper
	// TempDir holds the pods' projected service-account tokens while a validation runs.
	TempDir string

	mu        sync.Mutex
	subCached time.Time
	subStatus bool
}

// Result is the outcome of one validation.
type Result struct {
	Phase   velerov1.BackupStorageLocationPhase
	Message string
}

// Reconcile validates the BSL ns/name with pod as the Velero server, logs through logger what
// Velero logs, and patches the BSL's status.
func (r *Reconciler) Reconcile(ctx context.Context, ns, name string, pod *corev1.Pod, logger *logrus.Logger) (Result, error) {
	base := logger.WithField("controller", controllerName)
	log := base.WithField(controllerName, ns+"/"+name)
	list, err := r.listBSLs(ctx, ns)
	if err != nil {
		withError(at(log, 193), err).Error("No BackupStorageLocations found, at least one is required")
		return Result{}, err
	}
	var location *velerov1.BackupStorageLocation
	defaultFound := false
	for i := range list {
		if list[i].Name == name {
			location = list[i].DeepCopy()
		}
		defaultFound = defaultFound || list[i].Spec.Default
	}
	if location == nil {
		at(log, 208).Error("BackupStorageLocation is not found")
		return Result{}, fmt.Errorf("backupstoragelocation %s/%s not found", ns, name)
	}

	verr := r.validate(ctx, location, pod, log)
	now := metav1.NewTime(time.Now().UTC()).Rfc3339Copy()
	var res Result
	var unavailable []string
	status := map[string]any{"lastValidationTime": now}
	if verr != nil {
		at(log, 225).Info("BackupStorageLocation is invalid, marking as unavailable")
		res = Result{Phase: velerov1.BackupStorageLocationPhaseUnavailable, Message: StatusMessage(fmt.Sprintf("BackupStorageLocation %q is unavailable: %v", name, verr))}
		unavailable = append(unavailable, res.Message)
		status["phase"], status["message"] = res.Phase, res.Message
	} else {
		at(log, 231).Info("BackupStorageLocations is valid, marking as available")
		res = Result{Phase: velerov1.BackupStorageLocationPhaseAvailable}
		status["phase"], status["message"], status["lastSyncedTime"] = res.Phase, nil, now
	}
	perr := r.patchStatus(ctx, ns, name, status)
	if perr != nil {
		withError(at(log, 236), perr).Error("Error updating BackupStorageLocation phase")
	}
	logReconciledPhase(base, defaultFound, list, unavailable)
	return res, perr
}

// validate is the body of Velero's Reconcile: spec validation, the backup store (plugin Init) and
// its IsValid (a listing of the bucket).
func (r *Reconciler) validate(ctx context.Context, location *velerov1.BackupStorageLocation, pod *corev1.Pod, log *logrus.Entry) error {
	if err := location.Validate(); err != nil {
		withError(at(log, 243), err).Error("BackupStorageLocation spec is invalid")
		return err
	}
	store, bucket, prefix, cleanup, err := r.backupStore(ctx, location, pod, log)
	defer cleanup()
	if err != nil {
		withError(at(log, 248), err).Error("Error getting a backup store")
		return err
	}
	at(log, 252).Info("Validating BackupStorageLocation")
	if err := isValid(ctx, store, bucket, prefix); err != nil {
		withError(at(log, 255), err).Error("fail to validate backup store")
		return err
	}
	return nil
}

// backupStore is Velero's objectBackupStoreGetter.Get with the azure plugin's Init behind it.
func (r *Reconciler) backupStore(ctx context.Context, location *velerov1.BackupStorageLocation, pod *corev1.Pod, log *logrus.Entry) (*objectStore, string, string, func(), error) {
	cleanup := func() {}
	obj := location.Spec.ObjectStorage
	if obj == nil {
		return nil, "", "", cleanup, errors.New("backup storage location does not use object storage")
	}
	if location.Spec.Provider == "" {
		return nil, "", "", cleanup, errors.New("object storage provider name must not be empty")
	}
	bucket, prefix := strings.Trim(obj.Bucket, "/"), strings.Trim(obj.Prefix, "/")
	if strings.Contains(bucket, "/") {
		return nil, "", "", cleanup, fmt.Errorf("backup storage location's bucket name %q must not contain a '/' (if using a prefix, put it in the 'Prefix' field instead)", obj.Bucket)
	}
	config := map[string]string{}
	for k, v := range location.Spec.Config {
		config[k] = v
	}
	config["bucket"], config["prefix"] = bucket, prefix
	if ref := obj.CACertRef; ref != nil {
		ca, err := r.secretKey(ctx, location.Namespace, ref)
		if err != nil {
			return nil, "", "", cleanup, fmt.Errorf("error getting CA certificate from secret: %w", err)
		}
		config["caCert"] = string(ca)
	} else if obj.CACert != nil {
		config["caCert"] = string(obj.CACert)
	}
	files := map[string][]byte{}
	if sel := location.Spec.Credential; sel != nil {
		data, err := r.secretKey(ctx, location.Namespace, sel)
		if err != nil {
			return nil, "", "", cleanup, fmt.Errorf("unable to get credentials: unable to get key for secret: %w", err)
		}
		file := filepath.Join(credentialsRoot, location.Namespace, fmt.Sprintf("%s-%s", sel.Name, sel.Key))
		files[file] = data
		config[cfgCredentialsFile] = file
	}
	env := ContainerEnv(pod, VeleroContainer)
	pe := pluginEnv{env: env, readFile: func(p string) ([]byte, error) {
		if data, ok := files[p]; ok {
			return data, nil
		}
		return r.podFile(ctx, pod, p)
	}}
	if tokenFile := env[envFederatedToken]; tokenFile != "" {
		pe.tokenFile, cleanup = r.podToken(ctx, pod, tokenFile)
	}
	transport := NewTransport(r.Doubles, r.Base, config[cfgStorageURI]).Client()
	store, err := initObjectStore(ctx, log, config, pe, transport)
	if err != nil {
		return nil, "", "", cleanup, &rpcError{err}
	}
	return store, bucket, prefix, cleanup, nil
}

var validSubdirs = map[string]bool{"backups": true, "restores": true, "restic": true, "metadata": true, "plugins": true, "kopia": true}

// isValid is Velero's objectBackupStore.IsValid: list the top-level prefixes and accept only
// Velero's own directories.
func isValid(ctx context.Context, store *objectStore, bucket, prefix string) error {
	root := prefix
	if root != "" {
		root += "/"
	}
	dirs, err := store.listCommonPrefixes(ctx, bucket, root, "/")
	if err != nil {
		return &locatedError{err: &rpcError{err}, file: objectStoreFile + ":222", function: isValidFunction}
	}
	var invalid []string
	for _, dir := range dirs {
		if sub := strings.TrimSuffix(strings.TrimPrefix(dir, root), "/"); !validSubdirs[sub] {
			invalid = append(invalid, sub)
		}
	}
	switch {
	case len(invalid) > 3:
		return &locatedError{err: fmt.Errorf("Backup store contains %d invalid top-level directories: %v", len(invalid), append(invalid[:3], "...")), file: objectStoreFile + ":236", function: isValidFunction}
	case len(invalid) > 0:
		return &locatedError{err: fmt.Errorf("Backup store contains invalid top-level directories: %v", invalid), file: objectStoreFile + ":238", function: isValidFunction}
	}
	return nil
}

// logReconciledPhase is Velero's summary line after each reconcile. Like Velero, it counts the
// phases as listed before this validation's status update.
func logReconciledPhase(log *logrus.Entry, defaultFound bool, list []velerov1.BackupStorageLocation, errs []string) {
	var available, unavailable, unknown int
	for _, l := range list {
		switch l.Status.Phase {
		case velerov1.BackupStorageLocationPhaseAvailable:
			available++
		case velerov1.BackupStorageLocationPhaseUnavailable:
			unavailable++
		default:
			unknown++
		}
	}
	switch {
	case unavailable+unknown == len(list) && len(errs) > 0:
		at(log, 291).Errorf("Current BackupStorageLocations available/unavailable/unknown: %v/%v/%v, %s)", available, unavailable, unknown, strings.Join(errs, "; "))
	case unavailable+unknown == len(list):
		at(log, 293).Errorf("Current BackupStorageLocations available/unavailable/unknown: %v/%v/%v)", available, unavailable, unknown)
	case unavailable > 0:
		at(log, 296).Warnf("Unavailable BackupStorageLocations detected: available/unavailable/unknown: %v/%v/%v, %s)", available, unavailable, unknown, strings.Join(errs, "; "))
	}
	if !defaultFound {
		at(log, 300).Warn("There is no existing BackupStorageLocation set as default. Please see `velero backup-location -h` for options.")
	}
}

func (r *Reconciler) listBSLs(ctx context.Context, ns string) ([]velerov1.BackupStorageLocation, error) {
	ul, err := r.Dynamic.Resource(BSLResource).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]velerov1.BackupStorageLocation, 0, len(ul.Items))
	for _, u := range ul.Items {
		var b velerov1.BackupStorageLocation
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// patchStatus merge-patches the status, through the status subresource when the CRD has one
// (Velero's CRD has none, and Velero patches the object).
func (r *Reconciler) patchStatus(ctx context.Context, ns, name string, status map[string]any) error {
	body, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return err
	}
	var sub []string
	if r.statusSubresource() {
		sub = []string{"status"}
	}
	_, err = r.Dynamic.Resource(BSLResource).Namespace(ns).Patch(ctx, name, types.MergePatchType, body, metav1.PatchOptions{}, sub...)
	return err
}

func (r *Reconciler) statusSubresource() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.subCached) < 30*time.Second {
		return r.subStatus
	}
	list, err := r.Client.Discovery().ServerResourcesForGroupVersion(BSLResource.GroupVersion().String())
	if err != nil {
		return r.subStatus
	}
	r.subStatus = false
	for _, res := range list.APIResources {
		if res.Name == BSLResource.Resource+"/status" {
			r.subStatus = true
		}
	}
	r.subCached = time.Now()
	return r.subStatus
}

func (r *Reconciler) secretKey(ctx context.Context, ns string, sel *corev1.SecretKeySelector) ([]byte, error) {
	secret, err := r.Client.CoreV1().Secrets(ns).Get(ctx, sel.Name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	data, ok := secret.Data[sel.Key]
	if !ok {
		return nil, fmt.Errorf("%q secret is missing data for key %q", sel.Name, sel.Key)
	}
	return data, nil
}

// ContainerEnv is a container's literal environment as the pod spec holds it (after the webhook).
func ContainerEnv(pod *corev1.Pod, name string) map[string]string {
	env := map[string]string{}
	if c := findContainer(pod, name); c != nil {
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				env[e.Name] = e.Value
			}
		}
	}
	return env
}

func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}

// mountedVolume finds the volume that holds file in the container, and the file's path inside it.
func mountedVolume(pod *corev1.Pod, container, file string) (*corev1.Volume, string) {
	c := findContainer(pod, container)
	if c == nil {
		return nil, ""
	}
	file = path.Clean(file)
	var best *corev1.VolumeMount
	for i, m := range c.VolumeMounts {
		mp := strings.TrimRight(m.MountPath, "/")
		if strings.HasPrefix(file, mp+"/") && (best == nil || len(mp) > len(strings.TrimRight(best.MountPath, "/"))) {
			best = &c.VolumeMounts[i]
		}
	}
	if best == nil {
		return nil, ""
	}
	rel := strings.TrimPrefix(file, strings.TrimRight(best.MountPath, "/")+"/")
	if best.SubPath != "" {
		rel = path.Join(best.SubPath, rel)
	}
	for i := range pod.Spec.Volumes {
		if pod.Spec.Volumes[i].Name == best.Name {
			return &pod.Spec.Volumes[i], rel
		}
	}
	return nil, ""
}

// podFile reads a file of the velero container from the secret volume it lives on, or fails as a
// missing file does.
func (r *Reconciler) podFile(ctx context.Context, pod *corev1.Pod, file string) ([]byte, error) {
	vol, rel := mountedVolume(pod, VeleroContainer, file)
	if vol == nil || vol.Secret == nil {
		return nil, noSuchFile(file)
	}
	key := rel
	for _, item := range vol.Secret.Items {
		if item.Path == rel {
			key = item.Key
		}
	}
	secret, err := r.Client.CoreV1().Secrets(pod.Namespace).Get(ctx, vol.Secret.SecretName, metav1.GetOptions{})
	if err != nil {
		return nil, noSuchFile(file)
	}
	data, ok := secret.Data[key]
	if !ok {
		return nil, noSuchFile(file)
	}
	return data, nil
}

// podToken writes what the pod's projected token volume holds at file: a service-account token
// for the volume's audience and lifetime, bound to the pod, from the TokenRequest API. It returns
// the host path, or the pod's own path (which does not exist here, so reading it fails as it would
// in the pod) when the pod has no such volume.
func (r *Reconciler) podToken(ctx context.Context, pod *corev1.Pod, file string) (string, func()) {
	none := func() {}
	vol, rel := mountedVolume(pod, VeleroContainer, file)
	if vol == nil || vol.Projected == nil {
		return file, none
	}
	var src *corev1.ServiceAccountTokenProjection
	for _, s := range vol.Projected.Sources {
		if s.ServiceAccountToken != nil && path.Clean(s.ServiceAccountToken.Path) == rel {
			src = s.ServiceAccountToken
		}
	}
	if src == nil {
		return file, none
	}
	spec := authnv1.TokenRequestSpec{ExpirationSeconds: src.ExpirationSeconds,
		BoundObjectRef: &authnv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID}}
	if src.Audience != "" {
		spec.Audiences = []string{src.Audience}
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	tr, err := r.Client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, &authnv1.TokenRequest{Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		return file, none
	}
	dir, err := os.MkdirTemp(r.TempDir, "token-")
	if err != nil {
		return file, none
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	host := filepath.Join(dir, path.Base(rel))
	if err := os.WriteFile(host, []byte(tr.Status.Token), 0o600); err != nil {
		cleanup()
		return file, none
	}
	return host, cleanup
}
