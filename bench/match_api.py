"""Load-test POST /api/v1/match: 50 concurrent clients against gunicorn, on this machine.

    .venv/bin/python bench/match_api.py [--clients 50] [--requests 20] [--workers 4]

Builds a throw-away SQLite database with the shipped reference data, starts
gunicorn on 127.0.0.1 (loopback only), sends the requests, prints latency
percentiles and each worker's resident memory, and stops the server.
Targets: p95 under 100 ms at 50 concurrent clients; a worker under 150 MB.

The load comes from wrk (Debian's package) when it is installed: a Python client
with 50 threads spends more of this machine's two cores than the server does,
and so measures itself. Without wrk, the Python client runs, and says so.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PROFILE = {
    "reference": "P-0042",
    "gender": "female",
    "country": "NO",
    "languages": ["nb"],
    "substances": ["opioids", "alcohol"],
    "on_medication_treatment": True,
    "psychiatric_comorbidity": True,
    "trauma_history": True,
    "spirituality": "averse",
    "format": "dialogue",
    "previous_groups": [{"group": "na", "experience": "negative"}],
}
# With --meetings: the patient lives in Drammen and would go in person or online.
NEAR = {"near": {"latitude": 59.7439, "longitude": 10.2045}, "attendance": "either"}
# Invented meetings for load only, in a throw-away database: spread over southern Norway
# and around the world online, every group of the catalog, one to three weekly times.
MEETINGS = """
import random
from catalog.models import Group, Meeting, MeetingSlot
rng = random.Random(7)
groups = list(Group.objects.all())
zones = ["Europe/Oslo", "Europe/Amsterdam", "America/Toronto", "Europe/London"]
meetings = []
for n in range({count}):
    online = rng.random() < 0.2
    meetings.append(Meeting(
        group=rng.choice(groups), name=f"Bench {{n}}",
        attendance="online" if online else "in_person",
        online_url=f"https://meet.example.org/{{n}}" if online else "",
        latitude=None if online else rng.uniform(58.0, 63.0),
        longitude=None if online else rng.uniform(5.0, 12.0),
        municipality="" if online else "Bench",
        languages=rng.choice(["nb", "en", "nl", ""]),
    ))
Meeting.objects.bulk_create(meetings, batch_size=2000)
slots = [
    MeetingSlot(meeting=m, weekday=day, starts=f"{{rng.randint(7, 21):02d}}:00",
                timezone=rng.choice(zones) if m.attendance == "online" else "Europe/Oslo")
    for m in Meeting.objects.all()
    for day in rng.sample(range(7), rng.randint(1, 3))
]
MeetingSlot.objects.bulk_create(slots, batch_size=2000)
print(len(meetings), len(slots))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout.strip()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = [[%s]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
wrk.headers["X-Forwarded-Proto"] = "https"
done = function(summary, latency, requests)
  io.write(string.format("WRK %%d %%d %%.1f %%.1f %%.1f %%.1f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
"""


def run_wrk(port: int, body: str, key: str, clients: int, seconds: int, workdir: Path) -> None:
    script = workdir / "match.lua"
    script.write_text(WRK_SCRIPT % (body, key))
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{seconds}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/api/v1/match",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("WRK "))
    total, errors, p50, p95, p99, worst = line.split()[1:]
    print(f"POST /api/v1/match: wrk, {clients} connections for {seconds} s")
    print(
        f"  p50 {p50} ms  p95 {p95} ms  p99 {p99} ms  max {worst} ms  "
        f"throughput {int(total) / seconds:.0f} req/s  errors {errors}  (target p95 < 100 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20, help="per client")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=15, help="with wrk")
    parser.add_argument("--worker-class", default="sync", help="gunicorn's -k")
    parser.add_argument(
        "--meetings",
        type=int,
        default=0,
        help="invent this many meetings and match a profile with a place and meetings",
    )
    parser.add_argument(
        "--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python"
    )
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="rm-bench-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "DEBUG": "1",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(workdir / "static"),
    }
    manage(env, "migrate", "--no-input")
    # Production settings, as a release would run; a throw-away key for this run only.
    production = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        # As behind a proxy that terminates TLS: requests say they came over HTTPS.
        "BEHIND_TLS_PROXY": "1",
        "TRUSTED_PROXIES": "1",
    }
    manage({**env, **production}, "collectstatic", "--no-input")
    manage(env, "load_reference_data")
    manage(env, "create_demo_users")
    key = manage(env, "create_api_token", "counsellor", "--name", "bench").splitlines()[-1]
    profile = PROFILE
    if options.meetings:
        made = manage(env, "shell", "-c", MEETINGS.format(count=options.meetings))
        print(f"meetings, weekly times: {made}")
        profile = {**PROFILE, **NEAR}

    port = free_port()
    server_env = {**env, **production}
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-w",
            str(options.workers),
            "-k",
            options.worker_class,
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=server_env,
    )
    try:
        body = json.dumps(profile)
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {key}",
            "X-Forwarded-Proto": "https",
        }
        for _ in range(100):  # wait for the server
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("POST", "/api/v1/match", body, headers)
                first = connection.getresponse()
                if first.status != 200:
                    raise SystemExit(f"the server answered {first.status}: {first.read()[:500]!r}")
                break
            except (ConnectionRefusedError, OSError):
                time.sleep(0.1)
        if options.client == "wrk":
            run_wrk(port, body, key, options.clients, options.seconds, workdir)
            workers = subprocess.run(
                ["pgrep", "-P", str(server.pid)], capture_output=True, text=True
            ).stdout.split()
            print(
                "  worker RSS: "
                + ", ".join(f"{rss_mb(int(pid)):.0f} MB" for pid in workers)
                + "  (target < 150 MB)"
            )
            return
        print("(wrk is not installed: the Python client below competes with the server for CPU)")
        timings: list[float] = []
        errors: list[int] = []
        lock = threading.Lock()

        def client() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(options.requests):
                start = time.perf_counter()
                connection.request("POST", "/api/v1/match", body, headers)
                response = connection.getresponse()
                response.read()
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    timings.append(elapsed)
                    if response.status != 200:
                        errors.append(response.status)

        threads = [threading.Thread(target=client) for _ in range(options.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        timings.sort()
        workers = subprocess.run(
            ["pgrep", "-P", str(server.pid)], capture_output=True, text=True
        ).stdout.split()
        p50, p95 = timings[len(timings) // 2], timings[int(len(timings) * 0.95)]
        print(
            f"POST /api/v1/match: {options.clients} concurrent clients x {options.requests} "
            f"requests, gunicorn {options.workers} workers, SQLite"
        )
        print(
            f"  p50 {p50:.1f} ms  p95 {p95:.1f} ms  max {timings[-1]:.1f} ms  "
            f"mean {statistics.mean(timings):.1f} ms  throughput {len(timings) / wall:.0f} req/s  "
            f"errors {len(errors)}  (target p95 < 100 ms)"
        )
        print(
            "  worker RSS: "
            + ", ".join(f"{rss_mb(int(pid)):.0f} MB" for pid in workers)
            + "  (target < 150 MB)"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
