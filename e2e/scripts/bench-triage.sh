#!/usr/bin/env bash
# Triage throughput and memory, printed as a ratio against GNU grep measured in the same run (never
# asserted in a test). Both read the same generated logrus log from the page cache:
#   grep -c -E '<every catalog anchor>'   versus   kubectl aksbackup triage --file <log> -o json
# Two shapes of log (velero-loggen -shape): compact repeats a few real line templates; wide has long
# lines (up to tens of KB), many distinct fields and names. A memory bound must hold for both.
# Targets: triage time / grep time <= 2.0; triage's peak RSS < 64 MB.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
size=${TRIAGE_BENCH_BYTES:-1073741824}
runs=${TRIAGE_BENCH_RUNS:-3}
failure_rate=${TRIAGE_BENCH_FAILURE_RATE:-0.01}
shapes=${TRIAGE_BENCH_SHAPES:-compact wide}
cache=$root/e2e/.cache/bench
tool=$root/bin/kubectl-aksbackup
mkdir -p "$cache"
if [[ ! -x /usr/bin/time ]]; then
  echo "GNU time is needed for peak RSS: apt-get install time" >&2
  exit 1
fi
(cd "$root/e2e" && go build -o "$cache/velero-loggen" ./cmd/velero-loggen)
pattern=$("$tool" triage --anchors-regexp)
# What the binary costs before reading anything: its own pages are mapped in large folios, so an
# unstripped build (plain go build) starts near 64 MB; make build strips it (-s -w).
/usr/bin/time -f "%M" -o "$cache/base.rss" "$tool" version > /dev/null
base_rss=$(tail -1 "$cache/base.rss")
best() { sort -n | head -1; }

for shape in $shapes; do
  log=$cache/velero-$shape-$size-$failure_rate.log
  if [[ ! -s "$log" ]]; then
    echo "generating a $size-byte $shape Velero log ($failure_rate failure lines) in $log..."
    "$cache/velero-loggen" -shape "$shape" -size "$size" -failure-rate "$failure_rate" > "$log.tmp" && mv "$log.tmp" "$log"
  fi
  cat "$log" > /dev/null # into the page cache, for both sides alike
  grep_times=() tool_times=() tool_rss=()
  for ((i = 0; i < runs; i++)); do
    # GNU time writes "<seconds> <max RSS KB>" to a file; stdout of the commands is discarded.
    /usr/bin/time -f "%e %M" -o "$cache/grep.time" grep -c -E "$pattern" "$log" > "$cache/grep.count" || true
    /usr/bin/time -f "%e %M" -o "$cache/tool.time" "$tool" triage --file "$log" -o json > "$cache/triage.json" || true
    grep_times+=("$(tail -1 "$cache/grep.time" | cut -d' ' -f1)")
    tool_times+=("$(tail -1 "$cache/tool.time" | cut -d' ' -f1)")
    tool_rss+=("$(tail -1 "$cache/tool.time" | cut -d' ' -f2)")
  done
  g=$(printf '%s\n' "${grep_times[@]}" | best)
  t=$(printf '%s\n' "${tool_times[@]}" | best)
  rss=$(printf '%s\n' "${tool_rss[@]}" | sort -n | tail -1)
  lines=$(grep -o '"linesRead": [0-9]*' "$cache/triage.json" | grep -o '[0-9]*')
  findings=$(grep -c '"id":' "$cache/triage.json" || true)
  awk -v size="$size" -v g="$g" -v t="$t" -v rss="$rss" -v base="$base_rss" -v runs="$runs" -v rate="$failure_rate" -v shape="$shape" \
      -v matched="$(cat "$cache/grep.count")" -v lines="$lines" -v findings="$findings" 'BEGIN {
    mb = size / 1048576
    printf "\ntriage benchmark: %.0f MB generated logrus log (%s shape), %d lines, %.1f%% failure lines; best of %d runs each\n", mb, shape, lines, rate * 100, runs
    printf "  %-52s %7.2f s  %7.0f MB/s  (%d lines matched)\n", "grep -c -E <the catalog'\''s anchors> (baseline)", g, mb / g, matched
    printf "  %-52s %7.2f s  %7.0f MB/s  ratio %.2f  (%d findings)\n", "kubectl aksbackup triage --file <log> -o json", t, mb / t, t / g, findings
    printf "  %-52s %7.1f MB  (highest of the runs; the binary alone: %.1f MB)\n", "triage peak RSS", rss / 1024, base / 1024
    printf "  targets: ratio <= 2.0, peak RSS < 64 MB\n"
  }'
done
