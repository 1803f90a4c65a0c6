package helmvalues

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

const guid = "c0ffee00-aaaa-4bbb-8ccc-000000000001"

func spaces(clientID string) []Setting {
	return []Setting{
		{Map: "controlPlanes.mxpController.serviceAccount.annotations", Key: "azure.workload.identity/client-id", Value: clientID},
		{Map: "controlPlanes.mxpController.pod.customLabels", Key: "azure.workload.identity/use", Value: "true"},
	}
}

func TestNestAndYAML(t *testing.T) {
	values, err := Nest(spaces(guid))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"controlPlanes": map[string]any{"mxpController": map[string]any{
		"serviceAccount": map[string]any{"annotations": map[string]any{"azure.workload.identity/client-id": guid}},
		"pod":            map[string]any{"customLabels": map[string]any{"azure.workload.identity/use": "true"}},
	}}}
	if !reflect.DeepEqual(values, want) {
		t.Fatalf("Nest = %#v\nwant %#v", values, want)
	}
	data, err := YAML(values)
	if err != nil {
		t.Fatal(err)
	}
	// The label value must stay the string "true": a chart would otherwise render a boolean label.
	if !strings.Contains(string(data), `azure.workload.identity/use: "true"`) {
		t.Errorf("the label value is not quoted:\n%s", data)
	}
	var back map[string]any
	if err := yaml.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("the values file does not read back (%v):\n%s", err, data)
	}
}

func TestNestRefusesClashes(t *testing.T) {
	for name, settings := range map[string][]Setting{
		"empty key":         {{Map: "a", Key: "", Value: "x"}},
		"empty segment":     {{Map: "a..b", Key: "k", Value: "x"}},
		"path through leaf": {{Map: "a", Key: "b", Value: "x"}, {Map: "a.b", Key: "k", Value: "y"}},
		"leaf over map":     {{Map: "a.b", Key: "k", Value: "y"}, {Map: "a", Key: "b", Value: "x"}},
	} {
		if _, err := Nest(settings); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSetStringEscapesForHelm(t *testing.T) {
	tests := []struct {
		setting Setting
		want    string
	}{
		{Setting{Map: "serviceAccount.server.annotations", Key: "azure.workload.identity/client-id", Value: guid},
			`serviceAccount.server.annotations.azure\.workload\.identity/client-id=` + guid},
		{Setting{Map: "podLabels", Key: "azure.workload.identity/use", Value: "true"}, `podLabels.azure\.workload\.identity/use=true`},
		{Setting{Map: "m", Key: `a=b[0],c\d`, Value: `x,y\z`}, `m.a\=b\[0]\,c\\d=x\,y\\z`},
		{Setting{Map: "m", Key: "k", Value: "{a,b}"}, `m.k=\{a\,b}`},
	}
	for _, tc := range tests {
		if got := SetString(tc.setting); got != tc.want {
			t.Errorf("SetString(%+v) = %s, want %s", tc.setting, got, tc.want)
		}
		path, key, value, err := parseSetString(SetString(tc.setting))
		if err != nil || path != tc.setting.Map || key != tc.setting.Key || value != tc.setting.Value {
			t.Errorf("Helm would read %s as %q %q %q (%v)", SetString(tc.setting), path, key, value, err)
		}
	}
}

func TestCommandIsShellQuoted(t *testing.T) {
	rel := Release{Name: "spaces", Chart: "oci://xpkg.upbound.io/spaces-artifacts/spaces", Namespace: "upbound-system"}
	got := Command(rel, spaces(guid))
	want := `helm upgrade spaces oci://xpkg.upbound.io/spaces-artifacts/spaces -n upbound-system --reuse-values ` +
		`--set-string 'controlPlanes.mxpController.serviceAccount.annotations.azure\.workload\.identity/client-id=` + guid + `' ` +
		`--set-string 'controlPlanes.mxpController.pod.customLabels.azure\.workload\.identity/use=true'`
	if got != want {
		t.Errorf("Command =\n%s\nwant\n%s", got, want)
	}
	hostile := Command(Release{Name: "r;rm -rf /", Chart: "c", Namespace: "$(id)"}, []Setting{{Map: "m", Key: "k", Value: "it's"}})
	for _, want := range []string{`'r;rm -rf /'`, `'$(id)'`, `'m.k=it'\''s'`} {
		if !strings.Contains(hostile, want) {
			t.Errorf("%s lacks %s", hostile, want)
		}
	}
}

func TestRender(t *testing.T) {
	rel := Release{Name: "velero", Chart: "vmware-tanzu/velero", Namespace: "velero"}
	up, err := Render(rel, []Setting{{Map: "podLabels", Key: "azure.workload.identity/use", Value: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	if up.Release != rel || up.Values["podLabels"] == nil || !strings.HasPrefix(up.Command, "helm upgrade velero vmware-tanzu/velero -n velero --reuse-values ") {
		t.Errorf("Render = %+v", up)
	}
	if _, err := Render(rel, []Setting{{Map: "", Key: "k"}}); err == nil {
		t.Error("an empty map path was accepted")
	}
}

func FuzzSetStringRoundTrip(f *testing.F) {
	f.Add("azure.workload.identity/client-id", guid)
	f.Add(`a=b[0],c\d`, `{x,y\`)
	f.Fuzz(func(t *testing.T, key, value string) {
		if key == "" || !utf8.ValidString(key) || !utf8.ValidString(value) {
			return
		}
		s := Setting{Map: "a.b", Key: key, Value: value}
		path, k, v, err := parseSetString(SetString(s))
		if err != nil || path != s.Map || k != key || v != value {
			t.Fatalf("%q read back as %q %q %q (%v)", SetString(s), path, k, v, err)
		}
	})
}

// parseSetString reads one --set-string argument as Helm's strvals parser does: a backslash takes
// the next character literally; a key segment ends at an unescaped . or = (an unescaped [ or ,
// would mean an index or a missing value); the value ends at an unescaped , and may not start
// with an unescaped { (a list). It returns the map path, the last key and the value.
func parseSetString(arg string) (path, key, value string, err error) {
	rs := []rune(arg)
	var segs []string
	var cur []rune
	i := 0
	for ; ; i++ {
		if i == len(rs) {
			return "", "", "", errors.New("no =")
		}
		r := rs[i]
		switch r {
		case '\\':
			i++
			if i == len(rs) {
				return "", "", "", errors.New("trailing backslash")
			}
			cur = append(cur, rs[i])
			continue
		case '[', ',':
			return "", "", "", errors.New("unescaped " + string(r) + " in a key")
		case '.', '=':
			segs = append(segs, string(cur))
			cur = nil
		default:
			cur = append(cur, r)
			continue
		}
		if r == '=' {
			break
		}
	}
	i++
	if i < len(rs) && rs[i] == '{' {
		return "", "", "", errors.New("the value starts a list")
	}
	var val []rune
	for ; i < len(rs); i++ {
		switch rs[i] {
		case '\\':
			i++
			if i == len(rs) {
				return "", "", "", errors.New("trailing backslash")
			}
			val = append(val, rs[i])
		case ',':
			return "", "", "", errors.New("unescaped , in the value")
		default:
			val = append(val, rs[i])
		}
	}
	return strings.Join(segs[:len(segs)-1], "."), segs[len(segs)-1], string(val), nil
}
