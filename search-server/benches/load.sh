#!/usr/bin/env bash
# HTTP load benchmark of search-server on the laws corpus.
#
#   bash search-server/benches/load.sh [RUNS] [SECONDS]
#   SERVER=/path/to/older/search-server bash search-server/benches/load.sh
#
# Builds the release binaries, ingests ../shared/corpus/laws into
# target/bench-laws (once), starts search-server (or $SERVER) on
# 127.0.0.1:18080 (see server.sh) and drives it with wrk (Debian package `wrk`; installed if missing) through
# the 120 queries of ../shared/eval/dev-queries.tsv in turn, at 1 and at 16
# concurrent connections, RUNS times each (default 3, SECONDS each, default
# 10). Prints each run and the medians: requests/s, p50 and p99 latency, and
# the server's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
seconds=${2:-10}
port=18080
source search-server/benches/server.sh

# A wrk script that cycles through the judged queries.
script=target/bench-queries.lua
python3 - "$script" <<'PY'
import sys, urllib.parse
paths = []
for line in open("../shared/eval/dev-queries.tsv", encoding="utf-8"):
    if "\t" in line:
        q = line.rstrip("\n").split("\t", 1)[1]
        paths.append("/api/search?q=" + urllib.parse.quote(q))
with open(sys.argv[1], "w") as f:
    f.write("local paths = {\n" + ",\n".join('  "%s"' % p for p in paths) + "\n}\n")
    f.write("local i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n")
PY

start_server $port

results=target/bench-load.txt
: > "$results"
for clients in 1 16; do
  threads=$(( clients < 2 ? 1 : 2 ))
  for run in $(seq "$runs"); do
    out=$(wrk -t$threads -c$clients -d${seconds}s --latency -s "$script" http://127.0.0.1:$port/)
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
    echo "clients $clients run $run: $rps req/s, p50 $p50, p99 $p99 ${errors}"
    echo "$clients $rps $p50 $p99" >> "$results"
  done
done
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)

python3 - "$results" "$rss_kb" <<'PY'
import sys, statistics
def ms(v):
    for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if v.endswith(unit):
            return float(v[: -len(unit)]) * f
rows = [l.split() for l in open(sys.argv[1])]
for clients in ("1", "16"):
    r = [x for x in rows if x[0] == clients]
    print("median, %2s clients: %.0f req/s, p50 %.2f ms, p99 %.2f ms" % (
        int(clients), statistics.median(float(x[1]) for x in r),
        statistics.median(ms(x[2]) for x in r), statistics.median(ms(x[3]) for x in r)))
print("server peak RSS: %.0f MB" % (int(sys.argv[2]) / 1024))
PY
