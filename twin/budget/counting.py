"""Counting a district cycle's approval ballots with the rules the research community uses,
through the real ``pabutools`` library (the reference implementation behind pabulib.org and
equalshares.net), never a home-made copy of the rules.

Two rules, chosen per cycle:

* ``greedy`` — the utilitarian greedy rule most cities use: projects in order of their votes,
  each taken if it still fits the money left, skipped otherwise (pabutools'
  ``greedy_utilitarian_welfare`` with cost satisfaction, whose "welfare gained per tenge" is
  exactly the number of votes);
* ``mes`` — the Method of Equal Shares (proportional; used in real PB votes since 2023, e.g.
  Wieliczka, Świecie, Aarau): the budget is split equally among the voters, and a project is
  bought only if its supporters can pay for it from their shares, the one that costs its
  supporters least per tenge of satisfaction first (cost satisfaction). Equal Shares alone may
  leave money unspent, so, as in those cities, the rest is completed by the greedy rule.

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

from pabutools.election import (
    ApprovalMultiProfile,
    Cost_Sat,
    FrozenApprovalBallot,
    Instance,
    Project,
)
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares

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
        reasons = _greedy_reasons(costs, votes, winners, budget)
    else:
        # Equal Shares needs who approved what: identical ballots once, with multiplicity
        profile = ApprovalMultiProfile(instance=instance)
        for approved, mult in groups.items():
            ballot = FrozenApprovalBallot([projects[pid] for pid in sorted(approved)])
            profile[ballot] = profile.get(ballot, 0) + mult
        mes: Any = method_of_equal_shares(instance, profile, sat_class=Cost_Sat)
        proportional = [by_name[p.name] for p in mes]
        completed: Any = greedy_utilitarian_welfare(
            instance, tally, sat_class=Cost_Sat, initial_budget_allocation=mes
        )
        winners = proportional + [
            by_name[p.name] for p in completed if by_name[p.name] not in proportional
        ]
        reasons = _mes_reasons(costs, votes, groups, n_ballots, proportional, winners, budget)
    return Outcome(rule, int(budget), n_ballots, votes, winners, proportional, reasons)


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
) -> dict[int, str]:
    """Replay greedy's order (most votes first, lower id on a tie): a loser's reason is the
    money left when its turn came."""
    left = budget
    reasons: dict[int, str] = {}
    won = set(winners)
    for pid in sorted(costs, key=lambda p: (-votes[p], p)):
        if pid in won:
            left -= costs[pid]
        elif votes[pid] == 0:
            reasons[pid] = "no ballot approved it"
        else:
            cheaper = [w for w in winners if votes[w] < votes[pid]]
            after = (
                f"; {_ids(cheaper)} with fewer votes won after it because they still fitted"
                if cheaper
                else ""
            )
            reasons[pid] = (
                f"when its turn came ({votes[pid]} votes) only {_tenge(left)} were left and "
                f"it costs {_tenge(costs[pid])}{after}"
            )
    return reasons


def _mes_reasons(
    costs: Mapping[int, int],
    votes: Mapping[int, int],
    groups: Mapping[frozenset[int], int],
    n_ballots: int,
    proportional: list[int],
    winners: list[int],
    budget: int,
) -> dict[int, str]:
    """Replay Equal Shares' payments (each supporter pays the same, or all they have left) in
    the order it bought projects; a loser's reason is how much its supporters had left."""
    if n_ballots == 0:
        return {pid: "no ballot approved it" for pid in costs if pid not in winners}
    share = Fraction(budget, n_ballots)
    # money left per ballot group (identical ballots pay identically)
    money = {g: share for g in groups}
    for pid in proportional:
        supporters = [g for g in groups if pid in g]
        rho = _equal_price(costs[pid], [(money[g], groups[g]) for g in supporters])
        for g in supporters:
            money[g] -= min(money[g], rho)
    reasons: dict[int, str] = {}
    won = set(winners)
    for pid in costs:
        if pid in won:
            continue
        if votes[pid] == 0:
            reasons[pid] = "no ballot approved it"
            continue
        had = sum(money[g] * m for g, m in groups.items() if pid in g)
        spent_on = sorted({q for g in groups if pid in g for q in g} & set(proportional))
        on = f" (they had paid for {_ids(spent_on)})" if spent_on else ""
        reasons[pid] = (
            f"its {votes[pid]} supporters had {_tenge(had)} of their equal shares left{on}, "
            f"less than its cost {_tenge(costs[pid])}; each voter's share is "
            f"{_tenge(share)}, so a project wins only if its own supporters can pay for it, "
            "and a project of another group of voters with fewer votes can win instead; "
            "the money Equal Shares left unspent then went by votes, and it did not fit"
        )
    return reasons


def _equal_price(cost: int, holdings: list[tuple[Fraction, int]]) -> Fraction:
    """Return the price per supporter ``rho`` such that the supporters, each paying
    ``min(money, rho)``, pay ``cost`` together (``holdings``: money per voter, voters)."""
    remaining = Fraction(cost)
    voters = sum(m for _, m in holdings)
    for money, mult in sorted(holdings):
        if money * voters >= remaining:
            return remaining / voters
        remaining -= money * mult
        voters -= mult
    return Fraction(10**30)  # not affordable (cannot happen for a project MES bought)
