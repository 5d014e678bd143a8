#!/usr/bin/env bash
# District-scale benchmark: an archive of N short 公文, ingested and served.
#
#   bash search-server/benches/scale.sh N [RUNS]
#
# Generates N documents with ../shared/tools/make-scale-corpus (real legal
# prose from ../shared/corpus/laws, ~1.8 KB each, 1,000 to a folder) into
# target/scale-N/source, then RUNS times (default 1) into an empty data
# folder: ingests it, re-runs the ingest with one file added, serves it and
# drives the server over HTTP with one client. Prints each run's figures and
# the medians, one row per measure:
#
#   first ingest MB/s, ingest peak RSS, re-run with one file added,
#   data folder / source (apparent bytes; disk usage beside it),
#   search p50/p99 (the 120 dev queries, typed with spaces, 3 rounds),
#   first search after start and after a commit,
#   suggest p50/p99 (every prefix of each unspaced dev query),
#   new document visible after commit (ingest's end to the first search
#   that finds it), server peak RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:?usage: scale.sh N [RUNS]}
runs=${2:-1}
port=18082
work=target/scale-$n
source=$work/source

cargo build --release -q -p indexer -p search-server
if [ ! -f "$work/generated" ]; then
  rm -rf "$source"
  python3 ../shared/tools/make-scale-corpus ../shared/corpus/laws "$source" "$n" >/dev/null
  touch "$work/generated"
fi
echo "corpus: $n documents, $(find -L "$source" -type f -printf "%s\n" | awk '{s+=$1} END {printf "%.0f", s/1e6}') MB in $source; $(nproc) CPUs, $(free -g | awk '/Mem:/ {print $2}') GiB"

results=$work/results.txt
: > "$results"
for run in $(seq "$runs"); do
  data=$work/data
  rm -rf "$data" "$source/added"
  /usr/bin/time -f "%e %M" -o "$work/time" target/release/indexer ingest "$source" --data "$data" --json >/dev/null
  read -r ingest_s ingest_kb < "$work/time"

  mkdir -p "$source/added"
  printf '关于试行扫码办理临时救助的通知\n\n各乡镇：现将扫码办理临时救助的办法通知如下。\n' > "$source/added/notice-$run.txt"
  /usr/bin/time -f "%e %M" -o "$work/time" target/release/indexer ingest "$source" --data "$data" --json >/dev/null
  read -r rerun_s _ < "$work/time"

  target/release/search-server --data "$data" --addr 127.0.0.1:$port --query-log /dev/null >/dev/null 2>"$work/server.log" &
  pid=$!
  python3 search-server/benches/scale_client.py \
    --port $port --pid $pid --source "$source" --data "$data" --run "$run" \
    --ingest-seconds "$ingest_s" --ingest-kb "$ingest_kb" --rerun-seconds "$rerun_s" >> "$results"
  kill $pid
  wait $pid 2>/dev/null || true
  tail -n 1 "$results" | python3 search-server/benches/scale_client.py --show
done
rm -rf "$source/added"
python3 search-server/benches/scale_client.py --median < "$results"
