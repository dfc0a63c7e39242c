"""Participatory-budget counting benchmark (issue 17): a synthetic district cycle with 200,000
approval ballots over 60 projects, counted with both rules.

Run: ``uv run python -m bench.budget`` (``--ballots N`` to change the size).

What is compared, in the same run on the same instance:

* ours — :func:`twin.core.budget_counting.count`: greedy by pabutools on the vote tally, Equal
  Shares by our exact :func:`twin.core.budget_counting.equal_shares` over classes of voters (then
  pabutools' greedy completion), plus the reasons each loser lost;
* the peer — pabutools used plainly: an ``ApprovalProfile`` of 200,000 ballots, then
  ``greedy_utilitarian_welfare`` / ``method_of_equal_shares`` (+ greedy completion) on it.

Both must choose identical winners; the time ratio (peer / ours) is printed. pabutools' Equal
Shares takes ~30 s at 200,000 ballots on a quiet machine (over 300 s at load 10), so it is
also compared on a 20,000-ballot cycle drawn the same way (``--peer-mes-max`` skips it above a
size). The instance:
60 projects with log-normal costs (5-150 M tenge), a budget of 40 % of their total, voters
with a local taste (each approves 1-6 projects near a home point, within the budget), drawn
with a fixed seed.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Instance, Project
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares

from twin.core.budget_counting import count


def instance(n_ballots: int, n_projects: int = 60, seed: int = 17):
    """Return (costs, ballots, budget) of the synthetic cycle."""
    rng = np.random.default_rng(seed)
    costs = np.round(np.clip(np.exp(rng.normal(np.log(30e6), 0.75, n_projects)), 5e6, 150e6), -5)
    cost = {i + 1: int(c) for i, c in enumerate(costs)}
    budget = int(round(costs.sum() * 0.4, -6))
    xy = rng.uniform(0, 10_000, (n_projects, 2))
    appeal = rng.normal(0, 0.8, n_projects)
    homes = xy[rng.integers(0, n_projects, n_ballots)] + rng.normal(0, 900, (n_ballots, 2))
    wants = np.minimum(1 + rng.poisson(2.0, n_ballots), 6)
    ballots: list[list[int]] = []
    step = 20_000
    for lo in range(0, n_ballots, step):
        h = homes[lo : lo + step]
        d = np.hypot(h[:, None, 0] - xy[None, :, 0], h[:, None, 1] - xy[None, :, 1])
        score = appeal - np.log(2) * d / 1500 + rng.gumbel(0, 0.7, d.shape)
        order = np.argsort(-score, axis=1)[:, :6]
        for k, row in enumerate(order):
            chosen, spent = [], 0
            for j in row[: wants[lo + k]]:
                if spent + costs[j] <= budget:
                    chosen.append(int(j) + 1)
                    spent += int(costs[j])
            ballots.append(chosen)
    return cost, ballots, budget


def peer(cost: dict[int, int], ballots: list[list[int]], budget: int, rule: str) -> list[int]:
    """Count with pabutools used plainly (one ballot object per voter)."""
    projects = {i: Project(f"{i:09d}", c) for i, c in cost.items()}
    inst = Instance(projects.values(), budget_limit=budget)
    profile = ApprovalProfile(
        [ApprovalBallot([projects[i] for i in b]) for b in ballots], instance=inst
    )
    if rule == "greedy":
        out = greedy_utilitarian_welfare(inst, profile, sat_class=Cost_Sat)
    else:
        mes = method_of_equal_shares(inst, profile, sat_class=Cost_Sat)
        done = greedy_utilitarian_welfare(
            inst, profile, sat_class=Cost_Sat, initial_budget_allocation=mes
        )
        out = list(mes) + [p for p in done if p not in mes]
    return [int(p.name) for p in out]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ballots", type=int, default=200_000)
    parser.add_argument(
        "--peer-ballots",
        type=int,
        default=20_000,
        help="also count a cycle of this size, where pabutools' Equal Shares can finish",
    )
    parser.add_argument(
        "--peer-mes-max",
        type=int,
        default=200_000,
        help="run pabutools' Equal Shares only up to this many ballots (at 200,000 it takes "
        "~30 s on a quiet machine and did not finish in 300 s at load 10)",
    )
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} (2 cores shared; timings inflate with it)")
    for n in sorted({args.peer_ballots, args.ballots}):
        t = time.perf_counter()
        cost, ballots, budget = instance(n)
        distinct = len({tuple(b) for b in ballots})
        print(
            f"instance: {len(ballots):,} ballots ({distinct:,} distinct), {len(cost)} projects, "
            f"budget {budget:,} KZT (drawn in {time.perf_counter() - t:.1f} s, not timed)"
        )
        for rule in ("greedy", "mes"):
            t = time.perf_counter()
            ours = count(cost, ballots, budget, rule)
            t_ours = time.perf_counter() - t
            if rule == "mes" and n > args.peer_mes_max:
                print(
                    f"{rule:6s}  ours {t_ours:6.2f} s   pabutools plain: not run above "
                    f"{args.peer_mes_max:,} ballots   {len(ours.winners)} winners "
                    f"(goal: Equal Shares <= 5 s)"
                )
                continue
            t = time.perf_counter()
            theirs = peer(cost, ballots, budget, rule)
            t_peer = time.perf_counter() - t
            same = "identical winners" if sorted(ours.winners) == sorted(theirs) else "DIFFERENT"
            print(
                f"{rule:6s}  ours {t_ours:6.2f} s   pabutools plain {t_peer:6.2f} s   "
                f"ratio peer/ours {t_peer / t_ours:6.1f}   {len(ours.winners)} winners, {same}"
            )
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
