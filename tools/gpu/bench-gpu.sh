#!/bin/bash
# Builds dgcctl against the LibTorch inside a machine's PyTorch wheel (CUDA) and measures
# training on the CPU against the GPU in one run: per-step time of `dgcctl warmup`, per-trace
# `dgcctl compress` (twice on the GPU: are the bytes the same?), the fidelity of what each
# model regenerates, and per-chunk cost once CUDA has started (DGC_GPU_SECTIONS picks among
# "warmup compress steady"; all by default). Made for a lent GPU machine that has PyTorch,
# CMake, ninja and a compiler but none of dgcfs's other libraries and no network (see
# BENCHMARKS.md, "Training on a GPU").
#
#   tools/gpu/bench-gpu.sh DEBS PCAPS BASE OUTDIR
#
# DEBS: Debian .deb files of the build's other libraries (libpcap0.8-dev, libzstd-dev,
# libspdlog-dev, libfmt-dev, libcli11-dev, nlohmann-json3-dev, pkgconf and their runtime
# packages), copied into /usr. PCAPS: the traces, named as in ../shared/data/pcaps/dev.
# BASE: a base model from `dgcctl warmup`. Results: OUTDIR/results.tsv and the logs.
# TORCH_CMAKE names LibTorch's CMake folder instead of the wheel's (a dry run on a machine
# without a GPU: /usr/lib/x86_64-linux-gnu/cmake; the GPU runs then fail and say so).
set -u
debs=$1 pcaps=$2 base=$3 out=$4
mkdir -p "$out"
exec > >(tee "$out/run.log") 2>&1
say() { echo "== $(date -u +%T) $*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
res="$out/results.tsv"
printf 'what\ttrace\tdevice\twall_s\tdetail\n' > "$res"

say "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "cpus $(nproc); $(grep -m1 'model name' /proc/cpuinfo)"
gcc --version | head -1; cmake --version | head -1
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "abi", torch._C._GLIBCXX_USE_CXX11_ABI)'
torch_cmake=${TORCH_CMAKE:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}

say "libraries"
# Unpacked aside and copied into /usr: `dpkg -x` straight into / would turn a merged-/usr
# system's /lib symlink into a directory (Debian 12's libdbus ships files under /lib).
# The wheel's include/ carries a newer fmt of its own, which would shadow Debian 12's fmt 9
# that its spdlog was built with: fmt 9 gets a folder of its own, searched first (-I).
rm -rf /tmp/deps /tmp/fmt9
for f in "$debs"/*.deb; do dpkg -x "$f" /tmp/deps; done
if [ -d /tmp/deps/lib ]; then cp -a /tmp/deps/lib/. /usr/lib/; fi
cp -a /tmp/deps/usr/. /usr/
mkdir -p /tmp/fmt9 && cp -a /tmp/deps/usr/include/fmt /tmp/fmt9/
ldconfig

say "build"
b=/tmp/dgc-gpu-build
t0=$(now)
cmake -S . -B $b -G Ninja -DCMAKE_BUILD_TYPE=Release -DDGC_WITH_FUSE=OFF -DDGC_TESTS=OFF \
    -DCMAKE_CXX_FLAGS=-I/tmp/fmt9 -DCMAKE_PREFIX_PATH="$torch_cmake" > "$out/cmake.log" 2>&1 || { tail -30 "$out/cmake.log"; exit 1; }
cmake --build $b --target dgcctl -j"$(nproc)" > "$out/build.log" 2>&1 || { grep -m20 -B2 -A8 'error' "$out/build.log"; exit 1; }
printf 'build\t-\t-\t%.1f\t%s\n' "$(since $t0)" "$(nproc) jobs" >> "$res"
d=$b/tools/dgcctl
$d --version

# One line of results for one timed command; its output goes to the log.
timed() {  # what trace device -- command...
    local what=$1 trace=$2 dev=$3; shift 4
    local t0 rc; t0=$(now)
    "$@" > /tmp/cmd.out 2>&1; rc=$?
    cat /tmp/cmd.out
    local detail; detail=$(grep -E '^(time|fidelity) |steps, loss|^mean \(17\)|^joint mean|^verdict' /tmp/cmd.out | tr -s ' ' | paste -sd';')
    printf '%s\t%s\t%s\t%.2f\trc=%d %s\n' "$what" "$trace" "$dev" "$(since $t0)" "$rc" "$detail" >> "$res"
}

sections=" ${DGC_GPU_SECTIONS:-warmup compress steady} "
want() { [[ $sections == *" $1 "* ]]; }

if want warmup; then
say "warm-up: the same 10 traces, 200 and 1000 steps, CPU (one thread) and GPU"
hist=()
for t in IoT-Dataset__blink-cam-01 IoT-Dataset__lockly-hub-01 IoT-Dataset__schlage-lock-01 NetShare__raw \
         PcapPlusPlus__example nDPI__netflix nDPI__reddit nDPI__teams \
         packet-captures__amp.dns.RRSIG.fragmented pcaps__evidence04; do hist+=("$pcaps/$t.pcap"); done
w=/tmp/warm; mkdir -p $w
for steps in 200 1000; do
    timed warmup "10 traces" cpu -- env CUDA_VISIBLE_DEVICES= $d warmup --steps $steps -o $w/cpu$steps.model "${hist[@]}"
    timed warmup "10 traces" cuda -- $d warmup --steps $steps -o $w/cuda$steps.model "${hist[@]}"
done
timed warmup "10 traces" cuda -- $d warmup --steps 200 -o $w/cuda200b.model "${hist[@]}"
cmp -s $w/cuda200.model $w/cuda200b.model && echo "GPU warm-up repeated: same bytes" || echo "GPU warm-up repeated: bytes differ"
sha256sum $w/*.model
fi

if want compress; then
say "compress, expand, eval: six traces, CPU once, GPU twice"
c=/tmp/comp; mkdir -p $c
for t in libtrace__isp-fragtest USTC-TFC2016__Tinba IoT-Dataset__ultraloq-hub-01 nDPI__gnutella \
         packet-captures__pkt.TCP.synflood.spoofed PcapPlusPlus__tls2; do
    p=$pcaps/$t.pcap
    timed compress $t cpu -- $d compress "$p" --base "$base" --device cpu -o $c/$t.cpu.dgc
    timed compress $t cuda -- $d compress "$p" --base "$base" --device cuda -o $c/$t.cuda.dgc
    timed compress $t cuda -- $d compress "$p" --base "$base" --device cuda -o $c/$t.cuda2.dgc
    cmp -s $c/$t.cuda.dgc $c/$t.cuda2.dgc && echo "$t: GPU twice: same bytes" || echo "$t: GPU twice: bytes differ"
    for dev in cpu cuda; do
        timed expand $t $dev -- $d expand $c/$t.$dev.dgc -o $c/$t.$dev.pcap
        timed eval $t $dev -- $d eval "$p" $c/$t.$dev.pcap
    done
done
sha256sum $c/*.dgc | tee "$out/dgc.sha256"
fi

# A daemon pays for CUDA's start once: many chunks in one process show what each costs after.
if want steady; then
say "steady state: 5,000-packet chunks, one process per trace and device"
m=/tmp/many; mkdir -p $m
for t in USTC-TFC2016__Tinba IoT-Dataset__ultraloq-hub-01 packet-captures__pkt.TCP.synflood.spoofed; do
    for dev in cpu cuda; do
        timed compress-5k $t $dev -- $d compress "$pcaps/$t.pcap" --base "$base" --device $dev --chunk-packets 5000 -o $m/$t.$dev.dgc
    done
done
fi
say "done"
