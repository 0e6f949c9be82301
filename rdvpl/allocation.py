"""The fair, grouped split of a month's Dispo AE units between driving schools (BER 10).

Pure: no Flask, no database. The same input always gives the same proposal (every choice has
an explicit tie-break; nothing depends on dict or set order).

Method — a greedy on a small flow network, no solver:
1. **Shares**: ``target = min(free units, total unmet demand)`` split proportionally to each
   school's unmet demand, by largest remainder (exact integers; ties: larger demand, then
   smaller school id). A share never exceeds the demand.
2. **Quotas per class**: a *class* is a (centre, half-day) pair, the only thing wishes speak
   of. Units are handed out one at a time to the school furthest below its share (smallest
   got/share), each going to a wished class with a free unit — or, if none is free, along an
   augmenting path (another school's unit moves to another class it also wished, freeing one
   for this school). A school with no such path is *blocked*. Then the same is done with the
   demands as caps, for the units nobody could use within the shares.
3. **Placement**: schools in order of their number of units (most first), each takes its
   quota of each class day by day, always on the day that covers most of what it still needs
   (fewest separate exam days), and within a day whole free sessions first, then the
   best-fitting run of consecutive units of one inspector, so that others keep whole runs.

Guarantees (tests/test_allocation.py checks each with Hypothesis against an independent
max-flow):
- no unit is proposed twice; no school gets more than its unmet demand; every proposed unit
  is in the school's wished centres and half-days;
- whenever the wishes allow every school its share at once, every school gets at least its
  share (exactly its share when wishes are open: within the 1 unit of rounding of its exact
  proportional part);
- a school below its share could not get one more unit unless another school went below its
  own share: its wishes make it impossible (``SchoolShare.shortfall`` says which way);
- the total proposed is the most the wishes allow, so ``min(free, demand)`` when they allow it;
- never more separate exam days in total than handing the same quotas out one unit at a time
  in chronological order, each to the next school in turn: that naive hand-out is computed
  too and kept in the rare case it does better (the greedy placement is a heuristic: fewest
  days is a bin-packing problem).
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

MIDDAY = dt.time(12, 0)
MORNING = "matin"
AFTERNOON = "apres-midi"
HALF_DAYS = (MORNING, AFTERNOON)

# Why a school gets less than its share (worded by the templates).
TOO_FEW_WISHED = "too_few"  # fewer Dispo AE units in its wished centres/half-days than its share
WISHES_SHARED = "shared"  # its wished units went to other schools, each within its own share


@dataclass(frozen=True, order=True)
class FreeUnit:
    """One Dispo AE unit of the month. Sorted chronologically (day, start, inspector, id)."""

    day: dt.date
    start: dt.time
    inspector_id: int
    id: int
    end: dt.time = field(compare=False)
    centre_id: int = field(compare=False)
    session_id: int = field(compare=False)

    @property
    def half_day(self) -> str:
        return MORNING if self.start < MIDDAY else AFTERNOON


@dataclass(frozen=True)
class Demand:
    """A school's unmet demand for the month and category, and its wishes."""

    school_id: int
    units: int
    centres: frozenset[int] = frozenset()  # empty: any centre
    half_day: str | None = None  # MORNING, AFTERNOON, or None ("Indifférent")

    def accepts(self, centre_id: int, half_day: str) -> bool:
        return ((not self.centres or centre_id in self.centres)
                and (self.half_day is None or self.half_day == half_day))


@dataclass(frozen=True)
class Run:
    """Consecutive units of one inspector at one centre on one day (a line of the preview)."""

    day: dt.date
    centre_id: int
    inspector_id: int
    start: dt.time
    end: dt.time
    unit_ids: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.unit_ids)


@dataclass
class SchoolShare:
    school_id: int
    demand: int  # unmet demand
    share: int  # fair share
    runs: list[Run]
    wished_free: int  # Dispo AE units of the month in its wished centres and half-days
    shortfall: str | None = None  # TOO_FEW_WISHED or WISHES_SHARED when below its share
    # Units per (centre, half-day) the flow gave it (before placement moved some).
    quotas: dict[tuple[int, str], int] = field(default_factory=dict)

    @property
    def proposed(self) -> int:
        return sum(run.count for run in self.runs)

    @property
    def unit_ids(self) -> list[int]:
        return [i for run in self.runs for i in run.unit_ids]

    @property
    def days(self) -> list[dt.date]:
        return sorted({run.day for run in self.runs})


@dataclass
class Allocation:
    schools: list[SchoolShare]  # by school id
    free_units: int
    demand: int

    @property
    def proposed(self) -> int:
        return sum(s.proposed for s in self.schools)


def fair_shares(demands: dict[int, int], capacity: int) -> dict[int, int]:
    """Largest-remainder split of ``min(capacity, total demand)`` in proportion to demand."""
    total = sum(demands.values())
    target = min(capacity, total)
    if target <= 0:
        return dict.fromkeys(demands, 0)
    shares = {i: d * target // total for i, d in demands.items()}
    left = target - sum(shares.values())
    order = sorted(demands, key=lambda i: (-(demands[i] * target % total), -demands[i], i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def allocate(units: Iterable[FreeUnit], demands: Iterable[Demand]) -> Allocation:
    """The proposal: per school its share and its units grouped in runs (see module doc)."""
    units = sorted({u.id: u for u in units}.values())
    demands = sorted(demands, key=lambda d: d.school_id)
    if len({d.school_id for d in demands}) != len(demands):
        raise ValueError("one demand per school")
    if any(d.units < 0 for d in demands):
        raise ValueError("a demand cannot be negative")

    by_class: dict[tuple[int, str], list[FreeUnit]] = defaultdict(list)
    for unit in units:
        by_class[(unit.centre_id, unit.half_day)].append(unit)
    classes = sorted(by_class)
    flow = _Flow(classes, [len(by_class[k]) for k in classes],
                 [[c for c, k in enumerate(classes) if d.accepts(*k)] for d in demands])
    shares = fair_shares({i: d.units for i, d in enumerate(demands)}, len(units))
    flow.fill([shares[i] for i in range(len(demands))])
    flow.fill([d.units for d in demands])  # what nobody could use within the shares

    placed = _place(flow, classes, by_class, units)
    handed = _hand_out(flow, classes, units)
    if _school_days(handed) < _school_days(placed):  # rare: see the module doc
        placed = handed
    result = []
    for i, demand in enumerate(demands):
        wished = sum(flow.capacity[c] for c in flow.accepted[i])
        got = sum(flow.quota[i].values())
        shortfall = None
        if got < shares[i]:
            shortfall = TOO_FEW_WISHED if wished < shares[i] else WISHES_SHARED
        quotas = {classes[c]: n for c, n in sorted(flow.quota[i].items()) if n}
        result.append(SchoolShare(demand.school_id, demand.units, shares[i],
                                  group_runs(placed[i]), wished, shortfall, quotas))
    return Allocation(result, len(units), sum(d.units for d in demands))


class _Flow:
    """Units per (school, class), filled by progressive filling with augmenting paths."""

    def __init__(self, classes, capacity, accepted):
        self.capacity = capacity
        self.free = list(capacity)
        self.accepted = accepted
        self.quota: list[dict[int, int]] = [defaultdict(int) for _ in accepted]
        self.holders: list[dict[int, int]] = [defaultdict(int) for _ in classes]
        # Schools with the same wished classes are interchangeable on a path.
        self.signature = [tuple(a) for a in accepted]

    def got(self, i: int) -> int:
        return sum(self.quota[i].values())

    def fill(self, caps: list[int]) -> None:
        """Give units, always to the school with the smallest got/cap, until each school is
        at its cap or blocked (no augmenting path)."""
        got = [self.got(i) for i in range(len(caps))]
        heap = [(Fraction(got[i], caps[i]), i) for i in range(len(caps)) if got[i] < caps[i]]
        heapq.heapify(heap)
        blocked = []
        while heap:
            _, i = heapq.heappop(heap)
            if self._give(i):
                got[i] += 1
                if got[i] < caps[i]:
                    heapq.heappush(heap, (Fraction(got[i], caps[i]), i))
            else:
                blocked.append(i)
        # A school once without a path stays so (max-flow theory); checked once more cheaply.
        progress = True
        while progress:
            progress = False
            for i in blocked:
                while got[i] < caps[i] and self._give(i):
                    got[i] += 1
                    progress = True

    def _give(self, i: int) -> bool:
        """One more unit for school ``i``: in a wished class with a free unit (the one where it
        already has most, to group its units, then the one with most free units), else along
        an augmenting path. False when impossible."""
        best = None
        for c in self.accepted[i]:
            if self.free[c] > 0:
                key = (self.quota[i].get(c, 0), self.free[c], -c)
                if best is None or key > best[0]:
                    best = (key, c)
        if best is not None:
            self._move(i, None, best[1])
            self.free[best[1]] -= 1
            return True
        return self._augment(i)

    def _move(self, school: int, source: int | None, target: int) -> None:
        self.quota[school][target] += 1
        self.holders[target][school] += 1
        if source is not None:
            self.quota[school][source] -= 1
            self.holders[source][school] -= 1

    def _augment(self, i: int) -> bool:
        """Breadth-first search over classes: from a class school ``i`` wishes, another school
        holding a unit there may move it to another class it wishes, and so on until a class
        with a free unit."""
        parent: dict[int, tuple[int | None, int]] = {c: (None, i) for c in self.accepted[i]}
        queue = deque(self.accepted[i])
        expanded = set()
        while queue:
            a = queue.popleft()
            for t, count in self.holders[a].items():
                if count <= 0 or (a, self.signature[t]) in expanded:
                    continue
                expanded.add((a, self.signature[t]))
                for b in self.accepted[t]:
                    if b in parent:
                        continue
                    parent[b] = (a, t)
                    if self.free[b] > 0:
                        self.free[b] -= 1
                        while b is not None:
                            a_, t_ = parent[b]
                            self._move(t_, a_, b)
                            b = a_
                        return True
                    queue.append(b)
        return False


def _place(flow: _Flow, classes, by_class, units) -> list[list[FreeUnit]]:
    """Concrete units for each school's quotas: fewest days, whole sessions, then runs."""
    session_size: dict[int, int] = defaultdict(int)
    for unit in units:
        session_size[unit.session_id] += 1
    # Free units per (day, class), chronological.
    pool: dict[tuple[dt.date, int], list[FreeUnit]] = defaultdict(list)
    days_of: dict[int, set[dt.date]] = defaultdict(set)
    for c, key in enumerate(classes):
        for unit in by_class[key]:
            pool[(unit.day, c)].append(unit)
            days_of[c].add(unit.day)
    left: dict[tuple[dt.date, int], int] = defaultdict(int)
    for slot, members in pool.items():
        left[slot] = len(members)
    taken: set[int] = set()

    # A school may take more than its quota in a class, in place of some of its quota
    # elsewhere, from the units of that class that no school still to be placed needs (its
    # slack): other schools' quotas stay feasible, and the school may fit on fewer days.
    left_class = list(flow.capacity)
    pending = [sum(flow.quota[i].get(c, 0) for i in range(len(flow.quota)))
               for c in range(len(classes))]
    placed: list[list[FreeUnit]] = [[] for _ in flow.quota]
    order = sorted(range(len(flow.quota)), key=lambda i: (-flow.got(i), i))
    for i in order:
        need = {c: n for c, n in sorted(flow.quota[i].items()) if n > 0}
        wished = flow.accepted[i]
        while need:
            total = sum(need.values())

            def room(d, c, need=need):
                return min(left[(d, c)], need.get(c, 0) + left_class[c] - pending[c])

            days = sorted({d for c in wished for d in days_of[c] if room(d, c) > 0})
            day = max(days, key=lambda d: (min(total, sum(room(d, c) for c in wished)),
                                           sum(min(n, left[(d, c)]) for c, n in need.items()),
                                           -d.toordinal()))
            amounts = {c: min(need.get(c, 0), left[(day, c)]) for c in wished}
            rest = total - sum(amounts.values())
            for c in sorted(wished, key=lambda c: (-left[(day, c)], c)):
                extra = min(rest, left[(day, c)] - amounts[c], left_class[c] - pending[c])
                if extra <= 0:
                    continue
                amounts[c] += extra
                rest -= extra
                need[c] = need.get(c, 0) + extra  # now part of this school's quota...
                pending[c] += extra
                for other in sorted(need):  # ...in place of as much elsewhere
                    moved = min(extra, need[other] - amounts.get(other, 0))
                    if other != c and moved > 0:
                        need[other] -= moved
                        pending[other] -= moved
                        extra -= moved
            for c, n in amounts.items():
                if n:
                    placed[i].extend(_take(pool[(day, c)], n, taken, session_size))
                    left[(day, c)] -= n
                    left_class[c] -= n
                    pending[c] -= n
                    need[c] -= n
            need = {c: n for c, n in need.items() if n > 0}
    return placed


def _hand_out(flow: _Flow, classes, units) -> list[list[FreeUnit]]:
    """The naive placement of the same quotas: units one by one in chronological order, each
    to the next school in turn (by school id) that still needs one of its class."""
    need = [dict(q) for q in flow.quota]
    waiting = [[i for i in range(len(need)) if need[i].get(c, 0) > 0]
               for c in range(len(classes))]
    index = {key: c for c, key in enumerate(classes)}
    placed: list[list[FreeUnit]] = [[] for _ in need]
    turn = 0
    for unit in units:
        c = index[(unit.centre_id, unit.half_day)]
        queue = waiting[c]
        if not queue:
            continue
        k = bisect.bisect_left(queue, turn)
        i = queue[k % len(queue)]
        placed[i].append(unit)
        need[i][c] -= 1
        if need[i][c] == 0:
            queue.remove(i)
        turn = (i + 1) % len(need)
    return placed


def _school_days(placed: list[list[FreeUnit]]) -> int:
    return sum(len({u.day for u in units}) for units in placed)


def _take(slot: list[FreeUnit], n: int, taken: set[int], session_size) -> list[FreeUnit]:
    """``n`` untaken units of one day and class: whole sessions (largest that fits) first,
    then the smallest run that holds the rest (a fragment before a whole session), else the
    longest run, and again."""
    chosen: list[FreeUnit] = []
    while n > 0:
        runs = _free_runs(slot, taken)
        whole = [r for r in runs if _is_whole_session(r, session_size)]
        fits = [r for r in whole if len(r) <= n]
        if fits:
            pick = max(fits, key=lambda r: (len(r), [-x for x in _order(r[0])]))
        else:
            holding = [r for r in runs if len(r) >= n]
            if holding:
                pick = min(holding, key=lambda r: (_is_whole_session(r, session_size), len(r),
                                                   _order(r[0])))[:n]
            else:
                pick = max(runs, key=lambda r: (len(r), [-x for x in _order(r[0])]))
        for unit in pick:
            taken.add(unit.id)
        chosen.extend(pick)
        n -= len(pick)
    return chosen


def _order(unit: FreeUnit) -> tuple[int, int, int]:
    """A chronological tie-break as integers (earliest first)."""
    return (unit.start.hour * 60 + unit.start.minute, unit.inspector_id, unit.id)


def _free_runs(slot: list[FreeUnit], taken: set[int]) -> list[list[FreeUnit]]:
    """Maximal runs of untaken consecutive units of one inspector within a session."""
    by_inspector: dict[int, list[FreeUnit]] = defaultdict(list)
    for unit in slot:
        if unit.id not in taken:
            by_inspector[unit.inspector_id].append(unit)
    runs = []
    for inspector_id in sorted(by_inspector):
        run: list[FreeUnit] = []
        for unit in sorted(by_inspector[inspector_id], key=lambda u: u.start):
            if run and (run[-1].end != unit.start or run[-1].session_id != unit.session_id):
                runs.append(run)
                run = []
            run.append(unit)
        runs.append(run)
    return runs


def _is_whole_session(run: list[FreeUnit], session_size) -> bool:
    return len(run) == session_size[run[0].session_id]


def group_runs(units: list[FreeUnit]) -> list[Run]:
    """A school's units as preview lines: consecutive units of one inspector at one centre on
    one day (touching sessions merge, as in "Mes examens programmés")."""
    runs: list[Run] = []
    current: list[FreeUnit] = []

    def close():
        if current:
            runs.append(Run(current[0].day, current[0].centre_id, current[0].inspector_id,
                            current[0].start, current[-1].end, tuple(u.id for u in current)))

    for unit in sorted(units, key=lambda u: (u.day, u.inspector_id, u.start)):
        last = current[-1] if current else None
        if last and not (last.day == unit.day and last.inspector_id == unit.inspector_id
                         and last.centre_id == unit.centre_id and last.end == unit.start):
            close()
            current = []
        current.append(unit)
    close()
    runs.sort(key=lambda r: (r.day, r.start, r.inspector_id))
    return runs
