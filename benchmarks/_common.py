"""What every benchmark shares: the machine it ran on, whole-process runs, figure rows.

* `machine` describes the machine, its load and the library versions; every
  benchmark prints it (`print_machine`) before and the load after its figures.
* `run_process` times one whole process (start to exit, wall clock) and, in a
  separate run if asked (`peak_memory`), samples the proportional set size (PSS:
  shared pages split between the processes that share them) of the process and
  all its children, so that tools that fork workers or run in a JVM are measured
  alike, and nothing traces the timed run.
* `interleaved` runs several commands A B C A B C ... and keeps every wall time;
  `median` of them is what the figures quote.
* `Figure` is one row of docs/benchmarks.rst: ``benchmarks/run_all.py`` collects the
  rows each benchmark writes with ``--json`` and writes the table.
"""
import dataclasses
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _version(module):
    try:
        from importlib.metadata import version
        return version(module)
    except Exception:  # not installed
        return None


def _stilts_version():
    if not shutil.which("stilts"):
        return None
    try:
        out = subprocess.run(["stilts", "-version"], capture_output=True, text=True,
                             timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        if "STILTS version" in line:
            return line.split("version", 1)[1].strip()
    return None


def _java_version():
    if not shutil.which("java"):
        return None
    try:
        err = subprocess.run(["java", "-version"], capture_output=True, text=True,
                             timeout=60).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    return err.splitlines()[0].strip() if err else None


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2 ** 20, 1)
    except OSError:
        pass
    return None


def _git_commit():
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=30)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--",
                                "astro_ocl", "benchmarks"], capture_output=True, text=True,
                               timeout=30).stdout.strip()
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return None


def machine(*, tools=False):
    """The machine, its load and the versions of what is measured (a dict).

    ``tools``: also STILTS and Java (a JVM start each; only the benchmarks that
    run STILTS need them).
    """
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": platform.node(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable cores": usable,
        "memory GiB": _memory_gib(),
        "load average (1, 5, 15 min)": tuple(round(x, 2) for x in os.getloadavg()),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "astro_ocl commit": _git_commit(),
    }
    for mod in ("numpy", "scipy", "astropy", "galpy", "emcee", "pyvo", "threadpoolctl",
                "lsdb", "dask"):
        info[mod] = _version(mod)
    if tools:
        info["stilts"] = _stilts_version()
        info["java"] = _java_version()
    return info


def print_machine(info=None, **kw):
    info = info or machine(**kw)
    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items() if v is not None))
    sys.stdout.flush()
    return info


def load_now():
    return tuple(round(x, 2) for x in os.getloadavg())


@dataclasses.dataclass
class Run:
    """One whole process: wall time and CPU time [s], exit status, output, peak PSS [MB]."""
    wall: float
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float = float("nan")
    cpu: float = float("nan")


def _tree_pss(proc):
    """PSS (MB) of ``proc`` and its descendants now (psutil; NaN if unreadable)."""
    import psutil
    total = 0
    try:
        procs = [proc] + proc.children(recursive=True)
    except psutil.Error:
        return float("nan")
    for p in procs:
        try:
            total += p.memory_full_info().pss
        except psutil.Error:  # ended meanwhile, or no smaps
            pass
    return total / 2 ** 20


def run_process(cmd, *, peak_memory=False, env=None, cwd=None, timeout=None, interval=0.1):
    """Run ``cmd`` as a whole process and time it (wall clock, start to exit).

    Parameters
    ----------
    cmd : list of str
    peak_memory : bool
        Sample the PSS of the process tree every ``interval`` seconds (use a
        separate run for memory: sampling costs a little CPU).
    env : dict, optional
        Extra environment variables.

    Returns
    -------
    Run
    """
    import resource
    full_env = dict(os.environ, **(env or {}))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=full_env, cwd=cwd)
    peak = [float("nan")]
    stop = threading.Event()
    sampler = None
    if peak_memory:
        import psutil
        ps = psutil.Process(proc.pid)

        def sample():
            best = 0.0
            while not stop.is_set():
                v = _tree_pss(ps)
                if v == v:
                    best = max(best, v)
                stop.wait(interval)
            peak[0] = best

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if sampler is not None:
        stop.set()
        sampler.join()
    return Run(wall, proc.returncode, out, err, peak[0], cpu)


def interleaved(commands, repeat, **kw):
    """Run each named command ``repeat`` times, interleaved: A B C A B C ...

    Returns ``{name: [Run, ...]}``; stops with an error naming the command that failed.
    """
    runs = {name: [] for name in commands}
    for i in range(repeat):
        for name, cmd in commands.items():
            r = run_process(cmd, **kw)
            if r.returncode:
                raise SystemExit(f"{name} failed (exit {r.returncode}):\n{r.stderr[-3000:]}")
            runs[name].append(r)
            print(f"  run {i + 1}/{repeat} {name:<12s} {r.wall:8.2f} s  (load {load_now()[0]})")
            sys.stdout.flush()
    return runs


def median(values):
    return statistics.median(values)


@dataclasses.dataclass
class Figure:
    """One performance figure: a row of docs/benchmarks.rst.

    ``id`` is what README.md and the docs cite next to the figure
    (``[bench:<id>]``); ``quote`` is the figure as quoted there.
    """
    id: str
    what: str
    quote: str
    value: float
    unit: str
    baseline: str = ""
    script: str = ""
    command: str = ""


def fmt_ratio(x):
    return f"{x:.0f}×" if x >= 100 else f"{x:.1f}×" if x >= 10 else f"{x:.2f}×"


def fmt_seconds(s):
    if s < 1:
        return f"{s * 1e3:.2g} ms" if s < 0.01 else f"{s * 1e3:.0f} ms"
    return f"{s:.1f} s" if s < 100 else f"{s:.0f} s"


def fmt_mb(mb):
    return f"{mb / 1024:.2f} GB" if mb >= 1024 else f"{mb:.0f} MB"


def fmt_sig(x, unit):
    """Two significant digits, plain or in scientific notation below 0.01."""
    if x == 0:
        return f"0 {unit}"
    s = f"{x:.2g}" if abs(x) >= 0.01 else f"{x:.1e}"
    return f"{s} {unit}".strip()


def write_json(path, figures, info, *, notes=()):
    """The rows of one benchmark for ``run_all.py``."""
    if not path:
        return
    Path(path).write_text(json.dumps({"machine": info, "load_after": load_now(),
                                      "notes": list(notes),
                                      "figures": [dataclasses.asdict(f) for f in figures]},
                                     indent=1))


def print_figures(figures):
    print("\nfigures:")
    for f in figures:
        print(f"  [{f.id}] {f.what}: {f.quote}" + (f"  ({f.baseline})" if f.baseline else ""))
    print(f"load average now: {load_now()}")
    sys.stdout.flush()
