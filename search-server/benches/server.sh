# Sourced by the HTTP benchmarks: builds the release binaries, ingests
# ../shared/corpus/laws into target/bench-laws (a no-op when nothing
# changed; a rebuild when another version wrote it), and starts
# search-server with its default settings.
#
#   source search-server/benches/server.sh   # from the workspace root
#   start_server PORT                        # sets $pid, stops it on exit
#
# $SERVER names another search-server binary to measure (an older build,
# for before/after figures); the default is the one just built. $DATA
# names the data folder it serves (one the older build's indexer wrote,
# when the index format changed between the two); the default is
# target/bench-laws, written by the indexer just built.

data=${DATA:-target/bench-laws}

command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p indexer -p search-server
[ -n "${DATA:-}" ] || target/release/indexer ingest ../shared/corpus/laws --data "$data" --json >/dev/null

start_server() {
  local port=$1
  "${SERVER:-target/release/search-server}" --data "$data" --addr 127.0.0.1:"$port" --query-log /dev/null >/dev/null 2>target/bench-server.log &
  pid=$!
  trap 'kill $pid 2>/dev/null' EXIT
  for _ in $(seq 100); do curl -sf http://127.0.0.1:"$port"/healthz >/dev/null && break; sleep 0.1; done
  echo "server: $(curl -s http://127.0.0.1:"$port"/healthz), $(nproc) CPUs"
}
