package catalog

import "github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"

// Findings of `preflight`: can AKS Backup work on this cluster at all, before it is installed.
var (
	KubernetesVersionUnsupported = findings.Define(findings.Definition{ID: "kubernetes-version-unsupported", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "The cluster's Kubernetes version is below what AKS Backup supports",
		Explanation: "AKS Backup supports clusters from Kubernetes 1.22 (the first AKS version with the CSI drivers built in); Azure Backup does not cover failures on older versions."})
	CSIDiskDriverMissing = findings.Define(findings.Definition{ID: "csi-disk-driver-missing", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "The Azure Disk CSI driver is not installed",
		Explanation: "AKS Backup snapshots persistent volumes through the disk.csi.azure.com CSI driver; without its CSIDriver object no volume can be snapshotted.",
		ExplainedBy: []string{"kubernetes-version-unsupported"}})
	CSIFileDriverMissing = findings.Define(findings.Definition{ID: "csi-file-driver-missing", Severity: findings.SeverityWarning, Layer: findings.LayerPlatform,
		Title:       "The Azure Files CSI driver is not installed",
		Explanation: "In-tree azureFile volumes can only be migrated to CSI volumes, and Azure Files CSI volumes only mounted, when file.csi.azure.com is installed.",
		ExplainedBy: []string{"kubernetes-version-unsupported"}})
	SnapshotCRDsMissing = findings.Define(findings.Definition{ID: "snapshot-crds-missing", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "The volume snapshot CRDs are not installed",
		Explanation: "AKS Backup creates VolumeSnapshots (snapshot.storage.k8s.io/v1); without volumesnapshots, volumesnapshotcontents and volumesnapshotclasses it cannot back up any volume.",
		ExplainedBy: []string{"kubernetes-version-unsupported"}})
	SnapshotControllerMissing = findings.Define(findings.Definition{ID: "snapshot-controller-missing", Severity: findings.SeverityWarning, Layer: findings.LayerPlatform,
		Title:       "No snapshot controller was found",
		Explanation: "The snapshot controller turns VolumeSnapshots into disk snapshots; AKS runs it as csi-snapshot-controller in kube-system when the snapshot controller is enabled.",
		ExplainedBy: []string{"snapshot-crds-missing"}})
	SnapshotClassMissing = findings.Define(findings.Definition{ID: "snapshot-class-missing", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "No VolumeSnapshotClass for disk.csi.azure.com",
		Explanation: "A VolumeSnapshot names its driver through a VolumeSnapshotClass; without one for disk.csi.azure.com the disk snapshots cannot be taken.",
		ExplainedBy: []string{"snapshot-crds-missing", "csi-disk-driver-missing"}})
	PVInTreeUnsupported = findings.Define(findings.Definition{ID: "pv-in-tree-unsupported", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "Persistent volumes use the in-tree Azure plugins",
		Explanation: "AKS Backup backs up only CSI volumes; in-tree azureDisk and azureFile volumes are skipped until they are migrated to the CSI drivers."})
	PVAzureFilesNotCovered = findings.Define(findings.Definition{ID: "pv-azure-files-not-covered", Severity: findings.SeverityWarning, Layer: findings.LayerPlatform,
		Title:       "Azure Files volumes are not covered by AKS Backup",
		Explanation: "The Azure Files CSI driver has no snapshot AKS Backup can use, so these volumes' data is not backed up; Azure Backup's file share backup covers them."})
	PVAzureBlobNotCovered = findings.Define(findings.Definition{ID: "pv-azure-blob-not-covered", Severity: findings.SeverityWarning, Layer: findings.LayerPlatform,
		Title:       "Azure Blob volumes are not covered by AKS Backup",
		Explanation: "The Blob CSI driver has no snapshot AKS Backup can use, so these volumes' data is not backed up; Azure Backup's blob backup (operational or vaulted) covers the storage account."})
	PVUnknownDriver = findings.Define(findings.Definition{ID: "pv-unknown-driver", Severity: findings.SeverityInfo, Layer: findings.LayerPlatform,
		Title:       "Persistent volumes of other drivers",
		Explanation: "AKS Backup backs up the Kubernetes objects of these volumes but not their data; only Azure Disk CSI volumes are snapshotted."})
	PVDiskNoStorageClass = findings.Define(findings.Definition{ID: "pv-disk-no-storage-class", Severity: findings.SeverityWarning, Layer: findings.LayerPlatform,
		Title:       "Azure Disk volumes without a storage class",
		Explanation: "AKS Backup skips statically provisioned disk volumes whose spec names no storageClassName."})
	PodIdentityExceptionMissing = findings.Define(findings.Definition{ID: "pod-identity-exception-missing", Severity: findings.SeverityError, Layer: findings.LayerCredential,
		Title:       "AAD Pod Identity would intercept the extension's token requests",
		Explanation: "With AAD Pod Identity installed, its NMI answers every pod's IMDS token request unless an AzurePodIdentityException in the pod's namespace matches it; the extension then gets 'no azure identity found for request clientID'. A namespace label does not exempt pods."})
	NoLinuxNodeSchedulable = findings.Define(findings.Definition{ID: "no-linux-node-schedulable", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "No Linux node can run the extension's pods",
		Explanation: "The extension's pods run on Linux nodes that are Ready, schedulable and carry no NoSchedule or NoExecute taint they do not tolerate."})
	NodeCapacityInsufficient = findings.Define(findings.Definition{ID: "node-capacity-insufficient", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "No node has room for the extension's requests",
		Explanation: "The extension install waits for its pods; if no eligible node has the CPU and memory they request left, the Helm release times out and is uninstalled.",
		ExplainedBy: []string{"no-linux-node-schedulable"}})
	ProxyNoProxyIncomplete = findings.Define(findings.Definition{ID: "proxy-no-proxy-incomplete", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "NO_PROXY misses in-cluster or Azure endpoints",
		Explanation: "Behind an HTTP proxy, requests to the API server, in-cluster services and the instance metadata endpoint must bypass it; otherwise the extension cannot reach them."})
	PortworxPermissionMissing = findings.Define(findings.Definition{ID: "portworx-permission-missing", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "The identity lacks ARM actions Portworx needs",
		Explanation: "Portworx's documented custom role lists the ARM actions it calls to create, attach and snapshot disks; without each of them at the node resource group those calls fail."})
	PreflightReadSkipped = findings.Define(findings.Definition{ID: "preflight-read-skipped", Severity: findings.SeverityWarning, Layer: findings.LayerConfig,
		Title:       "A preflight read was not allowed",
		Explanation: "Your credentials may not read some objects, so the checks that need them were skipped; run with broader read access for a complete answer."})
)
