"""Run one planning export in a process of its own and print its time and memory as JSON.

    python -m bench.export_probe DATABASE_URL AGENT_EMAIL PASSWORD DATE WEEKS

A subprocess, so that the peak memory is the export's, not what the benchmark holds.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import tracemalloc


def _rss_mb() -> float:
    """The process' resident memory now (Linux), in MB; 0 where /proc is not there."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main(url: str, email: str, password: str, day: str, weeks: str) -> None:
    from rdvpl import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "MAIL_DELIVERY": "off"})
    client = app.test_client()
    client.post("/connexion", data={"email": email, "password": password})
    path = f"/ber/planification/export?date={day}&semaines={weeks}"
    # Before any export; the sign-in's password check (scrypt, 32 MB) has set the peak so far.
    rss_app = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    resident_before = _rss_mb()
    client.get(path)  # warm-up: templates, mappers, statement cache
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        response = client.get(path)
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    tracemalloc.start()
    client.get(path)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({
        "seconds": sorted(timings)[1],
        "bytes": len(response.data),
        "traced_peak_mb": traced_peak / 2**20,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "app_rss_mb": rss_app / 1024,
        "rss_before_mb": resident_before,
        "rss_after_mb": _rss_mb(),
        "rss_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024,
    }))


if __name__ == "__main__":
    main(*sys.argv[1:])
