#!/usr/bin/env bash
# Writes the golden fixture of the current chunk-model format with the given build, by the
# recipe of tests/golden/v5-2e332fa/README.md: a store whose raw data has expired (two real
# captures, raw_ttl = 0), its catalog compacted, a .dgc of a third capture, and the SHA-256
# of every file archive/ and `dgcctl expand` produce. Run once per new format version, on
# the commit that introduces it, then commit OUT (never regenerate an existing folder).
# Usage: tests/golden/make-fixture.sh BUILD_DIR OUT_DIR     (as root; needs /dev/fuse, mdb_copy)
set -euo pipefail
build=$(realpath "$1") out=$2
data=$(realpath "$(dirname "$0")/../../../shared/data/pcaps/dev")
[ -e "$out" ] && { echo "make-fixture: $out exists; fixtures are never regenerated" >&2; exit 1; }
work=$(mktemp -d)
trap 'fusermount3 -u "$work/mnt" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/mnt" "$work/store" "$out/store/catalog" "$out/expand"
cat > "$work/policy.toml" <<'TOML'
[defaults]
raw_ttl = 0
[volume]
sweep_interval = 1
[training]
chunk_packets = 1000
chunk_seconds = 3600
steps = 120
quiet_ms = 300
TOML
"$build/tools/dgcfs" -f --store "$work/store" --policy "$work/policy.toml" --train-steps 120 --workers 1 \
    --device cpu "$work/mnt" > "$work/daemon.out" 2>&1 &
for _ in $(seq 100); do mountpoint -q "$work/mnt" && break; sleep 0.1; done
mkdir "$work/mnt/retention/site-a"
cp "$data/dnscap__dns.pcap" "$work/mnt/retention/site-a/"
cp "$data/nDPI__netflix.pcap" "$work/mnt/retention/"
for _ in $(seq 600); do
    [ -z "$(find "$work/mnt/retention" -type f)" ] && [ "$(find "$work/mnt/archive" -type f | wc -l)" -eq 2 ] && break
    sleep 0.5
done
[ -z "$(find "$work/mnt/retention" -type f)" ] || { echo "make-fixture: raw did not expire" >&2; exit 1; }
(cd "$work/mnt" && getfattr -d -R archive) > "$out/xattrs.txt" 2>/dev/null
(cd "$work/mnt" && find archive -type f | sort | xargs sha256sum) > "$out/SHA256SUMS"
fusermount3 -u "$work/mnt"
wait
mdb_copy -c "$work/store/catalog" "$out/store/catalog"
"$build/tools/dgcctl" compress "$data/nDPI__gnutella.pcap" -o "$out/trace.dgc" --chunk-packets 1500 --device cpu
cat > "$out/expand.txt" <<'TXT'
# <output under expand/ in SHA256SUMS>  <.dgc in this folder>  [dgcctl expand options]
trace.pcap trace.dgc
trace.chunks-0..0.pcap trace.dgc --chunks 0..0
trace.chunks-1..2.pcap trace.dgc --chunks 1..2
trace.chunks-2..2.pcap trace.dgc --chunks 2..2
TXT
grep -v '^#' "$out/expand.txt" | while read -r name dgc opts; do
    # shellcheck disable=SC2086
    "$build/tools/dgcctl" expand "$out/$dgc" -o "$out/expand/$name" $opts
done
(cd "$out" && sha256sum expand/*) >> "$out/SHA256SUMS"
rm -rf "$out/expand"
echo "make-fixture: wrote $out"
