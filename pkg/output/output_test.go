package output

import (
	"bytes"
	"strings"
	"testing"
)

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
