"""Sampled futures on Dask (issue 12 point 4; SPEC §5 `planner stress --samples N --seed S`).

Every test runs a real Dask cluster on loopback (LocalCluster, worker processes).

Case COMPOSE (costs by hand): periods p1–p3 (1 year, discount factor 1), magnet demand
10 t/yr; mg_cn (CN, 100 USD/t, unlimited), mg_jp (JP, 150, 4 t/yr); shortage 500 USD/t;
no stock, so no decision carries from one period to the next. Disruptions close China for
one year: d2 in p2 (π 0.3), d3 in p3 (π 0.2). A normal year costs 10 · 100 = 1,000; a
closed one 4 · 150 + 6 · 500 = 3,600 (6 t unmet). Futures: none 3,000; d2 or d3 alone
5,600 (6 t unmet); both 8,200 (12 t unmet) — the two compose in one future.

Case RESERVE: the conformance case reserve-vs-disruption (a stock and a new plant before
cn_stop in p2): the future with cn_stop, the plan's p1 decisions fixed, is the tree's
cn_stop branch, and the future without it the base branch (each is that branch's
recourse) — checked against the tree's own branch costs, for the λ = 0 and the λ = 1
plans (which hold different reserves: the fixing must follow the plan).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import distributed  # noqa: F401  (its config defaults, before any dask.config.set)
import numpy as np
import pytest
from click.testing import CliRunner

import planner
from planner.analysis import sampling
from planner.analysis.sampling import FutureSolve, sample
from planner.analysis.stress import shared_decisions, shared_nodes
from planner.api import load, prepare
from planner.cli import main
from planner.solving.engine import start

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance"

COMPOSE = {
    "stages.csv": "stage,order,demand_t,shortage_usd_per_t\nmagnet,1,10,500\n",
    "countries.csv": "country,name,zone_member,groups\nCN,China,false,\nJP,Japan,true,\n"
                     "KR,Korea,true,\n",
    "offers.csv": "offer,stage,supplier,country,price_usd_per_t,capacity_t,min_t,"
                  "freight_usd_per_t\nmg_cn,magnet,A,CN,100,,0,0\nmg_jp,magnet,B,JP,150,4,0,0\n",
    "periods.csv": "period,order,years,discount_factor\np1,1,1,1\np2,2,1,1\np3,3,1,1\n",
    "disruptions.csv": "disruption,probability,period,duration,setting,target,value\n"
                       "d2,0.3,p2,1,capacity_factor,CN:magnet,0\n"
                       "d3,0.2,p3,1,capacity_factor,CN:magnet,0\n",
    "settings.csv": "key,value\nbuyer,KR\nzone,observer\nname,compose\n",
}
BY_HAND = {(): (3000, 0), ("d2",): (5600, 6), ("d3",): (5600, 6), ("d2", "d3"): (8200, 12)}


@pytest.fixture(scope="module")
def compose(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("compose")
    for name, text in COMPOSE.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture(scope="module")
def cluster() -> str:
    """A two-worker cluster on loopback shared by the tests that do not count workers
    (its address, as --scheduler takes it)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as running:
        yield running.scheduler_address


def dataset(folder: Path, **settings):
    data, _ = prepare(load(folder).dataset)
    from dataclasses import replace
    return replace(data, **settings)


def plan_and_fixed(data):
    result, _ = start(data, None)
    assert result.optimal
    return result, shared_decisions(result, shared_nodes(result))


def test_each_future_costs_what_it_costs_by_hand(compose, cluster):
    """Every distinct future of COMPOSE: cost and unmet tonnes as derived above."""
    data = dataset(compose)
    _, fixed = plan_and_fixed(data)
    drawn = sample(data, fixed, n=400, seed=11, scheduler=cluster)
    assert {f.disruptions for f in drawn.futures} == set(BY_HAND)   # 400 draws meet all four
    for future in drawn.futures:
        cost, unmet = BY_HAND[future.disruptions]
        assert future.outcome == FutureSolve("optimal", pytest.approx(cost, abs=1e-6),
                                             pytest.approx(unmet, abs=1e-9))
    assert sum(f.count for f in drawn.futures) == 400


def test_draws_are_independent_with_their_probabilities(compose):
    """10,000 draws: each disruption occurs about as often as its probability, both
    together about as often as the product (within 4 standard errors)."""
    counts = sampling.draw(dataset(compose), 10_000, seed=5)
    n = 10_000
    frequency = {
        "d2": sum(c for s, c in counts.items() if "d2" in s) / n,
        "d3": sum(c for s, c in counts.items() if "d3" in s) / n,
        "both": counts[("d2", "d3")] / n}
    for key, p in (("d2", 0.3), ("d3", 0.2), ("both", 0.06)):
        assert abs(frequency[key] - p) < 4 * math.sqrt(p * (1 - p) / n), key


def test_statistics_over_the_drawn_futures(compose, cluster):
    """mean, p50/p90/p99, CVaR_0.9 and the shortage probability recomputed here from the
    futures' counts and the hand costs: the q-quantile is the ceil(q·n)-th smallest cost,
    CVaR the minimum over every candidate η of η + Σ max(0, C − η) / (n (1 − α))."""
    data = dataset(compose, cvar_alpha=0.9)
    _, fixed = plan_and_fixed(data)
    out = sample(data, fixed, n=300, seed=2, scheduler=cluster).summary()
    costs = np.sort(np.concatenate([np.full(f["count"], BY_HAND[tuple(f["disruptions"])][0])
                                    for f in out["futures"]]))
    assert len(costs) == 300
    assert out["mean_usd"] == pytest.approx(costs.mean())
    for q in (50, 90, 99):
        assert out[f"p{q}_usd"] == pytest.approx(costs[math.ceil(q / 100 * 300) - 1])
    ru = min(eta + np.maximum(costs - eta, 0).sum() / (300 * 0.1) for eta in costs)
    assert out["cvar_usd"] == pytest.approx(ru)
    assert out["shortage_probability"] == pytest.approx(np.mean(costs > 3000))
    assert out["solved"] == 300
    assert out["failed"] == []


def test_same_seed_same_numbers_whatever_the_workers(compose):
    """Seed 4 with 1 worker and with 4 workers: the same futures and statistics (only the
    run's speed and memory differ); another seed draws other futures."""
    data = dataset(compose)
    _, fixed = plan_and_fixed(data)
    def numbers(workers, seed=4):
        drawn = sample(data, fixed, n=200, seed=seed, workers=workers)
        return drawn.summary(), drawn.run()["workers"]

    one, w1 = numbers(1)
    four, w4 = numbers(4)
    assert (w1, w4) == (1, 4)
    assert one == four
    assert numbers(1, seed=5)[0]["futures"] != one["futures"]


def test_an_existing_cluster_by_its_address(compose, cluster):
    """--scheduler ADDRESS: the futures run on that cluster (its two workers), with the
    numbers of a local one."""
    result = CliRunner().invoke(main, ["stress", "--inputs", str(compose), "--samples", "50",
                                       "--seed", "9", "--scheduler", cluster,
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    there = json.loads(result.stdout)["samples"]
    data = dataset(compose)
    _, fixed = plan_and_fixed(data)
    local = sample(data, fixed, n=50, seed=9, workers=1).summary()
    assert json.loads(result.stdout)["sampling_run"]["workers"] == 2
    assert there["futures"] == local["futures"]
    assert there["cvar_usd"] == local["cvar_usd"]


def test_a_killed_worker_is_retried(compose, tmp_path):
    """Each future's first try kills its worker process (os._exit) mid-task; Dask
    re-runs it on a new worker and nothing is lost: the numbers equal a calm run's."""
    data = dataset(compose)
    _, fixed = plan_and_fixed(data)
    marks = tmp_path / "marks"
    marks.mkdir()

    def dies_once(data, fixed, disruptions):
        mark = marks / ("future-" + "-".join(disruptions))
        if not mark.exists():
            mark.touch()
            os._exit(1)
        return sampling.solve_future(data, fixed, disruptions)

    calm = sample(data, fixed, n=100, seed=3, workers=2).summary()
    hurt = sample(data, fixed, n=100, seed=3, workers=2, task=dies_once).summary()
    assert len(list(marks.iterdir())) == calm["distinct"]   # every future's worker died once
    assert hurt["futures"] == calm["futures"]
    assert hurt["failed"] == []


def test_a_future_that_keeps_killing_its_worker_is_reported(compose, monkeypatch):
    """A future whose every try kills its worker: after Dask's allowed failures (and the
    planner's resubmissions) it is reported as failed with its count — never dropped;
    the statistics run over the rest and say so."""
    import dask

    data = dataset(compose)
    _, fixed = plan_and_fixed(data)

    def d3_kills(data, fixed, disruptions):
        if "d3" in disruptions:
            os._exit(1)
        return sampling.solve_future(data, fixed, disruptions)

    monkeypatch.setattr(sampling, "RESUBMITS", 0)   # fewer deaths to wait for
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        out = sample(data, fixed, n=100, seed=3, workers=2, task=d3_kills).summary()
    failed = {tuple(f["disruptions"]): f for f in out["failed"]}
    # every future with d3 fails; one queued on the same worker may fail with it (Dask
    # counts a death against every task the worker held): reported the same way
    assert {("d3",), ("d2", "d3")} <= set(failed)
    assert all(f["status"].startswith("error: KilledWorker") for f in failed.values())
    lost = sum(f["count"] for f in failed.values())
    assert out["solved"] == 100 - lost
    assert sum(f["count"] for f in out["futures"]) == out["solved"]
    for future in out["futures"]:
        assert future["cost_usd"] == pytest.approx(BY_HAND[tuple(future["disruptions"])][0])
    short = sum(f["count"] for f in out["futures"] if f["unmet_t"] > 0)   # over the solved
    assert out["shortage_probability"] == (pytest.approx(short / out["solved"])
                                           if out["solved"] else None)


@pytest.mark.skipif(not (CONFORMANCE / "reserve-vs-disruption").exists(),
                    reason="the shared conformance cases are not beside this checkout")
@pytest.mark.parametrize("risk_weight", [0.0, 1.0])
def test_a_future_is_its_branch_with_the_plans_reserve(risk_weight, cluster):
    """RESERVE: sampled futures under the λ = 0 and λ = 1 plans cost what the tree's
    base and cn_stop branches cost under that plan."""
    out = planner.stress(CONFORMANCE / "reserve-vs-disruption", risk_weight=risk_weight,
                         samples=60, seed=1, scheduler=cluster).to_json()
    branch = {b["branch"]: b["cost_usd"] for b in out["branches"]}
    futures = {tuple(f["disruptions"]): f["cost_usd"] for f in out["samples"]["futures"]}
    assert set(futures) == {(), ("cn_stop",)}
    assert futures[()] == pytest.approx(branch["base"], abs=1e-6)
    assert futures[("cn_stop",)] == pytest.approx(branch["cn_stop"], abs=1e-6)


def test_cli_samples_json_and_table(compose, cluster, tmp_path):
    """`planner stress --samples 80 --seed 6`: the SPEC's samples object in JSON; the
    table output shows the samples and each distinct future; --plot writes a PNG."""
    args = ["stress", "--inputs", str(compose), "--samples", "80", "--seed", "6",
            "--scheduler", cluster]
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    samples = json.loads(result.stdout)["samples"]
    for key in ("n", "seed", "mean_usd", "p50_usd", "p90_usd", "p99_usd", "cvar_usd",
                "shortage_probability"):
        assert key in samples
    assert (samples["n"], samples["seed"]) == (80, 6)
    shown = CliRunner().invoke(main, [*args, "--output", str(tmp_path / "out.txt"),
                                      "--plot", str(tmp_path / "stress.png")])
    assert shown.exit_code == 0, shown.output
    assert (tmp_path / "stress.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (tmp_path / "out.txt").read_text()
    assert "sampled_futures" in text
    assert "d2 + d3" in text or samples["distinct"] < 4


@pytest.mark.parametrize(("flags", "says"), [
    (["--seed", "3"], "--seed, --scheduler and --workers"),
    (["--samples", "5", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "scheduler"),
    (["--samples", "0"], "0"),
    (["--samples", "5", "--seed", "-1"], "-1"),
    (["--samples", "5", "--scheduler", "not-an-address"], "not-an-address"),
    (["--break-even", "us-*"], "d2, d3"),
])
def test_cli_refuses_bad_sampling_flags(compose, flags, says):
    """Exit 2 before anything is solved, naming the flag's value (or the choices)."""
    result = CliRunner().invoke(main, ["stress", "--inputs", str(compose), *flags])
    assert result.exit_code == 2
    assert says in result.output


def test_api_refuses_bad_sampling_arguments(compose):
    with pytest.raises(planner.InputError, match="whole number"):
        planner.stress(compose, samples=2.5)
    with pytest.raises(planner.InputError, match="seed"):
        planner.stress(compose, seed=3)
