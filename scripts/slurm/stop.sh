#!/usr/bin/env bash
# Stops the cluster scripts/slurm/start.sh DIR started: TERM by its pid files, KILL after 10 s.
# usage: scripts/slurm/stop.sh DIR
set -uo pipefail
dir=$(realpath -m "$1")
for name in slurmd slurmctld munged; do
  f="$dir/run/$name.pid"
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  kill -TERM "$pid" 2>/dev/null || continue
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  rm -f "$f"
done
exit 0
