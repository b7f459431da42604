#!/usr/bin/env bash
# Raw llama.cpp figures to compare with `pith bench`: compiles
# scripts/raw-bench/raw_bench.cpp (llama-bench's method) against the static
# llama.cpp libraries that Pith's own build produced, so the source and the
# CPU flags are exactly the same, then runs it.
#   scripts/bench-raw-llama.sh [MODEL.gguf] [THREADS]
# Build Pith first (./pith.sh start or cargo build). Honours CARGO_TARGET_DIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="${1:-$root/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
threads="${2:-$(grep '^core id' /proc/cpuinfo | sort -u | wc -l)}"
target=$(cd "$root" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
out=$(ls -td "$target"/debug/build/llama-cpp-sys-2-*/out 2>/dev/null | while read -r d; do [ -f "$d/lib/libllama.a" ] && echo "$d" && break; done)
[ -n "$out" ] || { echo "no llama.cpp build found under $target; build Pith first" >&2; exit 1; }
bin="$out/pith-raw-bench"
g++ -O2 -std=c++17 -march=native -I "$out/include" "$root/scripts/raw-bench/raw_bench.cpp" \
  "$out/lib/libllama.a" "$out/lib/libggml.a" "$out/lib/libggml-cpu.a" "$out/lib/libggml-base.a" \
  -fopenmp -lpthread -ldl -o "$bin"
"$bin" "$model" "$threads"
