package triage

import (
	"fmt"
	"strings"
)

// Every set that grows with the log is capped, so a log of a million distinct names costs what a
// log of a few does. What a set turns away is counted and shown ("and N more"), and a finding whose
// locations were not all kept is never marked resolved: a cap may hide detail, never a failure.
const (
	// maxTracked bounds the location names kept per finding, the locations seen to validate, and
	// the distinct affected objects counted for "and N more".
	maxTracked = 256
	// maxSources bounds the sources named in the report (pods, files, BSL statuses).
	maxSources = 20
)

// cappedMap is a map that stops growing at limit entries; dropped counts the updates of keys it
// turned away once full.
type cappedMap[V any] struct {
	m       map[string]V
	limit   int
	dropped int
}

func newCappedMap[V any](limit int) cappedMap[V] {
	return cappedMap[V]{m: map[string]V{}, limit: limit}
}

// set stores v under k unless the map is full and k is new; it tells whether v was stored.
func (c *cappedMap[V]) set(k string, v V) bool {
	if _, ok := c.m[k]; !ok && len(c.m) >= c.limit {
		c.dropped++
		return false
	}
	c.m[k] = v
	return true
}

func (c *cappedMap[V]) get(k string) (V, bool) {
	v, ok := c.m[k]
	return v, ok
}

func (c *cappedMap[V]) has(k string) bool {
	_, ok := c.m[k]
	return ok
}

func (c *cappedMap[V]) len() int { return len(c.m) }

// complete tells whether every key offered was kept.
func (c *cappedMap[V]) complete() bool { return c.dropped == 0 }

// shortList keeps the first few distinct items of a list shown to the user and counts the others:
// items() returns at most limit entries, the last of them "and N more" once there are more.
type shortList struct {
	limit int
	shown []listItem
	// seen holds the key of every distinct item, shown or not, up to maxTracked.
	seen cappedMap[struct{}]
}

type listItem struct{ key, text string }

func newShortList(limit int) shortList {
	return shortList{limit: limit, seen: newCappedMap[struct{}](maxTracked)}
}

// add offers an item identified by key; an item already shown under the same key is replaced
// when the new text is fuller (more path segments: "bsl/ns/name" over "bsl/name"). It tells
// whether items() changed.
func (l *shortList) add(key, text string) bool {
	if l.seen.has(key) {
		for i, x := range l.shown {
			if x.key == key && strings.Count(text, "/") > strings.Count(x.text, "/") {
				l.shown[i].text = text
				return true
			}
		}
		return false
	}
	if !l.seen.set(key, struct{}{}) {
		return l.seen.dropped == 1
	}
	if len(l.shown) < l.limit {
		l.shown = append(l.shown, listItem{key: key, text: text})
	}
	return true
}

// items is the list to show: every item when they fit, else the first limit-1 and "and N more"
// ("and at least N more" once even the count was capped).
func (l *shortList) items() []string {
	n := len(l.shown)
	total := l.seen.len()
	if total > l.limit || !l.seen.complete() {
		n = l.limit - 1
	}
	out := make([]string, 0, l.limit)
	for _, x := range l.shown[:n] {
		out = append(out, x.text)
	}
	switch {
	case !l.seen.complete():
		out = append(out, fmt.Sprintf("and at least %d more", total-n+1))
	case total > l.limit:
		out = append(out, fmt.Sprintf("and %d more", total-n))
	}
	return out
}

// affectedKey identifies an affected object: a BSL by its name with or without its namespace.
func affectedKey(item string) string {
	if rest, ok := strings.CutPrefix(item, "bsl/"); ok {
		return "bsl/" + bslName(rest)
	}
	return item
}
