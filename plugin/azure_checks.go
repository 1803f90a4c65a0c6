package plugin

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azurecheck"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/shellquote"
)

// gatherAzure reads the Azure facts for a cluster, with the API server's own issuer for comparison.
// A cluster that ARM does not know is bad input.
func gatherAzure(ctx context.Context, azc azure.Client, target azure.ResourceID, client kubernetes.Interface) (*azurecheck.Facts, error) {
	return gatherAzureFor(ctx, azc, target, client, azurecheck.Request{UseExtension: true})
}

// gatherAzureFor is gatherAzure with the identity and storage source of req.
func gatherAzureFor(ctx context.Context, azc azure.Client, target azure.ResourceID, client kubernetes.Interface, req azurecheck.Request) (*azurecheck.Facts, error) {
	issuer, _ := kube.OIDCIssuer(ctx, client) // optional: only used to compare with ARM's issuer
	facts, err := azurecheck.GatherFor(ctx, azc, target, issuer, req)
	var nf *azure.NotFoundError
	if errors.As(err, &nf) {
		// A finding like any other (scripts key on its ID), delivered as the command's error.
		f := catalog.ClusterNotFound.New(target.String(), "AKS cluster "+target.String()+" is not known to ARM", "az aks show --ids "+shellquote.Quote(target.String()))
		return nil, exitcode.Invalid(fmt.Errorf("%s: %s (%w); check --cluster-id, or --subscription, --resource-group and --cluster-name (%s)",
			f.ID, f.Message, err, f.Remediation[0]))
	}
	return facts, err
}
