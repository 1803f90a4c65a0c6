// Package triage reads Velero and AKS Backup extension logs (logrus text, JSON lines, klog, or free
// text such as kubectl describe output and Azure SDK error blocks) and names the root cause of a
// failing backup setup from a catalog of known signatures, with the fix filled in from the values
// the log shows. It streams: memory stays bounded whatever the log's size.
package triage

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/shellquote"
)

const (
	blockSize = 1 << 20
	// maxRecordLines and maxRecordBytes bound a free-text entry and its continuation lines.
	maxRecordLines = 64
	maxRecordBytes = 64 << 10
	maxEvidence    = 3
	maxEvidenceLen = 600
	maxAffected    = 5
)

// Context holds values known from outside the log (the profile's namespace, the BSL's config);
// they fill remediation placeholders the log does not.
type Context map[string]string

// Analyzer accumulates findings over one or more logs.
type Analyzer struct {
	// namespaceChosen: the namespace was given to NewAnalyzer (the user's choice, or where the logs
	// were read), so fixes name it even when the log names another; a namespace added later by
	// SetContextDefaults only fills in where the log names none.
	namespaceChosen bool
	context         Context
	now             time.Time
	groups          map[string]*group
	sequence        int
	linesRead       int64
	// sources is what Report names, kept in step with sourceList.
	sources    []string
	sourceList shortList
	// recovered holds, per BSL name, its last successful validation.
	recovered cappedMap[occurrence]
	// locations holds every BSL name the log mentions, in errors and successes alike.
	locations cappedMap[struct{}]
}

type group struct {
	sig         *Signature
	count       int
	first, last time.Time
	firstSeq    int
	lastSeq     int
	samples     []evidenceSample
	latest      *evidenceSample
	// affected is what Report shows, kept in step with affectedList.
	affected     []string
	affectedList shortList
	values       map[string]string
	// bslNames are the locations the finding concerns; firstBSL is the first of them in the log.
	bslNames      cappedMap[struct{}]
	firstBSL      string
	anyWithoutBSL bool
}

// NewAnalyzer starts an analysis. ctx may be nil.
func NewAnalyzer(ctx Context) *Analyzer {
	if ctx == nil {
		ctx = Context{}
	}
	return &Analyzer{context: ctx, namespaceChosen: ctx["namespace"] != "", now: time.Now(), groups: map[string]*group{},
		sourceList: newShortList(maxSources), recovered: newCappedMap[occurrence](maxTracked), locations: newCappedMap[struct{}](maxTracked)}
}

var (
	matcher     *prefilter
	signatureOf = map[string]*Signature{}
)

func init() {
	var anchors []string
	for i := range Catalog {
		s := &Catalog[i]
		signatureOf[s.Def.ID] = s
		anchors = append(anchors, s.Anchors...)
		for _, a := range s.Anchors {
			s.anchorBytes = append(s.anchorBytes, []byte(a))
		}
		for _, r := range s.Requires {
			s.requireBytes = append(s.requireBytes, []byte(r))
		}
	}
	anchors = append(anchors, successAnchors...)
	var err error
	if matcher, err = newPrefilter(anchors); err != nil {
		panic(err)
	}
}

// Scan reads a whole log and adds what it finds. source names it in the report ("file
// velero.log", "pod ns/name container velero"). The log may be plain text, UTF-8 or UTF-16 with a
// byte order mark, gzip (several members too) or bzip2; see openInput for what is refused.
// A *FormatError means nothing of the log was read; a *ReadError that reading stopped part-way,
// after what came before was analysed.
func (a *Analyzer) Scan(r io.Reader, source string) error {
	a.addSource(source)
	in, err := openInput(r, source)
	if err != nil {
		return err
	}
	before := a.linesRead
	if err := a.scanPlain(in); err != nil {
		return &ReadError{Source: source, Lines: a.linesRead - before, Err: err}
	}
	return nil
}

// LinesRead is how many lines were read so far.
func (a *Analyzer) LinesRead() int64 { return a.linesRead }

// addSource names a source in the report, once, and at most maxSources of them.
func (a *Analyzer) addSource(source string) {
	if a.sourceList.add(source, source) {
		a.sources = a.sourceList.items()
	}
}

// scanPlain reads decoded text in blocks of whole lines. A read error ends it after the block
// read so far is analysed, so a truncated stream still yields what it holds.
func (a *Analyzer) scanPlain(r io.Reader) error {
	buf := make([]byte, blockSize)
	filled := 0
	skippingLongLine := false
	for {
		n, err := fill(r, buf[filled:])
		filled += n
		done := err != nil // io.EOF, or a failure that ends the input just the same
		if filled == 0 {
			return readFailure(err)
		}
		end := bytes.LastIndexByte(buf[:filled], '\n') + 1
		switch {
		case done:
			end = filled
		case end == 0:
			// One line longer than the buffer: judge its first megabyte and drop the rest, so a
			// pathological line cannot make memory grow.
			end = filled
		}
		block := buf[:end]
		if skippingLongLine {
			nl := bytes.IndexByte(block, '\n')
			if nl < 0 {
				filled = 0
				if done {
					return readFailure(err)
				}
				continue
			}
			block = block[nl+1:]
			skippingLongLine = false
		}
		a.linesRead += int64(bytes.Count(block, []byte{'\n'}))
		if done && len(block) > 0 && block[len(block)-1] != '\n' {
			a.linesRead++
		}
		a.scanBlock(block)
		if done {
			return readFailure(err)
		}
		if end == filled && buf[filled-1] != '\n' {
			skippingLongLine = true
			a.linesRead++
		}
		filled = copy(buf, buf[end:filled])
	}
}

// fill reads until buf is full or the reader fails; unlike io.ReadFull it passes the reader's own
// error through, so a stream cut short (io.ErrUnexpectedEOF from gzip) is not taken for its end.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func readFailure(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

func (a *Analyzer) scanBlock(block []byte) {
	lastRecordEnd := -1
	matcher.candidates(block, func(lineStart int) {
		if lineStart < lastRecordEnd {
			return // inside the entry just handled
		}
		start, end := recordBounds(block, lineStart)
		lastRecordEnd = end
		a.addRecord(window(block[start:end]))
	})
}

// window keeps an entry's matching cost bounded: a longer one is cut to maxRecordBytes around
// its first anchor.
func window(rec []byte) []byte {
	if len(rec) <= maxRecordBytes {
		return rec
	}
	first := len(rec)
	for _, a := range matcher.long {
		if i := bytes.Index(rec, a); i >= 0 && i < first {
			first = i
		}
	}
	for _, a := range matcher.short {
		if i := bytes.Index(rec, a); i >= 0 && i < first {
			first = i
		}
	}
	from := max(0, min(first-maxRecordBytes/2, len(rec)-maxRecordBytes))
	return rec[from : from+maxRecordBytes]
}

// recordBounds widens a line to its entry: back over continuation lines to the line they belong
// to, and forward over the continuation lines below it.
func recordBounds(block []byte, lineStart int) (int, int) {
	start := lineStart
	for i := 0; i < maxRecordLines && isContinuation(lineAt(block, start)) && start > 0; i++ {
		prev := bytes.LastIndexByte(block[:start-1], '\n') + 1
		if lineStart-prev > maxRecordBytes {
			break
		}
		start = prev
	}
	end := lineEnd(block, lineStart)
	for i := 0; i < maxRecordLines && end < len(block) && end-start < maxRecordBytes && isContinuation(lineAt(block, end)); i++ {
		end = lineEnd(block, end)
	}
	return start, end
}

// lineAt is the line starting at start, without its newline.
func lineAt(block []byte, start int) []byte {
	return bytes.TrimSuffix(block[start:lineEnd(block, start)], []byte{'\n'})
}

func lineEnd(block []byte, start int) int {
	if nl := bytes.IndexByte(block[start:], '\n'); nl >= 0 {
		return start + nl + 1
	}
	return len(block)
}

// AddText analyses one entry that did not come from a log, such as a BSL's status message.
func (a *Analyzer) AddText(text, source string) {
	a.addSource(source)
	a.linesRead += int64(strings.Count(text, "\n") + 1)
	a.addRecord([]byte(text))
}

type match struct {
	sig    *Signature
	values map[string]string
	at     int
}

// addRecord matches one entry against the catalog. Most prefilter hits are ordinary lines that
// share a word with an anchor; checking the anchors on the raw bytes first spares them the parse.
func (a *Analyzer) addRecord(raw []byte) {
	a.sequence++
	if bytes.Contains(raw, successLiteral) {
		a.noteSuccesses(raw)
	}
	var candidates []*Signature
	for i := range Catalog {
		if s := &Catalog[i]; containsAnyBytes(raw, s.anchorBytes) && (s.requireBytes == nil || containsAnyBytes(raw, s.requireBytes)) {
			candidates = append(candidates, s)
		}
	}
	if len(candidates) == 0 {
		return
	}
	r := parseRecord(raw, a.now)
	if r.text == "" {
		return
	}
	var matches []match
	for _, s := range candidates {
		for _, re := range s.Patterns {
			if loc := re.FindStringSubmatchIndex(r.text); loc != nil {
				matches = append(matches, match{sig: s, values: captures(re, r.text, loc), at: loc[0]})
				break
			}
		}
	}
	if len(matches) == 0 {
		return
	}
	overridden := map[string]bool{}
	for _, m := range matches {
		for _, id := range m.sig.Overrides {
			overridden[id] = true
		}
	}
	var common map[string]string
	for _, m := range matches {
		if overridden[m.sig.Def.ID] {
			continue
		}
		if common == nil && a.needsValues(m.sig) {
			common = extractValues(r.text)
		}
		a.add(m, r, common)
	}
}

var successLiteral = []byte(successAnchors[0])

// noteSuccesses records each line of an entry that says a location validated, for that line's own
// location and at that line's time. The entry still goes through the catalog afterwards: a success
// never hides an error that shares its entry, and it resolves only errors seen before it (an error
// of the same entry shares its sequence number, so it does not count as before).
func (a *Analyzer) noteSuccesses(raw []byte) {
	for rest := raw; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if bytes.Contains(line, successLiteral) {
			r := parseRecord(line, a.now)
			a.validated(r.bsl, occurrence{seq: a.sequence, time: r.time})
		}
	}
}

// validated notes a successful validation of a location ("" when the line names none).
func (a *Analyzer) validated(bsl string, at occurrence) {
	name := bslName(bsl)
	if name != "" {
		a.locations.set(name, struct{}{})
	}
	if prev, ok := a.recovered.get(name); !ok || prev.before(at) {
		// A location beyond the cap is not kept: its errors then stay unresolved.
		a.recovered.set(name, at)
	}
}

// occurrence places a line in the analysis: by its time when both lines have one (logs of several
// replicas are read one after the other), else by the order it was read in.
type occurrence struct {
	seq  int
	time time.Time
}

func (o occurrence) seen() bool { return o.seq > 0 }

func (o occurrence) before(other occurrence) bool {
	if !o.time.IsZero() && !other.time.IsZero() && !o.time.Equal(other.time) {
		return o.time.Before(other.time)
	}
	return o.seq < other.seq
}

func containsAnyBytes(b []byte, subs [][]byte) bool {
	for _, sub := range subs {
		if bytes.Contains(b, sub) {
			return true
		}
	}
	return false
}

func captures(re *regexp.Regexp, text string, loc []int) map[string]string {
	values := map[string]string{}
	for i, name := range re.SubexpNames() {
		if name == "" || loc[2*i] < 0 {
			continue
		}
		if values[name] == "" {
			values[name] = text[loc[2*i]:loc[2*i+1]]
		}
	}
	return values
}

var valueExtractors = []*regexp.Regexp{
	regexp.MustCompile(`https://(?P<account>[a-z0-9]{3,24})\.blob\.[\w.-]+/(?P<container>[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])?)\b`),
	regexp.MustCompile(`https://(?P<account>[a-z0-9]{3,24})\.blob\.`),
	regexp.MustCompile(`/subscriptions/(?P<subscription>[0-9a-fA-F-]{36})/resourceGroups/(?P<resourceGroup>[\w.()-]+)`),
	regexp.MustCompile(`login\.[\w.]+/(?P<tenant>[0-9a-fA-F-]{36})/oauth2`),
	regexp.MustCompile(`system:serviceaccount:(?P<saNamespace>[a-z0-9-]+):(?P<serviceAccount>[a-z0-9.-]+)`),
	regexp.MustCompile(`client_id=(?P<clientID>[0-9a-fA-F-]{36})`),
}

func extractValues(text string) map[string]string {
	values := map[string]string{}
	for _, re := range valueExtractors {
		loc := re.FindStringSubmatchIndex(text)
		if loc == nil {
			continue
		}
		for k, v := range captures(re, text, loc) {
			if values[k] == "" {
				values[k] = v
			}
		}
	}
	return values
}

// valueSamples is how many occurrences of a finding feed its values and evidence; the values of
// a repeated error do not change, and the work (regexps, redaction) is then done once per finding.
const valueSamples = 2

func (a *Analyzer) needsValues(s *Signature) bool {
	g := a.groups[s.Def.ID]
	return g == nil || g.count < valueSamples
}

func (a *Analyzer) add(m match, r record, common map[string]string) {
	g := a.groups[m.sig.Def.ID]
	if g == nil {
		g = &group{sig: m.sig, values: map[string]string{}, bslNames: newCappedMap[struct{}](maxTracked),
			affectedList: newShortList(maxAffected), firstSeq: a.sequence}
		a.groups[m.sig.Def.ID] = g
	}
	g.count++
	g.lastSeq = a.sequence
	if !r.time.IsZero() {
		if g.first.IsZero() || r.time.Before(g.first) {
			g.first = r.time
		}
		if r.time.After(g.last) {
			g.last = r.time
		}
	}
	if name := g.noteLocation(r, m.values["bslName"]); name != "" {
		a.locations.set(name, struct{}{})
	}
	// A sample keeps its entry and only the words the match starts with, which is all evidence
	// needs to find the match again: the whole parsed text would double what samples hold.
	sample := evidenceSample{raw: r.raw, text: strings.Clone(r.text[m.at:min(len(r.text), m.at+evidenceNeedle)])}
	if g.count > valueSamples {
		// Evidence keeps the first occurrences and the latest; it is redacted and cut in Report.
		g.latest = &sample
		return
	}
	g.samples = append(g.samples, sample)
	for k, v := range common {
		if g.values[k] == "" {
			g.values[k] = v
		}
	}
	for k, v := range m.values {
		if v != "" {
			g.values[k] = v
		}
	}
	if g.values["namespace"] == "" && strings.Contains(r.bsl, "/") {
		g.values["namespace"] = r.bsl[:strings.IndexByte(r.bsl, '/')]
	}
	if g.values["bsl"] == "" && g.firstBSL != "" {
		g.values["bsl"] = g.firstBSL
	}
}

// noteLocation records the BSL (from the line's field or its text) and the backup a line
// concerns, and returns the BSL's name.
func (g *group) noteLocation(r record, bslFromText string) string {
	bsl := r.bsl
	if bsl == "" {
		bsl = bslFromText
	}
	name := bslName(bsl)
	if name != "" {
		g.bslNames.set(name, struct{}{})
		if g.firstBSL == "" {
			g.firstBSL = name
		}
		g.addAffected("bsl/" + bsl)
	} else {
		g.anyWithoutBSL = true
	}
	if r.backup != "" {
		g.addAffected("backup/" + r.backup)
	}
	return name
}

// addAffected adds an object to the finding's affected list, which keeps "bsl/ns/name" over
// "bsl/name" for the same location and ends in "and N more" past maxAffected.
func (g *group) addAffected(item string) {
	if g.affectedList.add(affectedKey(item), item) {
		g.affected = g.affectedList.items()
	}
}

// evidenceNeedle is how much of the matched text a sample keeps to find the match in its entry.
const evidenceNeedle = 24

type evidenceSample struct {
	raw, text string
	at        int
}

// evidence renders the samples as at most maxEvidence distinct lines.
func (g *group) evidenceLines() []string {
	samples := g.samples
	if g.latest != nil {
		samples = append(samples[:len(samples):len(samples)], *g.latest)
	}
	var out []string
	for _, s := range samples {
		line := evidenceLine(s.raw, s.at, s.text)
		if !contains(out, line) && len(out) < maxEvidence {
			out = append(out, line)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// bslName drops the namespace from "ns/name".
func bslName(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// evidenceLine redacts a log entry and, when long, keeps its start and the part around the match.
func evidenceLine(raw string, at int, text string) string {
	line := strings.ReplaceAll(strings.TrimSpace(raw), "\n", " ⏎ ")
	line = strings.ToValidUTF8(redact.String(line), "\uFFFD")
	if len(line) <= maxEvidenceLen {
		return line
	}
	// Find the matched words in the raw line to centre the excerpt on them.
	needle := text[at:min(len(text), at+24)]
	if i := strings.Index(needle, "\n"); i > 0 {
		needle = needle[:i]
	}
	pos := strings.Index(line, needle)
	head := cutAtSpace(line, 240)
	if pos < 0 || pos < 240 {
		return cutAtSpace(line, maxEvidenceLen) + " …"
	}
	// Start the excerpt at a word boundary shortly before the match.
	from := max(pos-120, len(head))
	if sp := strings.IndexByte(line[from:pos], ' '); sp >= 0 {
		from += sp + 1
	}
	return head + " … " + cutAtSpace(line[from:], 300) + " …"
}

// cutAtSpace cuts s to at most n bytes, at the last space when there is one in the second half.
func cutAtSpace(s string, n int) string {
	cut := cutRunes(s, n)
	if len(cut) == len(s) {
		return cut
	}
	if sp := strings.LastIndexByte(cut, ' '); sp > n/2 {
		return cut[:sp]
	}
	return cut
}

// cutRunes returns at most n bytes of s without splitting a UTF-8 sequence.
func cutRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// Report is the JSON contract of `triage -o json` (documented in the README).
type Report struct {
	Source    string             `json:"source"`
	LinesRead int64              `json:"linesRead"`
	Findings  []findings.Finding `json:"findings"`
}

// Report lists what was found, ranked by findings.Rank like every other command's findings: root
// causes first, symptoms last and linked to their causes. A cause whose location validated again
// later is marked resolved and counts as a warning.
func (a *Analyzer) Report() Report {
	groups := slices.SortedFunc(maps.Values(a.groups), func(x, y *group) int { return x.firstSeq - y.firstSeq })
	list := make([]findings.Finding, 0, len(groups))
	for _, g := range groups {
		f := findings.Finding{
			ID:       g.sig.Def.ID,
			Severity: g.sig.Def.Severity,
			Title:    g.sig.Def.Title,
			Message:  g.sig.Def.Explanation,
			Count:    g.count,
			Evidence: g.evidenceLines(),
			Affected: g.affected,
		}
		if !g.first.IsZero() {
			first, last := g.first.UTC(), g.last.UTC()
			f.FirstSeen, f.LastSeen = &first, &last
		}
		f.Remediation = a.fill(g.sig.Remediation, g.values)
		if a.resolved(g) && f.Severity == findings.SeverityError {
			f.Resolved = true
			f.Severity = findings.SeverityWarning
			f.Message = "Resolved: the location validated successfully after the last occurrence. " + f.Message
		}
		list = append(list, f)
	}
	return Report{Source: strings.Join(a.sources, ", "), LinesRead: a.linesRead, Findings: findings.Rank(list)}
}

// resolved: every location the finding concerns validated successfully after it was last seen.
// A finding whose locations were not all kept (the cap), or one seen without a location name in
// a log about several locations, is never resolved: a success elsewhere proves nothing about it.
func (a *Analyzer) resolved(g *group) bool {
	if !g.bslNames.complete() {
		return false
	}
	names := slices.Sorted(maps.Keys(g.bslNames.m))
	if len(names) == 0 || g.anyWithoutBSL {
		if !a.locations.complete() || a.locations.len() > 1 {
			return false
		}
		only := "" // a log that names no location: only a success that names none either counts
		for name := range a.locations.m {
			only = name
		}
		names = append(names, only)
	}
	last := occurrence{seq: g.lastSeq, time: g.last}
	for _, n := range names {
		if ok, _ := a.recovered.get(n); !ok.seen() || !last.before(ok) {
			return false
		}
	}
	return true
}

// fill puts values into remediation templates; the log's values win over the context's, except
// the namespace the user chose. Values come from a log or the cluster: shellquote.Fill makes each one a
// literal word of the command, whatever it holds, and leaves an unknown one as a readable <name>.
func (a *Analyzer) fill(templates []string, found map[string]string) []string {
	lookup := func(key string) (string, bool) {
		if key == "namespace" && a.namespaceChosen {
			return a.context["namespace"], true
		}
		if v := found[key]; v != "" {
			return v, true
		}
		if v := a.context[key]; v != "" {
			return v, true
		}
		return "", false
	}
	out := make([]string, 0, len(templates))
	for _, t := range templates {
		out = append(out, redact.String(shellquote.Fill(t, lookup)))
	}
	return out
}

// SetContextDefaults adds context values that are not set yet.
func (a *Analyzer) SetContextDefaults(ctx Context) {
	for k, v := range ctx {
		if a.context[k] == "" && v != "" {
			a.context[k] = v
		}
	}
}

// RecordValidated notes that a location validated successfully at t (an Available BSL's
// lastValidationTime): earlier findings about it are resolved, as after a log line saying so.
func (a *Analyzer) RecordValidated(bsl string, t time.Time) {
	a.sequence++
	a.validated(bsl, occurrence{seq: a.sequence, time: t})
}
