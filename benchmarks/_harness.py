"""A small benchmark harness: interleaved timing, pinned BLAS threads, ratio tables, machine + date.

Benchmarks are run by hand (``python benchmarks/bench_*.py``), never by pytest. Every comparison is made
inside one process, side by side: the named callables are timed round-robin (the starting point rotates
each round, so neither side always runs first or on a warm cache), several rounds, and the median of
each is reported with its ratio to a named baseline. Absolute seconds depend on the machine; the ratio
is the number to read and to record.

Typical use::

    from _harness import Case, compare, format_table, machine_report

    print(machine_report())
    results = compare([Case("genmix", fit_genmix), Case("sklearn", fit_sklearn)],
                      baseline="sklearn", repeats=5, limits=1)
    print(format_table(results))
"""
import dataclasses
import datetime
import gc
import os
import platform
import statistics
import sys
import time

__all__ = ["Case", "Result", "compare", "format_table", "machine_info", "machine_report", "utc_now",
           "blas_report", "load_average",
           "foreign_load", "wait_for_idle"]


@dataclasses.dataclass(frozen=True)
class Case:
    """One named thing to time.

    ``func`` is called with no argument, or with the value returned by ``setup`` when ``setup`` is
    given; only the call of ``func`` is timed (``setup`` runs before it, untimed, in every round).
    """

    name: str
    func: object
    setup: object = None


@dataclasses.dataclass(frozen=True)
class Result:
    """The timings of one case (seconds per unit, i.e. per call divided by ``per``).

    ``foreign_load`` is the average number of cores that *other* processes kept busy during the whole
    comparison (machine-wide busy time from /proc/stat minus this process's CPU time, over the wall
    time; NaN where /proc is missing). Anything well above 0 means the timings are not trustworthy,
    with several BLAS threads especially.
    """

    name: str
    times: tuple
    baseline: str
    baseline_median: float
    limits: object
    foreign_load: float = float("nan")

    @property
    def median(self):
        return statistics.median(self.times)

    @property
    def min(self):
        return min(self.times)

    @property
    def spread(self):
        """``(max - min) / median``: a rough noise indicator for the rounds of this case."""
        return (max(self.times) - min(self.times)) / self.median if self.median > 0 else float("nan")

    @property
    def ratio(self):
        """This case's median over the baseline's median (< 1: faster than the baseline)."""
        return self.median / self.baseline_median


def _busy_seconds():
    """Machine-wide busy CPU seconds (all cores) from /proc/stat, or None where it is not available."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()[1:]
    except OSError:
        return None
    ticks = [int(x) for x in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    busy = sum(ticks[:8]) - idle  # user nice system idle iowait irq softirq steal (guest is in user)
    return busy / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds():
    t = os.times()
    return t.user + t.system


def foreign_load(sample=1.0):
    """The number of cores other processes keep busy, measured over ``sample`` seconds (NaN if unknown)."""
    busy0, own0, wall0 = _busy_seconds(), _own_cpu_seconds(), time.perf_counter()
    time.sleep(sample)
    busy1, own1, wall1 = _busy_seconds(), _own_cpu_seconds(), time.perf_counter()
    if busy0 is None or busy1 is None:
        return float("nan")
    return max(0.0, ((busy1 - busy0) - (own1 - own0)) / (wall1 - wall0))


def wait_for_idle(max_wait, *, threshold=0.2, sample=1.0):
    """Wait (at most ``max_wait`` seconds) until other processes keep fewer than ``threshold`` cores busy.

    Returns ``(waited_seconds, last_foreign_load)``; the caller decides what to do if it never got idle.
    """
    t0 = time.perf_counter()
    load = foreign_load(sample)
    while not load < threshold and time.perf_counter() - t0 < max_wait:
        load = foreign_load(sample)
    return time.perf_counter() - t0, load


def _time_once(case, per):
    arg = case.setup() if case.setup is not None else None
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        if case.setup is not None:
            case.func(arg)
        else:
            case.func()
        elapsed = time.perf_counter() - t0
    finally:
        if gc_was_enabled:
            gc.enable()
    return elapsed / per


def compare(cases, *, baseline, repeats=5, warmup=1, limits=1, per=1):
    """Time ``cases`` interleaved, with BLAS/OpenMP threads pinned, and return one :class:`Result` each.

    Parameters
    ----------
    cases : sequence of Case
        The callables to compare; names must be unique.
    baseline : str
        The name of the case the ratios are taken against.
    repeats : int, default=5
        The number of timed rounds; each round calls every case once.
    warmup : int, default=1
        Untimed rounds run first (imports, caches, first-touch page faults).
    limits : int, dict, str or None, default=1
        Passed to ``threadpoolctl.threadpool_limits(limits)`` for the whole comparison (None: no
        limit).
    per : float, default=1
        Divide every time by this (e.g. the number of EM iterations a call runs).

    Returns
    -------
    results : list of Result
        In the order of ``cases``.
    """
    from threadpoolctl import threadpool_limits

    names = [c.name for c in cases]
    if len(set(names)) != len(names):
        raise ValueError(f"case names must be unique; got {names}.")
    if baseline not in names:
        raise ValueError(f"baseline {baseline!r} is not one of the cases {names}.")
    times = {name: [] for name in names}
    busy0, own0, wall0 = _busy_seconds(), _own_cpu_seconds(), time.perf_counter()
    with threadpool_limits(limits=limits):
        for r in range(warmup + repeats):
            start = r % len(cases)
            for case in list(cases[start:]) + list(cases[:start]):
                t = _time_once(case, per)
                if r >= warmup:
                    times[case.name].append(t)
    busy1, own1, wall1 = _busy_seconds(), _own_cpu_seconds(), time.perf_counter()
    foreign = float("nan")
    if busy0 is not None and busy1 is not None and wall1 > wall0:
        foreign = max(0.0, ((busy1 - busy0) - (own1 - own0)) / (wall1 - wall0))
    base = statistics.median(times[baseline])
    return [Result(name, tuple(times[name]), baseline, base, limits, foreign) for name in names]


def _fmt_seconds(t):
    if t >= 1.0:
        return f"{t:.3f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms"
    return f"{t * 1e6:.1f} µs"


def format_table(results, *, title=None, label="case"):
    """A Markdown table: median, min, spread and ratio to the baseline for each result."""
    lines = []
    if title:
        lines += [f"**{title}**", ""]
    base = results[0].baseline
    foreign = results[0].foreign_load
    if foreign == foreign and foreign > 0.2:  # not NaN, and other processes kept a fifth of a core busy
        lines += [f"(warning: other processes kept {foreign:.1f} cores busy during this comparison)", ""]
    lines.append(f"| {label} | median | min | spread | ratio to {base} |")
    lines.append("| --- | ---: | ---: | ---: | ---: |")
    for r in results:
        lines.append(f"| {r.name} | {_fmt_seconds(r.median)} | {_fmt_seconds(r.min)} | {r.spread:.0%} "
                     f"| {r.ratio:.2f} |")
    return "\n".join(lines)


def load_average():
    """The 1-, 5- and 15-minute load averages as a string (other busy processes spoil timings)."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def utc_now():
    """The current date and time in UTC, ``YYYY-MM-DD HH:MM UTC``."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            info = {}
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model", "stepping") and key not in info:
                    info[key] = value.strip()
                if not line.strip() and info:
                    break
    except OSError:
        return platform.processor() or platform.machine()
    model = info.get("model name", platform.machine())
    if "cpu family" in info:
        model += f" (family {info['cpu family']}, model {info.get('model', '?')})"
    return model


def _version(module):
    try:
        mod = __import__(module)
    except ImportError:
        return "not installed"
    return getattr(mod, "__version__", "?")


def machine_info():
    """A dict describing the machine: CPU, cores, memory, Python and library versions, BLAS."""
    import threadpoolctl

    import numpy  # noqa: F401  (loads numpy's BLAS so threadpoolctl can see it)
    import scipy.linalg  # noqa: F401
    try:
        import sklearn.mixture  # noqa: F401
    except ImportError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    mem = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 ** 2:.1f} GiB"
                    break
    except OSError:
        pass
    return {
        "cpu": _cpu_model(),
        "cores": f"{os.cpu_count()} logical, {affinity} usable",
        "memory": mem,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "sklearn": _version("sklearn"),
        "genmix": _version("genmix"),
        "threadpoolctl": threadpoolctl.__version__,
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                                "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
        "threadpools": threadpoolctl.threadpool_info(),
    }


def blas_report(pools=None):
    """One line per thread pool: API, implementation, version, kernel (architecture), threads, library."""
    import threadpoolctl

    pools = threadpoolctl.threadpool_info() if pools is None else pools
    out = []
    for p in pools:
        lib = os.path.basename(p.get("filepath", "?"))
        arch = p.get("architecture")
        out.append(f"{p.get('user_api')}: {p.get('internal_api')} {p.get('version')}"
                   + (f", kernel {arch}" if arch else "")
                   + (f", {p.get('threading_layer')}" if p.get("threading_layer") else "")
                   + f", {p.get('num_threads')} threads ({lib})")
    return out


def kernels_report():
    """Whether genmix's compiled kernels run (numba's version), or why not."""
    from genmix import _kernels

    if not _kernels.available():
        return "off (numba not installed): the numpy path"
    import numba

    return f"numba {numba.__version__}, " + ("on" if _kernels.enabled() else "turned off (GENMIX_KERNELS=0)")


def machine_report(info=None):
    """Machine information and the date as Markdown bullet lines."""
    info = machine_info() if info is None else info
    env = ", ".join(f"{k}={v}" for k, v in info["env"].items() if v is not None) or "none set"
    lines = [
        f"- date: {utc_now()}",
        f"- CPU: {info['cpu']}; cores: {info['cores']}; memory: {info['memory']}",
        f"- OS: {info['os']}; Python {info['python']}",
        f"- numpy {info['numpy']}, scipy {info['scipy']}, scikit-learn {info['sklearn']}, "
        f"genmix {info['genmix']}, threadpoolctl {info['threadpoolctl']}",
        f"- BLAS-related environment: {env}",
        f"- genmix's compiled kernels (genmix[fast]): {kernels_report()}",
        f"- load average at start (1, 5, 15 min): {load_average()} on {os.cpu_count()} cores",
    ]
    lines += [f"- {line}" for line in blas_report(info["threadpools"])]
    return "\n".join(lines)


if __name__ == "__main__":
    print(machine_report())
