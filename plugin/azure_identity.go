package plugin

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azurecheck"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/bsl"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

// identityFlags name the workload's own user-assigned identity, for profiles without the AKS Backup
// extension (velero, upbound-spaces, custom pairs).
type identityFlags struct {
	Name          string
	ResourceGroup string
	Subscription  string
}

func (f *identityFlags) AddFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.Name, "identity", "", "Name of the workload's own user-assigned managed identity (profiles without the AKS Backup extension); default: found by the service accounts' client-id annotation")
	fl.StringVar(&f.ResourceGroup, "identity-resource-group", "", "Resource group of --identity")
	fl.StringVar(&f.Subscription, "identity-subscription", "", "Subscription of --identity, or where to look its client ID up (default: the cluster's, and the BSL's storage subscription)")
}

// Validate checks the flags against the profile: the extension's identity is never chosen by flag.
func (f *identityFlags) Validate(p profile.Profile) error {
	switch {
	case (f.Name == "") != (f.ResourceGroup == ""):
		return errors.New("--identity and --identity-resource-group go together")
	case (f.Name != "" || f.Subscription != "") && p.ExtensionType != "":
		return fmt.Errorf("--identity applies to profiles without the AKS Backup extension; profile %s uses the extension's own identity", p.Name)
	case f.Subscription != "" && !identity.IsGUID(f.Subscription):
		return fmt.Errorf("--identity-subscription %q is not a subscription ID (a GUID)", f.Subscription)
	}
	return nil
}

// validateRoleScope checks --role-scope.
func validateRoleScope(scope string) error {
	switch scope {
	case azurecheck.RoleScopeContainer, azurecheck.RoleScopeAccount:
		return nil
	}
	return fmt.Errorf("--role-scope %q: use %s or %s", scope, azurecheck.RoleScopeContainer, azurecheck.RoleScopeAccount)
}

// profileAzure is what the Azure half needs to know about the profile and the flags.
type profileAzure struct {
	Profile  profile.Profile
	Azure    *azureFlags
	Identity identityFlags
	// ClientID is --client-id ("" when not given).
	ClientID string
	// Annotated are the profile's service accounts' client-id annotations, by account.
	Annotated map[string]string
	// CredentialsResourceGroup is AZURE_RESOURCE_GROUP of Velero's credentials secret ("" when unread).
	CredentialsResourceGroup string
}

// annotatedClientIDs reads the client-id annotations from a snapshot.
func annotatedClientIDs(p profile.Profile, snap *identity.Snapshot) map[string]string {
	out := map[string]string{}
	for _, pair := range p.Pairs {
		if sa := snap.ServiceAccounts[pair.ServiceAccount]; sa != nil && sa.Annotations[identity.AnnotationClientID] != "" {
			out[pair.ServiceAccount] = sa.Annotations[identity.AnnotationClientID]
		}
	}
	return out
}

// gather reads the Azure facts: the extension's for the aks-backup profile, else the workload's
// own identity and the storage its BSL names.
func (pa profileAzure) gather(ctx context.Context, azc azure.Client, target azure.ResourceID, client kubernetes.Interface, factory kube.Factory) (*azurecheck.Facts, error) {
	cloud, err := azure.ResolveCloud(pa.Azure.Cloud, pa.Azure.CloudConfig)
	if err != nil {
		return nil, err
	}
	req := azurecheck.Request{UseExtension: pa.Profile.ExtensionType != "", StorageSuffix: cloud.StorageSuffix}
	if !req.UseExtension {
		req.ClientID, req.AnnotatedClientIDs = pa.ClientID, pa.Annotated
		req.IdentityName, req.IdentityResourceGroup, req.IdentitySubscription = pa.Identity.Name, pa.Identity.ResourceGroup, pa.Identity.Subscription
		if req.Location, err = azureLocation(ctx, factory, pa.Profile.Namespace); err != nil {
			return nil, err
		}
		if req.Location != nil {
			req.Location.CredentialsResourceGroup = pa.CredentialsResourceGroup
		}
	}
	return gatherAzureFor(ctx, azc, target, client, req)
}

// azureLocation picks the namespace's Azure BSL that names the storage: the default one, else the one
// named default, else the first by name; nil when there is none.
func azureLocation(ctx context.Context, factory kube.Factory, namespace string) (*azurecheck.Location, error) {
	dyn, err := factory.Dynamic()
	if err != nil {
		return nil, err
	}
	rep, err := bsl.Read(ctx, dyn, namespace, "", time.Now())
	switch {
	case errors.Is(err, bsl.ErrNoCRD), errors.Is(err, bsl.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, kube.Explain(err, factory.Host())
	}
	var azureLocs []bsl.Location
	for _, l := range rep.Locations {
		if strings.EqualFold(l.Provider, "azure") || strings.HasSuffix(strings.ToLower(l.Provider), "/azure") {
			azureLocs = append(azureLocs, l)
		}
	}
	if len(azureLocs) == 0 {
		return nil, nil
	}
	sort.Slice(azureLocs, func(i, j int) bool {
		rank := func(l bsl.Location) int {
			switch {
			case l.Default:
				return 0
			case l.Name == "default":
				return 1
			}
			return 2
		}
		if ri, rj := rank(azureLocs[i]), rank(azureLocs[j]); ri != rj {
			return ri < rj
		}
		return azureLocs[i].Name < azureLocs[j].Name
	})
	l := azureLocs[0]
	return &azurecheck.Location{Name: l.Name, Bucket: l.Bucket, Config: l.Config}, nil
}
