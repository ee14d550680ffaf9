#!/usr/bin/env bash
# Soak test of a real dgcfs mount (issue 15; not in CI): writers of several kinds, readers
# of both views, legal holds, policy reloads and random faults (ENOSPC, EIO, kill -9)
# injected into the daemon's store I/O by the fault shim of the fault matrix. At the end
# every file a writer was told was written is compared with cmp (retention/) or read back
# twice (archive/), staging must be empty and `dgcctl scrub` must pass.
#
#   tests/soak/soak.sh [--minutes 30] [--build build] [--keep]
#
# Prints one summary line: files, lost, corrupted, stuck, unmodelable, faults, restarts,
# daemon RSS (max and last, MiB), and exits 0 only when lost, corrupted, stuck and
# unmodelable are all 0 and scrub passed.
set -u

minutes=30
build=build
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) minutes=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        *) echo "usage: $0 [--minutes N] [--build DIR] [--keep]" >&2; exit 2 ;;
    esac
done

here=$(cd "$(dirname "$0")/../.." && pwd)
case "$build" in /*) ;; *) build="$here/$build" ;; esac
dgcfs="$build/tools/dgcfs"
dgcctl="$build/tools/dgcctl"
shim="$build/tests/fs/libdgc_fault_shim.so"
data="$here/../shared/data/pcaps/dev"
for f in "$dgcfs" "$dgcctl" "$shim"; do
    [ -e "$f" ] || { echo "soak: $f: not built (cmake --build $build --target dgcfs dgcctl dgc_fault_shim)" >&2; exit 1; }
done
[ -d "$data" ] || { echo "soak: $data: shared captures not found" >&2; exit 1; }
sources=("$data/dnscap__dns.pcap" "$data/NetShare__raw.pcap" "$data/dnscap__dns.pcap" "$data/nDPI__teams.pcap")

root=$(mktemp -d /tmp/dgcfs-soak.XXXXXX)
mnt=$root/mnt store=$root/store rules=$root/faults policy=$root/policy.toml
expect=$root/expect   # one file per accepted name: the bytes the writer wrote
mkdir -p "$mnt" "$store" "$expect" "$root/tmp"
: >"$rules"
: >"$root/rss"
write_policy() {  # $1: raw_ttl line or ""
    printf '[training]\nchunk_packets = 4000\nchunk_seconds = 3600\nquiet_ms = 300\n[volume]\nsweep_interval = 2\n%s\n' "$1" >"$policy"
}
write_policy ""

pid=
start_daemon() {
    LD_PRELOAD=$shim DGC_FAULT_RULES=$rules "$dgcfs" -f --store "$store" --policy "$policy" --train-steps 40 \
        --workers 1 --device cpu --no-passthrough "$mnt" >>"$root/daemon.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do [ -d "$mnt/retention" ] && return 0; sleep 0.2; done
    echo "soak: dgcfs did not mount; see $root/daemon.log" >&2
    exit 1
}
restarts=0
crash_restart() {
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    fusermount3 -u -z "$mnt" 2>/dev/null
    : >"$rules"
    restarts=$((restarts + 1))
    start_daemon
}
start_daemon

n=0 faults=0 writer_errors=0
pending=()  # background slow appenders: "pid name source"
accept() {  # name source: the writer was told its bytes are written
    cp "$2" "$expect/$1"
}
rand() { echo $((RANDOM % $1)); }
pick_source() { echo "${sources[$(rand ${#sources[@]})]}"; }
pick_expected() { ls "$expect" 2>/dev/null | shuf -n 1; }

fault_on=0
fault_off_at=0
deadline=$(($(date +%s) + minutes * 60))
while [ "$(date +%s)" -lt "$deadline" ]; do
    now=$(date +%s)
    if [ "$fault_on" = 1 ] && [ "$now" -ge "$fault_off_at" ]; then : >"$rules"; fault_on=0; fi
    kill -0 "$pid" 2>/dev/null || crash_restart   # a KILL rule fired
    grep VmRSS "/proc/$pid/status" 2>/dev/null | awk '{print $2}' >>"$root/rss"
    n=$((n + 1))
    name="w$n.pcap"
    src=$(pick_source)
    case $(rand 12) in
        0|1|2) cp "$src" "$mnt/retention/$name" 2>/dev/null && accept "$name" "$src" || writer_errors=$((writer_errors + 1)) ;;
        3) rsync -q "$src" "$mnt/retention/$name" 2>/dev/null && accept "$name" "$src" || writer_errors=$((writer_errors + 1)) ;;
        4) tcpdump -r "$src" -w "$root/tmp/$name" 2>/dev/null
           tcpdump -r "$src" -w "$mnt/retention/$name" 2>/dev/null && accept "$name" "$root/tmp/$name" \
               || writer_errors=$((writer_errors + 1))
           rm -f "$root/tmp/$name" ;;
        5) # a slow appender: 8 KiB every 0.2 s through one open descriptor, which hears
           # close(2)'s answer (a shell redirect would not)
           python3 -c 'import os, sys, time
src = open(sys.argv[1], "rb"); fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
while block := src.read(8192):
    os.write(fd, block); time.sleep(0.2)
os.close(fd)' "$src" "$mnt/retention/$name" 2>/dev/null &
           pending+=("$! $name $src") ;;
        6) f=$(pick_expected); [ -n "$f" ] && cat "$mnt/retention/$f" >/dev/null 2>&1 ;;
        7) f=$(pick_expected)
           if [ -n "$f" ] && [ -e "$mnt/archive/$f" ]; then
               cat "$mnt/archive/$f" >"$root/tmp/a1" 2>/dev/null && cat "$mnt/archive/$f" >"$root/tmp/a2" 2>/dev/null &&
                   ! cmp -s "$root/tmp/a1" "$root/tmp/a2" && echo "archive/$f: two reads differ" >>"$root/problems"
           fi ;;
        8) f=$(pick_expected); [ -n "$f" ] && setfattr -n user.dgcfs.hold -v $(rand 2) "$mnt/retention/$f" 2>/dev/null ;;
        9) if [ $(rand 2) = 0 ]; then write_policy "[defaults]
raw_ttl = 0"; else write_policy ""; fi
           kill -HUP "$pid" 2>/dev/null ;;
        10|11) if [ "$fault_on" = 0 ]; then
               faults=$((faults + 1))
               kinds=(ENOSPC EIO ENOSPC EIO KILL)
               wheres=("write $store/raw/" "write,create $store/staging/train-" "write,fsync $store/catalog/ $store/staging/train-"
                       "write,fsync,unlink,create $store/" "write $store/staging/")
               echo "${kinds[$(rand ${#kinds[@]})]} ${wheres[$(rand ${#wheres[@]})]}" >"$rules"
               fault_on=1; fault_off_at=$((now + 2 + $(rand 8)))
           fi ;;
    esac
    # Finished slow appenders: accepted when their shell exited 0.
    still=()
    for p in "${pending[@]}"; do
        set -- $p
        if kill -0 "$1" 2>/dev/null; then still+=("$p"); continue; fi
        if wait "$1"; then accept "$2" "$3"; else writer_errors=$((writer_errors + 1)); fi
    done
    pending=("${still[@]}")
    sleep 1
done

# Quiesce: faults off, holds and TTL as they are, wait for every job and every staging file.
: >"$rules"
for p in "${pending[@]}"; do set -- $p; wait "$1" && accept "$2" "$3"; done
kill -0 "$pid" 2>/dev/null || crash_restart
for _ in $(seq 600); do
    busy=$("$dgcctl" status "$mnt" --json 2>/dev/null | python3 -c 'import json,sys
d=json.load(sys.stdin); print(d.get("queue",{}).get("jobs",0) if isinstance(d.get("queue"),dict) else d.get("jobs",0))' 2>/dev/null)
    staged=$(ls "$store/staging" | wc -l)
    [ "${busy:-1}" = 0 ] && [ "$staged" = 0 ] && break
    sleep 1
done

lost=0 corrupted=0 unmodelable=0 untold=0
for e in "$expect"/*; do
    [ -e "$e" ] || continue
    f=$(basename "$e")
    if [ -e "$mnt/retention/$f" ]; then
        cmp -s "$e" "$mnt/retention/$f" || { corrupted=$((corrupted + 1)); echo "retention/$f: differs" >>"$root/problems"; }
    elif [ -e "$mnt/archive/$f" ]; then
        cat "$mnt/archive/$f" >"$root/tmp/a1" && cat "$mnt/archive/$f" >"$root/tmp/a2" && cmp -s "$root/tmp/a1" "$root/tmp/a2" \
            || { corrupted=$((corrupted + 1)); echo "archive/$f: unreadable or not deterministic" >>"$root/problems"; }
    elif grep -qE "close of /?$f: a write failed" "$root/daemon.log"; then
        # tcpdump -w ignores fclose's answer: the daemon refused the file at close, but the
        # writer exited 0. Refused, not lost.
        untold=$((untold + 1))
    else
        lost=$((lost + 1)); echo "$f: lost" >>"$root/problems"
    fi
    state=$(getfattr --only-values -n user.dgcfs.state "$mnt/archive/$f" 2>/dev/null || getfattr --only-values -n user.dgcfs.state "$mnt/retention/$f" 2>/dev/null)
    case "$state" in unmodelable*) unmodelable=$((unmodelable + 1)); echo "$f: $state" >>"$root/problems" ;; esac
done
stuck=$(ls "$store/staging" | wc -l)
rss_last=$(grep VmRSS "/proc/$pid/status" 2>/dev/null | awk '{print $2}')
echo "${rss_last:-0}" >>"$root/rss"
rss_max=$(sort -n "$root/rss" | tail -1)
fusermount3 -u "$mnt"
wait "$pid"
"$dgcctl" scrub "$store" >"$root/scrub.txt" 2>&1
scrub=$?
files=$(ls "$expect" | wc -l)
echo "soak: ${minutes} min, $files files accepted, $writer_errors writer errors (told), $untold refused at close but the writer ignored it, lost $lost, corrupted $corrupted," \
     "stuck $stuck, unmodelable $unmodelable, $faults faults, $restarts kill -9 restarts," \
     "daemon RSS max $((${rss_max:-0} / 1024)) MiB last $((${rss_last:-0} / 1024)) MiB, scrub exit $scrub" \
     "(error lines in log: $(grep -c '\[error\]' "$root/daemon.log"))"
[ -s "$root/problems" ] && sed 's/^/  /' "$root/problems"
ok=$([ "$lost" = 0 ] && [ "$corrupted" = 0 ] && [ "$stuck" = 0 ] && [ "$unmodelable" = 0 ] && [ "$scrub" = 0 ] && echo 1 || echo 0)
if [ "$keep" = 1 ] || [ "$ok" = 0 ]; then echo "soak: kept $root"; else rm -rf "$root"; fi
[ "$ok" = 1 ]
