"""The allocation (rdvpl/allocation.py): its guarantees as properties (Hypothesis), each checked
against an independent oracle — a plain Edmonds-Karp max-flow written here — and a few worked
examples a BER agent would recognise."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict, deque
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rdvpl.allocation import (
    AFTERNOON,
    MORNING,
    TOO_FEW_WISHED,
    WISHES_SHARED,
    Demand,
    FreeUnit,
    allocate,
    fair_shares,
)

TRANCHES = [(dt.time(8), 4), (dt.time(10), 4), (dt.time(13), 4), (dt.time(15), 4)]
MONDAY = dt.date(2026, 12, 7)


def _units_of(sessions):
    """FreeUnits from (day, tranche, inspector, centre, free unit indexes) tuples."""
    units, next_id = [], 1
    for session_id, (day, tranche, inspector, centre, free) in enumerate(sessions, 1):
        start, count = TRANCHES[tranche]
        for k in range(count):
            begin = dt.datetime.combine(MONDAY, start) + dt.timedelta(minutes=30 * k)
            if k in free:
                units.append(FreeUnit(day=MONDAY + dt.timedelta(days=day), start=begin.time(),
                                      inspector_id=inspector, id=next_id,
                                      end=(begin + dt.timedelta(minutes=30)).time(),
                                      centre_id=centre, session_id=session_id))
            next_id += 1
    return units


@st.composite
def sessions(draw, max_sessions=14):
    """Sessions at most one per inspector, day and tranche; some units not free."""
    keys = draw(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(1, 3)),
                         max_size=max_sessions, unique=True))
    out = []
    for day, tranche, inspector in keys:
        centre = draw(st.integers(1, 3))
        free = draw(st.one_of(st.just({0, 1, 2, 3}),
                              st.sets(st.integers(0, 3), min_size=1)))
        out.append((day, tranche, inspector, centre, free))
    return out


@st.composite
def demands(draw, open_wishes=False):
    count = draw(st.integers(1, 6))
    out = []
    for school_id in range(10, 10 + count):
        units = draw(st.integers(0, 16))
        if open_wishes:
            out.append(Demand(school_id, units))
            continue
        centres = draw(st.frozensets(st.integers(1, 3), max_size=2))
        half = draw(st.sampled_from([None, MORNING, AFTERNOON]))
        out.append(Demand(school_id, units, centres, half))
    return out


# --- the oracle ---------------------------------------------------------------------------


def _class_of(unit):
    return (unit.centre_id, unit.half_day)


def max_flow(units, demands, caps) -> int:
    """Most units assignable with school i getting at most caps[i] units it accepts (plain
    Edmonds-Karp on source -> schools -> (centre, half-day) classes -> sink)."""
    capacity_of = Counter(_class_of(u) for u in units)
    classes = sorted(capacity_of)
    n = len(demands)
    source, sink = 0, 1 + n + len(classes)
    graph = defaultdict(lambda: defaultdict(int))
    for i, demand in enumerate(demands):
        graph[source][1 + i] += caps[i]
        for c, key in enumerate(classes):
            if demand.accepts(*key):
                graph[1 + i][1 + n + c] += 10**9
    for c, key in enumerate(classes):
        graph[1 + n + c][sink] += capacity_of[key]
    total = 0
    while True:
        parent = {source: None}
        queue = deque([source])
        while queue and sink not in parent:
            a = queue.popleft()
            for b, cap in graph[a].items():
                if cap > 0 and b not in parent:
                    parent[b] = a
                    queue.append(b)
        if sink not in parent:
            return total
        path, b = [], sink
        while parent[b] is not None:
            path.append((parent[b], b))
            b = parent[b]
        push = min(graph[a][b] for a, b in path)
        for a, b in path:
            graph[a][b] -= push
            graph[b][a] += push
        total += push


def feasible(units, demands, caps) -> bool:
    """True if every school i can get exactly caps[i] units at once."""
    return max_flow(units, demands, caps) == sum(caps)


def naive_days(units, result):
    """Exam days (school, day) when the flow's quotas per (school, centre, half-day) are handed
    out one unit at a time in chronological order, each to the next school in turn (by id)
    that still needs one of its class."""
    need = {(s.school_id, key): n for s in result.schools for key, n in s.quotas.items()}
    order = sorted(s.school_id for s in result.schools)
    turn = 0
    days = set()
    for unit in sorted(units):
        for k in range(len(order)):
            school = order[(turn + k) % len(order)]
            if need.get((school, _class_of(unit)), 0) > 0:
                need[(school, _class_of(unit))] -= 1
                days.add((school, unit.day))
                turn = (turn + k + 1) % len(order)
                break
    return len(days)


# --- properties ---------------------------------------------------------------------------

PROPERTY = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _check_common(units, wanted, result):
    by_id = {u.id: u for u in units}
    proposed = [i for s in result.schools for i in s.unit_ids]
    assert len(proposed) == len(set(proposed)), "a unit proposed twice"
    assert set(proposed) <= set(by_id)
    for share, demand in zip(result.schools, wanted, strict=True):
        assert share.school_id == demand.school_id
        assert share.proposed <= demand.units, "over the demand"
        assert share.share <= demand.units
        for unit_id in share.unit_ids:
            unit = by_id[unit_id]
            assert demand.accepts(unit.centre_id, unit.half_day), "outside the wishes"
        for run in share.runs:  # a run is consecutive units of one inspector, centre, day
            members = [by_id[i] for i in run.unit_ids]
            assert {(u.day, u.inspector_id, u.centre_id) for u in members} == {
                (run.day, run.inspector_id, run.centre_id)}
            assert all(a.end == b.start for a, b in zip(members, members[1:], strict=False))
    assert result.proposed == len(proposed)


@PROPERTY
@given(sessions(), demands(open_wishes=True))
def test_open_wishes_give_every_school_its_share(plan, wanted):
    units = _units_of(plan)
    result = allocate(units, wanted)
    _check_common(units, wanted, result)
    total = sum(d.units for d in wanted)
    assert result.proposed == min(len(units), total)
    for share, demand in zip(result.schools, wanted, strict=True):
        exact = Fraction(demand.units * min(len(units), total), total) if total else 0
        assert abs(share.share - exact) < 1  # the rounding of its proportional part
        assert share.proposed == share.share
        assert share.shortfall is None


@PROPERTY
@given(sessions(), demands())
def test_wishes_respected_and_shortfalls_certified(plan, wanted):
    units = _units_of(plan)
    result = allocate(units, wanted)
    _check_common(units, wanted, result)
    got = [s.proposed for s in result.schools]
    shares = [s.share for s in result.schools]
    # The total is the most the wishes allow (min(capacity, demand) when they allow it).
    assert result.proposed == max_flow(units, wanted, [d.units for d in wanted])
    if feasible(units, wanted, shares):
        assert all(g >= s for g, s in zip(got, shares, strict=True))
    for i, share in enumerate(result.schools):
        if got[i] >= shares[i]:
            assert share.shortfall is None
            continue
        # Below its share: one more unit for it would push another school below its share.
        caps = [min(g, s) for g, s in zip(got, shares, strict=True)]
        caps[i] = got[i] + 1
        assert not feasible(units, wanted, caps)
        expected = TOO_FEW_WISHED if share.wished_free < share.share else WISHES_SHARED
        assert share.shortfall == expected


@PROPERTY
@given(sessions(), demands())
def test_grouping_no_worse_than_unit_by_unit(plan, wanted):
    units = _units_of(plan)
    result = allocate(units, wanted)
    ours = sum(len(s.days) for s in result.schools)
    assert ours <= naive_days(units, result)


@PROPERTY
@given(sessions(), demands(), st.randoms(use_true_random=False))
def test_same_input_same_proposal(plan, wanted, rng):
    units = _units_of(plan)
    first = allocate(units, wanted)
    shuffled_units, shuffled_demands = list(units), list(wanted)
    rng.shuffle(shuffled_units)
    rng.shuffle(shuffled_demands)
    assert allocate(shuffled_units, shuffled_demands) == first


@given(st.dictionaries(st.integers(1, 50), st.integers(0, 100), max_size=12),
       st.integers(0, 400))
def test_fair_shares_largest_remainder(demand, capacity):
    shares = fair_shares(demand, capacity)
    total = sum(demand.values())
    target = min(capacity, total)
    assert sum(shares.values()) == target
    for school, d in demand.items():
        exact = Fraction(d * target, total) if total else 0
        assert shares[school] <= d
        assert shares[school] in (int(exact), int(exact) + 1)
    # Largest remainder: nobody rounded down has a larger remainder than someone rounded up.
    if total:
        up = [s for s in demand if shares[s] > demand[s] * target // total]
        down = [s for s in demand if shares[s] == demand[s] * target // total]
        for s in up:
            for t in down:
                assert demand[s] * target % total >= demand[t] * target % total


# --- worked examples ----------------------------------------------------------------------


def test_whole_sessions_go_to_a_school_that_needs_them():
    # Two free sessions of DUMAS (M1 and M2) on one day, one of MONTEIL on another.
    units = _units_of([(0, 0, 1, 1, {0, 1, 2, 3}), (0, 1, 1, 1, {0, 1, 2, 3}),
                       (1, 0, 2, 1, {0, 1, 2, 3})])
    result = allocate(units, [Demand(1, 8), Demand(2, 2)])
    big, small = result.schools
    assert (big.share, small.share) == (8, 2)
    # 8 units in one day (the two touching sessions: one run 08:00-12:00), 2 on the other.
    assert [(r.day, r.start, r.end, r.count) for r in big.runs] == [
        (MONDAY, dt.time(8), dt.time(12), 8)]
    assert [r.count for r in small.runs] == [2] and small.days == [MONDAY + dt.timedelta(1)]


def test_shortage_is_split_in_proportion_to_demand():
    units = _units_of([(d, t, 1, 1, {0, 1, 2, 3}) for d in range(3) for t in range(2)])  # 24
    result = allocate(units, [Demand(1, 30), Demand(2, 10), Demand(3, 0)])
    assert [(s.share, s.proposed) for s in result.schools] == [(18, 18), (6, 6), (0, 0)]


def test_a_school_whose_centre_has_too_few_units_is_told_why():
    units = _units_of([(0, 0, 1, 1, {0, 1, 2, 3}), (0, 0, 2, 2, {0, 1}),
                       (1, 0, 1, 1, {0, 1, 2, 3})])  # 8 at centre 1, 2 at centre 2
    result = allocate(units, [Demand(1, 5), Demand(2, 5, frozenset({2}))])
    narbonne = result.schools[1]
    assert (narbonne.share, narbonne.proposed, narbonne.shortfall) == (5, 2, TOO_FEW_WISHED)
    # The units it cannot use go to the other school, beyond its share.
    assert result.schools[0].proposed == 5 and result.proposed == 7


def test_a_flexible_school_leaves_the_scarce_centre_to_the_one_that_needs_it():
    # The flexible school asks first in id order; the augmenting path moves it away.
    units = _units_of([(0, 0, 1, 1, {0, 1, 2, 3}), (0, 0, 2, 2, {0, 1, 2, 3})])
    result = allocate(units, [Demand(1, 4), Demand(2, 4, frozenset({2}))])
    by_id = {u.id: u for u in units}
    assert {by_id[i].centre_id for i in result.schools[1].unit_ids} == {2}
    assert [s.proposed for s in result.schools] == [4, 4]


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        allocate([], [Demand(1, -1)])
    with pytest.raises(ValueError):
        allocate([], [Demand(1, 1), Demand(1, 2)])


def test_department_scale_proposal_is_complete():
    """300 schools, about 10,000 units (the benchmark's shape): every guarantee that is cheap
    to check at this size holds (the time is printed by bench/allocation.py, not asserted)."""
    from bench.allocation import department

    units, wanted = department(random.Random(7))
    result = allocate(units, wanted)
    _check_common(units, wanted, result)
    assert result.proposed == max_flow(units, wanted, [d.units for d in wanted])
