package preflight

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
)

// VolumeClass says how AKS Backup treats a persistent volume.
type VolumeClass string

const (
	ClassCSIAzureDisk    VolumeClass = "csi-azure-disk"
	ClassInTreeAzureDisk VolumeClass = "in-tree-azure-disk"
	ClassInTreeAzureFile VolumeClass = "in-tree-azure-file"
	ClassCSIAzureFile    VolumeClass = "csi-azure-file"
	ClassCSIAzureBlob    VolumeClass = "csi-azure-blob"
	ClassOther           VolumeClass = "other"
)

// Coverage is what AKS Backup does with a class's data.
type Coverage string

const (
	CoverageSupported   Coverage = "supported"
	CoverageUnsupported Coverage = "unsupported: migrate to CSI first"
	CoverageNotCovered  Coverage = "not covered: use another Azure Backup option"
	CoverageUnknown     Coverage = "objects only, data not backed up"
)

// classOrder is the order of the report's rows, and each class's coverage.
var classOrder = []struct {
	Class    VolumeClass
	Coverage Coverage
}{
	{ClassCSIAzureDisk, CoverageSupported},
	{ClassInTreeAzureDisk, CoverageUnsupported},
	{ClassInTreeAzureFile, CoverageUnsupported},
	{ClassCSIAzureFile, CoverageNotCovered},
	{ClassCSIAzureBlob, CoverageNotCovered},
	{ClassOther, CoverageUnknown},
}

// Classify says how AKS Backup treats a persistent volume.
func Classify(pv *corev1.PersistentVolume) VolumeClass {
	switch s := pv.Spec.PersistentVolumeSource; {
	case s.CSI != nil:
		switch strings.ToLower(s.CSI.Driver) {
		case DiskCSIDriver:
			return ClassCSIAzureDisk
		case FileCSIDriver:
			return ClassCSIAzureFile
		case BlobCSIDriver:
			return ClassCSIAzureBlob
		}
	case s.AzureDisk != nil:
		return ClassInTreeAzureDisk
	case s.AzureFile != nil:
		return ClassInTreeAzureFile
	}
	return ClassOther
}

// ClassCount is one row of the inventory: how many volumes of a class, and a few of their names.
type ClassCount struct {
	Class    VolumeClass `json:"class"`
	Coverage Coverage    `json:"coverage"`
	Count    int         `json:"count"`
	Examples []string    `json:"examples,omitempty"`
}

// Inventory counts the cluster's persistent volumes by class.
type Inventory struct {
	Total int `json:"total"`
	// Pages is how many list requests the inventory took.
	Pages   int          `json:"pages"`
	Classes []ClassCount `json:"classes"`
}

// tally keeps counters and at most max names per key: the whole memory of the inventory.
type tally struct {
	max    int
	counts map[VolumeClass]int
	names  map[VolumeClass][]string
}

func newTally(max int) *tally {
	return &tally{max: max, counts: map[VolumeClass]int{}, names: map[VolumeClass][]string{}}
}

func (t *tally) add(key VolumeClass, name string) {
	t.counts[key]++
	if len(t.names[key]) < t.max {
		t.names[key] = append(t.names[key], name)
	}
}

// noStorageClass is the pseudo-class of disk volumes without a storage class.
const noStorageClass VolumeClass = "disk-without-storage-class"

func (r *runner) checkVolumes(ctx context.Context) error {
	const name = "persistent-volumes"
	t := newTally(r.in.Samples)
	inv := &r.report.Volumes
	opts := metav1.ListOptions{Limit: r.in.PageSize}
	for {
		page, err := r.in.Client.CoreV1().PersistentVolumes().List(ctx, opts)
		if err != nil {
			if r.forbidden(name, "list", "persistentvolumes", err) {
				return nil
			}
			return readError("list PersistentVolumes", err)
		}
		inv.Pages++
		for i := range page.Items {
			pv := &page.Items[i]
			class := Classify(pv)
			t.add(class, pv.Name)
			if class == ClassCSIAzureDisk && pv.Spec.StorageClassName == "" {
				t.add(noStorageClass, pv.Name)
			}
			inv.Total++
		}
		if opts.Continue = page.Continue; opts.Continue == "" {
			break
		}
	}
	for _, c := range classOrder {
		inv.Classes = append(inv.Classes, ClassCount{Class: c.Class, Coverage: c.Coverage, Count: t.counts[c.Class], Examples: t.names[c.Class]})
	}
	fs := volumeFindings(t)
	detail := fmt.Sprintf("%d volumes, %d Azure Disk CSI", inv.Total, t.counts[ClassCSIAzureDisk])
	r.add(Check{Name: name, Status: statusOf(fs), Detail: detail}, fs...)
	return nil
}

func volumeFindings(t *tally) []findings.Finding {
	var fs []findings.Finding
	some := func(classes ...VolumeClass) (int, string) {
		n, names := 0, []string{}
		for _, c := range classes {
			n += t.counts[c]
			names = append(names, t.names[c]...)
		}
		return n, strings.Join(sample(names, t.max), ", ")
	}
	if n, names := some(ClassInTreeAzureDisk, ClassInTreeAzureFile); n > 0 {
		fs = append(fs, catalog.PVInTreeUnsupported.New("persistentvolumes",
			fmt.Sprintf("%d volumes use the in-tree azureDisk/azureFile plugins (%d disk, %d file), e.g. %s", n, t.counts[ClassInTreeAzureDisk], t.counts[ClassInTreeAzureFile], names),
			"migrate them to the CSI drivers: https://learn.microsoft.com/azure/aks/csi-migrate-in-tree-volumes",
			"kubectl get pv -o custom-columns=NAME:.metadata.name,DISK:.spec.azureDisk.diskName,FILE:.spec.azureFile.shareName | grep -v '<none> *<none>$'   # lists them"))
	}
	if n, names := some(ClassCSIAzureFile); n > 0 {
		fs = append(fs, catalog.PVAzureFilesNotCovered.New("persistentvolumes", fmt.Sprintf("%d Azure Files CSI volumes, e.g. %s", n, names),
			"back up their file shares with Azure Backup for Azure Files: https://learn.microsoft.com/azure/backup/azure-file-share-backup-overview"))
	}
	if n, names := some(ClassCSIAzureBlob); n > 0 {
		fs = append(fs, catalog.PVAzureBlobNotCovered.New("persistentvolumes", fmt.Sprintf("%d Azure Blob CSI volumes, e.g. %s", n, names),
			"back up their storage accounts with Azure Backup for Azure Blobs (operational or vaulted): https://learn.microsoft.com/azure/backup/blob-backup-overview"))
	}
	if n, names := some(ClassOther); n > 0 {
		fs = append(fs, catalog.PVUnknownDriver.New("persistentvolumes", fmt.Sprintf("%d volumes of other drivers, e.g. %s", n, names),
			"back up their data with the storage's own tooling, or move them to Azure Disk CSI volumes"))
	}
	if n, names := some(noStorageClass); n > 0 {
		fs = append(fs, catalog.PVDiskNoStorageClass.New("persistentvolumes", fmt.Sprintf("%d Azure Disk CSI volumes name no storage class, e.g. %s", n, names),
			"kubectl patch pv <name> --type merge -p '{\"spec\":{\"storageClassName\":\"managed-csi\"}}'   # for each; AKS Backup skips static disks without one"))
	}
	return fs
}
