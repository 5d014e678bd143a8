#!/usr/bin/env bash
# Memory of search-server under a mixed load on the laws corpus.
#
#   bash search-server/benches/memory.sh [SECONDS] [CLIENTS]
#   SERVER=/path/to/older/search-server bash search-server/benches/memory.sh
#
# Starts the release server with its default settings on 127.0.0.1:18081
# over target/bench-laws (see server.sh), writes a wrk script of 50,000
# varied requests over every route (mixed_requests.py) and runs it for
# SECONDS (default 60) at CLIENTS connections (default 16), sampling the
# server's VmRSS and thread count every second into target/bench-memory.tsv.
# Prints RSS at start (the index open, only the requests that list the
# documents for the script answered), after 10 s, after
# SECONDS, the peak (VmHWM), and wrk's requests/s and latencies.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
clients=${2:-16}
port=18081
source search-server/benches/server.sh
start_server $port

script=target/bench-mixed.lua
python3 search-server/benches/mixed_requests.py http://127.0.0.1:$port ../shared/eval/dev-queries.tsv "$script"

status() { awk -v key="$1:" '$1 == key {print $2}' /proc/$pid/status; }
samples=target/bench-memory.tsv
printf 'second\trss_kb\tthreads\n0\t%s\t%s\n' "$(status VmRSS)" "$(status Threads)" > "$samples"
wrk -t2 -c"$clients" -d"${seconds}s" --latency -s "$script" http://127.0.0.1:$port/ > target/bench-memory-wrk.txt &
load=$!
for second in $(seq "$seconds"); do
  sleep 1
  printf '%s\t%s\t%s\n' "$second" "$(status VmRSS)" "$(status Threads)" >> "$samples"
done
wait $load
peak=$(status VmHWM)

awk '/Requests\/sec|Non-2xx|Socket errors/ || $1=="50%" || $1=="99%"' target/bench-memory-wrk.txt
python3 - "$samples" "$peak" "$seconds" "$clients" <<'PY'
import sys
samples, peak, seconds, clients = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = {int(r[0]): (int(r[1]), int(r[2])) for r in (l.split("\t") for l in list(open(samples))[1:])}
mb = lambda kb: kb / 1024
marks = [s for s in (0, 10, seconds) if s in rows]
print("RSS, %s clients: %s; peak %.0f MB" % (clients, ", ".join(
    "%s %.0f MB (%d threads)" % ("start" if s == 0 else "%d s" % s, mb(rows[s][0]), rows[s][1]) for s in marks), mb(peak)))
PY
