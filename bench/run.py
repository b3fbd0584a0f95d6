#!/usr/bin/env python3
"""Benchmarks beside their floors, on PostgreSQL, in one run (DESIGN.md, "Scale it must hold").

    .venv/bin/python bench/run.py                      # 100,000 accounts (make bench)
    .venv/bin/python bench/run.py --accounts 1000000   # the full run

Steps: (re)create the database `collections_bench`, migrate, `seed_demo --accounts N` (timed),
VACUUM ANALYZE, `check_ledger` (timed); start gunicorn on 127.0.0.1 (DEBUG off) and log in as the
`director` demo user; then with 20 concurrent clients measure the floor view (/bench/floor/), the
account page (/accounts/<id>/) and patient search (POST /search/), each p50/p95/p99, /healthz (the
8x comparison) and, one client, the heaviest account (bench/heaviest.py: 1,000 encounters, 5,000
ledger rows) and its later ledger pages; then the live
as-of aging report for the largest practice (accounts.aging.practice_aging) against one
hand-written aggregate query, checking both give the same buckets. The server is stopped at the
end, whatever happens. Results are appended to bench/RESULTS.md; raw numbers go to bench/out/.
"""

import argparse
import http.client
import json
import os
import platform
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RESULTS = ROOT / "bench" / "RESULTS.md"
OUT = ROOT / "bench" / "out"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/collections_bench"
HEAVIEST_NUMBER = "BENCH-HEAVIEST"  # bench/heaviest.py's account, not one of the N seeded

TARGETS = {
    "account": ("account page p95", 150.0),
    "search": ("patient search p95", 100.0),
}


def log(message: str) -> None:
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------------------------------------
# Database and manage.py steps


def admin_connect(url: str):
    import psycopg

    parts = urlsplit(url)
    maintenance = parts._replace(path="/postgres").geturl()
    return psycopg.connect(maintenance.replace("postgres://", "postgresql://", 1), autocommit=True)


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"bench: refusing unusual database name {name!r}")
    if name in {"collections", "postgres", "template0", "template1"}:
        raise SystemExit(f"bench: {name!r} is not a benchmark database; use one of its own (e.g. collections_bench)")
    return name


def recreate_database(url: str) -> None:
    name = database_name(url)
    with admin_connect(url) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")


def database_exists(url: str) -> bool:
    with admin_connect(url) as connection:
        row = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database_name(url)]).fetchone()
    return row is not None


def manage(env: dict, *args: str) -> tuple[float, str]:
    started = time.monotonic()
    completed = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - started
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"bench: manage.py {' '.join(args)} failed ({completed.returncode})")
    return seconds, completed.stdout


def run_sql(url: str, statement: str) -> float:
    import psycopg

    started = time.monotonic()
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as connection:
        connection.execute(statement)
    return time.monotonic() - started


# ---------------------------------------------------------------------------------------------
# The server and its clients


def server_connections(url: str) -> int:
    """Connections to the bench database other than this script's own (the server's)."""
    import psycopg
    from django.db import connection as own

    with own.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own_pid = cursor.fetchone()[0]
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as connection:
        return connection.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid NOT IN (pg_backend_pid(), %s)",
            [own_pid],
        ).fetchone()[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn on 127.0.0.1, started and always stopped by this script."""

    def __init__(self, env: dict, workers: int, threads: int = 1):
        self.port = free_port()
        self.env = env
        self.workers = workers
        self.threads = threads
        self.process = None
        self.log_path = OUT / "gunicorn.log"

    def __enter__(self):
        command = [
            PYTHON, "-m", "gunicorn", "config.wsgi", "--preload", "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers), "--timeout", "120", "--log-level", "warning",
        ]  # fmt: skip
        if self.threads > 1:  # gthread: what `make run` and the README recommend on PostgreSQL
            command += ["--worker-class", "gthread", "--threads", str(self.threads)]
        self.log_file = open(self.log_path, "w")  # closed in __exit__
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.log_file, stderr=subprocess.STDOUT)
        try:
            self._wait_until_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"bench: gunicorn exited ({self.process.returncode}); see {self.log_path}")
            try:
                status, _, _ = request("GET", self.port, "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit("bench: gunicorn did not answer /healthz within 60 s")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the master stops its workers
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()
        return False


def request(method: str, port: int, path: str, *, cookies: dict | None = None, form: dict | None = None,
            headers: dict | None = None, timeout: float = 120):  # fmt: skip
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        all_headers = {"Host": "127.0.0.1", **(headers or {})}
        if cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        set_cookies = {}
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                set_cookies[cookie_name.strip()] = rest.split(";", 1)[0]
        return response.status, data, set_cookies
    finally:
        connection.close()


def csrf_token(html: bytes) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise SystemExit("bench: no CSRF token on the page")
    return match.group(1).decode()


def log_in(port: int, username: str, password: str) -> tuple[dict, str]:
    """A real login through /login/; returns the session cookies and a CSRF token for POSTs."""
    status, html, cookies = request("GET", port, "/login/")
    if status != 200:
        raise SystemExit(f"bench: GET /login/ answered {status}")
    form = {"username": username, "password": password, "csrfmiddlewaretoken": csrf_token(html)}
    status, _, new_cookies = request("POST", port, "/login/", cookies=cookies, form=form)
    cookies.update(new_cookies)
    if status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"bench: logging in as {username} failed ({status})")
    status, html, new_cookies = request("GET", port, "/search/", cookies=cookies)
    cookies.update(new_cookies)
    if status != 200:
        raise SystemExit(f"bench: GET /search/ after login answered {status}")
    return cookies, csrf_token(html)


def load(port: int, make_request, count: int, clients: int, warmup: int, kind_of=None) -> dict:
    """`clients` threads in a closed loop until `count` requests are measured (after `warmup`).
    With `kind_of(n)`, latencies are also reported by kind of request."""
    lock = threading.Lock()
    issued = [0]
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    failures: list[str] = []

    def worker():
        while True:
            with lock:
                n = issued[0]
                if n >= warmup + count:
                    return
                issued[0] += 1
            method, path, kwargs = make_request(n)
            started = time.perf_counter()
            try:
                status, body, _ = request(method, port, path, **kwargs)
            except OSError as error:
                status, body = 0, str(error).encode()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status != 200:
                    failures.append(f"{status} {method} {path.split('?')[0]} {body[:120]!r}")
                elif n >= warmup:
                    latencies.append(elapsed)
                    if kind_of:
                        by_kind.setdefault(kind_of(n), []).append(elapsed)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()

    def pct(p):
        return _percentile(latencies, p)

    return {
        "requests": len(latencies),
        "failures": len(failures),
        "failure_examples": failures[:5],
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": latencies[-1] if latencies else None,
        "mean_ms": statistics.fmean(latencies) if latencies else None,
        "throughput_rps": (warmup + count) / wall,
        "by_kind": {
            kind: {"n": len(v), "p50_ms": _percentile(sorted(v), 50), "p95_ms": _percentile(sorted(v), 95)}
            for kind, v in sorted(by_kind.items())
        },
    }


def _percentile(ordered: list[float], p: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(round(p / 100 * len(ordered)) - 1, 0))]


# ---------------------------------------------------------------------------------------------
# Aging: the library's live as-of report against one hand-written aggregate query

# The floor: the same rule (each encounter's open patient balance by date of service; credits that
# name no encounter, and encounters overpaid, pay the oldest open encounters first), in one query.
FLOOR_AGING_SQL = """
WITH per_encounter AS (
    SELECT t.account_id, t.encounter_id, SUM(t.patient_amount) AS net
    FROM accounts_transaction t
    JOIN accounts_patientaccount a ON a.id = t.account_id
    WHERE a.practice_id = %(practice_id)s AND t.effective_on <= %(as_of)s
    GROUP BY t.account_id, t.encounter_id
),
pool AS (
    SELECT account_id, SUM(-net) AS credit
    FROM per_encounter WHERE encounter_id IS NULL OR net < 0
    GROUP BY account_id
),
debits AS (
    SELECT p.account_id, e.date_of_service, p.net,
           SUM(p.net) OVER (PARTITION BY p.account_id ORDER BY e.date_of_service, p.encounter_id) AS running
    FROM per_encounter p JOIN accounts_encounter e ON e.id = p.encounter_id
    WHERE p.net > 0
),
open_amounts AS (
    SELECT %(as_of)s::date - d.date_of_service AS age,
           LEAST(d.net, GREATEST(d.running - GREATEST(COALESCE(c.credit, 0), 0), 0)) AS amount
    FROM debits d LEFT JOIN pool c ON c.account_id = d.account_id
    UNION ALL
    SELECT 0, -credit FROM pool WHERE credit < 0  -- a debit no encounter carries ages as current
)
SELECT CASE WHEN age <= 30 THEN '0-30' WHEN age <= 60 THEN '31-60' WHEN age <= 90 THEN '61-90'
            WHEN age <= 120 THEN '91-120' ELSE '121+' END AS bucket,
       SUM(amount)
FROM open_amounts
GROUP BY 1
"""


def measure_aging(as_of: date, repeats: int) -> dict:
    from django.db import connection
    from django.db.models import Count

    from accounts.aging import BUCKET_LABELS, practice_aging
    from accounts.models import PatientAccount, Practice

    busiest = PatientAccount.objects.values("practice_id").annotate(n=Count("id")).order_by("-n", "practice_id").first()
    practice = Practice.objects.get(pk=busiest["practice_id"])

    def library():
        return practice_aging(practice.id, as_of=as_of)["buckets"]

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_AGING_SQL, {"practice_id": practice.id, "as_of": as_of})
            found = dict(cursor.fetchall())
        return {label: Decimal(found.get(label) or 0).quantize(Decimal("0.01")) for label in BUCKET_LABELS}

    timings = {"library": [], "floor": []}
    results = {}
    for name, function in (("library", library), ("floor", floor)):
        results[name] = function()  # warm the cache once
    for _ in range(repeats):  # interleaved, so both see the same cache and load
        for name, function in (("floor", floor), ("library", library)):
            started = time.perf_counter()
            results[name] = function()
            timings[name].append((time.perf_counter() - started) * 1000)
    same = {k: str(v) for k, v in results["library"].items()} == {k: str(v) for k, v in results["floor"].items()}
    return {
        "practice": practice.code,
        "practice_accounts": busiest["n"],
        "as_of": as_of.isoformat(),
        "library_ms": statistics.median(timings["library"]),
        "floor_ms": statistics.median(timings["floor"]),
        "library_all_ms": timings["library"],
        "floor_all_ms": timings["floor"],
        "same_buckets": same,
        "buckets": {k: str(v) for k, v in results["library"].items()},
        "floor_buckets": {k: str(v) for k, v in results["floor"].items()},
    }


# ---------------------------------------------------------------------------------------------
# Samples for the clients


def samples(count: int, seed: int) -> dict:
    """Account ids for the page, and search texts of the kinds reps type, drawn from the data."""
    from django.db import connection

    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM accounts_patientaccount")
        low, high = cursor.fetchone()
        ids = [rng.randint(low, high) for _ in range(count)]
        picks = sorted(rng.sample(range(low, high + 1), min(500, high - low + 1)))
        cursor.execute(
            """SELECT a.account_number, p.first_name, p.last_name, p.date_of_birth, p.phone,
                      p.medical_record_number, COALESCE(NULLIF(p.email, ''), g.email)
               FROM accounts_patientaccount a JOIN accounts_patient p ON p.id = a.patient_id
               JOIN accounts_guarantor g ON g.id = a.guarantor_id
               WHERE a.id = ANY(%s) ORDER BY a.id""",
            [picks],
        )
        people = cursor.fetchall()
    searches = []  # (kind, text)
    for n in range(count):
        number, first, last, born, phone, mrn, email = people[n % len(people)]
        slot = n % 23
        if slot < 5:
            searches.append(("surname", last))
        elif slot < 8:
            searches.append(("surname start", last[: max(3, len(last) // 2)]))  # as typed, first letters
        elif slot < 11:
            searches.append(("last, first", f"{last}, {first}"))
        elif slot < 14:
            searches.append(("date of birth", born.strftime("%m/%d/%Y")))
        elif slot < 17:
            searches.append(("phone", phone) if phone else ("account number", number))
        elif slot < 20:
            searches.append(("account number", number))
        elif slot == 20:
            searches.append(("medical record number", mrn.lower()))  # as typed, any case
        elif slot == 21:
            searches.append(("email", email) if email else ("account number", number))
        else:
            searches.append(("account number without prefix", number.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")))
    rng.shuffle(searches)
    return {"account_ids": ids, "searches": searches}


# ---------------------------------------------------------------------------------------------
# Machine and results


def machine(url: str) -> dict:
    import django
    import psycopg

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as connection:
        version = connection.execute("SHOW server_version").fetchone()[0]
        settings = {
            name: connection.execute(f"SHOW {name}").fetchone()[0]
            for name in ("shared_buffers", "work_mem", "max_wal_size", "effective_cache_size")
        }
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": memory_gib,
        "postgresql": version,
        "postgresql_settings": settings,
        "python": platform.python_version(),
        "django": django.get_version(),
        "load_average_at_start": os.getloadavg(),
    }


def ratio(value, floor):
    return f"{value / floor:.1f}x" if value and floor else "-"


def server_label(result: dict) -> str:
    threads = result.get("threads", 1)
    if threads > 1:
        return f"{result['workers']} workers x {threads} threads (gthread)"
    return f"{result['workers']} sync workers"


def one_client_row(label: str, figure: dict | None, floor_p50: float, floor_label: str, target: str) -> str:
    if not figure:
        return f"| {label} | not measured | - | - | {target} |"
    one = figure["one_client"]
    return (
        f"| {label} | one client p50 {one['p50_ms']:.1f} ms, p95 {one['p95_ms']:.1f} ms | {floor_label} p50 "
        f"{floor_p50:.1f} ms | {ratio(one['p50_ms'], floor_p50)} | {target} |"
    )


def write_results(result: dict) -> None:
    m = result["machine"]
    seed = result.get("seed")
    lines = [
        "",
        f"## {result['started']} — {result['accounts']:,} accounts",
        "",
        f"Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB RAM, PostgreSQL {m['postgresql']} "
        f"(shared_buffers {m['postgresql_settings'].get('shared_buffers')}), Python {m['python']}, "
        f"Django {m['django']}. Load average at start: {', '.join(f'{x:.1f}' for x in m['load_average_at_start'])}.",
        f"Server: gunicorn, {server_label(result)}, settings {result['settings']} (DEBUG off); "
        f"{result['clients']} concurrent clients, {result['requests']} measured requests per figure "
        f"(after {result['warmup']} warm-up); logged in as `director`.",
        "",
        "| what | result | floor | ratio | target |",
        "|---|---|---|---|---|",
    ]
    if seed:
        phases = ", ".join(f"{k} {v} s" for k, v in seed.get("phases", {}).items())
        lines.append(
            f"| seed_demo --accounts {result['accounts']:,} | {seed['seconds']:.0f} s ({phases}) | - | - | "
            "1M accounts < 10 min |"
        )
        lines.append(f"| VACUUM ANALYZE after the seed | {result['vacuum_seconds']:.0f} s | - | - | - |")
    else:
        lines.append("| seed_demo | reused the existing database (not timed) | - | - | - |")
    lines.append(f"| check_ledger (every account) | {result['check_ledger_seconds']:.1f} s | - | - | exits 0 |")
    floors = [result["http"][k] for k in ("floor", "floor_after") if result["http"].get(k)]
    floor = {
        key: statistics.fmean(f[key] for f in floors) for key in ("p50_ms", "p95_ms", "throughput_rps")
    } if floors else {}  # fmt: skip
    floor_one = statistics.fmean(f["one_client"]["p50_ms"] for f in floors) if floors else 0
    if floors:
        p95s = "; ".join(f"{f['p95_ms']:.0f} ms" for f in floors)
        p50s = "; ".join(f"{f['p50_ms']:.0f}" for f in floors)
        rates = "; ".join(f"{f['throughput_rps']:.0f}" for f in floors)
        lines.append(
            f"| floor view /bench/floor/ (before; after) | p95 {p95s} (p50 {p50s}; {rates} req/s; one client p50 "
            f"{floor_one:.1f} ms) | - | - | - |"
        )
    for key, (label, target) in TARGETS.items():
        figure = result["http"].get(key)
        if not figure or not figure.get("p95_ms"):
            lines.append(f"| {label} | not measured: {result['http_notes'].get(key, 'no result')} | - | - | - |")
            continue
        failed = f", {figure['failures']} failed" if figure["failures"] else ""
        one = figure["one_client"]
        lines.append(
            f"| {label} | {figure['p95_ms']:.0f} ms (p50 {figure['p50_ms']:.0f}, p99 {figure['p99_ms']:.0f}, "
            f"{figure['throughput_rps']:.0f} req/s{failed}; one client p50 {one['p50_ms']:.1f}, p95 {one['p95_ms']:.1f}) "
            f"| {floor.get('p95_ms', 0):.0f} ms (p50 {floor.get('p50_ms', 0):.0f}, "
            f"{floor.get('throughput_rps', 0):.0f} req/s; one client p50 {floor_one:.1f}) "
            f"| {ratio(figure['p95_ms'], floor.get('p95_ms'))} | < {target:.0f} ms |"
        )
    healths = [result["http"][k] for k in ("healthz", "healthz_after") if result["http"].get(k)]
    if healths:
        health_one = statistics.fmean(h["one_client"]["p50_ms"] for h in healths)
        p95s = "; ".join(f"{h['p95_ms']:.0f} ms" for h in healths)
        lines.append(
            f"| /healthz (before; after) | p95 {p95s} at {result['clients']} clients; one client p50 "
            f"{health_one:.1f} ms | - | - | - |"
        )
        lines.append(
            one_client_row(
                "account page's first response against /healthz", result["http"].get("account"), health_one,
                "/healthz", "within 8x",
            )
        )  # fmt: skip
        heaviest = result.get("heaviest", {})
        shape = f"{heaviest.get('encounters', 0):,} encounters, {heaviest.get('ledger_rows', 0):,} ledger rows"
        lines.append(
            one_client_row(
                f"heaviest account page ({shape})", result["http"].get("heaviest"), health_one, "/healthz",
                "< 300 ms",
            )
        )  # fmt: skip
        lines.append(
            one_client_row(
                "heaviest account, ledger pages 2-51", result["http"].get("heaviest_ledger"), health_one, "/healthz",
                "< 300 ms",
            )
        )  # fmt: skip
    search = result["http"].get("search")
    if search and search["one_client"].get("by_kind"):
        kinds = "; ".join(
            f"{kind} {v['p50_ms']:.0f}/{v['p95_ms']:.0f}" for kind, v in search["one_client"]["by_kind"].items()
        )
        lines.append(f"| search by kind, one client (p50/p95 ms) | {kinds} | - | - | - |")
    aging = result.get("aging")
    if aging:
        lines.append(
            f"| live as-of aging, practice {aging['practice']} ({aging['practice_accounts']:,} accounts), median of "
            f"{len(aging['library_all_ms'])} | {aging['library_ms']:.0f} ms | {aging['floor_ms']:.0f} ms "
            f"(one hand-written query) | {ratio(aging['library_ms'], aging['floor_ms'])} | within 1.5x; same buckets: "
            f"{'yes' if aging['same_buckets'] else 'NO'} |"
        )
    if "server_connections" in result:
        lines.append(
            f"| PostgreSQL connections held by gunicorn after each load | at most {result['server_connections']} "
            f"| - | - | at most workers x threads ({result['workers'] * max(result.get('threads', 1), 1)}) |"
        )
    for note in result.get("notes", []):
        lines.append("")
        lines.append(note)
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Benchmark results\n\nAppended by `bench/run.py` (see bench/README.md). Each run measures every "
            "figure beside its floor on the same data and server.\n"
        )
    with RESULTS.open("a") as handle:
        handle.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--practices", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--reuse", action="store_true", help="Keep the database when it already has N accounts.")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2_000, help="Measured requests per figure.")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--single-requests", type=int, default=200, help="Requests measured with one client.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (make run: 2 on PostgreSQL).")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (make run: 4; 1 = sync).")
    parser.add_argument("--no-heaviest", action="store_true", help="Skip the heaviest account's page.")
    parser.add_argument("--aging-repeats", type=int, default=5)
    parser.add_argument("--no-results", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    url = args.database_url
    database_name(url)
    settings_module = "config.settings.local"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": settings_module,
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

    result = {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "accounts": args.accounts,
        "clients": args.clients,
        "requests": args.requests,
        "warmup": args.warmup,
        "workers": args.workers,
        "threads": args.threads,
        "settings": settings_module,
        "http": {},
        "http_notes": {},
        "notes": [],
    }

    reuse = False
    if args.reuse and database_exists(url):
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as connection:
            try:
                existing = connection.execute(
                    "SELECT COUNT(*) FROM accounts_patientaccount WHERE account_number <> %s", [HEAVIEST_NUMBER]
                ).fetchone()[0]
            except psycopg.Error:
                existing = -1
        reuse = existing == args.accounts
        log(f"existing database has {existing:,} accounts: {'reusing it' if reuse else 'recreating it'}")
    if not reuse:
        log(f"creating {database_name(url)}")
        recreate_database(url)
        seconds, _ = manage(env, "migrate", "--noinput", "-v", "0")
        log(f"migrated in {seconds:.1f} s; seeding {args.accounts:,} accounts")
        seconds, output = manage(
            env, "seed_demo", "--accounts", str(args.accounts), "--practices", str(args.practices),
            "--seed", str(args.seed), "--quiet-progress", "-v", "2",
        )  # fmt: skip
        phases = {}
        match = re.search(r"Phases: (.*)\.", output)
        if match:
            for part in match.group(1).split(", "):
                name, value, _ = part.split(" ")
                phases[name] = float(value)
        result["seed"] = {"seconds": seconds, "phases": phases, "output": output}
        log(f"seeded in {seconds:.1f} s ({phases})")
        result["vacuum_seconds"] = run_sql(url, "VACUUM ANALYZE")
        log(f"VACUUM ANALYZE in {result['vacuum_seconds']:.1f} s")
    else:
        seconds, _ = manage(env, "migrate", "--noinput", "-v", "0")  # the code may be newer than the data
        log(f"migrated in {seconds:.1f} s")
    seconds, output = manage(env, "check_ledger")
    result["check_ledger_seconds"] = seconds
    log(f"check_ledger in {seconds:.1f} s: {output.strip()}")

    import django

    django.setup()
    from django.conf import settings
    from django.utils import timezone

    result["machine"] = machine(url)
    picked = samples(args.requests + args.warmup, args.seed)
    heaviest_id = None
    if not args.no_heaviest:
        sys.path.insert(0, str(ROOT / "bench"))
        from heaviest import ensure_heaviest_account

        started = time.monotonic()
        heaviest_id, encounters, rows = ensure_heaviest_account(log=log)
        result["heaviest"] = {"account_id": heaviest_id, "encounters": encounters, "ledger_rows": rows}
        log(f"heaviest account {heaviest_id}: {encounters:,} encounters, {rows:,} ledger rows "
            f"({time.monotonic() - started:.0f} s)")  # fmt: skip
        if encounters:
            run_sql(url, "ANALYZE accounts_transaction")

    log(f"starting gunicorn ({args.workers} workers x {args.threads} threads)")
    with Server(env, args.workers, args.threads) as server:
        cookies, token = log_in(server.port, "director", settings.DEMO_PASSWORD)

        def floor_request(n):
            return "GET", "/bench/floor/", {"cookies": cookies}

        def health_request(n):
            return "GET", "/healthz", {}

        def heaviest_request(n):
            return "GET", f"/accounts/{heaviest_id}/", {"cookies": cookies}

        def heaviest_ledger_request(n):  # the ledger's later pages, as the rep pages back
            return "GET", f"/accounts/{heaviest_id}/ledger/?page={2 + n % 50}", {"cookies": cookies}

        def account_request(n):
            return "GET", f"/accounts/{picked['account_ids'][n % len(picked['account_ids'])]}/", {"cookies": cookies}

        def search_request(n):
            _, text = picked["searches"][n % len(picked["searches"])]
            return "POST", "/search/", {"cookies": cookies, "form": {"q": text, "csrfmiddlewaretoken": token}}

        def search_kind(n):
            return picked["searches"][n % len(picked["searches"])][0]

        # The floor is measured first and again last: a busy machine shows as a drifting floor.
        plan = [
            ("floor", floor_request), ("healthz", health_request), ("account", account_request),
            ("search", search_request),
        ]  # fmt: skip
        if heaviest_id:
            plan += [("heaviest", heaviest_request), ("heaviest_ledger", heaviest_ledger_request)]
        plan += [("healthz_after", health_request), ("floor_after", floor_request)]
        one_client_only = {"heaviest", "heaviest_ledger"}  # one rep opens it: the page's own time
        for key, make_request in plan:
            method, path, kwargs = make_request(0)
            status, _, _ = request(method, server.port, path, **kwargs)
            if status != 200:
                result["http_notes"][key] = f"{method} {path} answered {status}"
                log(f"{key}: {method} {path} answered {status}; skipped")
                continue
            # One client first: the page's own time, without queueing behind other requests.
            kind_of = search_kind if key == "search" else None
            alone = load(server.port, make_request, args.single_requests, 1, 10, kind_of)
            if key in one_client_only:
                result["http"][key] = {**alone, "one_client": alone}
                log(f"{key}: one client p50 {alone['p50_ms']:.1f} ms, p95 {alone['p95_ms']:.1f} ms")
                continue
            log(f"{key}: {args.requests} requests, {args.clients} clients")
            figure = load(server.port, make_request, args.requests, args.clients, args.warmup)
            figure["one_client"] = {k: alone[k] for k in ("p50_ms", "p95_ms", "throughput_rps", "failures", "by_kind")}
            result["http"][key] = figure
            # gthread keeps one connection per thread (CONN_MAX_AGE): never more than workers x threads.
            result["server_connections"] = max(result.get("server_connections", 0), server_connections(url))
            log(
                f"{key}: p50 {figure['p50_ms']:.1f} ms, p95 {figure['p95_ms']:.1f} ms, p99 {figure['p99_ms']:.1f} ms, "
                f"{figure['throughput_rps']:.0f} req/s, {figure['failures']} failures; one client: p50 "
                f"{alone['p50_ms']:.1f} ms, p95 {alone['p95_ms']:.1f} ms"
            )
    log("gunicorn stopped")

    as_of = timezone.localdate()
    aging = measure_aging(as_of, args.aging_repeats)
    result["aging"] = aging
    log(
        f"aging ({aging['practice']}, {aging['practice_accounts']:,} accounts): library {aging['library_ms']:.0f} ms, "
        f"floor {aging['floor_ms']:.0f} ms, same buckets: {aging['same_buckets']}"
    )
    if not aging["same_buckets"]:
        result["notes"].append(
            f"Aging differs from the floor: library {aging['buckets']}, floor {aging['floor_buckets']}."
        )

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (OUT / f"bench-{args.accounts}-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
    if not args.no_results:
        write_results(result)
        log(f"results appended to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
