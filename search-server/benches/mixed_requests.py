"""Write a wrk script of varied requests, as readers at terminals make them.

    python3 mixed_requests.py BASE_URL QUERIES_TSV OUT.lua [COUNT]

Asks the running server at BASE_URL for its categories, years and every
document id (searches by category, 100 a page), then writes COUNT
(default 50,000) request paths drawn with a fixed seed, so every run sends
the same ones: per 100 requests, 40 /api/search and 8 /search (the judged
queries of QUERIES_TSV, fragments of titles and pairs of them; some with a
sort, a later page, a larger page, a category or year filter, or filters
only), 15 /api/suggest of a 1-4 character prefix, 15 reading views
/documents/{id}?q=, 10 /api/documents/{id}, 8 originals, 2 /api/stats and
2 static files. Each wrk thread starts at its own place in the list.
"""

import json
import random
import sys
import urllib.parse
import urllib.request

SEED = 7


def fetch(base, path):
    with urllib.request.urlopen(base + path) as reply:
        return json.load(reply)


def encode(params):
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def documents(base, stats):
    """Id and title of every served document."""
    titles = {}
    for category, count in stats["category"].items():
        for offset in range(0, count, 100):
            page = fetch(base, "/api/search?" + encode({"category": category, "limit": 100, "offset": offset}))
            titles.update((hit["id"], hit["title"]) for hit in page["hits"])
    return titles


def request_paths(stats, titles, queries, count):
    rng = random.Random(SEED)
    ids, names = list(titles), [t for t in titles.values() if t]
    categories, years = list(stats["category"]), list(stats["year"])

    def fragment():
        title = rng.choice(names)
        size = rng.randint(2, max(2, min(8, len(title))))
        start = rng.randint(0, max(0, len(title) - size))
        return title[start : start + size]

    def query():
        kind = rng.random()
        if kind < 0.4:
            return rng.choice(queries)
        if kind < 0.8:
            return fragment()
        return fragment() + " " + fragment()

    def search():
        params = {"q": query()}
        if rng.random() < 0.3:
            params["sort"] = rng.choice(["relevance", "date_desc", "date_asc"])
        if rng.random() < 0.3:
            params["offset"] = rng.choice([10, 20, 30, 50, 100, 200])
        if rng.random() < 0.2:
            params["limit"] = rng.choice([20, 50, 100])
        if rng.random() < 0.15:
            params["category"] = rng.choice(categories)
        if rng.random() < 0.1:
            params["year"] = rng.choice(years)
        if rng.random() < 0.05:
            params["q"] = ""
            params.setdefault("category", rng.choice(categories))
        return encode(params)

    routes = [
        (40, lambda: "/api/search?" + search()),
        (8, lambda: "/search?" + search()),
        (15, lambda: "/api/suggest?" + encode({"q": query()[: rng.randint(1, 4)]})),
        (15, lambda: "/documents/%s?%s" % (rng.choice(ids), encode({"q": query()}))),
        (10, lambda: "/api/documents/" + rng.choice(ids)),
        (8, lambda: "/api/documents/%s/original" % rng.choice(ids)),
        (2, lambda: "/api/stats"),
        (2, lambda: rng.choice(["/static/app.js", "/static/style.css"])),
    ]
    weights = [weight for weight, _ in routes]
    return [rng.choices(routes, weights)[0][1]() for _ in range(count)]


WRK_SCRIPT = """
local threads = 0
function setup(thread)
  thread:set("first", threads * 7919)
  threads = threads + 1
end
local i
request = function()
  i = ((i or first) % #paths) + 1
  return wrk.format("GET", paths[i])
end
"""


def main():
    base, queries_tsv, out = sys.argv[1:4]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 50_000
    queries = [line.rstrip("\n").split("\t", 1)[1] for line in open(queries_tsv, encoding="utf-8") if "\t" in line]
    stats = fetch(base, "/api/stats")
    titles = documents(base, stats)
    paths = request_paths(stats, titles, queries, count)
    with open(out, "w") as f:
        f.write("local paths = {\n" + ",\n".join(json.dumps(p) for p in paths) + "\n}\n" + WRK_SCRIPT)
    print("%d requests, %d distinct, over %d documents" % (len(paths), len(set(paths)), len(titles)))


if __name__ == "__main__":
    main()
