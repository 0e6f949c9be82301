"""Benchmark: time of a proposal (BER 10, rdvpl/allocation.py) at department scale.

300 schools and 10,000 free units (60 inspectors, 12 centres, a month of sessions), demand
above capacity, each school wishing 1 to 3 centres and often one half-day. Prints figures,
asserts nothing (SPEC: under 2 seconds).

    .venv/bin/python -m bench.allocation
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time

from rdvpl.allocation import AFTERNOON, MORNING, Demand, FreeUnit, allocate

SCHOOLS = 300
FREE_UNITS = 10_000
INSPECTORS = 60
CENTRES = 12
TRANCHES = (dt.time(8), dt.time(10), dt.time(13), dt.time(15))


def department(rng: random.Random, schools: int = SCHOOLS, free_units: int = FREE_UNITS):
    """(units, demands) of a department-scale month; demand is 1.3 times the capacity."""
    first = dt.date(2026, 12, 1)
    days = [first + dt.timedelta(d) for d in range(31)
            if (first + dt.timedelta(d)).weekday() < 5]
    units, session_id = [], 0
    for inspector in range(1, INSPECTORS + 1):
        home = 1 + inspector % CENTRES
        for day in days:
            for start in TRANCHES:
                session_id += 1
                for k in range(4):
                    begin = dt.datetime.combine(day, start) + dt.timedelta(minutes=30 * k)
                    units.append(FreeUnit(day=day, start=begin.time(), inspector_id=inspector,
                                          id=len(units) + 1,
                                          end=(begin + dt.timedelta(minutes=30)).time(),
                                          centre_id=home, session_id=session_id))
    # Some units already reserved or Indispo: keep a random ``free_units`` of them.
    units = sorted(rng.sample(units, min(free_units, len(units))))
    weights = [rng.paretovariate(1.5) for _ in range(schools)]
    scale = 1.3 * len(units) / sum(weights)
    demands = []
    for school in range(1, schools + 1):
        centres = frozenset(rng.sample(range(1, CENTRES + 1), rng.randint(1, 3)))
        half = rng.choice([None, None, MORNING, AFTERNOON])
        demands.append(Demand(school, max(1, round(weights[school - 1] * scale)), centres, half))
    return units, demands


def main() -> None:
    units, demands = department(random.Random(2026))
    timings = []
    for _ in range(5):
        began = time.perf_counter()
        result = allocate(units, demands)
        timings.append(time.perf_counter() - began)
    days = sum(len(s.days) for s in result.schools)
    runs = sum(len(s.runs) for s in result.schools)
    short = sum(1 for s in result.schools if s.shortfall)
    print(f"allocation: {len(demands)} schools, {len(units)} free units, "
          f"{result.demand} units demanded")
    print(f"  proposed {result.proposed} units in {runs} runs over {days} school-days; "
          f"{short} schools below their share because of their wishes")
    print(f"  time: median {statistics.median(timings) * 1000:.0f} ms, "
          f"slowest {max(timings) * 1000:.0f} ms (SPEC: under 2000 ms)")


if __name__ == "__main__":
    main()
