#!/usr/bin/env bash
# The sharding tests under a real Slurm (a private single-node cluster, see start.sh), run by .ci/run:
#  1. `sbatch --array=0-3 --wait` of `clip-bench embed --shard auto` on the bundled Fashion-MNIST train split with
#     `mini`: the assembled entry equals a single-process run byte for byte;
#  2. the same with one array task cancelled (scancel) mid-run and the array resubmitted: the cancelled task resumes
#     its chunks, the others find theirs done;
#  3. `sbatch --array=0-1 --wait` of `clip-bench suite --shard auto` over two datasets (the bundled Fashion-MNIST
#     and a tiny rendered_sst2 package) into one --out, then `clip-bench report`: every table and report CSV equals
#     a single-process suite's, apart from timings;
#  4. an array whose task 1 fails: `sbatch --wait` exits non-zero and nothing is assembled.
# usage: [SLURM_CI_CASES="1 2 3 4"] scripts/slurm/ci_test.sh [REF_CACHE]   REF_CACHE: an embedding cache that may already hold the
# single-process entry (CI passes the one its regression run just filled); it is computed there otherwise.
# Needs Debian's slurmctld slurmd slurm-client munge, and dist/ built (`npm test` or `npm run build`: case 3 takes its
# suite and its comparison from test/support/suite-results.ts); exits non-zero when an assertion fails.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/clip-bench-slurm.XXXXXX")
chmod 755 "$work" # munged wants every folder above its socket searchable by all
ref_cache=${1:-$work/ref-cache}
cli=(node "$repo/bin/clip-bench")
fail() { echo "slurm ci: FAIL: $*" >&2; exit 1; }
say() { echo "slurm ci: $*" >&2; }
cases=" ${SLURM_CI_CASES:-1 2 3 4} "
want() { [[ $cases == *" $1 "* ]]; }

cleanup() {
  "$repo/scripts/slurm/stop.sh" "$work/slurm"
  rm -rf "$work"
}
trap cleanup EXIT
"$repo/scripts/slurm/start.sh" "$work/slurm" 4 >&2
export SLURM_CONF="$work/slurm/slurm.conf"

# a job script: clip-bench with the arguments in $CLIP_BENCH_ARGS (the environment passes to the job)
cat > "$work/job.sh" <<EOF
#!/usr/bin/env bash
# task 1 fails on purpose when FAIL_TASK=1 (test 4)
extra=()
if [ "\${FAIL_TASK:-}" = "\$SLURM_ARRAY_TASK_ID" ]; then extra=(--batch-size 0); fi
exec node "$repo/bin/clip-bench" \$CLIP_BENCH_ARGS "\${extra[@]}"
EOF
chmod +x "$work/job.sh"
mkdir -p "$work/logs"

entry_of() { # cache dir + args -> the complete entry's folder (a cache hit, never a recomputation)
  local cache=$1
  shift
  local out
  out=$("${cli[@]}" embed --cache-dir "$cache" "$@" 2> "$work/hit.err") || fail "embed --cache-dir $cache: $(cat "$work/hit.err")"
  grep -q 'cache hit' "$work/hit.err" || fail "the entry in $cache was not complete: $(cat "$work/hit.err")"
  echo "$out"
}

same_entry() { # entry folder vs the reference entry folder
  cmp "$1/embeddings.npy" "$2/embeddings.npy" || fail "$1/embeddings.npy differs from the single-process run"
  cmp "$1/labels.npy" "$2/labels.npy" || fail "$1/labels.npy differs from the single-process run"
  [ "$(ls "$1")" = "$(printf 'embeddings.npy\nlabels.npy\nmeta.json')" ] || fail "$1 holds more than the entry's three files: $(ls "$1")"
}

args=(--split train --no-progress)
t0=$SECONDS
if want 1 || want 2; then
  say "single-process reference: clip-bench embed ${args[*]} (a cache hit when CI's regression run filled $ref_cache)"
  "${cli[@]}" embed --cache-dir "$ref_cache" "${args[@]}" > /dev/null
  ref=$(entry_of "$ref_cache" "${args[@]}")
fi

# 1 ----------------------------------------------------------------------------------------------------------------
if want 1; then
  say "1: sbatch --array=0-3 --wait: embed --shard auto"
  shared=$work/shared-1
  export CLIP_BENCH_ARGS="embed --cache-dir $shared --shard auto ${args[*]}"
  timeout 600 sbatch --array=0-3 --wait -o "$work/logs/1-%a.log" "$work/job.sh" > /dev/null || fail "the array job failed: $(cat "$work"/logs/1-*.log)"
  cat "$work"/logs/1-*.log >&2
  [ "$(grep -c 'assembled the entry' "$work"/logs/1-*.log | awk -F: '{ s += $2 } END { print s }')" = 1 ] || fail "not exactly one task assembled the entry"
  same_entry "$(entry_of "$shared" "${args[@]}")" "$ref"
  say "1: ok (${SECONDS}s so far)"
fi

# 2 ----------------------------------------------------------------------------------------------------------------
if want 2; then
  say "2: one task cancelled mid-run (scancel), the array resubmitted"
  shared=$work/shared-2
  export CLIP_BENCH_ARGS="embed --cache-dir $shared --shard auto ${args[*]}"
  job=$(sbatch --parsable --array=0-3 -o "$work/logs/2a-%a.log" "$work/job.sh")
  # task 2's share of the 59-chunk grid starts at chunk 29 (rows 29696-): cancel it once it has written one chunk
  deadline=$((SECONDS + 300))
  until compgen -G "$shared/*/*/chunks/29696-30720.f32" > /dev/null; do
    [ $SECONDS -lt $deadline ] || fail "task 2 wrote no chunk within 300 s"
    sleep 0.2
  done
  scancel "${job}_2"
  say "2: cancelled task ${job}_2 after its first chunk"
  deadline=$((SECONDS + 300))
  while [ -n "$(squeue -h -j "$job" 2> /dev/null)" ]; do
    [ $SECONDS -lt $deadline ] || fail "the array did not end within 300 s"
    sleep 0.5
  done
  compgen -G "$shared/*/*/meta.json" > /dev/null && fail "the entry was assembled although task 2 was cancelled"
  compgen -G "$shared/*/*/embeddings.npy" > /dev/null && fail "a half-assembled embeddings.npy was left behind"
  timeout 600 sbatch --array=0-3 --wait -o "$work/logs/2b-%a.log" "$work/job.sh" > /dev/null || fail "the resubmitted array failed: $(cat "$work"/logs/2b-*.log)"
  cat "$work"/logs/2b-*.log >&2
  # the resubmitted task 2 computed part of its 15360 rows (it kept what it wrote before the scancel); the others none
  grep -Eq 'rows 29696-45056 of 60000, [0-9]+ computed now' "$work/logs/2b-2.log" || fail "task 2's log: $(cat "$work/logs/2b-2.log")"
  computed=$(grep -Eo '[0-9]+ computed now' "$work/logs/2b-2.log" | grep -Eo '^[0-9]+')
  [ "$computed" -gt 0 ] && [ "$computed" -lt 15360 ] || fail "the resubmitted task 2 computed $computed of its 15360 rows"
  for t in 0 1 3; do grep -q ', 0 computed now' "$work/logs/2b-$t.log" || fail "task $t recomputed: $(cat "$work/logs/2b-$t.log")"; done
  same_entry "$(entry_of "$shared" "${args[@]}")" "$ref"
  say "2: ok (${SECONDS}s so far)"
fi

# 3 ----------------------------------------------------------------------------------------------------------------
if want 3; then
  say "3: sbatch --array=0-1 --wait: suite --shard auto over two datasets, then report"
  fixture=(node "$repo/dist/test/support/suite-results-cli.js")
  mapfile -t suite < <("${fixture[@]}" args)
  # each run its own cache home (the datasets and embeddings), so the sharded suite computes everything again
  for home in single sharded; do
    mkdir -p "$work/suite-$home"
    "${fixture[@]}" packages "$work/suite-$home"
  done
  XDG_CACHE_HOME=$work/suite-single HF_HUB_OFFLINE=1 "${cli[@]}" suite "${suite[@]}" --no-progress --out "$work/results-single" 2> "$work/logs/suite-single.log" ||
    fail "the single-process suite failed: $(cat "$work/logs/suite-single.log")"
  export CLIP_BENCH_ARGS="suite ${suite[*]} --no-progress --shard auto --out $work/results-sharded"
  XDG_CACHE_HOME=$work/suite-sharded HF_HUB_OFFLINE=1 timeout 600 sbatch --array=0-1 --wait -o "$work/logs/3-%a.log" "$work/job.sh" > /dev/null ||
    fail "the suite array failed: $(cat "$work"/logs/3-*.log)"
  cat "$work"/logs/3-*.log >&2
  # each task ran its own model x dataset group, and neither wrote the report
  grep -q 'mini x fashion-mnist x fewshot: done' "$work/logs/3-0.log" || fail "task 0 did not run fashion-mnist"
  grep -q 'mini x rendered_sst2 x fewshot: done' "$work/logs/3-1.log" || fail "task 1 did not run rendered_sst2"
  [ -e "$work/results-sharded/report" ] && fail "a shard wrote the report"
  XDG_CACHE_HOME=$work/suite-sharded HF_HUB_OFFLINE=1 "${cli[@]}" report --results "$work/results-sharded" > /dev/null 2> "$work/logs/suite-report.log" ||
    fail "report over the shards' results failed: $(cat "$work/logs/suite-report.log")"
  "${fixture[@]}" diff "$work/results-single" "$work/results-sharded" || fail "the sharded suite's tables or report differ from the single-process suite's"
  say "3: ok (${SECONDS}s so far)"
fi

# 4 ----------------------------------------------------------------------------------------------------------------
if want 4; then
  say "4: an array whose task 1 fails"
  shared=$work/shared-4
  small=(--split test --limit 3000 --no-progress)
  export CLIP_BENCH_ARGS="embed --cache-dir $shared --shard auto ${small[*]}"
  set +e
  FAIL_TASK=1 timeout 300 sbatch --array=0-1 --wait -o "$work/logs/4-%a.log" "$work/job.sh" > /dev/null
  rc=$?
  set -e
  [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "sbatch --wait exited $rc for an array with a failing task"
  grep -q -- '--batch-size 0' "$work/logs/4-1.log" || fail "task 1's log: $(cat "$work/logs/4-1.log")"
  compgen -G "$shared/*/*/meta.json" > /dev/null && fail "an entry with a failed shard was assembled"
  compgen -G "$shared/*/*/embeddings.npy" > /dev/null && fail "a failed shard left an embeddings.npy"
  say "4: ok: sbatch --wait exited $rc"
fi

say "all Slurm tests passed in $((SECONDS - t0)) s"
