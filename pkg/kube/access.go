package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Access is one permission a command needs.
type Access struct {
	Verb      string
	Group     string
	Resource  string
	Namespace string
}

func (a Access) String() string {
	resource := a.Resource
	if a.Group != "" {
		resource += "." + a.Group
	}
	return fmt.Sprintf("%s %s in namespace %s", a.Verb, resource, a.Namespace)
}

// ErrAccessDenied marks a CheckAccess answer that lacks permissions (bad input, exit 2), as opposed to
// a failure to ask (exit 3).
var ErrAccessDenied = errors.New("lacks RBAC permission")

// CheckAccess asks the API server (SelfSubjectAccessReview) whether the caller holds every permission,
// and names all the missing ones in one error, so nothing is attempted that would fail halfway.
func CheckAccess(ctx context.Context, client kubernetes.Interface, needed []Access) error {
	var denied []string
	for _, a := range needed {
		review := &authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authzv1.ResourceAttributes{Namespace: a.Namespace, Verb: a.Verb, Group: a.Group, Resource: a.Resource},
		}}
		got, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("checking permission to %s: %w", a, err)
		}
		if !got.Status.Allowed {
			denied = append(denied, a.String())
		}
	}
	if len(denied) == 0 {
		return nil
	}
	who := WhoAmI(ctx, client)
	return fmt.Errorf("%s %w to %s; nothing was changed. Ask a cluster admin for a Role with these verbs, or rerun with a user that has them (--as, --context)", who, ErrAccessDenied, strings.Join(denied, "; "))
}

// WhoAmI names the caller for messages, falling back to "you" when the server cannot say.
func WhoAmI(ctx context.Context, client kubernetes.Interface) string {
	review, err := client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || review.Status.UserInfo.Username == "" {
		return "you"
	}
	return fmt.Sprintf("user %q", review.Status.UserInfo.Username)
}
