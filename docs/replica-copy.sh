#!/usr/bin/env bash
# Copy a Yuelan data folder to a read replica with plain rsync, while
# `indexer ingest` keeps committing into it, so that a search-server on the
# replica never sees a torn index (README: "Beyond one server").
#
#   replica-copy.sh DATA SNAPSHOT DEST [GRACE_SECONDS]
#
# DATA      the primary's data folder, where `indexer ingest` writes
# SNAPSHOT  a folder on the same file system as DATA, kept from run to run
#           (hard links: it costs a directory entry per file, no data)
# DEST      the replica's data folder: a path, or host:/path over ssh
# GRACE     seconds from installing the new commit on the replica to
#           deleting the files only the commit before it used (default 60;
#           the replica's servers take up a commit within about a second)
#
# Run it from cron or a loop on the primary; runs on one SNAPSHOT wait for
# each other. Exit status is rsync's when a step fails (the replica then
# keeps serving the commit it had).
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 DATA SNAPSHOT DEST [GRACE_SECONDS]" >&2; exit 2; }
data=$(realpath "$1") snapshot=${2%/} dest=${3%/} grace=${4:-60}
mkdir -p "$snapshot/index"
exec 9>"$snapshot.lock"
flock 9

# 1. Snapshot, under tantivy's meta lock: while it is held, neither the
#    index writer nor ingest removes a file (segment or blob) that a commit
#    names. The commit (meta.json, .managed.json) is taken first, then a
#    hard link to every other file, so every file it names is in the
#    snapshot. Milliseconds; an ingest's commit waits for it at most that.
#    Files being written aside (.tmp…) are left out; one that vanishes
#    meanwhile (rsync's status 24) is one no commit names.
(
  flock --shared 8
  rsync -a "$data/index/meta.json" "$data/index/.managed.json" "$snapshot/index/"
  rsync -a --delete --link-dest="$data" --exclude=/index/meta.json --exclude=/index/.managed.json \
    --exclude='*.lock' --exclude=/ingest.unfinished --exclude='.tmp*' --exclude='*.tmp[0-9]*' \
    "$data/" "$snapshot/" || [ $? -eq 24 ]
) 8<"$data/index/.tantivy-meta.lock"

# 2. New segment files and blobs first (unchanged ones are skipped by size
#    and time): the replica's servers do not look at them yet.
rsync -a --exclude=/index/meta.json --exclude=/index/.managed.json "$snapshot/" "$dest/"

# 3. The commit last: rsync writes meta.json aside and renames it into
#    place, so a server reads the old commit or the new one, never half.
rsync -a "$snapshot/index/meta.json" "$snapshot/index/.managed.json" "$dest/index/"

# 4. After the grace period, delete the files the new commit no longer
#    names (merged segments, originals of removed documents). Lock files
#    the replica's servers made are left alone.
sleep "$grace"
rsync -a --delete --exclude='*.lock' "$snapshot/" "$dest/"
