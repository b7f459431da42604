#!/usr/bin/env bash
# Builds llama.cpp's own llama-bench from the exact source Pith links (the
# vendored copy inside the llama-cpp-sys-2 crate) with the same CPU flags,
# and runs it with the method `pith bench` uses (-p 512 -n 128), so the two
# can be compared on one machine.
#   scripts/bench-raw-llama.sh [MODEL.gguf] [native|portable]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="${1:-$root/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
flavor="${2:-native}"
src=$(cd "$root" && cargo metadata --format-version 1 | python3 -c '
import json, os, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == "llama-cpp-sys-2":
        print(os.path.join(os.path.dirname(p["manifest_path"]), "llama.cpp"))
        break')
build="${TMPDIR:-/tmp}/pith-llama-bench-$flavor"
if [ "$flavor" = native ]; then
  cpu=(-DGGML_NATIVE=ON)
else # what llama-cpp-sys-2 sets for the default x86-64 target features
  cpu=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_SSE42=ON)
fi
if [ ! -x "$build/bin/llama-bench" ]; then
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${cpu[@]}" -DGGML_OPENMP=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DBUILD_SHARED_LIBS=OFF >/dev/null
  cmake --build "$build" --target llama-bench -j "$(nproc)" >/dev/null
fi
threads=$(python3 -c 'import os; print(len({l for l in open("/proc/cpuinfo") if l.startswith("core id")}) or os.cpu_count())')
"$build/bin/llama-bench" -m "$model" -p 512 -n 128 -t "$threads" -r 3 --mmap 0 -o json
