package preflight

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
)

const (
	snapshotGroupVersion = "snapshot.storage.k8s.io/v1"
	azCSIDocs            = "https://learn.microsoft.com/azure/aks/csi-storage-drivers#enable-csi-storage-drivers-on-an-existing-cluster"
)

// SnapshotResources are the CRDs of snapshot.storage.k8s.io/v1 that AKS Backup uses.
var SnapshotResources = []string{"volumesnapshots", "volumesnapshotcontents", "volumesnapshotclasses"}

func (r *runner) checkVersion(context.Context) error {
	const name = "kubernetes-version"
	info, err := r.in.Client.Discovery().ServerVersion()
	if err != nil {
		if r.forbidden(name, "get", "/version", err) {
			return nil
		}
		return readError("read the server version", err)
	}
	r.report.KubernetesVersion = info.GitVersion
	v, err := version.ParseGeneric(info.GitVersion)
	if err != nil {
		r.add(Check{Name: name, Status: StatusWarning, Detail: fmt.Sprintf("cannot parse %q; compare it with %d.%d or later yourself", info.GitVersion, MinKubernetes.Major, MinKubernetes.Minor)})
		return nil
	}
	floor := version.MajorMinor(MinKubernetes.Major, MinKubernetes.Minor)
	if v.LessThan(floor) {
		r.add(Check{Name: name, Status: StatusFailed, Detail: fmt.Sprintf("%s is older than %s", info.GitVersion, floor)},
			catalog.KubernetesVersionUnsupported.New("cluster", fmt.Sprintf("the API server runs %s; AKS Backup supports %d.%d or later", info.GitVersion, MinKubernetes.Major, MinKubernetes.Minor),
				r.azAKS("upgrade", "--kubernetes-version <a version from: az aks get-upgrades>")))
		return nil
	}
	r.add(Check{Name: name, Status: StatusOK, Detail: fmt.Sprintf("%s (AKS Backup: %d.%d or later, within AKS's supported versions)", info.GitVersion, MinKubernetes.Major, MinKubernetes.Minor)})
	return nil
}

func (r *runner) checkCSIDrivers(ctx context.Context) error {
	const name = "csi-drivers"
	present := map[string]bool{}
	for _, driver := range []string{DiskCSIDriver, FileCSIDriver} {
		_, err := r.in.Client.StorageV1().CSIDrivers().Get(ctx, driver, metav1.GetOptions{})
		switch {
		case err == nil:
			present[driver] = true
		case apierrors.IsNotFound(err):
		case r.forbidden(name, "get", "csidrivers.storage.k8s.io", err):
			return nil
		default:
			return readError("read CSIDriver "+driver, err)
		}
	}
	var fs []findings.Finding
	if !present[DiskCSIDriver] {
		fs = append(fs, catalog.CSIDiskDriverMissing.New("csidriver/"+DiskCSIDriver, "the cluster has no CSIDriver "+DiskCSIDriver,
			r.azAKS("update", "--enable-disk-driver --enable-snapshot-controller")+"   # see "+azCSIDocs))
	}
	if !present[FileCSIDriver] {
		fs = append(fs, catalog.CSIFileDriverMissing.New("csidriver/"+FileCSIDriver, "the cluster has no CSIDriver "+FileCSIDriver,
			r.azAKS("update", "--enable-file-driver")))
	}
	r.add(Check{Name: name, Status: statusOf(fs), Detail: presence(present, DiskCSIDriver, FileCSIDriver)}, fs...)
	return nil
}

func presence(present map[string]bool, names ...string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		if present[n] {
			parts[i] = n + " installed"
		} else {
			parts[i] = n + " missing"
		}
	}
	return strings.Join(parts, ", ")
}

func (r *runner) checkSnapshots(ctx context.Context) error {
	const name = "volume-snapshots"
	list, err := r.in.Client.Discovery().ServerResourcesForGroupVersion(snapshotGroupVersion)
	var served []string
	switch {
	case err == nil:
		for _, res := range list.APIResources {
			served = append(served, res.Name)
		}
	case apierrors.IsNotFound(err):
	case r.forbidden(name, "get", "/apis/"+snapshotGroupVersion, err):
		return nil
	default:
		return readError("discover "+snapshotGroupVersion, err)
	}
	var missing []string
	for _, res := range SnapshotResources {
		if !slices.Contains(served, res) {
			missing = append(missing, res)
		}
	}
	if len(missing) > 0 {
		r.add(Check{Name: name, Status: StatusFailed, Detail: "missing " + strings.Join(missing, ", ") + " in " + snapshotGroupVersion},
			catalog.SnapshotCRDsMissing.New(snapshotGroupVersion, "the API server does not serve "+strings.Join(missing, ", ")+" ("+snapshotGroupVersion+")",
				r.azAKS("update", "--enable-snapshot-controller")+"   # installs the CRDs and the controller; see "+azCSIDocs))
		return nil
	}
	fs, detail, err := r.snapshotClassAndController(ctx)
	if err != nil || detail == "" {
		return err
	}
	r.add(Check{Name: name, Status: statusOf(fs), Detail: detail}, fs...)
	return nil
}

// snapshotClassAndController looks for a VolumeSnapshotClass of the disk driver and the snapshot
// controller's deployment. detail "" means a forbidden read already reported the check.
func (r *runner) snapshotClassAndController(ctx context.Context) ([]findings.Finding, string, error) {
	const name = "volume-snapshots"
	var classes []string
	opts := metav1.ListOptions{Limit: r.in.PageSize}
	for {
		page, err := r.in.Snapshots.SnapshotV1().VolumeSnapshotClasses().List(ctx, opts)
		if err != nil {
			if r.forbidden(name, "list", "volumesnapshotclasses.snapshot.storage.k8s.io", err) {
				return nil, "", nil
			}
			return nil, "", readError("list VolumeSnapshotClasses", err)
		}
		for _, class := range page.Items {
			if class.Driver == DiskCSIDriver {
				classes = append(classes, class.Name)
			}
		}
		if opts.Continue = page.Continue; opts.Continue == "" {
			break
		}
	}
	var fs []findings.Finding
	detail := "CRDs served"
	if len(classes) == 0 {
		fs = append(fs, catalog.SnapshotClassMissing.New("volumesnapshotclass", "no VolumeSnapshotClass has driver "+DiskCSIDriver, snapshotClassFix))
		detail += "; no VolumeSnapshotClass for " + DiskCSIDriver
	} else {
		detail += "; VolumeSnapshotClass " + strings.Join(sample(classes, r.in.Samples), ", ")
	}
	found, err := r.snapshotControllerRunning(ctx)
	switch {
	case apierrors.IsForbidden(err):
		detail += "; snapshot controller not checked (may not list deployments in kube-system)"
	case err != nil:
		return nil, "", readError("list deployments in kube-system", err)
	case !found:
		fs = append(fs, catalog.SnapshotControllerMissing.New("kube-system", "no deployment named *snapshot-controller* in kube-system",
			r.azAKS("update", "--enable-snapshot-controller")))
		detail += "; no snapshot controller in kube-system"
	default:
		detail += "; snapshot controller running"
	}
	return fs, detail, nil
}

// snapshotClassFix creates the class AKS creates when the snapshot controller is enabled, on one
// line so that it survives copying from a terminal.
const snapshotClassFix = `echo '{"apiVersion":"snapshot.storage.k8s.io/v1","kind":"VolumeSnapshotClass","metadata":{"name":"csi-azuredisk-vsc"},"driver":"disk.csi.azure.com","deletionPolicy":"Delete","parameters":{"incremental":"true"}}' | kubectl apply -f -`

func (r *runner) snapshotControllerRunning(ctx context.Context) (bool, error) {
	opts := metav1.ListOptions{Limit: r.in.PageSize}
	for {
		page, err := r.in.Client.AppsV1().Deployments("kube-system").List(ctx, opts)
		if err != nil {
			return false, err
		}
		for _, d := range page.Items {
			if strings.Contains(d.Name, "snapshot-controller") {
				return true, nil
			}
		}
		if opts.Continue = page.Continue; opts.Continue == "" {
			return false, nil
		}
	}
}

// azAKS is an `az aks <verb>` command for the cluster, with placeholders when it is not known.
func (r *runner) azAKS(verb, args string) string {
	rg, name := "<resource-group>", "<cluster-name>"
	if c := r.in.Cluster; c != nil {
		rg, name = quote(c.ResourceGroup), quote(c.Name)
	}
	return fmt.Sprintf("az aks %s --resource-group %s --name %s %s", verb, rg, name, args)
}

// azNodepool is an `az aks nodepool <verb>` command for one of the cluster's pools.
func (r *runner) azNodepool(verb, pool, args string) string {
	rg, name := "<resource-group>", "<cluster-name>"
	if c := r.in.Cluster; c != nil {
		rg, name = quote(c.ResourceGroup), quote(c.Name)
	}
	return fmt.Sprintf("az aks nodepool %s --resource-group %s --cluster-name %s --name %s %s", verb, rg, name, pool, args)
}

func statusOf(fs []findings.Finding) Status {
	status := StatusOK
	for _, f := range fs {
		switch f.Severity {
		case findings.SeverityError:
			return StatusFailed
		case findings.SeverityWarning:
			status = StatusWarning
		}
	}
	return status
}

func sample(names []string, n int) []string {
	if len(names) > n {
		return names[:n]
	}
	return names
}
