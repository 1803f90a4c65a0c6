package preflight

import (
	"k8s.io/apimachinery/pkg/api/resource"
)

// MinKubernetes is the oldest Kubernetes version AKS Backup supports. Source: the Azure Backup for
// AKS support matrix (https://learn.microsoft.com/azure/backup/azure-kubernetes-service-cluster-backup-support-matrix;
// the docs.azure.cn copy still carries the sentence): "AKS backup supports AKS clusters with Kubernetes
// version 1.22 or later". Newer revisions of the page add that only AKS-supported versions are
// covered; AKS's own list (https://learn.microsoft.com/azure/aks/supported-kubernetes-versions) moves
// every few months, so the tool checks the floor and the text names the list.
var MinKubernetes = struct{ Major, Minor uint }{1, 22}

// Driver names of the CSI drivers AKS installs.
const (
	DiskCSIDriver = "disk.csi.azure.com"
	FileCSIDriver = "file.csi.azure.com"
	BlobCSIDriver = "blob.csi.azure.com"
)

// ExtensionNamespace is where the AKS Backup extension installs its pods.
const ExtensionNamespace = "dataprotection-microsoft"

// PodRequest is what one of the extension's pods asks the scheduler for.
type PodRequest struct {
	Name   string
	CPU    resource.Quantity
	Memory resource.Quantity
}

// ExtensionPods are the extension's pods and their requests. The extension does not publish its
// requests; the backup agent is Velero, so its figures are Velero's Helm chart defaults
// (https://github.com/vmware-tanzu/helm-charts/blob/main/charts/velero/values.yaml: resources.requests
// cpu 500m, memory 128Mi), and the two helper pods are counted at a small estimate each. The check
// is about "is there any room at all", not about tight packing.
var ExtensionPods = []PodRequest{
	{Name: "dataprotection-microsoft-kubernetes-agent", CPU: resource.MustParse("500m"), Memory: resource.MustParse("128Mi")},
	{Name: "dataprotection-microsoft-controller", CPU: resource.MustParse("100m"), Memory: resource.MustParse("128Mi")},
	{Name: "dataprotection-microsoft-geneva-service", CPU: resource.MustParse("100m"), Memory: resource.MustParse("128Mi")},
}

// ExtensionTolerations are the taint keys the extension's pods tolerate besides Kubernetes' own
// not-ready/unreachable defaults: none are documented, so any NoSchedule or NoExecute taint
// (CriticalAddonsOnly on a system pool, a GPU or spot taint) keeps them off a node.
var ExtensionTolerations = []string{}

// RequiredNoProxy are the NO_PROXY entries the extension needs behind a proxy: in-cluster service
// names, the instance metadata endpoint (managed identity tokens) and the Azure host endpoint. The
// API server's own host is added at run time. Source: AKS HTTP proxy support
// (https://learn.microsoft.com/azure/aks/http-proxy), which lists what AKS itself puts in noProxy.
var RequiredNoProxy = []string{".svc", ".cluster.local", "169.254.169.254", "168.63.129.16"}

// AKSDefaultNoProxy are the entries AKS adds to every pod's NO_PROXY by itself when the cluster has
// an httpProxyConfig (with the API server's FQDN and the cluster's CIDRs), so a noProxy list in ARM
// need not repeat them (same source); .svc and .cluster.local it does not add.
var AKSDefaultNoProxy = []string{"localhost", "127.0.0.1", "169.254.169.254", "168.63.129.16", "konnectivity"}
