"""The SLURM workflow profile runs the micro sweep to completion on a throw-away local cluster.

The test needs root. It installs Debian's ``slurm-wlm`` and ``munge`` when they are absent, starts its
own ``munged``, ``slurmctld`` and ``slurmd`` on localhost (own config, key, socket, ports, state, pid and
log files, all in a pytest tmp dir), runs
``snakemake --workflow-profile workflow/profiles/slurm`` on ``.test/config.yaml`` two points per job
(bundles of two and of one, so both a bundle's and a run's own resources reach sbatch), checks the
stores and each job's allocation, and stops every process it started.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.slurm

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "workflow" / "profiles" / "slurm"
TEST_CONFIG = ROOT / ".test" / "config.yaml"
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", os.defpath), "/usr/local/sbin", "/usr/sbin", "/sbin"])
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "srun", "squeue", "sinfo", "scontrol", "scancel")
PACKAGES = ("slurm-wlm", "munge")
APT_TIMEOUT_S = 900
START_TIMEOUT_S = 90
WORKFLOW_TIMEOUT_S = 900
# The largest memory request of the micro sweep (the figure rules ask 4000 MB): a smaller node can
# never run those jobs.
NODE_MIN_MEMORY_MB = 4096
# Unix socket paths are limited to 108 bytes.
MAX_SOCKET_PATH = 100


# ----------------------------------------------------------------------------------- helpers
def _which(name: str) -> str | None:
    """Path of an executable, also searching the sbin directories where the daemons live."""
    return shutil.which(name, path=SEARCH_PATH)


def _tail(text: str, lines: int = 40) -> str:
    """The last ``lines`` lines of ``text``."""
    return "\n".join(text.strip().splitlines()[-lines:])


def _read(path: Path, lines: int = 200) -> str:
    """The last ``lines`` lines of a file, or why it could not be read."""
    try:
        return _tail(path.read_text(errors="replace"), lines)
    except OSError as err:
        return f"<{err}>"


def _missing_tools() -> list[str]:
    """The SLURM and munge executables that are not installed."""
    return [name for name in (*DAEMONS, *CLIENTS) if _which(name) is None]


def _ensure_slurm_installed() -> float:
    """Install slurm-wlm and munge with apt-get when absent; skip when that is impossible.

    Returns the seconds spent installing (0 when nothing was missing).
    """
    missing = _missing_tools()
    if not missing:
        return 0.0
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.skip(f"{', '.join(missing)} missing and apt-get unavailable (not a Debian-like system)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", "DPkg::Lock::Timeout=300"]
    # Keep Debian's maintainer scripts from starting system-wide munge/slurm daemons that would outlive
    # the test (the same policy Debian's Docker images ship); removed again right after the install.
    policy = Path("/usr/sbin/policy-rc.d")
    own_policy = not policy.exists()
    start = time.monotonic()
    try:
        if own_policy:
            policy.write_text("#!/bin/sh\n# temporary, written by tests/workflow/test_slurm.py\nexit 101\n")
            policy.chmod(0o755)
        # apt-get update exits 0 even when it cannot reach the archive; its warnings go into the
        # reason if the install then fails.
        notes = ""
        steps: list[tuple[str, list[str]]] = [
            ("apt-get update", [apt, *lock, "update"]),
            ("apt-get install", [apt, *lock, "install", "-y", "--no-install-recommends", *PACKAGES]),
        ]
        for label, cmd in steps:
            try:
                result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pytest.skip(f"{label} timed out after {APT_TIMEOUT_S} s (no network to the Debian archive?)")
            output = result.stdout + result.stderr
            notes += "".join(f"\n{line}" for line in output.splitlines() if line.startswith(("W:", "E:")))
            if result.returncode != 0:
                pytest.skip(f"{label} failed (no network to the Debian archive?), cannot install "
                            f"{' '.join(PACKAGES)}:{notes[-2000:]}")
    finally:
        if own_policy:
            policy.unlink(missing_ok=True)
    still_missing = _missing_tools()
    if still_missing:
        pytest.fail(f"installed {' '.join(PACKAGES)} but {', '.join(still_missing)} still not found")
    return time.monotonic() - start


def _free_ports(count: int) -> list[int]:
    """Distinct TCP ports that are free right now (bound once by the kernel, then released)."""
    sockets, ports = [], []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("", 0))
            sockets.append(sock)
            ports.append(sock.getsockname()[1])
    finally:
        for sock in sockets:
            sock.close()
    return ports


def _short_hostname() -> str:
    """``hostname -s``: the name slurmd registers under."""
    try:
        name = subprocess.run(["hostname", "-s"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        name = ""
    return name or socket.gethostname().split(".")[0]


def _node_hardware() -> dict[str, int]:
    """CPU topology and memory (MB) as slurmd itself detects them (``slurmd -C``)."""
    hardware: dict[str, int] = {}
    try:
        out = subprocess.run([_which("slurmd") or "slurmd", "-C"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    for token in out.split():
        key, _, value = token.partition("=")
        if key in {"CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore", "RealMemory"}:
            if value.isdigit():
                hardware[key] = int(value)
    if "CPUs" not in hardware or "RealMemory" not in hardware:
        hardware = {"CPUs": os.cpu_count() or 1,
                    "RealMemory": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20}
    return hardware


def _profile_settings() -> dict[str, Any]:
    """The SLURM workflow profile's settings."""
    return yaml.safe_load((PROFILE / "config.yaml").read_text()) or {}


def _stop_process(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds; always reaps the process."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


# ------------------------------------------------------------------------------ the cluster
class LocalSlurm:
    """A single-node SLURM cluster on localhost with its own munged; everything under ``root``."""

    def __init__(self, root: Path, min_job_age_s: int) -> None:
        self.root = root
        self.min_job_age_s = min_job_age_s
        self.host = _short_hostname()
        self.conf = root / "slurm.conf"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._socket_dir: Path | None = None
        for sub in ("state", "spool", "run", "log", "munge", "bin"):
            (root / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        munge_dir = root / "munge"
        if len(str(munge_dir / "munge.socket")) > MAX_SOCKET_PATH:
            self._socket_dir = Path(tempfile.mkdtemp(prefix="hp-munge-", dir="/tmp"))
            munge_dir = self._socket_dir
        self.munge_socket = munge_dir / "munge.socket"
        self.log = root / "log"

    def env(self) -> dict[str, str]:
        """Environment of the daemons and clients (sinfo, sbatch, snakemake and, via sbatch, its jobs)."""
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("SLURM_", "SBATCH_", "SRUN_"))}
        path = os.pathsep.join([str(self.root / "bin"), SEARCH_PATH])
        env.update(SLURM_CONF=str(self.conf), PATH=path, MPLBACKEND="Agg")
        return env

    def _write_srun_wrapper(self) -> None:
        """An ``srun`` first on the jobs' PATH that restores SLURM_CONF, then runs the real srun.

        snakemake-executor-plugin-slurm-jobstep (0.6.1) drops every SLURM_* variable, SLURM_CONF
        included, before the ``srun`` it runs inside each job; with the config outside /etc/slurm that
        srun then finds no cluster. Real clusters keep slurm.conf in /etc/slurm (or run configless).
        """
        wrapper = self.root / "bin" / "srun"
        wrapper.write_text(f'#!/bin/sh\nSLURM_CONF="{self.conf}"\nexport SLURM_CONF\n'
                           f'exec "{_which("srun")}" "$@"\n')
        wrapper.chmod(0o755)

    def run(self, *cmd: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Run a SLURM client command against this cluster."""
        return subprocess.run([_which(cmd[0]) or cmd[0], *cmd[1:]], env=self.env(), capture_output=True,
                              text=True, timeout=timeout)

    def write_config(self) -> dict[str, int]:
        """Write slurm.conf (and empty plugstack.conf/cgroup.conf); return the node's size and ports."""
        hw = _node_hardware()
        total = hw["RealMemory"]
        memory = int(total * 0.8)  # below the machine's, leaving room for the daemons and the OS
        if memory < NODE_MIN_MEMORY_MB:
            pytest.skip(f"machine has {total} MB of memory: too little for a node that can run jobs "
                        f"asking {NODE_MIN_MEMORY_MB} MB")
        cpus = hw["CPUs"]
        ctld_port, slurmd_port = _free_ports(2)
        topology = " ".join(f"{key}={hw[key]}" for key in
                            ("Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore") if key in hw)
        r = self.root
        self._write_srun_wrapper()
        (r / "plugstack.conf").write_text("")  # not the host's /etc/slurm/plugstack.conf
        (r / "cgroup.conf").write_text("")  # not the host's /etc/slurm/cgroup.conf (unused: no cgroups)
        self.conf.write_text(f"""\
# Written by tests/workflow/test_slurm.py: a throw-away single-node cluster on localhost.
ClusterName=homeoplastic-test
SlurmctldHost={self.host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={r / "state"}
SlurmdSpoolDir={r / "spool"}
SlurmctldPidFile={r / "run" / "slurmctld.pid"}
SlurmdPidFile={r / "run" / "slurmd.pid"}
SlurmctldLogFile={self.log / "slurmctld.log"}
SlurmdLogFile={self.log / "slurmd.log"}
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig={r / "plugstack.conf"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU={min(1000, memory // cpus)}
MinJobAge={self.min_job_age_s}
ReturnToService=2
NodeName={self.host} NodeAddr=127.0.0.1 NodeHostname={self.host} CPUs={cpus} {topology} \
RealMemory={memory} State=UNKNOWN
PartitionName=test Nodes={self.host} Default=YES MaxTime=INFINITE State=UP
""")
        return {"cpus": cpus, "memory_mb": memory, "ctld_port": ctld_port, "slurmd_port": slurmd_port}

    def _spawn(self, name: str, cmd: Sequence[str]) -> None:
        """Start a daemon in the foreground, its output in ``log/<name>.out``."""
        out = open(self.log / f"{name}.out", "wb")  # the child keeps its own copy of the fd
        try:
            self.procs[name] = subprocess.Popen(cmd, env=self.env(), stdout=out, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL)
        finally:
            out.close()

    def _wait(self, what: str, ready: Any, name: str) -> None:
        """Poll ``ready()`` until true; raise if daemon ``name`` dies or START_TIMEOUT_S passes."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited with {self.procs[name].returncode} before {what}")
            if ready():
                return
            time.sleep(0.5)
        raise RuntimeError(f"timed out after {START_TIMEOUT_S} s waiting for {what}")

    def start(self) -> None:
        """munged (own key and socket), then slurmctld, then slurmd; returns when the node is idle."""
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        self._spawn("munged", [
            _which("munged") or "munged", "--foreground", "--force",
            f"--key-file={key}", f"--socket={self.munge_socket}",
            f"--pid-file={self.root / 'run' / 'munged.pid'}",
            f"--log-file={self.log / 'munged.log'}",
            f"--seed-file={self.root / 'munge' / 'munged.seed'}",
        ])
        self._wait("the munge socket", self.munge_socket.exists, "munged")
        self._spawn("slurmctld", [_which("slurmctld") or "slurmctld", "-D", "-i", "-f", str(self.conf)])
        self._wait("slurmctld to answer", lambda: self.run("scontrol", "ping").returncode == 0, "slurmctld")
        self._spawn("slurmd", [_which("slurmd") or "slurmd", "-D", "-N", self.host, "-f", str(self.conf)])
        self._wait("the node to be idle", self._node_idle, "slurmd")

    def _node_idle(self) -> bool:
        """True when sinfo reports this cluster's single node idle."""
        out = self.run("sinfo", "-h", "-N", "-o", "%N %T").stdout.split()
        return out[:2] == [self.host, "idle"]

    def _our_processes(self) -> list[int]:
        """Pids of processes carrying this cluster's SLURM_CONF (job steps and their children)."""
        marker = f"SLURM_CONF={self.conf}".encode()
        own = {os.getpid(), *(p.pid for p in self.procs.values())}
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) in own:
                continue
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if marker in environ.split(b"\0"):
                pids.append(int(entry.name))
        return pids

    def stop(self) -> list[int]:
        """Cancel jobs, stop the daemons, kill leftover job processes; returns the pids killed last."""
        try:
            if self.procs.get("slurmctld") and self.procs["slurmctld"].poll() is None:
                self.run("scancel", f"--user={getpass.getuser()}")
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    if not self.run("squeue", "-h", "-t", "PD,R,CG").stdout.strip():
                        break
                    time.sleep(1)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for name in ("slurmd", "slurmctld", "munged"):
            if name in self.procs:
                _stop_process(self.procs[name])
        leftovers = self._our_processes()
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
        return leftovers

    def logs(self) -> str:
        """Tails of the daemons' logs and outputs."""
        parts = [f"--- {path.name} ---\n{_read(path)}" for path in sorted(self.log.iterdir())]
        return "\n".join(parts)


@pytest.fixture
def slurm_cluster(tmp_path: Path) -> Iterator[LocalSlurm]:
    """A started local cluster; stopped (and its job processes killed) afterwards, whatever happens."""
    if sys.platform != "linux":
        pytest.skip("the local SLURM cluster needs Linux")
    if os.geteuid() != 0:
        pytest.skip("needs root: installs slurm-wlm/munge and starts slurmctld, slurmd and munged")
    install_s = _ensure_slurm_installed()
    print(f"slurm-wlm/munge install took {install_s:.0f} s")
    init_s = int(_profile_settings().get("slurm-init-seconds-before-status-checks", 40))
    # Without slurmdbd the plugin learns job states from squeue, which shows finished jobs only for
    # MinJobAge seconds: it must be at least 3x the plugin's initial wait (design.md, "Scaling out").
    # Longer than the whole run here, so that the test can read every job's allocation at the end.
    cluster = LocalSlurm(tmp_path / "slurm", min_job_age_s=max(3 * init_s, WORKFLOW_TIMEOUT_S + 300))
    try:
        print(cluster.write_config())
        cluster.start()
        yield cluster
    except BaseException:
        print(cluster.logs())
        raise
    finally:
        leftovers = cluster.stop()
        if leftovers:
            print(f"killed leftover job processes: {leftovers}")


# --------------------------------------------------------------------------------- the test
def _run_workflow(cmd: Sequence[str], env: Mapping[str, str], log: Path) -> int:
    """Run snakemake with a global timeout; on timeout interrupt it (it cancels its jobs), then kill."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            return proc.wait(timeout=WORKFLOW_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            pytest.fail(f"snakemake did not finish within {WORKFLOW_TIMEOUT_S} s:\n{_read(log)}")


def _assemblies_section() -> dict[str, Any]:
    """The ``assemblies`` section as the workflow sees it: config/config.yaml, then the micro config."""
    from snakemake.utils import update_config

    from homeoplastic.config import load_schema, validate

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    update_config(config, yaml.safe_load(TEST_CONFIG.read_text()))
    schema = load_schema(ROOT / "workflow" / "schemas" / "assemblies.schema.yaml")
    return validate(config["assemblies"], schema, where="assemblies")


def _minutes(limit: str) -> float:
    """A SLURM time limit ([days-]hours:minutes:seconds or minutes:seconds) in minutes."""
    days, _, clock = limit.rpartition("-")
    parts = [int(x) for x in clock.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    hours, minutes, seconds = parts
    return (int(days or 0) * 24 + hours) * 60 + minutes + seconds / 60


def _megabytes(memory: str) -> float:
    """A squeue memory figure (``1006M``, ``4G``) in MB."""
    units = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024**2}
    return float(memory[:-1]) * units[memory[-1]] if memory[-1] in units else float(memory)


def _check_bundle_allocations(cluster: LocalSlurm, plan, stores) -> set[tuple[str, str]]:
    """Every stage bundle went out as one SLURM job with the memory and time limit its rule
    derived (the largest member's memory, the members' summed runtime; a retry doubles the
    runtime). Returns the (stage, bundle) pairs whose job completed. MinJobAge keeps finished jobs
    in squeue."""
    from homeoplastic.assemblies.bundles import bundle_resources
    from homeoplastic.assemblies.stages import STAGES

    out = cluster.run("squeue", "-h", "-t", "all", "-o", "%i|%k|%m|%l|%T").stdout
    completed = set()
    for line in out.splitlines():
        job_id, comment, memory, limit, state = line.split("|")
        # the plugin's comment: "rule_<rule>_wildcards_<bundle>"; one rule per stage
        stage = next((s for s in STAGES
                      if comment.startswith(f"rule_assemblies_{s}_bundle_wildcards_")), None)
        if stage is None:
            continue
        bundle = comment.rsplit("_", 1)[-1]
        assert bundle in plan.bundles[stage], f"SLURM job {job_id}: unexpected bundle {bundle}"
        expected = bundle_resources(stage, plan.bundles[stage][bundle], stores)
        assert _megabytes(memory) == expected["mem_mb"], f"SLURM job {job_id} ({stage}): mem {memory}"
        assert _minutes(limit) in (expected["runtime"], 2 * expected["runtime"]), (
            f"SLURM job {job_id} ({stage}): time limit {limit}, rule derived {expected}")
        if state == "COMPLETED":
            completed.add((stage, bundle))
    return completed


def test_slurm_profile_runs_the_micro_sweep_one_submission_per_bundle(
        slurm_cluster: LocalSlurm, tmp_path: Path) -> None:
    """The micro sweep's three runs, two points per job, go through sbatch to completion: each
    bundle is one SLURM job with its bundle's resources (the two full-chain runs share bundles,
    the ablation's stages are bundles of one, whose resources are its run's own), and every
    point's store is complete where its own job would have written it."""
    import xarray as xr

    from homeoplastic.assemblies.bundles import plan_bundles
    from homeoplastic.assemblies.stages import STAGES, stage_stores, sweep_settings
    from homeoplastic.bundle import BundlePolicy
    from homeoplastic.store import CONSOLIDATED, ZARR_FORMAT, is_complete

    # the sweep's runs; the sweep-level rate maps and dt check add nothing the cluster would
    # treat differently (the local micro run draws them)
    overlay = {"assemblies": {"bundle": {"points_per_job": 2},
                              "rate_dependence": {"enabled": False},
                              "dt_check": {"enabled": False}}}
    overlay_file = tmp_path / "bundled.yaml"
    overlay_file.write_text(yaml.safe_dump(overlay))
    results, logs, slurm_logs = tmp_path / "results", tmp_path / "logs", tmp_path / "slurm_logs"
    snakemake_log = tmp_path / "snakemake.log"
    cmd = [sys.executable, "-m", "snakemake", "--workflow-profile", str(PROFILE.relative_to(ROOT)),
           "--configfile", str(TEST_CONFIG.relative_to(ROOT)), str(overlay_file),
           "--config", f"results_dir={results}", f"logs_dir={logs}", "--jobs", "4",
           # keep the plugin's per-job logs out of the repository and keep them for inspection
           "--slurm-logdir", str(slurm_logs), "--slurm-keep-successful-logs"]
    start = time.monotonic()
    try:
        returncode = _run_workflow(cmd, slurm_cluster.env(), snakemake_log)
        print(f"snakemake through SLURM took {time.monotonic() - start:.0f} s")
        assert returncode == 0, f"snakemake exited with {returncode}"
        assert list(slurm_logs.rglob("*.log")), f"no SLURM job logs under {slurm_logs}"

        section = _assemblies_section()
        section["bundle"] = overlay["assemblies"]["bundle"]
        runs = sweep_settings(section)
        stores = stage_stores(runs)
        plan = plan_bundles(runs, stores, BundlePolicy.from_config(section["bundle"]))
        assert plan is not None and len(runs) == 3
        completed = _check_bundle_allocations(slurm_cluster, plan, stores)
        # one completed SLURM job per bundle of each stage, none per run
        assert completed == {(s, b) for s in STAGES for b in plan.bundles[s]}
        assert {len(m) for s in STAGES for m in plan.bundles[s].values()} == {1, 2}
        for run, settings in runs.items():
            for stage in settings.stages:
                assert is_complete(results / "assemblies" / settings.store_id(stage)
                                   / f"{stage}.zarr"), (run, stage)
            ds = xr.open_zarr(results / "assemblies" / run / "analyze.zarr",
                              consolidated=CONSOLIDATED, zarr_format=ZARR_FORMAT)
            for key, value in settings.point.as_dict().items():
                assert ds.coords[key].item() == value, f"{run}: {key}"
            assert ds.data_vars, f"{run}: analyze store has no variables"
        assert (results / "figures" / "assemblies_sweep.png").is_file()
    except BaseException:
        print(f"--- snakemake ---\n{_read(snakemake_log, 300)}")
        for job_log in sorted(slurm_logs.rglob("*.log")):
            print(f"--- {job_log.relative_to(slurm_logs)} ---\n{_read(job_log, 60)}")
        print(slurm_cluster.logs())
        raise
