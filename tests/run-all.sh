#!/usr/bin/env bash
# The whole test suite, as README's second command and .ci/run run it:
#   1. install packages, 2. Release build + every CTest test,
#   3. ASan/UBSan build of the torch-free layers + their tests,
#   4. a short libFuzzer run of the capture parser seeded with the odd corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
total=0

# ctest with its log kept, so the closing line can count every test that ran.
run_ctest() {
  local dir=$1
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 900 | tee "$dir/ctest.log"
  total=$((total + $(sed -n 's/.* tests passed, 0 tests failed out of \([0-9]*\)$/\1/p' "$dir/ctest.log")))
}

tools/install-deps.sh

echo "== release build =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
run_ctest build

echo "== sanitizer build (ASan/UBSan, codec + fidelity) =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDGC_SANITIZE=ON \
      -DDGC_WITH_TORCH=OFF -DDGC_WITH_FUSE=OFF >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 run_ctest build-asan

if [ -f tests/fuzz/CMakeLists.txt ]; then
  echo "== fuzz the capture parser (libFuzzer, 60 s) =="
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DDGC_FUZZ=ON -DDGC_TESTS=OFF \
        -DDGC_WITH_TORCH=OFF -DDGC_WITH_FUSE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-fuzz -j"$jobs" --target fuzz_capture
  corpus=$(mktemp -d)
  cp ../shared/data/pcaps/odd/* "$corpus"/
  build-fuzz/tests/fuzz/fuzz_capture -max_total_time=60 -max_len=65536 -print_final_stats=1 "$corpus"
  rm -rf "$corpus"
fi
echo "== all tests passed =="
echo "dgcfs: $total passed, 0 failed"
