"""Counting a district cycle's approval ballots with the rules the research community uses,
the way ``pabutools`` (the reference implementation behind pabulib.org and equalshares.net)
counts them.

Two rules, chosen per cycle:

* ``greedy`` — the utilitarian greedy rule most cities use: projects in order of their votes,
  each taken if it still fits the money left, skipped otherwise (pabutools'
  ``greedy_utilitarian_welfare`` with cost satisfaction, whose "welfare gained per tenge" is
  exactly the number of votes);
* ``mes`` — the Method of Equal Shares (proportional; used in real PB votes since 2023, e.g.
  Wieliczka, Świecie, Aarau): the budget is split equally among the voters, and a project is
  bought only if its supporters can pay for it from their shares, the one that costs its
  supporters least per tenge of satisfaction first (cost satisfaction). Equal Shares alone may
  leave money unspent, so, as in those cities, the rest is completed by the greedy rule
  (pabutools' greedy with the Equal Shares winners as its initial allocation).

Greedy runs in pabutools itself. Equal Shares is :func:`equal_shares`, written here with exact
fractions because pabutools' ``method_of_equal_shares`` did not finish a 200,000-ballot cycle
in 300 s (issue 17's goal is 5 s); it is checked against pabutools on hundreds of instances in
the tests and side by side in bench/budget.py (load 2.3: 20,000 ballots, pabutools 1.41 s,
this 0.11 s, identical winners; 200,000 ballots, this 0.34 s).

Ties go to the project with the lower id (the earlier application): pabutools breaks ties
lexicographically and projects are named by their zero-padded id.

Besides the winners, :func:`count` explains each losing project: the money left when its turn
came (greedy), or how much of their equal shares its supporters still had (Equal Shares) —
which is why a project with more votes can lose.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from pabutools.election import (
    ApprovalMultiProfile,
    Cost_Sat,
    FrozenApprovalBallot,
    Instance,
    Project,
)
from pabutools.rules import greedy_utilitarian_welfare

#: the counting rules a cycle may use
RULES = ("greedy", "mes")

RULE_TITLES = {
    "greedy": "utilitarian greedy (most votes first, while the money lasts)",
    "mes": "Method of Equal Shares (proportional), completed by greedy",
}


@dataclass(frozen=True)
class Outcome:
    """The result of counting one cycle."""

    rule: str
    budget: int
    ballots: int
    #: project id -> number of ballots approving it
    votes: dict[int, int]
    #: the winners, in the order the rule chose them
    winners: list[int]
    #: of the winners, those Equal Shares bought before the greedy completion (empty for greedy)
    proportional: list[int] = field(default_factory=list)
    #: losing project id -> why it lost, in plain words
    reasons: dict[int, str] = field(default_factory=dict)
    #: losing project id -> the same reason as data, for the map to say in ru/kk/en:
    #: ``{"kind": "no_votes"}``, ``{"kind": "no_money", "left_kzt", "after"}`` (greedy: the
    #: money left at its turn, the winners with fewer votes that still fitted) or
    #: ``{"kind": "shares", "had_kzt", "share_kzt", "paid_for"}`` (Equal Shares)
    facts: dict[int, dict[str, Any]] = field(default_factory=dict)


def _name(project_id: int) -> str:
    return f"{project_id:09d}"


def count(
    costs: Mapping[int, int], ballots: Iterable[Iterable[int]], budget: int, rule: str
) -> Outcome:
    """Count approval ``ballots`` (each a set of project ids) over projects with ``costs``
    (id -> whole tenge) and ``budget`` with ``rule`` ("greedy" or "mes")."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}")
    groups: Counter[frozenset[int]] = Counter(frozenset(b) for b in ballots)
    votes = dict.fromkeys(costs, 0)
    n_ballots = 0
    for approved, mult in groups.items():
        n_ballots += mult
        for pid in approved:
            votes[pid] += mult
    # a project no ballot approves is never funded (greedy would fill leftover money with it)
    projects = {pid: Project(_name(pid), int(c)) for pid, c in costs.items() if votes[pid]}
    by_name = {p.name: pid for pid, p in projects.items()}
    instance = Instance(projects.values(), budget_limit=int(budget))
    # Greedy depends only on each project's approvals and cost, so it runs on the equivalent
    # profile of one single-project ballot per project with its votes as multiplicity: the
    # same pabutools rule and the same outcome, without the per-voter satisfactions (tested
    # against the full profile in tests/budget and bench/budget.py).
    tally = ApprovalMultiProfile(instance=instance)
    for pid, project in projects.items():
        tally[FrozenApprovalBallot([project])] = votes[pid]
    if rule == "greedy":
        chosen: Any = greedy_utilitarian_welfare(instance, tally, sat_class=Cost_Sat)
        winners = [by_name[p.name] for p in chosen]
        proportional: list[int] = []
        reasons, facts = _greedy_reasons(costs, votes, winners, budget)
    else:
        shares = equal_shares(costs, groups, budget)
        proportional = shares.winners
        completed: Any = greedy_utilitarian_welfare(
            instance,
            tally,
            sat_class=Cost_Sat,
            initial_budget_allocation=[projects[pid] for pid in proportional],
        )
        winners = proportional + [
            by_name[p.name] for p in completed if by_name[p.name] not in proportional
        ]
        reasons, facts = _mes_reasons(costs, votes, shares, n_ballots, winners)
    return Outcome(rule, int(budget), n_ballots, votes, winners, proportional, reasons, facts)


def to_json(outcome: Outcome) -> str:
    """Return ``outcome`` as JSON text (kept with the cycle when it is counted)."""
    return json.dumps(asdict(outcome), ensure_ascii=False)


def from_json(text: str) -> Outcome:
    """Return the :class:`Outcome` of :func:`to_json`'s text."""
    d = json.loads(text)
    return Outcome(
        d["rule"],
        d["budget"],
        d["ballots"],
        {int(k): v for k, v in d["votes"].items()},
        d["winners"],
        d["proportional"],
        {int(k): v for k, v in d["reasons"].items()},
        # outcomes kept before the facts existed have none (the map then shows ``reasons``)
        {int(k): v for k, v in d.get("facts", {}).items()},
    )


def money_left(costs: Mapping[int, int], outcome: Outcome) -> int:
    """Return the budget not spent on ``outcome``'s winners."""
    return outcome.budget - sum(costs[p] for p in outcome.winners)


def _tenge(amount: Fraction | int) -> str:
    return f"{round(amount):,}".replace(",", " ") + " ₸"


def _ids(ids: list[int]) -> str:
    return ("project " if len(ids) == 1 else "projects ") + ", ".join(f"#{i}" for i in ids)


def _greedy_reasons(
    costs: Mapping[int, int], votes: Mapping[int, int], winners: list[int], budget: int
) -> tuple[dict[int, str], dict[int, dict[str, Any]]]:
    """Replay greedy's order (most votes first, lower id on a tie): a loser's reason is the
    money left when its turn came."""
    left = budget
    reasons: dict[int, str] = {}
    facts: dict[int, dict[str, Any]] = {}
    won = set(winners)
    for pid in sorted(costs, key=lambda p: (-votes[p], p)):
        if pid in won:
            left -= costs[pid]
        elif votes[pid] == 0:
            reasons[pid] = "no ballot approved it"
            facts[pid] = {"kind": "no_votes"}
        else:
            cheaper = [w for w in winners if votes[w] < votes[pid]]
            facts[pid] = {"kind": "no_money", "left_kzt": int(left), "after": cheaper}
            after = (
                f"; {_ids(cheaper)} with fewer votes won after it because they still fitted"
                if cheaper
                else ""
            )
            reasons[pid] = (
                f"when its turn came ({votes[pid]} votes) only {_tenge(left)} were left and "
                f"it costs {_tenge(costs[pid])}{after}"
            )
    return reasons, facts


def _mes_reasons(
    costs: Mapping[int, int],
    votes: Mapping[int, int],
    shares: Shares,
    n_ballots: int,
    winners: list[int],
) -> tuple[dict[int, str], dict[int, dict[str, Any]]]:
    """A loser's reason is how much of their equal shares its supporters had left when Equal
    Shares stopped, and which of its purchases they had paid for."""
    won = set(winners)
    losers = [pid for pid in costs if pid not in won]
    if n_ballots == 0:
        return (
            dict.fromkeys(losers, "no ballot approved it"),
            {pid: {"kind": "no_votes"} for pid in losers},
        )
    reasons: dict[int, str] = {}
    facts: dict[int, dict[str, Any]] = {}
    for pid in losers:
        if votes[pid] == 0:
            reasons[pid] = "no ballot approved it"
            facts[pid] = {"kind": "no_votes"}
            continue
        had, paid_for = shares.left[pid]
        facts[pid] = {
            "kind": "shares",
            "had_kzt": round(had),
            "share_kzt": round(shares.share),
            "paid_for": list(paid_for),
        }
        on = f" (they had paid for {_ids(paid_for)})" if paid_for else ""
        reasons[pid] = (
            f"its {votes[pid]} supporters had {_tenge(had)} of their equal shares left{on}, "
            f"less than its cost {_tenge(costs[pid])}; each voter's share is "
            f"{_tenge(shares.share)}, so a project wins only if its own supporters can pay for "
            "it, and a project of another group of voters with fewer votes can win instead; "
            "the money Equal Shares left unspent then went by votes, and it did not fit"
        )
    return reasons, facts


@dataclass(frozen=True)
class Shares:
    """What :func:`equal_shares` found."""

    #: the projects bought, in the order bought
    winners: list[int]
    #: each voter's initial share of the budget
    share: Fraction
    #: project id -> (the money its supporters had left at the end, the bought projects they
    #: had paid for, in id order)
    left: dict[int, tuple[Fraction, list[int]]]


def equal_shares(
    costs: Mapping[int, int], groups: Mapping[frozenset[int], int], budget: int
) -> Shares:
    """The Method of Equal Shares with cost satisfaction on approval ballots (``groups``:
    identical ballots -> how many), exactly as pabutools' ``method_of_equal_shares(...,
    sat_class=Cost_Sat)`` with its default lexicographic tie-breaking (checked against it on
    hundreds of random and tied instances in tests/budget/test_counting.py and in
    bench/budget.py): the budget is split equally among the voters; each round, every project
    still affordable is priced at the smallest equal payment ``rho`` its supporters can make
    (each paying ``min(money, rho)``), and the one with the least ``rho / cost`` is bought
    (ties: the lowest id, which is pabutools' order of the zero-padded names); its supporters
    pay; until no project is affordable.

    Written by hand because pabutools is pure Python that builds a satisfaction object per
    distinct ballot and project and prices every project over every supporter with Fractions
    each round: with 200,000 ballots and 60 projects it did not finish in 300 s (20,000
    ballots: 8.0 s, most of it building the satisfactions). Here the money is exact too
    (Fractions), but kept per *class* of voters, not per voter: all voters start equal and a
    purchase charges its supporters equally when their money is equal, so two voters who
    approved the same set of bought projects always hold the same money. There are few such
    classes (at most 2^5 per project on ballots of 6), and numpy counts each project's
    supporters per class from the ballot groups. Each round prices every project in floats
    first and only the near-cheapest (within 1e-9) exactly, so the choice and the ties are
    the exact ones (bench/budget.py: 200,000 ballots in 0.34 s, load 2.3)."""
    pids = sorted({p for g in groups for p in g})
    if any(costs[p] <= 0 for p in pids):
        raise ValueError("every project must cost more than 0")
    n_voters = sum(groups.values())
    share = Fraction(int(budget), n_voters) if n_voters else Fraction(0)
    if not pids:
        return Shares([], share, {})
    col = {p: j for j, p in enumerate(pids)}
    keys = list(groups)
    mult = np.fromiter((groups[g] for g in keys), dtype=np.int64, count=len(keys))
    # per project, the ballot groups approving it (indices into keys)
    rows: list[list[int]] = [[] for _ in pids]
    for i, g in enumerate(keys):
        for p in g:
            rows[col[p]].append(i)
    supp = [np.asarray(r, dtype=np.int64) for r in rows]
    # cls[i]: the class of group i; a class = the bought projects its voters approved
    cls = np.zeros(len(keys), dtype=np.int64)
    money: list[Fraction] = [share]
    bought_by: list[frozenset[int]] = [frozenset()]

    def classes_of(j: int) -> tuple[np.ndarray, np.ndarray]:
        n = np.bincount(cls[supp[j]], weights=mult[supp[j]], minlength=len(money))
        at = np.flatnonzero(n)
        return at, n[at].astype(np.int64)

    tol = 1e-9  # far above the float error, far below any real difference in rho

    def price(cost: int, at: np.ndarray, n: np.ndarray) -> Fraction | None:
        """The exact rho of a project (None: its supporters cannot pay for it)."""
        holdings = sorted((money[c], int(k)) for c, k in zip(at.tolist(), n.tolist(), strict=True))
        if sum(m * k for m, k in holdings) < cost:
            return None
        remaining, rich = Fraction(cost), int(n.sum())
        for m, k in holdings:
            rho = remaining / rich
            if rho <= m:
                return rho
            remaining -= m * k
            rich -= k
        raise AssertionError("an affordable project always has a price")

    def price_float(cost: int, at: np.ndarray, n: np.ndarray) -> float:
        """rho in floats (inf: not affordable), to find the few projects worth pricing
        exactly; within a relative 1e-12 or so of the truth (each class's money is rounded
        from the exact)."""
        m = money_f[at]
        order = np.argsort(m, kind="stable")
        m, k = m[order], n[order].astype(np.float64)
        if float(m @ k) < cost * (1 - tol):
            return float(np.inf)  # surely not affordable; borderline ones are priced exactly
        # rho if the classes before i are poor (pay all they have) and the rest pay rho
        paid = np.concatenate(([0.0], np.cumsum(m * k)[:-1]))
        rich = np.concatenate(([0.0], np.cumsum(k)[:-1]))
        rho = (cost - paid) / (k.sum() - rich)
        ok = np.flatnonzero(rho <= m)
        return float(rho[ok[0]]) if len(ok) else float(m[-1])

    money_f = np.array([float(share)])
    remaining = set(range(len(pids)))
    winners: list[int] = []
    while remaining:
        approx: dict[int, tuple[float, np.ndarray, np.ndarray]] = {}
        for j in sorted(remaining):
            cost = int(costs[pids[j]])
            at, n = classes_of(j)
            rho_f = price_float(cost, at, n)
            if rho_f == np.inf:
                remaining.discard(j)  # its supporters cannot pay for it now, nor ever after
                continue
            approx[j] = (rho_f / cost, at, n)
        if not approx:
            break
        lowest = min(a for a, _, _ in approx.values())
        best: tuple[Fraction, int, Fraction] | None = None  # (rho / cost, id, rho)
        for j, (a, at, n) in approx.items():
            if a > lowest * (1 + tol):
                continue
            cost = int(costs[pids[j]])
            rho = price(cost, at, n)
            if rho is None:
                remaining.discard(j)
                continue
            if best is None or (rho / cost, pids[j]) < (best[0], best[1]):
                best = (rho / cost, pids[j], rho)
        if best is None:
            continue  # the only candidates proved unaffordable: look again without them
        p, rho = best[1], best[2]
        j = col[p]
        remaining.discard(j)
        winners.append(p)
        # the supporters pay; each of their classes moves to a new class that also bought p
        old = cls[supp[j]]
        moved = np.unique(old)
        new_id = np.empty(int(moved.max()) + 1, dtype=np.int64)
        added = []
        for c in moved.tolist():
            new_id[c] = len(money)
            money.append(money[c] - min(money[c], rho))
            added.append(float(money[-1]))
            bought_by.append(bought_by[c] | {p})
        money_f = np.concatenate((money_f, added))
        cls[supp[j]] = new_id[old]
    left: dict[int, tuple[Fraction, list[int]]] = {}
    for j, p in enumerate(pids):
        at, n = classes_of(j)
        held = zip(at.tolist(), n.tolist(), strict=True)
        had = sum((money[c] * int(k) for c, k in held), Fraction(0))
        paid = sorted(set().union(*(bought_by[c] for c in at.tolist())))
        left[p] = (had, paid)
    return Shares(winners, share, left)
