package plugin

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

// checkLabel checks a name the API server requires to be a DNS-1123 label (namespaces, containers),
// so a typo fails here, with the rule, instead of as a confusing 404 or 400 from the server.
func checkLabel(what, value, hint string) error {
	return nameError(what, value, hint, validation.IsDNS1123Label(value))
}

// checkSubdomain checks a name the API server requires to be a DNS-1123 subdomain (most objects:
// deployments, service accounts, BackupStorageLocations).
func checkSubdomain(what, value, hint string) error {
	return nameError(what, value, hint, validation.IsDNS1123Subdomain(value))
}

func nameError(what, value, hint string, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("invalid %s %q: %s; %s", what, value, strings.Join(problems, "; "), hint)
}

// checkProfileNames checks the namespace and the pairs' names of a resolved profile.
func checkProfileNames(p profile.Profile) error {
	if err := checkLabel("namespace", p.Namespace, "check -n, or the namespace of the kubeconfig context"); err != nil {
		return err
	}
	for _, pair := range p.Pairs {
		if err := checkSubdomain("service account name", pair.ServiceAccount, "check --service-account"); err != nil {
			return err
		}
		if err := checkSubdomain(strings.ToLower(pair.Workload.Kind)+" name", pair.Workload.Name, "check --deployment/--workload"); err != nil {
			return err
		}
	}
	return nil
}
