package probe

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// veleroSource reads a file of the velero module this repository requires, from the module cache:
// importing velero's persistence package would pull its plugin framework into go.mod.
func veleroSource(t *testing.T, rel string) (*token.FileSet, *ast.File) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/vmware-tanzu/velero").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("the velero module is not in the module cache (go mod download github.com/vmware-tanzu/velero): %v", err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(dir, rel), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fset, f
}

func funcDecl(f *ast.File, name string) *ast.FuncDecl {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == name {
			return fd
		}
	}
	return nil
}

// TestVeleroTopLevelDirsMatchVelero reads the subdirs map of velero's NewObjectStoreLayout, the
// list its IsValid accepts.
func TestVeleroTopLevelDirsMatchVelero(t *testing.T) {
	_, f := veleroSource(t, "pkg/persistence/object_store_layout.go")
	fd := funcDecl(f, "NewObjectStoreLayout")
	if fd == nil {
		t.Fatal("velero's persistence package has no NewObjectStoreLayout: update the probe's layout rule")
	}
	var dirs []string
	ast.Inspect(fd, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		if _, isMap := lit.Type.(*ast.MapType); !isMap {
			return true
		}
		for _, e := range lit.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				if b, ok := kv.Key.(*ast.BasicLit); ok && b.Kind == token.STRING {
					s, _ := strconv.Unquote(b.Value)
					dirs = append(dirs, s)
				}
			}
		}
		return false
	})
	slices.Sort(dirs)
	want := slices.Clone(VeleroTopLevelDirs)
	slices.Sort(want)
	if !slices.Equal(dirs, want) {
		t.Fatalf("velero's layout owns %v, the probe assumes %v", dirs, want)
	}
}

// TestIsValidListsWithTheDelimiter checks that velero's IsValid still lists the common prefixes of the
// root prefix with "/": only a "/" in the probe's name could then create a directory.
func TestIsValidListsWithTheDelimiter(t *testing.T) {
	_, f := veleroSource(t, "pkg/persistence/object_store.go")
	var found bool
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != "IsValid" || fd.Recv == nil {
			continue
		}
		ast.Inspect(fd, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "ListCommonPrefixes" && len(call.Args) == 3 {
				if b, ok := call.Args[2].(*ast.BasicLit); ok && b.Value == `"/"` {
					if arg, ok := call.Args[1].(*ast.SelectorExpr); ok && arg.Sel.Name == "rootPrefix" {
						found = true
					}
				}
			}
			return true
		})
	}
	if !found {
		t.Fatal(`velero's IsValid no longer calls ListCommonPrefixes(bucket, layout.rootPrefix, "/"): recheck the probe's blob name rule`)
	}
}

// TestProbeBlobNeverMakesADirectory runs Velero's rule over a bucket that holds Velero's directories
// and the probe blob, for prefixes as users write them.
func TestProbeBlobNeverMakesADirectory(t *testing.T) {
	for _, prefix := range []string{"", "cluster-a", "cluster-a/", "a/b", "a/b/"} {
		root := RootPrefix(prefix)
		name := BlobName(prefix, NewRunID(fixedNow))
		if !strings.HasPrefix(name, root) || strings.Contains(strings.TrimPrefix(name, root), "/") {
			t.Errorf("prefix %q: blob %q is not flat under %q", prefix, name, root)
		}
		keys := []string{root + "backups/b1/velero-backup.json", root + "kopia/default/x", name}
		if bad := InvalidTopLevelDirs(prefix, commonPrefixes(keys, root)); len(bad) > 0 {
			t.Errorf("prefix %q: Velero would find invalid directories %v", prefix, bad)
		}
		// The rule must be able to fail: a probe directory would break the BSL.
		if bad := InvalidTopLevelDirs(prefix, commonPrefixes(append(keys, root+"aksbackup-probe/x"), root)); len(bad) != 1 {
			t.Errorf("prefix %q: a probe directory went unnoticed", prefix)
		}
	}
}

// commonPrefixes lists keys as a "/"-delimited listing under prefix does.
func commonPrefixes(keys []string, prefix string) []string {
	var out []string
	for _, k := range keys {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		if i := strings.Index(rest, "/"); i >= 0 && !slices.Contains(out, prefix+rest[:i+1]) {
			out = append(out, prefix+rest[:i+1])
		}
	}
	return out
}

var fixedNow = time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)

func TestRunIDCarriesItsTime(t *testing.T) {
	id := NewRunID(fixedNow)
	got, ok := RunIDTime(id)
	if !ok || !got.Equal(fixedNow) {
		t.Fatalf("RunIDTime(%q) = %v, %v", id, got, ok)
	}
	if _, ok := RunIDTime("not-a-run"); ok {
		t.Error("a name that is not a run ID parsed")
	}
}
