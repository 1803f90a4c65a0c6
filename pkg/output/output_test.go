package output

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": Table, "table": Table, "JSON": JSON, "yaml": YAML} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("wide"); err == nil || !strings.Contains(err.Error(), "-o wide is not available") {
		t.Errorf("wide: %v", err)
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "table|json|yaml") {
		t.Errorf("xml: %v", err)
	}
}

func TestWrite(t *testing.T) {
	doc := struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	}{"a", "https://x/?a=1&b=<2>"}
	var b bytes.Buffer
	if err := Write(&b, JSON, doc); err != nil || !strings.Contains(b.String(), `"url": "https://x/?a=1&b=<2>"`) {
		t.Fatalf("json %q %v", b.String(), err)
	}
	b.Reset()
	if err := Write(&b, YAML, doc); err != nil || b.String() != "name: a\nurl: https://x/?a=1&b=<2>\n" {
		t.Fatalf("yaml %q %v", b.String(), err)
	}
	if err := Write(&b, Table, doc); err == nil {
		t.Fatal("table is not a structured format")
	}
	if IsTerminal(&b) {
		t.Fatal("a buffer is not a terminal")
	}
}
