"""The counting rules (through pabutools) against answers worked out by hand, including an
instance where greedy and Equal Shares choose differently, and the reasons a project lost."""

from __future__ import annotations

from twin.core.budget_counting import count, money_left

# Budget 120; four projects of 40. Six voters approve {1, 2, 3}, four approve {4}.
COSTS = {1: 40, 2: 40, 3: 40, 4: 40}
BALLOTS = [{1, 2, 3}] * 6 + [{4}] * 4


def test_greedy_takes_the_most_voted_projects_that_fit() -> None:
    # By hand: votes 6, 6, 6, 4; greedy takes 1, 2, 3 (120) and #4 no longer fits.
    out = count(COSTS, BALLOTS, 120, "greedy")
    assert out.winners == [1, 2, 3]
    assert out.votes == {1: 6, 2: 6, 3: 6, 4: 4}
    assert out.ballots == 10
    assert money_left(COSTS, out) == 0
    assert "only 0 ₸ were left" in out.reasons[4]


def test_equal_shares_gives_the_minority_its_project() -> None:
    # By hand: each voter's share is 120 / 10 = 12. The six have 72, the four 48.
    # #1 costs the six 40/6 = 6.67 each (cheapest per voter), leaving them 5.33 each = 32.
    # #4 costs the four 10 each; they have 12: bought. #2 and #3 cost 40 > 32: not affordable.
    # Equal Shares stops at {1, 4} with 40 left; the greedy completion adds #2 (6 votes, fits).
    out = count(COSTS, BALLOTS, 120, "mes")
    assert out.proportional == [1, 4]
    assert out.winners == [1, 4, 2]
    assert money_left(COSTS, out) == 0
    # #3 has 6 votes and loses to #4 with 4: its supporters had only 32 ₸ left
    assert "its 6 supporters had 32 ₸ of their equal shares left" in out.reasons[3]
    assert "#1" in out.reasons[3]
    # the same as data, for the map to say in ru/kk/en
    assert out.facts[3] == {"kind": "shares", "had_kzt": 32, "share_kzt": 12, "paid_for": [1]}


def test_greedy_skips_a_project_that_does_not_fit_for_a_cheaper_one_with_fewer_votes() -> None:
    # Budget 100: #1 costs 80 (5 votes), #2 costs 30 (4 votes), #3 costs 20 (3 votes).
    # Greedy: #1 (20 left), #2 does not fit, #3 fits. #2 with more votes than #3 loses.
    costs = {1: 80, 2: 30, 3: 20}
    out = count(costs, [{1}] * 5 + [{2}] * 4 + [{3}] * 3, 100, "greedy")
    assert out.winners == [1, 3]
    assert money_left(costs, out) == 0
    assert out.reasons[2].startswith("when its turn came (4 votes) only 20 ₸ were left")
    assert "#3" in out.reasons[2]
    assert out.facts[2] == {"kind": "no_money", "left_kzt": 20, "after": [3]}


def test_ties_go_to_the_earlier_application_and_unvoted_projects_are_explained() -> None:
    # #7 and #12 tie on 2 votes and only one fits: the lower id wins (not "12" < "7").
    costs = {7: 60, 12: 60, 20: 10}
    out = count(costs, [{7, 12}, {7, 12}], 100, "greedy")
    assert out.winners == [7]
    assert out.reasons[20] == "no ballot approved it"
    assert out.facts[20] == {"kind": "no_votes"} and out.facts[12]["after"] == []
    assert count(costs, [], 100, "mes").winners == []


def test_greedy_on_the_tally_equals_pabutools_on_the_full_profile() -> None:
    # greedy counts on one ballot per project with its votes as multiplicity; check it against
    # pabutools on every voter's ballot, on a random instance where ties and skips happen
    import random

    from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Instance, Project
    from pabutools.rules import greedy_utilitarian_welfare

    from twin.core.budget_counting import from_json, to_json

    rnd = random.Random(3)
    costs = {i: rnd.choice([10, 20, 25, 40, 55]) for i in range(1, 16)}
    ballots = [set(rnd.sample(range(1, 16), rnd.randint(1, 4))) for _ in range(300)]
    projects = {i: Project(f"{i:09d}", c) for i, c in costs.items()}
    inst = Instance(projects.values(), budget_limit=150)
    full = ApprovalProfile([ApprovalBallot([projects[i] for i in b]) for b in ballots])
    expected = [int(p.name) for p in greedy_utilitarian_welfare(inst, full, sat_class=Cost_Sat)]
    out = count(costs, ballots, 150, "greedy")
    assert sorted(out.winners) == sorted(expected)
    assert from_json(to_json(out)) == out


def test_equal_shares_equals_pabutools_on_random_and_tied_instances() -> None:
    # our exact Equal Shares against pabutools' method_of_equal_shares (cost satisfaction,
    # lexicographic ties) on 300 instances: the same projects in the same order, and the same
    # greedy completion; small costs and few voters make ties and exhausted voters common
    import random
    from collections import Counter

    from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Instance, Project
    from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares

    from twin.core.budget_counting import equal_shares

    rnd = random.Random(17)
    differ = 0
    for case in range(300):
        n_projects = rnd.randint(1, 12)
        ids = rnd.sample(range(1, 40), n_projects)
        tied = case % 2 == 0
        costs = {i: rnd.choice([2, 3, 4, 6]) if tied else rnd.randint(1, 500) for i in ids}
        ballots = [
            set(rnd.sample(ids, rnd.randint(1, min(4, n_projects))))
            for _ in range(rnd.randint(1, 9 if tied else 60))
        ]
        budget = rnd.randint(1, sum(costs.values()))
        projects = {i: Project(f"{i:09d}", c) for i, c in costs.items()}
        inst = Instance(projects.values(), budget_limit=budget)
        profile = ApprovalProfile(
            [ApprovalBallot([projects[i] for i in b]) for b in ballots], instance=inst
        )
        mes = method_of_equal_shares(inst, profile, sat_class=Cost_Sat)
        expected = [int(p.name) for p in mes]
        groups = Counter(frozenset(b) for b in ballots)
        assert equal_shares(costs, groups, budget).winners == expected, (case, costs, ballots)
        done = greedy_utilitarian_welfare(
            inst, profile, sat_class=Cost_Sat, initial_budget_allocation=mes
        )
        out = count(costs, ballots, budget, "mes")
        assert out.proportional == expected
        # (count never funds a project no ballot approves; pabutools' greedy may, with 0 gain)
        voted = set().union(*ballots)
        assert sorted(out.winners) == sorted(int(p.name) for p in done if int(p.name) in voted)
        differ += expected != count(costs, ballots, budget, "greedy").winners[: len(expected)]
    assert differ > 50  # the instances do tell the rules apart


def test_equal_shares_refuses_a_free_project() -> None:
    import pytest

    with pytest.raises(ValueError, match="cost more than 0"):
        count({1: 0, 2: 5}, [{1, 2}], 10, "mes")
