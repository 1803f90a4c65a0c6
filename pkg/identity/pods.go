package identity

import (
	"path"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// PodInjection is what the webhook injected into one pod, read from the pod spec.
type PodInjection struct {
	Name    string `json:"name"`
	Created string `json:"created"`
	Ready   bool   `json:"ready"`
	// Labelled reports whether the pod itself carries azure.workload.identity/use: "true".
	Labelled bool `json:"labelled"`
	Injected bool `json:"injected"`
	// Container is the container the verdict is about: the storage container, or the first one lacking.
	Container     string   `json:"container,omitempty"`
	ClientID      string   `json:"clientId,omitempty"`
	TenantID      string   `json:"tenantId,omitempty"`
	TokenFile     string   `json:"tokenFile,omitempty"`
	AuthorityHost string   `json:"authorityHost,omitempty"`
	Audience      string   `json:"audience,omitempty"`
	Missing       []string `json:"missing,omitempty"`
	// Untouched means the webhook did not act on the pod at all (no variable, no token volume).
	Untouched bool `json:"-"`
}

// inspectPod checks every container the webhook should have mutated. The storage container is reported
// when it is fine; otherwise the first container with something missing.
func inspectPod(pod *corev1.Pod, storageContainer string) PodInjection {
	result := PodInjection{
		Name:     pod.Name,
		Created:  pod.CreationTimestamp.UTC().Format("2006-01-02T15:04:05Z"),
		Ready:    podReady(pod),
		Labelled: pod.Labels[LabelUse] == "true",
	}
	skip := skippedContainers(pod.Annotations)
	containers := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	// Storage container first, so a healthy verdict shows the values that matter.
	sort.SliceStable(containers, func(i, j int) bool {
		return containers[i].Name == storageContainer && containers[j].Name != storageContainer
	})
	untouched := true
	var firstBad *PodInjection
	var good *PodInjection
	for _, c := range containers {
		if skip[c.Name] {
			continue
		}
		got := inspectContainer(pod, &c)
		if len(got.Missing) < len(InjectedEnv)+1 {
			untouched = false
		}
		if len(got.Missing) > 0 && firstBad == nil {
			firstBad = &got
		}
		if len(got.Missing) == 0 && good == nil {
			good = &got
		}
	}
	pick := good
	if firstBad != nil {
		pick = firstBad
	}
	if pick != nil {
		result.Container, result.ClientID, result.TenantID = pick.Container, pick.ClientID, pick.TenantID
		result.TokenFile, result.AuthorityHost, result.Audience = pick.TokenFile, pick.AuthorityHost, pick.Audience
		result.Missing = pick.Missing
	}
	result.Injected = pick != nil && firstBad == nil
	result.Untouched = untouched
	return result
}

func inspectContainer(pod *corev1.Pod, c *corev1.Container) PodInjection {
	got := PodInjection{Container: c.Name}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
		if e.ValueFrom != nil && e.Value == "" {
			env[e.Name] = "(from " + e.Name + " reference)"
		}
	}
	for _, name := range InjectedEnv {
		if _, ok := env[name]; !ok {
			got.Missing = append(got.Missing, "env "+name)
		}
	}
	got.ClientID, got.TenantID, got.TokenFile, got.AuthorityHost = env[EnvClientID], env[EnvTenantID], env[EnvTokenFile], env[EnvAuthorityHost]
	tokenFile := got.TokenFile
	if tokenFile == "" {
		tokenFile = TokenPaths[0]
	}
	audience, ok := projectedTokenAudience(pod, c, tokenFile)
	got.Audience = audience
	switch {
	case !ok:
		got.Missing = append(got.Missing, "projected token volume at "+tokenFile)
	case audience != TokenAudience:
		got.Missing = append(got.Missing, "token audience "+TokenAudience+" (has "+audience+")")
	}
	return got
}

// projectedTokenAudience finds the projected service-account token that backs tokenFile in container c
// and returns its audience. Any mount path is accepted as long as a token really sits behind it, which
// covers both paths the webhook has used.
func projectedTokenAudience(pod *corev1.Pod, c *corev1.Container, tokenFile string) (string, bool) {
	dir, file := path.Split(tokenFile)
	dir = path.Clean(dir)
	for _, m := range c.VolumeMounts {
		if path.Clean(m.MountPath) != dir {
			continue
		}
		for _, v := range pod.Spec.Volumes {
			if v.Name != m.Name || v.Projected == nil {
				continue
			}
			for _, src := range v.Projected.Sources {
				if t := src.ServiceAccountToken; t != nil && t.Path == file {
					return t.Audience, true
				}
			}
		}
	}
	return "", false
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
