package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/client-go/kubernetes"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// AKSClusterFromKubeconfig infers an AKS cluster's resource group and name from a kubeconfig written
// by `az aks get-credentials`, which names the user clusterUser_<resourceGroup>_<cluster> (or
// clusterAdmin_/clusterMonitoringUser_) and the cluster entry <cluster>. ok is false otherwise.
func AKSClusterFromKubeconfig(raw clientcmdapi.Config, contextName string) (resourceGroup, cluster string, ok bool) {
	if contextName == "" {
		contextName = raw.CurrentContext
	}
	ctx := raw.Contexts[contextName]
	if ctx == nil || ctx.Cluster == "" {
		return "", "", false
	}
	for _, prefix := range []string{"clusterUser_", "clusterAdmin_", "clusterMonitoringUser_"} {
		rest, found := strings.CutPrefix(ctx.AuthInfo, prefix)
		if !found {
			continue
		}
		rg, found := strings.CutSuffix(rest, "_"+ctx.Cluster)
		if found && rg != "" {
			return rg, ctx.Cluster, true
		}
	}
	return "", "", false
}

// OIDCIssuer reads the service-account issuer the API server publishes; "" when it publishes none.
func OIDCIssuer(ctx context.Context, client kubernetes.Interface) (string, error) {
	rc := client.Discovery().RESTClient()
	if rc == nil {
		return "", nil
	}
	body, err := rc.Get().AbsPath("/.well-known/openid-configuration").DoRaw(ctx)
	if err != nil {
		return "", fmt.Errorf("reading the API server's OIDC discovery document: %w", err)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("the API server's OIDC discovery document is not JSON: %w", err)
	}
	return doc.Issuer, nil
}
