#!/usr/bin/env bash
# Installs everything dgcfs needs to build, run and test, from Debian's packages.
# Safe to run again; needs root (apt-get).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  build-essential cmake pkg-config
  libfuse3-dev fuse3
  libtorch-dev libopenblas0-pthread    # openblas: the reference BLAS makes training 4-9x slower
  libzstd-dev zstd libpcap-dev liblmdb-dev libspdlog-dev
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  libgtest-dev
  tshark tcpdump                       # tests read synthetic output with them (capinfos comes with tshark)
  clang libclang-rt-14-dev             # libFuzzer target
  rsync attr xz-utils                  # integration tests and benchmarks
  tcptrace argus-client argus-server  # tools/analyst/compare.sh reads captures as an analyst does
  lmdb-utils                           # tests/golden/make-fixture.sh compacts a fixture's catalog (mdb_copy)
  systemd                              # systemd-analyze verify of the packaged unit (tests/packaging)
  prometheus-node-exporter curl        # tests/fs/daemon_test scrapes dgcfs --metrics-file through the real exporter
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
