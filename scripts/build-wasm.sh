#!/bin/sh
# Rebuilds wasm/resample.wasm (committed) from wasm/resample.c: freestanding C, no libc, WebAssembly SIMD.
# Needs Debian 12's clang 14 and lld (apt-get install clang lld); other versions work but emit other bytes.
#   scripts/build-wasm.sh [OUT]     (default wasm/resample.wasm)
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/wasm/resample.wasm}"
clang --target=wasm32 -O3 -msimd128 -mbulk-memory -nostdlib -ffreestanding -fno-builtin \
  -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--export=__heap_base -Wl,-z,stack-size=65536 -Wl,--initial-memory=1048576 \
  -Wl,--strip-all \
  -o "$out" "$root/wasm/resample.c"
echo "$out: $(wc -c < "$out") bytes"
