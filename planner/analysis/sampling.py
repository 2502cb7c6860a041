"""`planner stress --samples N --seed S` (SPEC §5): the optimal plan on sampled futures.

- **draw**: N futures, each disruption occurring independently with its probability:
  one uniform number per future and disruption from NumPy's PCG64 seeded with S,
  drawn here, before any task runs — so the futures, and every number below, do not
  depend on how many workers solve them or in what order they finish.
- **solve**: a future is the one path of ``models.periods.future_path`` (its
  disruptions applied while they last, several at once in table order) with the plan's
  shared decisions fixed (every variable of the periods before any disruption can
  start). Futures with the same disruptions are the same LP: each distinct set is
  solved once, as one Dask task, and counted as often as it was drawn.
- **statistics** over the N futures' costs (discounted, the cost C_b of SPEC §3b):
  mean; p50, p90, p99 as sample values (the inverted-CDF quantile); CVaR_α, the
  Rockafellar–Uryasev value of the empirical distribution (η = VaR_α,
  η + mean(max(0, C − η)) / (1 − α)); the share of futures with unmet demand.
- **failures are reported, never dropped**: Dask re-runs a task whose worker died
  (``distributed.scheduler.allowed-failures`` times, counting every death of a worker
  that held the task, even queued); a task it gives up on is submitted again
  ``RESUBMITS`` times; a future that still fails, or whose LP is infeasible with the
  plan's decisions fixed, is counted and named, and the statistics say over how many
  futures they run; a cluster left without workers for NO_WORKER_SECONDS fails the
  futures still pending (a run never hangs on a dead cluster).
"""

from __future__ import annotations

import os
import resource
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np

from planner.io.problems import InputError, Problem
from planner.models.data import Dataset
from planner.solving.engine import start

UNMET_TOLERANCE = 1e-6   # t: a future "has a shortfall" above this
RESUBMITS = 2            # a task Dask gave up on is submitted again this many times
POLL_SECONDS = 2.0       # how often the cluster is checked for workers while waiting
NO_WORKER_SECONDS = 60.0   # the remaining futures fail after this long without a worker
CONNECT_SECONDS = 10       # how long to try an existing scheduler's address


@dataclass(frozen=True)
class FutureSolve:
    """One distinct future's outcome: its status and, when optimal, its cost (USD,
    discounted) and the demand it leaves unmet over the horizon (t)."""

    status: str
    cost_usd: float | None = None
    unmet_t: float | None = None


@dataclass(frozen=True)
class Future:
    """A distinct set of disruptions drawn ``count`` times, and its outcome."""

    disruptions: tuple[str, ...]
    count: int
    outcome: FutureSolve


@dataclass
class Samples:
    """N sampled futures of one plan and how they were solved."""

    n: int
    seed: int
    alpha: float
    futures: list[Future]    # distinct, most often drawn first
    workers: int
    seconds: float             # solving the futures, on a running cluster
    startup_seconds: float     # starting (or joining) the cluster
    worker_peak_mb: list[float]

    @property
    def solved(self) -> list[Future]:
        """The distinct futures solved to optimality."""
        return [f for f in self.futures if f.outcome.status == "optimal"]

    def summary(self) -> dict:
        """SPEC §5's ``samples`` object, with the futures behind it: the same for the
        same seed, whatever solved them (the run's speed is in ``run``)."""
        solved = self.solved
        costs = np.repeat([f.outcome.cost_usd for f in solved], [f.count for f in solved])
        short = sum(f.count for f in solved if f.outcome.unmet_t > UNMET_TOLERANCE)
        stats = dict.fromkeys(("mean_usd", "p50_usd", "p90_usd", "p99_usd", "cvar_usd"))
        if len(costs):
            stats = {"mean_usd": float(costs.mean()),
                     **{f"p{q}_usd": _quantile(costs, q / 100) for q in (50, 90, 99)},
                     "cvar_usd": empirical_cvar(costs, self.alpha)}
        failed = [f for f in self.futures if f.outcome.status != "optimal"]
        return {"n": self.n, "seed": self.seed, **stats,
                "shortage_probability": short / len(costs) if len(costs) else None,
                "alpha": self.alpha, "solved": int(len(costs)),
                "failed": [{"disruptions": list(f.disruptions), "count": f.count,
                            "status": f.outcome.status} for f in failed],
                "futures": [{"disruptions": list(f.disruptions), "count": f.count,
                             "cost_usd": f.outcome.cost_usd, "unmet_t": f.outcome.unmet_t}
                            for f in solved],
                "distinct": len(self.futures)}

    def run(self) -> dict:
        """How the futures were solved: workers, wall time (solving; starting the
        cluster), throughput (futures drawn and distinct LPs solved per second, cluster
        running) and each worker's peak memory."""
        return {"workers": self.workers, "seconds": self.seconds,
                "startup_seconds": self.startup_seconds,
                "futures_per_second": self.n / self.seconds if self.seconds else None,
                "lps_per_second": len(self.futures) / self.seconds if self.seconds else None,
                "worker_peak_mb": self.worker_peak_mb}


def _quantile(costs: np.ndarray, q: float) -> float:
    return float(np.quantile(costs, q, method="inverted_cdf"))


def empirical_cvar(costs: np.ndarray, alpha: float) -> float:
    """CVaR_α of equally likely ``costs``: min_η η + mean(max(0, C − η)) / (1 − α), whose
    minimum is at η = VaR_α (the α-quantile)."""
    eta = _quantile(costs, alpha)
    return float(eta + np.maximum(costs - eta, 0.0).mean() / (1.0 - alpha))


def draw(data: Dataset, n: int, seed: int) -> Counter[tuple[str, ...]]:
    """N futures: how often each set of disruptions (in table order) was drawn."""
    ids = [d.disruption for d in data.disruptions]
    chance = np.array([d.probability for d in data.disruptions])
    occurs = np.random.default_rng(seed).random((n, len(ids))) < chance
    return Counter(tuple(i for i, hit in zip(ids, row, strict=True) if hit) for row in occurs)


def solve_future(data: Dataset, fixed: Mapping[str, float],
                 disruptions: tuple[str, ...]) -> FutureSolve:
    """The future in which ``disruptions`` occur, with the plan's shared decisions fixed
    (a Dask task: everything it needs comes in its arguments)."""
    result, _ = start(replace(data, future=disruptions, risk_weight=0.0), None, fixed=fixed)
    if not result.optimal:
        return FutureSolve(str(result.status))
    return FutureSolve("optimal", float(result.solution.objective), result.unmet_t)


def sample(data: Dataset, fixed: Mapping[str, float], n: int, seed: int,
           scheduler: str | None = None, workers: int | None = None,
           progress: Callable[[int, int], None] | None = None,
           task: Callable[..., FutureSolve] | None = None) -> Samples:
    """Draw ``n`` futures and solve each distinct one on Dask (``scheduler``: an existing
    cluster's address; else a local cluster of ``workers`` processes, one per core by
    default). ``progress(done, total)`` is called as distinct futures finish; ``task``
    (default ``solve_future``) solves one."""
    drawn = draw(data, n, seed)
    ordered = sorted(drawn, key=lambda s: (-drawn[s], s))
    began = time.perf_counter()
    with dask_client(scheduler, workers) as client:
        ready = time.perf_counter()
        outcomes = _run(client, data, fixed, ordered, task or solve_future, progress)
        solved = time.perf_counter()
        count = len(client.scheduler_info()["workers"])
        peaks = sorted(client.run(peak_mb).values())
    return Samples(n, seed, data.cvar_alpha,
                   [Future(s, drawn[s], outcomes[s]) for s in ordered], count,
                   solved - ready, ready - began, peaks)


def _run(client, data: Dataset, fixed: Mapping[str, float], ordered: list[tuple[str, ...]],
         task: Callable[..., FutureSolve], progress: Callable[[int, int], None] | None
         ) -> dict[tuple[str, ...], FutureSolve]:
    """Submit one task per distinct future; collect each, a failed one as its error (after
    ``RESUBMITS`` more tries), and the rest as failed once the cluster has had no worker
    for ``NO_WORKER_SECONDS``."""
    from distributed import wait

    # as tasks, not scattered: the scheduler keeps what re-makes them if a worker dies
    data_ref = client.submit(_same, data, pure=False)
    fixed_ref = client.submit(_same, dict(fixed), pure=False)
    pending = {client.submit(task, data_ref, fixed_ref, s, pure=False): s for s in ordered}
    tries, outcomes = Counter(), {}
    alone_since = None
    while pending:
        try:
            done, _ = wait(list(pending), timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
        except TimeoutError:   # nothing finished in this poll
            done = set()
        for handle in done:
            future = pending.pop(handle)
            try:
                outcomes[future] = handle.result()
            except Exception as error:
                tries[future] += 1
                if tries[future] <= RESUBMITS:   # e.g. lost with a worker that held it
                    pending[client.submit(task, data_ref, fixed_ref, future,
                                          pure=False)] = future
                    continue
                outcomes[future] = FutureSolve(f"error: {type(error).__name__}: {error}")
            if progress is not None:
                progress(len(outcomes), len(ordered))
        if client.scheduler_info()["workers"]:
            alone_since = None
        elif alone_since is None:
            alone_since = time.perf_counter()
        elif time.perf_counter() - alone_since > NO_WORKER_SECONDS:
            for future in pending.values():
                outcomes[future] = FutureSolve("error: no worker left in the cluster")
            break
    return outcomes


def _same(value):
    return value


@contextmanager
def dask_client(scheduler: str | None, workers: int | None) -> Iterator:
    """A client of the cluster at ``scheduler``, or of a local cluster on loopback."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with connect(scheduler) as client:
            yield client
        return
    with LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                      processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as client:
        yield client


def connect(scheduler: str):
    """A client of the Dask scheduler at ``scheduler``; an input error (the address, and
    why) if it cannot be reached — checked before the plan is solved."""
    from distributed import Client

    try:
        return Client(scheduler, timeout=CONNECT_SECONDS)
    except (OSError, ValueError, TypeError) as error:   # unreachable, or not an address
        raise InputError([Problem("--scheduler", "the address of a running Dask scheduler, "
                                  f"e.g. tcp://host:8786 ({error})", value=scheduler)]
                         ) from None


def peak_mb() -> float:
    """Peak resident memory of the process it runs in, MB (run on each worker)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
