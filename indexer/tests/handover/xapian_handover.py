#!/usr/bin/python3
"""The hand-over of `indexer export opensearch`, proved on an engine that
runs here: Xapian's remote backend.

No OpenSearch can be installed on these machines; Xapian (Debian
`xapian-tools`, `python3-xapian`) is a real engine with sharded databases
served over TCP. This script:

1. builds a data folder of the corpus and Yuelan's top 10 for the dev
   queries (`indexer eval --run`), spaced and unspaced;
2. exports it (`indexer export opensearch`);
3. serves 2 empty shards with `xapian-tcpsrv --writable` on loopback ports
   and loads the bulk files into them over the remote backend (documents
   split by a hash of their id), indexing the fields as the template tells
   OpenSearch to: the normalized char fields one term per Han character
   (and per run of letters or digits) with positions, so phrases work;
   the words fields as terms, for scoring;
4. searches both shards at once (`remote_open`, `add_database`) for the dev
   queries and prints how much of Yuelan's top 10 its top 10 holds;
5. withdraws one exported document (`indexer withdraw`), exports again
   with `--since`, applies that export and checks that the document is
   gone from both shards and that nothing else changed.

Exit status 0 when every check held, 1 otherwise (a missing package
included, named). Run with Debian's interpreter, which python3-xapian
binds: /usr/bin/python3 indexer/tests/handover/xapian_handover.py
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import zlib
from pathlib import Path

try:
    import xapian
except ImportError:
    sys.exit("hand-over: the Python module xapian is missing: install the Debian package python3-xapian "
             "(and run this with /usr/bin/python3, which it binds)")

SHARDS = 2
DEPTH = 10

# Term prefixes, one per exported field (Xapian's convention: capitals).
PREFIX = {"title_chars": "S", "meta_chars": "XM", "chars": "XB", "title_words": "XS", "words": "XW"}
ID_PREFIX = "Q"  # the unique id term, by which documents are replaced and deleted

# OpenSearch's `standard` tokenizer (Unicode word boundaries, UAX #29), as
# far as Yuelan's normalized text needs it: each Han character one token,
# each run of letters or digits one token (digits joined by . or , stay one).
HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
HAN_CHAR = re.compile(f"[{HAN}]")
TOKEN = re.compile(f"[{HAN}]|(?:(?![{HAN}])[^\\W_])+(?:[.,](?:(?![{HAN}])[^\\W_])+)*")


def fail(message):
    print(f"hand-over: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def standard_tokens(text):
    return TOKEN.findall(text)


class Folding:
    """The template's `yuelan_chars` analysis on the query side: its
    `mapping` char filter (read from template.json), then lowercase."""

    def __init__(self, template):
        rules = template["template"]["settings"]["analysis"]["char_filter"]["yuelan_fold"]["mappings"]
        unescape = lambda s: re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), s)
        self.table = {}
        for rule in rules:
            source, target = rule.split(" => ", 1)
            self.table[unescape(source)] = unescape(target)

    def __call__(self, text):
        return "".join(self.table.get(c, c) for c in text).lower()


def run(*command):
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"{' '.join(map(str, command))} exited with {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def yuelan_top(indexer, corpus, eval_dir, data, work, name):
    """Yuelan's top 10 paths per query id, through the search the server runs."""
    run_file = work / f"yuelan-{name}.tsv"
    run(indexer, "eval", "--corpus", corpus, "--queries", eval_dir / f"{name}.tsv",
        "--qrels", eval_dir / "dev-qrels.tsv", "--data", data, "--run", run_file, "--json")
    top = {}
    for line in run_file.read_text(encoding="utf-8").splitlines():
        qid, _, path = line.split("\t")
        top.setdefault(qid, []).append(path)
    return top


def export(indexer, data, out, since=None):
    run(indexer, "export", "opensearch", "--data", data, "--out", out, *(["--since", since] if since else []))
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Shards:
    """SHARDS Xapian databases, written here and each served read-only by
    its own xapian-tcpsrv (a reader sees the newest commit on connecting)."""

    def __init__(self, root):
        self.paths = [root / f"shard-{n}" for n in range(SHARDS)]
        for path in self.paths:
            xapian.WritableDatabase(str(path), xapian.DB_CREATE_OR_OPEN).close()
        self.servers, self.ports = [], []

    def serve(self):
        for path in self.paths:
            port = free_port()
            # A session of its own: the server and the children it forks per
            # connection are stopped together, and its signals reach no one else.
            self.servers.append(subprocess.Popen(
                ["xapian-tcpsrv", "--quiet", "--interface", "127.0.0.1", "--port", str(port), str(path)], start_new_session=True))
            self.ports.append(port)
        for port in self.ports:
            self.wait_for(port)

    @staticmethod
    def wait_for(port):
        deadline = time.monotonic() + 10
        while True:
            try:
                xapian.remote_open("127.0.0.1", port).close()
                return
            except xapian.NetworkError:
                if time.monotonic() > deadline:
                    fail(f"xapian-tcpsrv did not answer on 127.0.0.1:{port}")
                time.sleep(0.05)

    @staticmethod
    def of(doc_id):
        return zlib.crc32(doc_id.encode("utf-8")) % SHARDS

    def writable(self, n):
        return xapian.WritableDatabase(str(self.paths[n]), xapian.DB_OPEN)

    def one(self, n):
        return xapian.remote_open("127.0.0.1", self.ports[n])

    def both(self):
        db = xapian.Database()
        for n in range(SHARDS):
            db.add_database(self.one(n))
        return db

    def stop(self):
        for server in self.servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait()


def document(source, terms):
    """The Xapian document of one exported document, indexed as the
    template has OpenSearch index it: the char fields' tokens with
    positions (one term each, space-separated for `terms`, a
    xapian.TermGenerator, which then cuts nothing further), the words
    fields' words without."""
    doc = xapian.Document()
    doc.add_boolean_term(ID_PREFIX + source["id"])
    doc.set_data(json.dumps({k: source.get(k, "") for k in ("id", "path", "title", "disclosure")}, ensure_ascii=False))
    terms.set_document(doc)
    for field in ("title_chars", "meta_chars", "chars"):
        terms.index_text(" ".join(standard_tokens(source.get(field, ""))), 1, PREFIX[field])
    for field in ("title_words", "words"):
        terms.index_text_without_positions(source.get(field, ""), 1, PREFIX[field])
    return doc


def load(shards, out, manifest):
    """Apply an export's bulk files, in order, as OpenSearch's _bulk would:
    returns {id: path} of the documents indexed and the ids deleted."""
    writers = [shards.writable(n) for n in range(SHARDS)]
    terms = xapian.TermGenerator()
    indexed, deleted = {}, []
    for bulk in manifest["bulk"]:
        raw = (out / bulk["file"]).read_bytes()
        if hashlib.sha256(raw).hexdigest() != bulk["sha256"] or len(raw) != bulk["bytes"]:
            fail(f"{bulk['file']} does not match its manifest entry")
        lines = iter(raw.decode("utf-8").splitlines())
        for line in lines:
            (action, target), = json.loads(line).items()
            doc_id = target["_id"]
            writer = writers[shards.of(doc_id)]
            if action == "index":
                source = json.loads(next(lines))
                writer.replace_document(ID_PREFIX + doc_id, document(source, terms))
                indexed[doc_id] = source["path"]
            elif action == "delete":
                writer.delete_document(ID_PREFIX + doc_id)
                deleted.append(doc_id)
            else:
                fail(f"unknown action {action} in {bulk['file']}")
    for writer in writers:
        writer.commit()
        writer.close()
    return indexed, deleted


class Client:
    """Searches both shards as a site would search the exported index: the
    query folded by the template's analysis; each spaced word must match
    where its characters stand together (a phrase of char terms in the
    title, catalog line or text); a query typed without spaces is cut
    into the longest words the words fields hold. Titles weigh most,
    exact words add to the score. When fewer than a page match every
    word, the documents matching any follow (as Yuelan's partial matches)."""

    TITLE_WEIGHT = 3.0

    def __init__(self, shards, fold):
        self.db, self.fold = shards.both(), fold

    def is_word(self, text):
        return any(self.db.term_exists(PREFIX[f] + text) for f in ("title_words", "words"))

    def words(self, han):
        """A run of Han characters cut into words: the longest (up to 8
        characters) the words fields hold, from the left; a character
        that starts none stands alone."""
        out, i = [], 0
        while i < len(han):
            for j in range(min(len(han), i + 8), i, -1):
                if j - i == 1 or self.is_word(han[i:j]):
                    out.append(han[i:j])
                    i = j
                    break
        return out

    def parts(self, query):
        """The query's words, each as its tokens: spaced words as typed; a
        query without spaces cut into words, other tokens alone."""
        folded = self.fold(query)
        spaced = folded.split()
        if len(spaced) > 1:
            return [standard_tokens(part) for part in spaced]
        parts, han = [], ""
        for token in standard_tokens(folded) + [""]:
            if HAN_CHAR.fullmatch(token):
                han += token
                continue
            parts += [list(word) for word in self.words(han)]
            han = ""
            if token:
                parts.append([token])
        return parts

    @staticmethod
    def match(prefix, tokens):
        terms = [prefix + t for t in tokens]
        if len(terms) == 1:
            return xapian.Query(terms[0])
        return xapian.Query(xapian.Query.OP_PHRASE, terms, len(terms))

    def part_query(self, tokens):
        title = xapian.Query(xapian.Query.OP_SCALE_WEIGHT, self.match(PREFIX["title_chars"], tokens), self.TITLE_WEIGHT)
        return xapian.Query(xapian.Query.OP_OR, [title, self.match(PREFIX["meta_chars"], tokens), self.match(PREFIX["chars"], tokens)])

    def boost(self, parts):
        """The words of several characters as words-field terms (None when
        there are none): an exact word scores more."""
        word_terms = []
        for word in ("".join(tokens) for tokens in parts if len(tokens) > 1):
            word_terms.append(xapian.Query(xapian.Query.OP_SCALE_WEIGHT, xapian.Query(PREFIX["title_words"] + word), self.TITLE_WEIGHT))
            word_terms.append(xapian.Query(PREFIX["words"] + word))
        return xapian.Query(xapian.Query.OP_OR, word_terms) if word_terms else None

    def top(self, query):
        parts = [p for p in self.parts(query) if p]
        if not parts:
            return []
        boost = self.boost(parts)
        found = []
        for op in (xapian.Query.OP_AND, xapian.Query.OP_OR):
            q = xapian.Query(op, [self.part_query(p) for p in parts])
            if boost is not None:
                q = xapian.Query(xapian.Query.OP_AND_MAYBE, q, boost)
            enquire = xapian.Enquire(self.db)
            enquire.set_query(q)
            for match in enquire.get_mset(0, DEPTH):
                path = json.loads(match.document.get_data().decode("utf-8"))["path"]
                if path not in found:
                    found.append(path)
            if len(found) >= DEPTH:
                break
        return found[:DEPTH]


def overlap(client, queries, yuelan):
    """Mean share of Yuelan's top 10 found in the client's top 10, over the
    queries Yuelan answers; also per query type (the id before `-`)."""
    shares, by_type = [], {}
    for line in queries.read_text(encoding="utf-8").splitlines():
        if "\t" not in line:
            continue
        qid, text = line.split("\t", 1)
        theirs = yuelan.get(qid, [])
        if not theirs:
            continue
        ours = client.top(text.strip())
        share = len(set(ours) & set(theirs)) / len(theirs)
        shares.append(share)
        by_type.setdefault(qid.split("-")[0], []).append(share)
    mean = lambda xs: sum(xs) / len(xs) if xs else 0.0
    return mean(shares), len(shares), {k: mean(v) for k, v in sorted(by_type.items())}


class Clock:
    """Elapsed seconds per phase, for the last line."""

    def __init__(self):
        self.phases, self.last = [], time.monotonic()

    def lap(self, name):
        now = time.monotonic()
        self.phases.append(f"{name} {now - self.last:.1f}s")
        self.last = now

    def __str__(self):
        return ", ".join(self.phases)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--indexer", type=Path, default=Path("target/release/indexer"))
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--eval", type=Path, default=Path("../shared/eval"), help="folder of dev-queries*.tsv and dev-qrels.tsv")
    parser.add_argument("--work", type=Path, default=Path("target/handover"), help="scratch folder (emptied first)")
    parser.add_argument("--min-overlap", type=float, default=0.0, help="fail when a query set's mean overlap is below this")
    args = parser.parse_args()
    if not shutil.which("xapian-tcpsrv"):
        fail("xapian-tcpsrv is missing: install the Debian package xapian-tools")
    for needed in (args.indexer, args.corpus, args.eval / "dev-queries.tsv"):
        if not needed.exists():
            fail(f"{needed} is missing")
    clock = Clock()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    data = args.work / "data"
    sets = ("dev-queries", "dev-queries-nospace")
    yuelan = {name: yuelan_top(args.indexer, args.corpus, args.eval, data, args.work, name) for name in sets}
    clock.lap("ingest and Yuelan's top 10")
    first = args.work / "export-1"
    manifest = export(args.indexer, data, first)
    clock.lap("export")
    fold = Folding(json.loads((first / "template.json").read_text(encoding="utf-8")))
    shards = Shards(args.work)
    try:
        indexed, _ = load(shards, first, manifest)
        shards.serve()
        clock.lap("load")
        loaded = shards.both().get_doccount()
        if loaded != manifest["counts"]["documents"] or len(indexed) != loaded:
            fail(f"{loaded} documents in the shards, the export holds {manifest['counts']['documents']}")
        per_shard = [shards.one(n).get_doccount() for n in range(SHARDS)]
        client = Client(shards, fold)
        short = []
        for name in sets:
            mean, n, by_type = overlap(client, args.eval / f"{name}.tsv", yuelan[name])
            types = ", ".join(f"{k} {v:.2f}" for k, v in by_type.items())
            print(f"hand-over: {name}: top-10 overlap with Yuelan {mean:.3f} over {n} queries ({types})")
            if mean < args.min_overlap:
                short.append(f"{name} {mean:.3f} < {args.min_overlap}")
        clock.lap("search")

        # Withhold one exported document, Yuelan's first answer to the
        # first query: the next export deletes it.
        qid, top = next(iter(yuelan["dev-queries"].items()))
        query = next(line.split("\t", 1)[1] for line in (args.eval / "dev-queries.tsv").read_text(encoding="utf-8").splitlines()
                     if line.startswith(qid + "\t"))
        path = top[0]
        if path not in client.top(query):
            fail(f"{path} is not found for {query} before it is withheld")
        doc_id = next(i for i, p in indexed.items() if p == path)
        run(args.indexer, "withdraw", "--data", data, doc_id, "--reason", "hand-over check: withheld after export")
        second = args.work / "export-2"
        incremental = export(args.indexer, data, second, first / manifest["state"]["file"])
        again, deleted = load(shards, second, incremental)
        if deleted != [doc_id] or again:
            fail(f"the incremental export should delete {doc_id} only; it deletes {deleted} and indexes {len(again)}")
        for n in range(SHARDS):
            if shards.one(n).get_termfreq(ID_PREFIX + doc_id):
                fail(f"{doc_id} is still in shard {n}")
        if shards.both().get_doccount() != loaded - 1:
            fail("the shards hold other documents than before but the one withheld")
        if path in Client(shards, fold).top(query):
            fail(f"{path} is still found for {query}")
        clock.lap("withhold, export --since, apply")
        print(f"hand-over: {loaded} documents in {SHARDS} shards ({' + '.join(map(str, per_shard))}) over xapian-tcpsrv; "
              f"{doc_id} ({path}) withheld after export: deleted by the incremental export, gone from both shards and "
              f"from the answer to {query}")
        print(f"hand-over: {clock}")
    finally:
        shards.stop()
    if short:
        fail("overlap below the floor: " + "; ".join(short))


if __name__ == "__main__":
    main()
