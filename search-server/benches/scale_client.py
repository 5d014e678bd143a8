#!/usr/bin/env python3
"""The HTTP half of scale.sh: one client against a running search-server.

    scale_client.py --port P --pid PID --source DIR --data DIR --run K
                    --ingest-seconds S --ingest-kb KB --rerun-seconds S
        measures one run and prints it as one JSON line;
    scale_client.py --show      < one JSON line: the run as a table;
    scale_client.py --median    < JSON lines: the medians as a table.
"""
import argparse, http.client, json, os, statistics, subprocess, sys, time, urllib.parse

EVAL = os.path.join(os.path.dirname(__file__), "../../../shared/eval")
ROWS = [
    ("first ingest", lambda r: f"{r['ingest_mb_s']:.2f} MB/s ({r['ingest_s']:.0f} s)"),
    ("ingest peak RSS", lambda r: f"{r['ingest_rss_mb']:.0f} MB"),
    ("re-run, one file added", lambda r: f"{r['rerun_s']:.2f} s"),
    ("data folder / source", lambda r: f"{r['data_ratio']:.2f} (disk usage {r['disk_ratio']:.2f})"),
    ("search p50 / p99", lambda r: f"{r['search_p50']:.1f} / {r['search_p99']:.1f} ms"),
    ("first search after start / commit", lambda r: f"{r['first_after_start']:.0f} / {r['first_after_commit']:.0f} ms"),
    ("suggest p50 / p99", lambda r: f"{r['suggest_p50']:.1f} / {r['suggest_p99']:.1f} ms"),
    ("new document visible after commit", lambda r: f"{r['visible_s']:.2f} s"),
    ("server peak RSS", lambda r: f"{r['server_rss_mb']:.0f} MB"),
]


def queries(name):
    with open(os.path.join(EVAL, name), encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t", 1)[1] for line in f if "\t" in line]


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path):
        """(milliseconds, decoded JSON) of one GET on the kept-alive connection."""
        started = time.perf_counter()
        self.conn.request("GET", path)
        response = self.conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise SystemExit(f"GET {path}: HTTP {response.status} {body[:200]!r}")
        return elapsed, json.loads(body)

    def search(self, q):
        return self.get("/api/search?q=" + urllib.parse.quote(q))


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def tree_bytes(folder, apparent):
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            st = os.stat(os.path.join(root, name))
            total += st.st_size if apparent else st.st_blocks * 512
    return total


def rss_mb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def wait_healthy(port):
    for _ in range(600):
        try:
            Client(port).get("/healthz")
            return
        except (OSError, http.client.HTTPException, SystemExit):
            time.sleep(0.05)
    raise SystemExit("search-server did not start")


def measure(args):
    wait_healthy(args.port)
    client = Client(args.port)
    spaced, unspaced = queries("dev-queries.tsv"), queries("dev-queries-nospace.tsv")
    first_after_start, _ = client.search(spaced[0])
    searches = [client.search(q)[0] for _ in range(3) for q in spaced]
    prefixes = [q[:k] for q in unspaced for k in range(1, min(len(q), 6) + 1)]
    suggests = [client.get("/api/suggest?q=" + urllib.parse.quote(p))[0] for p in prefixes]

    # A new document, then the time from the commit (ingest's end) to the
    # first search that finds it; that search is the first on the new commit.
    word = f"牦牛合作社第{args.run}号验收"
    folder = os.path.join(args.source, "added")
    with open(os.path.join(folder, f"visible-{args.run}.txt"), "w", encoding="utf-8") as f:
        f.write(f"关于{word}的通知\n\n{word}已于本月完成。\n")
    subprocess.run(["target/release/indexer", "ingest", args.source, "--data", args.data, "--json"], check=True, stdout=subprocess.DEVNULL)
    committed = time.perf_counter()
    while True:
        took, found = client.search(f'"{word}"')
        if found["total"] > 0:
            break
        if time.perf_counter() - committed > 60:
            raise SystemExit("the new document was not visible within 60 s")
        time.sleep(0.02)
    visible = time.perf_counter() - committed
    after_commit = max(took, client.search(spaced[1])[0])

    source_bytes = tree_bytes(args.source, True)
    return {
        "run": args.run,
        "ingest_s": args.ingest_seconds,
        "ingest_mb_s": source_bytes / 1e6 / args.ingest_seconds,
        "ingest_rss_mb": args.ingest_kb / 1024,
        "rerun_s": args.rerun_seconds,
        "data_ratio": tree_bytes(args.data, True) / source_bytes,
        "disk_ratio": tree_bytes(args.data, False) / tree_bytes(args.source, False),
        "search_p50": statistics.median(searches),
        "search_p99": percentile(searches, 0.99),
        "first_after_start": first_after_start,
        "first_after_commit": after_commit,
        "suggest_p50": statistics.median(suggests),
        "suggest_p99": percentile(suggests, 0.99),
        "visible_s": visible,
        "server_rss_mb": rss_mb(args.pid, "VmHWM"),
    }


def table(title, run):
    print(title)
    for name, show in ROWS:
        print(f"  {name:<36} {show(run)}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--show", action="store_true")
    p.add_argument("--median", action="store_true")
    for name in ("port", "pid", "run"):
        p.add_argument(f"--{name}", type=int)
    for name in ("source", "data"):
        p.add_argument(f"--{name}")
    for name in ("ingest-seconds", "rerun-seconds", "ingest-kb"):
        p.add_argument(f"--{name}", type=float)
    args = p.parse_args()
    if args.show:
        run = json.loads(sys.stdin.readline())
        table(f"run {run['run']}:", run)
    elif args.median:
        runs = [json.loads(line) for line in sys.stdin if line.strip()]
        median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        table(f"median of {len(runs)} run(s):", median)
    else:
        print(json.dumps(measure(args)))


if __name__ == "__main__":
    main()
