// Package helmvalues renders chart values two ways a Helm user applies them: a values file for
// `helm upgrade -f`, and the equivalent `helm upgrade --reuse-values --set-string` line. It knows
// Helm's --set syntax, not any product.
package helmvalues

import (
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/shellquote"
)

// Setting is one string entry of a map value in a chart, such as the key
// azure.workload.identity/client-id of serviceAccount.server.annotations.
type Setting struct {
	// Map is the dotted path of the map value in the chart's values (its segments hold no dots).
	Map string
	// Key is the entry's key; it may hold dots, slashes or anything a label or annotation key holds.
	Key   string
	Value string
}

// Release names where the values go.
type Release struct {
	Name      string `json:"release"`
	Chart     string `json:"chart"`
	Namespace string `json:"namespace"`
}

// Upgrade is the values and the helm command that applies them, as `-o json|yaml` prints it.
type Upgrade struct {
	Release
	// Values is the values file as a nested document.
	Values map[string]any `json:"values"`
	// Command is the helm upgrade line, shell-quoted.
	Command string `json:"command"`
}

// Render builds the values document and the helm line for settings applied to rel.
func Render(rel Release, settings []Setting) (*Upgrade, error) {
	values, err := Nest(settings)
	if err != nil {
		return nil, err
	}
	return &Upgrade{Release: rel, Values: values, Command: Command(rel, settings)}, nil
}

// Nest turns settings into the nested document a values file holds.
func Nest(settings []Setting) (map[string]any, error) {
	root := map[string]any{}
	for _, s := range settings {
		if s.Map == "" || s.Key == "" {
			return nil, fmt.Errorf("chart value %q key %q: the map path and the key must not be empty", s.Map, s.Key)
		}
		node := root
		for _, seg := range strings.Split(s.Map, ".") {
			if seg == "" {
				return nil, fmt.Errorf("chart value path %q has an empty segment", s.Map)
			}
			switch child := node[seg].(type) {
			case nil:
				next := map[string]any{}
				node[seg], node = next, next
			case map[string]any:
				node = child
			default:
				return nil, fmt.Errorf("chart value path %q crosses the string value %q", s.Map, seg)
			}
		}
		if _, isMap := node[s.Key].(map[string]any); isMap {
			return nil, fmt.Errorf("chart value %s.%s is both a map and a string", s.Map, s.Key)
		}
		node[s.Key] = s.Value
	}
	return root, nil
}

// YAML renders the values file (keys sorted; strings that read as another type are quoted).
func YAML(values map[string]any) ([]byte, error) {
	return yaml.Marshal(values)
}

// Command is `helm upgrade RELEASE CHART -n NS --reuse-values --set-string ...`, every argument
// shell-quoted, so that it pastes as printed.
func Command(rel Release, settings []Setting) string {
	args := []string{"helm", "upgrade", rel.Name, rel.Chart, "-n", rel.Namespace, "--reuse-values"}
	for _, s := range settings {
		args = append(args, "--set-string", SetString(s))
	}
	for i, a := range args {
		args[i] = shellquote.Quote(a)
	}
	return strings.Join(args, " ")
}

// SetString is the --set-string argument for s: MAP.KEY=VALUE with the key and value escaped
// for Helm's parser (strvals), so that a key like azure.workload.identity/client-id stays one key.
func SetString(s Setting) string {
	return s.Map + "." + escape(s.Key, `\.=[,`) + "=" + escapeValue(s.Value)
}

// escape puts a backslash before each character of special.
func escape(s, special string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(special, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// escapeValue escapes the value separator, and a leading { that would start a list.
func escapeValue(v string) string {
	e := escape(v, `\,`)
	if strings.HasPrefix(e, "{") {
		e = `\` + e
	}
	return e
}
