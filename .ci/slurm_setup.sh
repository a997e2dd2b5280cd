#!/usr/bin/env bash
# A one-node SLURM cluster on localhost for the launcher tests (Debian: slurm-wlm, munge).
#
#   .ci/slurm_setup.sh start [DIR [PORT]]  install if missing (apt-get, as root), write DIR/slurm.conf,
#                                          start munged, slurmctld (on PORT), slurmd (on PORT+1);
#                                          prints `export SLURM_CONF=...`
#   .ci/slurm_setup.sh stop [DIR]          stops the daemons this script started (by their pid files)
#
# DIR defaults to /tmp/jaxdl-slurm, PORT to 16817. Nothing under /etc is changed: the config lives
# in DIR and clients find it through $SLURM_CONF. Two clusters on one machine need two PORTs (a
# slurmctld whose port is taken exits, and its clients would reach the other cluster): a taken
# port is refused. Exit code 3 means "this machine cannot" (not root, apt
# failed, a daemon did not come up); the reason is on stderr.
set -euo pipefail
action=${1:-start}
dir=$(realpath -m "${2:-/tmp/jaxdl-slurm}")
port=${3:-16817}
conf=$dir/slurm.conf
cannot() { echo "slurm_setup: cannot: $*" >&2; exit 3; }

stop() {
  for name in slurmd slurmctld munged; do
    pidfile=$dir/$name.pid
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
  done
  # A daemon stopped before it wrote its pid file: found by its config file, which is this DIR's.
  pkill -f -- "-f $conf" 2>/dev/null || true
}

if [[ $action == stop ]]; then stop; exit 0; fi
[[ $action == start ]] || { echo "usage: $0 start|stop [DIR]" >&2; exit 2; }
[[ $(id -u) == 0 ]] || cannot "not root (slurmd and munged need root here)"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y --no-install-recommends slurm-wlm munge >"$dir.apt.log" 2>&1 ||
    { apt-get update >>"$dir.apt.log" 2>&1 &&
      apt-get install -y --no-install-recommends slurm-wlm munge >>"$dir.apt.log" 2>&1; }; } ||
    cannot "apt-get install slurm-wlm munge failed (see $dir.apt.log)"
fi

stop  # a previous run's daemons, if any
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$port" $((port + 1)); do
  listening "$p" && cannot "port $p is taken (another cluster?); pass a free PORT"
done
mkdir -p "$dir"/{state,spool,munge}
chmod 755 "$dir"  # munged (user munge) reaches its socket through it
chown munge:munge "$dir/munge"
[[ -s /etc/munge/munge.key ]] || mungekey --create --keyfile=/etc/munge/munge.key
chown munge:munge /etc/munge/munge.key && chmod 600 /etc/munge/munge.key
# CPUs above the real count: the tests run more small processes than cores, slowly but at once.
cat > "$conf" <<CONF
ClusterName=jaxdl-ci
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
LaunchParameters=use_interactive_step
SlurmdParameters=config_overrides
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobRequeue=1
MinJobAge=600
KillWait=10
InactiveLimit=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=8 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

runuser -u munge -- munged --socket="$dir/munge/munge.socket" --pid-file="$dir/munge/munged.pid" \
  --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munge.seed" ||
  cannot "munged did not start (see $dir/munge/munged.log)"
for _ in $(seq 50); do [[ -S $dir/munge/munge.socket ]] && break; sleep 0.1; done
cp "$dir/munge/munged.pid" "$dir/munged.pid"
slurmctld -f "$conf" || cannot "slurmctld did not start (see $dir/slurmctld.log)"
slurmd -f "$conf" -N localhost || cannot "slurmd did not start (see $dir/slurmd.log)"
export SLURM_CONF=$conf
alive() { [[ -s $dir/$1.pid ]] && kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }
# A daemon writes its pid file a moment after it forks: gone only once the file names a dead process.
dead() { [[ -s $dir/$1.pid ]] && ! kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }
for _ in $(seq 100); do
  dead slurmctld && { stop; cannot "slurmctld exited (port $port taken? see $dir/slurmctld.log)"; }
  dead slurmd && { stop; cannot "slurmd exited (port $((port + 1)) taken? see $dir/slurmd.log)"; }
  # Our own daemons answering, not merely some cluster on the port.
  if alive slurmctld && alive slurmd && sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
    echo "export SLURM_CONF=$conf"
    exit 0
  fi
  sleep 0.2
done
stop
cannot "the node did not become idle in 20 s (see $dir/slurmctld.log, $dir/slurmd.log)"
