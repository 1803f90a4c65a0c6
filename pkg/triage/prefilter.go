package triage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
)

// The prefilter finds the few lines worth parsing: those holding one of the catalog's anchors
// (literal strings every signature needs). Almost all lines of a real Velero log hold none, so
// triage speed is the prefilter's speed.
//
// Long anchors use a sampled 8-byte fingerprint filter (the idea behind Wu-Manber and Hyperscan's
// FDR): every anchor of at least minLongAnchor bytes contains an 8-byte window that starts at a
// multiple of the stride, so the filter reads one 8-byte word every stride bytes instead of
// looking at every byte for every anchor. Short anchors use bytes.Index, which is vectorised.
// No maintained Go library offers a multi-literal search this fast, which is why it lives here.

const (
	gram          = 8
	minLongAnchor = 12
	stride        = minLongAnchor - gram + 1
	filterBits    = 16
)

type anchorRef struct {
	anchor int // index into prefilter.long
	offset int // where this window starts inside the anchor
}

type prefilter struct {
	long    [][]byte
	short   [][]byte
	bits    [1 << filterBits / 64]uint64
	buckets map[uint32][]anchorRef
}

func fingerprint(word uint64) uint32 {
	return uint32((word * 0x9E3779B97F4A7C15) >> (64 - filterBits))
}

func newPrefilter(anchors []string) (*prefilter, error) {
	p := &prefilter{buckets: map[uint32][]anchorRef{}}
	seen := map[string]bool{}
	sorted := append([]string(nil), anchors...)
	sort.Strings(sorted)
	for _, a := range sorted {
		if seen[a] {
			continue
		}
		seen[a] = true
		switch {
		case len(a) >= minLongAnchor:
			idx := len(p.long)
			p.long = append(p.long, []byte(a))
			for off := 0; off+gram <= len(a); off++ {
				h := fingerprint(binary.LittleEndian.Uint64([]byte(a[off : off+gram])))
				p.bits[h/64] |= 1 << (h % 64)
				p.buckets[h] = append(p.buckets[h], anchorRef{anchor: idx, offset: off})
			}
		case len(a) >= 6:
			p.short = append(p.short, []byte(a))
		default:
			return nil, fmt.Errorf("anchor %q is too short to search for cheaply (at least 6 bytes)", a)
		}
	}
	return p, nil
}

// candidates calls hit with the start offset of every line in block that holds an anchor, each
// line once, in increasing order. block holds whole lines.
func (p *prefilter) candidates(block []byte, hit func(lineStart int)) {
	var starts []int
	mark := func(pos int) {
		starts = append(starts, bytes.LastIndexByte(block[:pos], '\n')+1)
	}
	n := len(block)
	// nextLine skips the rest of a line once it is known to be a candidate.
	for pos := 0; pos+gram <= n; pos += stride {
		h := fingerprint(binary.LittleEndian.Uint64(block[pos:]))
		if p.bits[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		for _, ref := range p.buckets[h] {
			start := pos - ref.offset
			a := p.long[ref.anchor]
			if start >= 0 && start+len(a) <= n && bytes.Equal(block[start:start+len(a)], a) {
				mark(start)
				// Continue after this line: one hit per line is enough.
				if nl := bytes.IndexByte(block[pos:], '\n'); nl >= 0 {
					pos += nl + 1 - stride
				} else {
					pos = n
				}
				break
			}
		}
	}
	for _, a := range p.short {
		for off := 0; off < n; {
			i := bytes.Index(block[off:], a)
			if i < 0 {
				break
			}
			mark(off + i)
			nl := bytes.IndexByte(block[off+i:], '\n')
			if nl < 0 {
				break
			}
			off += i + nl + 1
		}
	}
	if len(p.short) > 0 {
		sort.Ints(starts)
	}
	last := -1
	for _, s := range starts {
		if s != last {
			hit(s)
			last = s
		}
	}
}

func (p *prefilter) longStrings() []string  { return toStrings(p.long) }
func (p *prefilter) shortStrings() []string { return toStrings(p.short) }

func toStrings(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}
