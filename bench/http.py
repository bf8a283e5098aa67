"""HTTP benchmarks against the real `wbs-sync serve`, loaded from other processes on loopback.

Throughput comes from wrk (a C load generator: a Python one would be the bottleneck and hide
the server's); the ceiling is a bare Starlette route serving the same JSON under the same
uvicorn with the same number of processes. The change-feed scenario runs its pollers in
another process with asyncio, because it needs each poller's view, not just a request rate.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import httpx2

WBS_SYNC = str(Path(sys.executable).with_name("wbs-sync"))
UVICORN = str(Path(sys.executable).with_name("uvicorn"))


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server at {base} did not come up:\n{log.read_text()[-2000:]}")


@contextmanager
def _running(command: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="wbs-bench-") as folder:
        log = Path(folder) / "server.log"
        with log.open("wb") as output:  # a pipe nobody reads would block the server
            process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(base, process, log)
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def service(url: str, workers: int) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "WBS_DATABASE_URL": url}  # the default settings, as users run it
    command = [WBS_SYNC, "serve", "--port", str(port), "--workers", str(workers)]
    with _running(command, env, port) as base:
        yield base


@contextmanager
def ceiling(body: bytes, workers: int) -> Iterator[str]:
    """The bare Starlette route returning `body`: what this stack can do at best."""
    port = _free_port()
    with tempfile.NamedTemporaryFile(suffix=".json") as payload:
        payload.write(body)
        payload.flush()
        env = {**os.environ, "WBS_BENCH_CEILING_BODY": payload.name}
        command = [
            UVICORN,
            "bench.ceiling:app",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        with _running(command, env, port) as base:
            yield base


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    median_ms: float
    p99_ms: float
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(
    url: str, token: str | None, seconds: float, connections: int = 32, script: Path | None = None
) -> Load:
    """wrk's rate and latencies; `script`, a Lua file, makes other requests than a GET of `url`."""
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{max(1, round(seconds))}s"]
    command += ["--latency", "--timeout", "10s"]
    if script is not None:
        command += ["-s", str(script)]
    if token is not None:
        command += ["-H", f"Authorization: Bearer {token}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    median = re.search(r"\s50%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    broken = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(failed.group(1)) if failed else 0
    errors += sum(int(n) for n in broken.groups()) if broken else 0
    return Load(rate, _milliseconds(median), _milliseconds(p99), errors)


# The change feed while writers commit ------------------------------------------------------


@dataclass(frozen=True)
class FeedRun:
    writes: int
    write_median_ms: float
    write_p95_ms: float
    lag_median_ms: float
    lag_p95_ms: float
    missed: int


async def _poll(
    client: httpx2.AsyncClient,
    path: str,
    token: str,
    start: str | None,
    wanted: set[str],
    seen: dict[str, float],
    stop: asyncio.Event,
) -> None:
    cursor = start
    while not stop.is_set() and not wanted.issubset(seen):
        params = {"wait": "5", "limit": "1000", **({"since": cursor} if cursor else {})}
        answer = await client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        answer.raise_for_status()
        page = answer.json()
        now = time.time()
        for event in page["items"]:
            for change in event["changes"]:
                if change["field"] == "notes" and change["new"] in wanted:
                    seen.setdefault(change["new"], now)
        cursor = page["next_cursor"]


async def _pollers(
    base: str, path: str, token: str, count: int, wanted: list[str]
) -> list[dict[str, float]]:
    limits = httpx2.Limits(max_connections=count + 4, max_keepalive_connections=count + 4)
    async with httpx2.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        head = await client.get(
            path, params={"limit": "1"}, headers={"Authorization": f"Bearer {token}"}
        )
        head.raise_for_status()
        # Start at the head of the feed: a page of old events would not be this benchmark.
        start = head.json()["next_cursor"]
        while head.json()["has_more"]:
            head = await client.get(
                path,
                params={"limit": "1000", "since": start},
                headers={"Authorization": f"Bearer {token}"},
            )
            start = head.json()["next_cursor"]
        stop = asyncio.Event()
        views: list[dict[str, float]] = [{} for _ in range(count)]
        tasks = [
            asyncio.create_task(_poll(client, path, token, start, set(wanted), views[n], stop))
            for n in range(count)
        ]
        Path(os.environ["WBS_BENCH_READY"]).touch()
        done, pending = await asyncio.wait(tasks, timeout=300)
        stop.set()
        for task in pending:
            task.cancel()
        for task in done:
            task.result()
        return views


def _run_pollers(
    base: str, path: str, token: str, count: int, wanted: list[str], ready: str
) -> list[dict[str, float]]:
    os.environ["WBS_BENCH_READY"] = ready
    return asyncio.run(_pollers(base, path, token, count, wanted))


def feed_under_writes(
    base: str, project_id: int, codes: list[str], token: str, pollers: int, writes: int
) -> FeedRun:
    """`writes` notes changed one after another while `pollers` long-poll the project's feed.

    Each write's note is a marker; a poller records when it first sees it. Lag is from the
    writer's acknowledged answer to a poller's receipt, over every (write, poller) pair.
    """
    markers = [f"bench-{time.time_ns()}-{n}" for n in range(writes)]
    path = f"/api/v1/projects/{project_id}/changes"
    acknowledged: dict[str, float] = {}
    durations: list[float] = []
    views: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        ready = Path(folder) / "ready"
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            future = (
                pool.submit(_run_pollers, base, path, token, pollers, markers, str(ready))
                if pollers
                else None
            )
            deadline = time.monotonic() + 60
            while future is not None and not ready.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # every poller holds its request
            with httpx2.Client(base_url=base, timeout=30) as client:
                for n, marker in enumerate(markers):
                    started = time.perf_counter()
                    answer = client.patch(
                        f"/api/v1/projects/{project_id}/items/{codes[n % len(codes)]}",
                        json={"notes": marker},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    answer.raise_for_status()
                    acknowledged[marker] = time.time()
                    durations.append((time.perf_counter() - started) * 1000)
                    time.sleep(0.02)  # writers commit at a steady pace, as scripts do
            if future is not None:
                views = future.result()
    lags = sorted(
        (view[m] - acknowledged[m]) * 1000 for view in views for m in markers if m in view
    )
    missed = sum(1 for view in views for m in markers if m not in view)
    durations.sort()
    return FeedRun(
        writes,
        statistics.median(durations),
        durations[min(len(durations) - 1, int(len(durations) * 0.95))],
        statistics.median(lags) if lags else 0.0,
        lags[min(len(lags) - 1, int(len(lags) * 0.95))] if lags else 0.0,
        missed,
    )


def get_json(base: str, path: str, token: str) -> bytes:
    answer = httpx2.get(f"{base}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    answer.raise_for_status()
    return json.dumps(answer.json(), ensure_ascii=False, separators=(",", ":")).encode()
