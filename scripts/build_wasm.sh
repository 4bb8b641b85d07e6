#!/bin/sh
# Rebuilds a committed WebAssembly module from its C source: wasm/resample.wasm (default) from wasm/resample.c,
# or wasm/gemm.wasm from wasm/gemm.c. Freestanding C, no libc, WebAssembly SIMD.
# Needs Debian 12's clang 14 and lld (apt-get install clang lld); other versions work but emit other bytes.
#   scripts/build_wasm.sh [OUT] [NAME]     (default wasm/resample.wasm; NAME resample or gemm)
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
name="${2:-resample}"
out="${1:-$root/wasm/$name.wasm}"
clang --target=wasm32 -O3 -msimd128 -mbulk-memory -nostdlib -ffreestanding -fno-builtin \
  -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--export=__heap_base -Wl,-z,stack-size=65536 -Wl,--initial-memory=1048576 \
  -Wl,--strip-all \
  -o "$out" "$root/wasm/$name.c"
echo "$out: $(wc -c < "$out") bytes"
