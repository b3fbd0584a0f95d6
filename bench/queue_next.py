#!/usr/bin/env python3
"""Queue "Next account" with 20 reps at once, beside the floor view (DESIGN.md, "Scale it must hold").

    .venv/bin/python bench/queue_next.py                       # the seeded collections_bench database
    .venv/bin/python bench/queue_next.py --claims-per-rep 200 --database-url postgres://.../other_db

Against an EXISTING seeded PostgreSQL database (bench/run.py or `manage.py seed_demo` made it; this
script never creates or drops one): migrate; run the aging job when one is registered (timed); run
the queue refresh twice (timed; the second run must open and clear nothing); create the rep users
`queue_bench_rep01..NN` (Medium tier, every practice, no rep assignments) and free any lease they
hold; start gunicorn as bench/run.py does; log every rep in through /login/; measure the floor view
/bench/floor/; then each rep's client POSTs /api/queue/next/ (session auth with CSRF,
`release_current=true`, so each call releases the rep's account and claims the next) N times,
all reps at once; then the floor again. Checks: every call answered 200 with an account, and no
account was held by two reps while leased (each claim lasts from its start to the same rep's next
claim, or its expiry). Prints the results and appends a section to bench/RESULTS.md unless
--no-results; raw numbers go to bench/out/.
"""

import argparse
import json
import os
import secrets
import statistics
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # bench/run.py: the server, the HTTP client, logging in, machine facts

ROOT = run.ROOT
RESULTS = run.RESULTS
OUT = run.OUT
REP_PREFIX = "queue_bench_rep"
TARGET_P95_MS = 50.0


def log(message: str) -> None:
    print(f"[queue bench {datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def practice_dates() -> dict[int, object]:
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from accounts.models import Practice

    now = timezone.now()
    return {p.pk: now.astimezone(ZoneInfo(p.time_zone)).date() for p in Practice.objects.filter(is_active=True)}


def run_aging_job(dates) -> dict:
    """The nightly aging job (accounts/jobs.py) when one is registered: the queue rules read its
    AccountAgingState rows."""
    from django.db import transaction
    from django.utils import timezone

    from core.nightly import JobContext, registered_jobs

    jobs = [job for job in registered_jobs() if "aging" in job.name]
    if not jobs:
        return {"ran": False, "note": "no aging job registered: past-due rules see no AccountAgingState"}
    found = {}
    for job in jobs:
        started = time.monotonic()
        with transaction.atomic():  # as the nightly runner runs each job
            counts = job.func(JobContext(as_of=timezone.localdate(), practice_dates=dict(dates)))
        found[job.name] = {"seconds": time.monotonic() - started, "counts": counts}
    return {"ran": True, "jobs": found}


def run_queue_refresh(dates) -> dict:
    from django.db import connection

    from collections_app.models import QueueEntry
    from collections_app.queues.services import queue_refresh

    timings = []
    for _ in range(2):
        started = time.monotonic()
        counts = queue_refresh(as_of_by_practice=dict(dates))
        timings.append({"seconds": time.monotonic() - started, "counts": counts})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE collections_app_workitem")
        cursor.execute("ANALYZE collections_app_queueentry")
    return {"runs": timings, "entries": QueueEntry.objects.count()}


def prepare_reps(count: int, password: str) -> list[str]:
    from accounts.models import Practice
    from collections_app.models import QueueEntry, RepAssignment
    from core.access import grant_practice
    from core.models import StaffUser, Tier

    practices = list(Practice.objects.all())
    names = []
    for n in range(1, count + 1):
        username = f"{REP_PREFIX}{n:02d}"
        rep, _ = StaffUser.objects.get_or_create(username=username, defaults={"tier": Tier.MEDIUM})
        rep.tier, rep.is_active = Tier.MEDIUM, True
        rep.set_password(password)
        rep.save()
        for practice in practices:
            grant_practice(rep, practice)
        names.append(username)
    reps = StaffUser.objects.filter(username__in=names)
    RepAssignment.objects.filter(rep__in=reps).delete()
    # Leases and "recently worked" marks from an earlier run would skew this one.
    QueueEntry.objects.filter(claimed_by__in=reps).update(claimed_by=None, claim_expires_at=None)
    return names


def release_reps(names: list[str]) -> None:
    from django.utils import timezone

    from collections_app.models import QueueEntry

    QueueEntry.objects.filter(claimed_by__username__in=names, claim_expires_at__gt=timezone.now()).update(
        claim_expires_at=timezone.now()
    )


def claim_load(port: int, sessions: dict, per_rep: int, warmup: int) -> dict:
    """Every rep's client at once, each POSTing /api/queue/next/ `warmup + per_rep` times."""
    barrier = threading.Barrier(len(sessions))
    lock = threading.Lock()
    latencies: list[float] = []
    claims: dict[str, list[dict]] = defaultdict(list)
    failures: list[str] = []
    empty = [0]

    def client(username):
        cookies, token = sessions[username]
        headers = {"X-CSRFToken": token, "Accept": "application/json", "Referer": f"http://127.0.0.1:{port}/"}
        barrier.wait()
        for n in range(warmup + per_rep):
            started = time.perf_counter()
            try:
                status, body, _ = run.request(
                    "POST", port, "/api/queue/next/", cookies=cookies, headers=headers, form={"release_current": "true"}
                )
            except OSError as error:
                status, body = 0, str(error).encode()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status == 404:
                    empty[0] += 1
                    return
                if status != 200:
                    failures.append(f"{status} {body[:160]!r}")
                    continue
                found = json.loads(body)
                claims[username].append({"account": found["id"], "expires": found["claim_expires_at"]})
                if n >= warmup:
                    latencies.append(elapsed)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(name,)) for name in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    total = sum(len(c) for c in claims.values())
    return {
        "requests": len(latencies),
        "claims": total,
        "failures": len(failures),
        "failure_examples": failures[:5],
        "empty_queue_answers": empty[0],
        "p50_ms": run._percentile(latencies, 50),
        "p95_ms": run._percentile(latencies, 95),
        "p99_ms": run._percentile(latencies, 99),
        "max_ms": latencies[-1] if latencies else None,
        "mean_ms": statistics.fmean(latencies) if latencies else None,
        "throughput_rps": total / wall if wall else None,
        "claims_by_rep": dict(claims),
    }


def overlaps(claims_by_rep: dict[str, list[dict]], lease_minutes: int) -> list[str]:
    """Accounts two reps held at once. A claim starts at its expiry minus the lease and ends at the
    same rep's next claim (which released it) or its expiry."""
    windows = defaultdict(list)
    for rep, made in claims_by_rep.items():
        for n, claim in enumerate(made):
            expires = datetime.fromisoformat(claim["expires"].replace("Z", "+00:00"))
            start = expires - timedelta(minutes=lease_minutes)
            end = expires
            if n + 1 < len(made):
                following = datetime.fromisoformat(made[n + 1]["expires"].replace("Z", "+00:00"))
                end = min(expires, following - timedelta(minutes=lease_minutes))
            windows[claim["account"]].append((start, end, rep))
    found = []
    for account, held in windows.items():
        held.sort()
        for (_, end, rep), (next_start, _, next_rep) in pairwise(held):
            if next_start < end and rep != next_rep:
                found.append(f"account {account}: {rep} and {next_rep}")
    return found


def floor_load(port: int, cookies: dict, count: int, clients: int, warmup: int) -> dict:
    def floor_request(n):
        return "GET", "/bench/floor/", {"cookies": cookies}

    figure = run.load(port, floor_request, count, clients, warmup)
    alone = run.load(port, floor_request, max(count // 10, 50), 1, 10)
    figure["one_client"] = {k: alone[k] for k in ("p50_ms", "p95_ms", "throughput_rps")}
    return figure


def write_results(result: dict) -> None:
    m = result["machine"]
    claim = result["claims"]
    floors = [f for f in (result.get("floor"), result.get("floor_after")) if f]
    floor_p95 = statistics.fmean(f["p95_ms"] for f in floors) if floors else None
    floor_p50 = statistics.fmean(f["p50_ms"] for f in floors) if floors else None
    refresh = result["refresh"]["runs"]
    aging = result["aging"]
    aging_text = (
        "; ".join(f"{name} {v['seconds']:.1f} s" for name, v in aging["jobs"].items())
        if aging["ran"]
        else aging["note"]
    )
    lines = [
        "",
        f"## {result['started']} — queue next account, {result['accounts']:,} accounts ({result['database']})",
        "",
        f"Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB RAM, PostgreSQL {m['postgresql']}, "
        f"Python {m['python']}, Django {m['django']}. Load average at start: "
        f"{', '.join(f'{x:.1f}' for x in m['load_average_at_start'])}.",
        f"Server: gunicorn, {run.server_label(result)} (DEBUG off); {result['reps']} reps at once, each its own "
        f"client and session, {result['per_rep']} measured claims each after {result['warmup']} warm-up "
        "(`release_current=true`: each call releases the rep's account and claims the next).",
        "",
        "| what | result | floor | ratio | target |",
        "|---|---|---|---|---|",
        f"| aging job before the refresh | {aging_text} | - | - | - |",
        f"| queue refresh, whole book (first; second) | {refresh[0]['seconds']:.1f} s (opened "
        f"{refresh[0]['counts']['opened']:,}, cleared {refresh[0]['counts']['cleared']:,}); {refresh[1]['seconds']:.1f} s "
        f"(opened {refresh[1]['counts']['opened']}, cleared {refresh[1]['counts']['cleared']}) | - | - | "
        f"1M accounts in tens of seconds; second run changes nothing |",
        f"| queue entries after the refresh | {result['refresh']['entries']:,} | - | - | - |",
    ]
    if floors:
        p95s = "; ".join(f"{f['p95_ms']:.0f} ms" for f in floors)
        p50s = "; ".join(f"{f['p50_ms']:.0f}" for f in floors)
        lines.append(f"| floor view /bench/floor/ (before; after) | p95 {p95s} (p50 {p50s}) | - | - | - |")
    if claim.get("p95_ms"):
        failed = f", {claim['failures']} failed" if claim["failures"] else ""
        lines.append(
            f"| POST /api/queue/next/ p95, {result['reps']} reps | {claim['p95_ms']:.0f} ms (p50 {claim['p50_ms']:.0f}, "
            f"p99 {claim['p99_ms']:.0f}, {claim['throughput_rps']:.0f} claims/s{failed}) | {floor_p95:.0f} ms (p50 "
            f"{floor_p50:.0f}) | {run.ratio(claim['p95_ms'], floor_p95)} | < {TARGET_P95_MS:.0f} ms |"
        )
    else:
        lines.append(f"| POST /api/queue/next/ | not measured: {claim.get('failure_examples')} | - | - | - |")
    lines.append(
        f"| same account to two reps while leased | {len(result['overlaps'])} of {claim['claims']:,} claims "
        f"({claim['empty_queue_answers']} empty-queue answers) | - | - | never |"
    )
    for note in result.get("notes", []):
        lines += ["", note]
    with RESULTS.open("a") as handle:
        handle.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", run.DEFAULT_URL))
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--claims-per-rep", type=int, default=100, help="Measured claims per rep.")
    parser.add_argument("--warmup", type=int, default=5, help="Unmeasured claims per rep first.")
    parser.add_argument("--floor-requests", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (make run: 2 on PostgreSQL).")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (make run: 4; 1 = sync).")
    parser.add_argument("--skip-refresh", action="store_true", help="Use the queue as it is (no aging, no refresh).")
    parser.add_argument("--no-results", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    url = args.database_url
    name = run.database_name(url)
    if not run.database_exists(url):
        raise SystemExit(f"queue bench: database {name} does not exist; seed it first (bench/run.py or seed_demo)")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        "BENCH_FLOOR_PAGE": "true",  # the floor view /bench/floor/, served only for bench runs
    }
    env.pop("REDIS_URL", None)
    os.environ.update(
        {k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "BENCH_FLOOR_PAGE")}
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))

    seconds, _ = run.manage(env, "migrate", "--noinput", "-v", "0")
    log(f"migrated {name} in {seconds:.1f} s")

    import django

    django.setup()
    from django.conf import settings

    from accounts.models import PatientAccount
    from collections_app.queues.services import LEASE_MINUTES

    result = {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "database": name,
        "accounts": PatientAccount.objects.count(),
        "reps": args.reps,
        "per_rep": args.claims_per_rep,
        "warmup": args.warmup,
        "workers": args.workers,
        "threads": args.threads,
        "machine": run.machine(url),
        "notes": [],
    }
    dates = practice_dates()
    if args.skip_refresh:
        result["aging"] = {"ran": False, "note": "skipped (--skip-refresh)"}
        from collections_app.models import QueueEntry

        zero = {"seconds": 0.0, "counts": {"opened": 0, "cleared": 0}}
        result["refresh"] = {"runs": [zero, zero], "entries": QueueEntry.objects.count()}
    else:
        result["aging"] = run_aging_job(dates)
        log(f"aging: {result['aging']}")
        result["refresh"] = run_queue_refresh(dates)
        first, second = result["refresh"]["runs"]
        log(
            f"queue refresh: {first['seconds']:.1f} s {first['counts']}; again: {second['seconds']:.1f} s "
            f"(opened {second['counts']['opened']}, cleared {second['counts']['cleared']}); "
            f"{result['refresh']['entries']:,} entries"
        )
        if second["counts"]["opened"] or second["counts"]["cleared"]:
            result["notes"].append("The second queue refresh changed work items: it should change nothing.")
    names = prepare_reps(args.reps, settings.DEMO_PASSWORD)
    needed = args.reps * (args.claims_per_rep + args.warmup)
    if result["refresh"]["entries"] < needed:
        result["notes"].append(
            f"The queue holds {result['refresh']['entries']:,} entries for {needed:,} claims: reps may run dry "
            "(empty-queue answers are counted, not failures)."
        )

    from django.db import connections

    connections.close_all()  # gunicorn's workers get their own
    log(f"starting gunicorn ({run.server_label(vars(args))})")
    try:
        with run.Server(env, args.workers, args.threads) as server:
            sessions = {username: run.log_in(server.port, username, settings.DEMO_PASSWORD) for username in names}
            log(f"{len(sessions)} reps logged in")
            first_cookies = sessions[names[0]][0]
            result["floor"] = floor_load(server.port, first_cookies, args.floor_requests, args.reps, 100)
            log(f"floor: p50 {result['floor']['p50_ms']:.1f} ms, p95 {result['floor']['p95_ms']:.1f} ms")
            claim = claim_load(server.port, sessions, args.claims_per_rep, args.warmup)
            result["claims"] = claim
            result["overlaps"] = overlaps(claim["claims_by_rep"], LEASE_MINUTES)
            log(
                f"next account: {claim['claims']} claims, p50 {claim['p50_ms'] or 0:.1f} ms, p95 "
                f"{claim['p95_ms'] or 0:.1f} ms, p99 {claim['p99_ms'] or 0:.1f} ms, {claim['failures']} failures, "
                f"{claim['empty_queue_answers']} empty; same account to two reps while leased: {len(result['overlaps'])}"
            )
            result["floor_after"] = floor_load(server.port, first_cookies, args.floor_requests, args.reps, 100)
            log(f"floor after: p95 {result['floor_after']['p95_ms']:.1f} ms")
    finally:
        release_reps(names)
    log("gunicorn stopped; bench reps' leases released")

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (OUT / f"queue-next-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
    if not args.no_results:
        write_results(result)
        log(f"results appended to {RESULTS.relative_to(ROOT)}")
    if result["overlaps"]:
        raise SystemExit(f"queue bench: accounts held by two reps at once: {result['overlaps'][:5]}")


if __name__ == "__main__":
    main()
