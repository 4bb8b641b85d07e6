#!/usr/bin/env bash
# Starts a private single-node Slurm cluster (munge, slurmctld, slurmd) under DIR, without systemd: its own munge
# key and socket, a generated slurm.conf, every pid/log/state file under DIR. Stop it with scripts/slurm/stop.sh DIR.
# Needs Debian's slurmctld slurmd slurm-client munge. Facts behind the settings: README "Scaling out" section.
# usage: scripts/slurm/start.sh DIR [CPUS]   then: export SLURM_CONF=DIR/slurm.conf
set -euo pipefail
dir=$(realpath -m "$1")
cpus=${2:-$(( $(nproc) > 4 ? $(nproc) : 4 ))}
port=${SLURM_CI_PORT:-6817}
mkdir -p "$dir"/munge "$dir"/run "$dir"/log "$dir"/state "$dir"/spool/localhost
chmod 700 "$dir"/munge
chmod 755 "$dir" "$dir"/run # munged refuses a socket folder that is not 755 (and folders above it not searchable by all)

key="$dir/munge/munge.key"
[ -f "$key" ] || { head -c 1024 /dev/urandom > "$key"; chmod 400 "$key"; }
munged --key-file="$key" --socket="$dir/run/munge.socket" --pid-file="$dir/run/munged.pid" \
  --seed-file="$dir/munge/munge.seed" --log-file="$dir/log/munged.log"

mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
cat > "$dir/slurm.conf" <<CONF
ClusterName=clipbench
SlurmctldHost=localhost
SlurmUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/run/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
# the cgroup plugins fail here (no freezer cgroup): every job would fail and the node drain
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MailProg=/bin/true
# trust the configured CPUs/RealMemory (CPUs may exceed the real count, so more array tasks run at once)
SlurmdParameters=config_overrides
# without these, sbatch --wait polls every 2, 8, then 32 s
SchedulerParameters=batch_sched_delay=0
MinJobAge=5
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=ci Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost
for _ in $(seq 1 100); do
  state=$(sinfo -h -o %t 2>/dev/null || true)
  [ "$state" = idle ] && { echo "slurm: node idle ($cpus CPUs), SLURM_CONF=$SLURM_CONF"; exit 0; }
  sleep 0.1
done
echo "slurm: the node did not become idle (state: ${state:-none}); logs in $dir/log" >&2
exit 1
