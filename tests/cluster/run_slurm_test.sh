#!/usr/bin/env bash
# `make test-cluster`: run the smoke DAG through a real, single-node SLURM on this machine and check
# that its outputs and MLflow runs equal those of a local run (tests/cluster/test_slurm.py).
#
# What it does (as root, on a Debian/Ubuntu machine that is NOT already a SLURM node):
#   1. apt-get installs Debian's slurm-wlm (slurmctld, slurmd, client commands) and munge, if missing;
#   2. starts munged (own key and socket under a temp dir), slurmctld and slurmd with a minimal
#      slurm.conf: one node `localhost` (CPUs=8 on any machine — the profile asks 4 for training —,
#      RealMemory = 80% of this machine's memory), no
#      cgroups (proctrack/linuxproc, task/none), no accounting database (accounting_storage/none):
#      the executor plugin then queries job states with `squeue`, which only sees a finished job for
#      MinJobAge seconds (MinJobAge=3600 here: the plugin's status checks back off to 180 s and
#      were 9 min apart on the loaded 2-core machine, so with 300 s two finished jobs were never seen);
#   3. runs pytest -m cluster (DIRS_TEST_CLUSTER=1), which starts an MLflow tracking server on
#      loopback and runs the smoke DAG twice: locally and with `--profile workflow/profiles/slurm`;
#   4. stops every daemon it started and removes /etc/slurm/slurm.conf and the temp dir (trap).
#
# slurm.conf must be at /etc/slurm/slurm.conf: the plugin's job step clears SLURM_* variables
# (SLURM_CONF included) before calling `srun`, so srun only finds the default location.
#
# Environment: PYTHON (default .venv/bin/python; needs the `cluster` and `test` extras),
# DIRS_SLURM_PORT (slurmctld port, default 16817; slurmd uses +1), KEEP_SLURM_LOGS=1 keeps the temp dir.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
PORT="${DIRS_SLURM_PORT:-16817}"
CONF=/etc/slurm/slurm.conf
MARK="# written by DIRS tests/cluster/run_slurm_test.sh"
NODE_CPUS=8  # what the test node declares (>= the largest cpus_per_task of workflow/profiles/slurm)
T0=$(date +%s)

say() { printf '[test-cluster %4ds] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (installs packages, starts slurmd as root)"
[ -x "$PY" ] || die "no Python at $PY (set PYTHON=...)"
if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    die "$CONF exists and was not written by this script: this machine is a SLURM node; not touching it"
fi
if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
    die "slurmctld/slurmd already running on this machine; not starting a second SLURM"
fi

# ---------------------------------------------------------------------------------- 1. packages
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null \
        || ! command -v sbatch >/dev/null; then
    say "installing slurm-wlm and munge (apt-get)"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null
fi
"$PY" -c "import snakemake_executor_plugin_slurm" 2>/dev/null \
    || die "snakemake-executor-plugin-slurm missing: $PY -m pip install -e '.[cluster]'"
say "$(slurmctld -V), $(munged -V 2>&1 | head -1)"

# ------------------------------------------------------------------------------ 2. daemons
WORK="$(mktemp -d /tmp/dirs-slurm.XXXXXX)"
chmod 755 "$WORK"                       # munged needs execute permission for all on the socket path
mkdir -p "$WORK"/{munge,state,spool,log}
chown munge:munge "$WORK/munge"

cleanup() {
    local rc=$?
    set +e
    if command -v scancel >/dev/null && [ -e "$CONF" ]; then scancel --user "$(id -un)" 2>/dev/null; fi
    for name in slurmd slurmctld; do
        if [ -s "$WORK/$name.pid" ]; then kill "$(cat "$WORK/$name.pid")" 2>/dev/null; fi
    done
    if [ -s "$WORK/munge/munged.pid" ]; then kill "$(cat "$WORK/munge/munged.pid")" 2>/dev/null; fi
    for f in "$WORK/slurmd.pid" "$WORK/slurmctld.pid" "$WORK/munge/munged.pid"; do
        if [ -s "$f" ]; then
            pid=$(cat "$f" 2>/dev/null) || continue
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        fi
    done
    if [ "$rc" != 0 ]; then
        for f in "$WORK"/log/*.log; do echo "== $f (tail)"; tail -n 20 "$f"; done
    fi
    if [ -e "$CONF" ] && grep -qF "$MARK" "$CONF"; then rm -f "$CONF"; fi
    if [ "${KEEP_SLURM_LOGS:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
    say "daemons stopped; exit $rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting munged"
runuser -u munge -- mungekey --create --keyfile="$WORK/munge/munge.key"
runuser -u munge -- munged --socket="$WORK/munge/munge.socket" --key-file="$WORK/munge/munge.key" \
    --pid-file="$WORK/munge/munged.pid" --log-file="$WORK/munge/munged.log" \
    --seed-file="$WORK/munge/munged.seed"
munge -S "$WORK/munge/munge.socket" -n | unmunge -S "$WORK/munge/munge.socket" >/dev/null \
    || die "munge round trip failed"

MEM_MB=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
mkdir -p /etc/slurm
cat > "$CONF" <<EOF
$MARK (removed when it exits)
ClusterName=dirstest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$WORK/munge/munge.socket
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
# no cgroups: track job processes by /proc ancestry, no task binding
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
# no slurmdbd: sacct cannot answer; the plugin is run with --slurm-status-command squeue, which
# sees finished jobs for MinJobAge seconds
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=3600
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
MpiDefault=none
ReturnToService=2
# 8 CPUs on this 2-core machine (oversubscribed): workflow/profiles/slurm asks 4 cores for the
# training stages, as on a real cluster; config_overrides lets slurmd accept more than it finds
SlurmdParameters=config_overrides
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$NODE_CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

say "starting slurmctld and slurmd (node localhost: $NODE_CPUS CPUs, ${MEM_MB} MB)"
slurmctld -f "$CONF"
slurmd -f "$CONF" -N localhost
for _ in $(seq 60); do
    state=$(sinfo -h -n localhost -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 1
done
[ "$state" = idle ] || die "node localhost not idle after 60 s (state: '${state}')"
say "SLURM up: $(sinfo -h -o '%P %a %D %t %N')"

# ------------------------------------------------------------------------------ 3. the test
say "running tests/cluster (local run + SLURM run of the smoke DAG)"
cd "$ROOT"
DIRS_TEST_CLUSTER=1 "$PY" -m pytest -q -m cluster -p no:cacheprovider tests/cluster "$@"
say "passed"
