"""Benchmark: 50 users browsing the web console while a scan writes into the same store.

    .venv/bin/python -m bench.bench_web [--users 50] [--seconds 60] [--quiet-seconds 20]
        [--scan-files 3000] [--earlier-files 300] [--database postgresql+psycopg://...]

What is measured, and why: a unit runs one ``raksha serve`` process (as deployed) on the
store its analysts scan into, and the console must stay usable while a seized phone is
scanned. On a fresh store (a temporary RAKSHA_HOME on SQLite, or a database made for the
run on the PostgreSQL server ``--database`` names, dropped after) with users of every role,
cases, a reference set, an earlier scan with hits, tips and an operation: (1) ``raksha
scan`` of ``--scan-files`` synthetic pictures runs alone, the idle server up; (2) every user
logs in through the form (CSRF, argon2), all at once; (3) they browse ``--quiet-seconds``
with no scan; (4) the same scan runs again (another case, an analyst's ``RAKSHA_SESSION``)
while they browse ``--seconds`` (a scan that ends early is followed by another).

Each user has its own account, session and connection (httpx, cookies) and loops in random
order, 0.2-0.5 s think time, over every GET page its role may open: from the app's routes
and ``ROUTE_ACCESS`` at run time, so pages added later are included (not those with path
parameters or required query parameters, nor public ones). Printed, as Markdown: p50, p95,
p99 and max per route and per window, requests/s, errors (4xx/5xx, exceptions), and the
peer comparison: the scan's files/s with and without the users (from its first write, its
start-up excluded). Per phase, with psutil (the ``bench`` extra): the server's peak RSS,
its CPU per page, and our processes' CPU against the machine's (other work on a shared
machine moves these numbers). A request on a connection the server had just closed for
idling past its keep-alive is sent again, as browsers do, and counted.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.common import machine_line
from raksha.cases import operations, records, users
from raksha.cases.access import PERMISSIONS
from raksha.cases.actor import Actor
from raksha.hashing.crypto import digest_bytes
from raksha.hashing.pdq import pdq_from_bytes
from raksha.hashsets.records import ReferenceRecord
from raksha.hashsets.writers import write_vics_json
from raksha.scan.pipeline import ScanOptions, ScanPipeline
from raksha.services.hashsets import import_hashset
from raksha.services.tips import add_tip
from raksha.settings import Settings
from raksha.store.db import Store
from raksha.store.models import items_table
from raksha.synthetic import images as synth
from raksha.web.registry import LOGGED_IN, PUBLIC, api_routes

try:
    import psutil
except ImportError:  # pragma: no cover - psutil is in the bench extra
    psutil = None

OUT = Path(__file__).resolve().parent / "out" / "web-corpus"
#: Share of the users per role (the first admin is always there).
ROLE_MIX = (("analyst", 0.28), ("investigator", 0.28), ("supervisor", 0.16), ("auditor", 0.14))
ROLES = (*(r for r, _ in ROLE_MIX), "admin")  # admins: the rest
KNOWN = 40  # known pictures in the reference set: half planted earlier, half in the big scan
FILLER = 5_000  # reference records of pictures that are nowhere (random hashes)
DISTRICTS = ("Pune", "Nagpur", "Thane", "Nashik", "Aurangabad", "Solapur")
EARLIER_CASE = "FIR 101/2026 (earlier seizure)"
ALONE_CASE = "bench scan alone"
LIVE_CASES = tuple(f"bench scan under load {i}" for i in range(1, 6))
THINK = (0.2, 0.5)
#: A connection idle this long may have been closed by the server's keep-alive timeout.
STALE_AFTER = 4.0
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
#: Pages a logged-in user does not browse: the login form only redirects them.
NOT_BROWSED = frozenset({"auth.login_form"})
PHASES = {
    "alone": "scan alone (no users)",
    "login": "logins at once",
    "quiet": "browsing, no scan",
    "scan": "browsing, scan writing",
}


def password_of(username: str) -> str:
    return f"synthetic passphrase of {username}"


# -- the synthetic pictures (cached) ------------------------------------------------------


def _fill(folder: Path, n: int, seed: int, base: list[Any]) -> None:
    """``n`` distinct phone-like pictures: JPEG variants of ``base`` photos (cropped,
    resized, brightened, recompressed: distinct bytes and PDQs) and PNG screenshots."""
    rng = random.Random(seed)
    for i in range(n):
        sub = folder / ("DCIM/Camera" if i % 5 else "Pictures/Screenshots") / f"{i // 500:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        if i % 5:
            img = synth.cropped(rng.choice(base), rng.uniform(0.03, 0.2))
            img = synth.brightened(synth.resized(img, rng.uniform(0.6, 1.0)), rng.uniform(0.8, 1.2))
            data = synth.jpeg_bytes(img, quality=rng.randint(70, 95))
            (sub / f"IMG_{seed}{i:05d}.jpg").write_bytes(data)
        else:
            data = synth.png_bytes(synth.graphic_like(seed * 100_000 + i, 720, 1280))
            (sub / f"Screenshot_{seed}{i:05d}.png").write_bytes(data)


def build_corpus(earlier: int, big: int) -> Path:
    """The reference set file, the earlier folder and the big folder (built once)."""
    root = OUT / f"{earlier}-{big}"
    stamp = root / ".complete"
    if stamp.exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    started = time.monotonic()
    base = [synth.photo_like(1_000 + i, 800, 600) for i in range(30)]
    _fill(root / "earlier", earlier, 1, base)
    _fill(root / "big", big, 2, base)
    rng = random.Random(3)
    refs: list[ReferenceRecord] = []
    for i in range(KNOWN):
        picture = synth.photo_like(90_000 + i, 800, 600)
        original = synth.jpeg_bytes(picture, quality=90)
        d = digest_bytes(original)
        hashes = [("md5", d.md5), ("sha1", d.sha1), ("pdq", pdq_from_bytes(original).value)]
        refs.append(ReferenceRecord(hashes, f"record {i + 1}", f"BENCH-{i:04d}", str(1 + i % 3)))
        # exact copies and recompressed ones (found by PDQ), half in each folder
        copy = original if i % 4 < 2 else synth.recompressed_jpeg_bytes(picture, 70)
        target = root / ("earlier" if i % 2 == 0 else "big") / "WhatsApp" / "Media"
        target.mkdir(parents=True, exist_ok=True)
        (target / f"IMG-20260101-WA{i:04d}.jpg").write_bytes(copy)
    for j in range(FILLER):
        refs.append(
            ReferenceRecord(
                [("md5", rng.randbytes(16).hex()), ("pdq", rng.randbytes(32).hex())],
                f"record {KNOWN + j + 1}",
                f"BENCH-F{j:05d}",
                str(1 + j % 3),
            )
        )
    with (root / "reference.json").open("wb") as out:
        write_vics_json(out, refs, flavour="Default")
    stamp.write_text("ok")
    print(f"  generated the pictures in {time.monotonic() - started:.0f} s", flush=True)
    return root


# -- the store ----------------------------------------------------------------------------


@dataclass
class Person:
    username: str
    role: str


def role_counts(n: int) -> dict[str, int]:
    """How many users of each role among ``n`` (at least one of each)."""
    counts = {role: max(1, round(n * share)) for role, share in ROLE_MIX}
    return {**counts, "admin": max(1, n - sum(counts.values()))}


def set_up_store(
    store: Store, settings: Settings, corpus: Path, n_users: int
) -> tuple[list[Person], str]:
    """Users of every role, cases, assignments, the reference set, an earlier scan with
    hits, tips and a planned operation (written with the real functions); the people and
    a login token of the analyst who scans."""
    people: list[Person] = []
    with store.engine.begin() as conn:
        admin = users.create_user(
            conn, Actor.local_setup(), "admin01", "admin", password_of("admin01")
        ).actor()
    people.append(Person("admin01", "admin"))
    for role, count in role_counts(n_users).items():
        for k in range(1, count + 1):
            name = f"{role}{k:02d}"
            if name == "admin01":
                continue
            with store.engine.begin() as conn:
                users.create_user(conn, admin, name, role, password_of(name), f"{role} {k}")
            people.append(Person(name, role))
    with store.engine.connect() as conn:
        supervisor = users.find_user(conn, "supervisor01").actor()
    case_names = [EARLIER_CASE, ALONE_CASE, *LIVE_CASES] + [f"FIR {200 + i}/2026" for i in range(6)]
    for i, name in enumerate(case_names):
        records.create_case(store, supervisor, name, district=DISTRICTS[i % len(DISTRICTS)])
    workers = [p for p in people if p.role in ("analyst", "investigator")]
    assigned: set[tuple[str, str]] = set()
    for i, p in enumerate(workers):  # each analyst and investigator works two cases
        assigned |= {(case_names[i % len(case_names)], p.username), (EARLIER_CASE, p.username)}
    # the analyst who scans works the scan's cases
    assigned |= {(case, "analyst01") for case in (ALONE_CASE, *LIVE_CASES)}
    for case, username in sorted(assigned):
        records.assign(store, supervisor, case, username)
    import_hashset(store, corpus / "reference.json", name="bench-reference", source_agency="bench")
    ScanPipeline(store, settings.index_dir, ScanOptions()).run(EARLIER_CASE, corpus / "earlier")
    for t in range(20):
        add_tip(
            store, f"@channel_{t:03d}", f"a channel sharing pictures, report {t}", channel="web"
        )
    op = operations.create_operation(
        store, supervisor, "Op Bench", datetime.now(UTC) + timedelta(days=2)
    )
    for d in DISTRICTS:
        operations.add_target(store, supervisor, op["id"], label=f"house in {d}", district=d)
    with store.engine.begin() as conn:
        token = users.login(conn, "analyst01", password_of("analyst01"), client="cli")
    return people, token


def item_count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(items_table)).scalar_one())


@contextmanager
def fresh_database(admin_url: str | None) -> Iterator[str | None]:
    """A PostgreSQL database made for this run (dropped afterwards); ``None`` for SQLite."""
    if admin_url is None:
        yield None
        return
    admin = create_engine(make_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"raksha_bench_web_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


# -- the pages ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    path: str
    permission: str
    audited: bool

    def open_to(self, role: str) -> bool:
        return self.permission == LOGGED_IN or role in PERMISSIONS[self.permission]


def discover_pages(settings: Settings) -> tuple[list[Page], list[str]]:
    """The GET routes a logged-in user can open without parameters, from the real app;
    and, in words, the GET routes left out."""
    from fastapi.routing import APIRoute

    from raksha.web.app import create_app

    app = create_app(settings)
    try:
        registry = app.state.route_access
        pages: list[Page] = []
        left_out: list[str] = []
        for context in api_routes(app.routes):
            route = context.original_route
            if not isinstance(route, APIRoute) or "GET" not in (route.methods or set()):
                continue
            path = str(context.path)
            entry = registry[route.name]
            required = [p.name for p in route.dependant.query_params if p.field_info.is_required()]
            if route.name in NOT_BROWSED or entry.permission == PUBLIC:
                left_out.append(f"{path} (public)")
            elif "{" in path:
                left_out.append(f"{path} (path parameter)")
            elif required:
                left_out.append(f"{path} (needs {', '.join(required)})")
            else:
                pages.append(Page(route.name, path, entry.permission, entry.case_data))
    finally:
        app.state.imports.wait(timeout=5)
        app.state.store.close()
    return pages, left_out


# -- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raksha_env(home: Path, url: str | None, session: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAKSHA_")}
    env["RAKSHA_HOME"] = str(home)
    if url is not None:
        env["RAKSHA_DATABASE_URL"] = url
    if session is not None:
        env["RAKSHA_SESSION"] = session
    return env


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "raksha", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def stop(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def scan_alone(
    env: dict[str, str], folder: Path, log: Path, count: Callable[[], int]
) -> dict[str, float]:
    """Run the scan alone: files/s from its first write to its end (as in the window,
    which starts once the scan writes), and its whole wall time."""
    before = count()
    started = time.monotonic()
    process = start(["scan", str(folder), "--case", ALONE_CASE, "--json"], env, log)
    first = before
    while process.poll() is None and first == before:
        time.sleep(0.1)
        first = count()
    writing = time.monotonic()
    if process.wait() != 0:
        raise SystemExit(f"the scan failed:\n{log.read_text()[-3000:]}")
    ended = time.monotonic()
    done = count()
    return {
        "alone_wall": ended - started,
        "alone_s": ended - writing,
        "alone_files": float(done - first),
        "alone_rate": (done - first) / (ended - writing),
    }


def wait_until_up(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (code {server.returncode}):\n{log.read_text()}")
        with suppress(httpx.HTTPError):
            if httpx.get(base + "/login", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"the server did not answer in 60 s:\n{log.read_text()}")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """CPU seconds so far (the server; this process and every process it started; the whole
    machine busy), and the server's peak RSS since the previous snapshot."""

    at: float
    server: float
    ours: float
    machine: float
    peak_rss: int


@dataclass
class Usage:
    """Samples the server's RSS and the CPU of our processes (psutil, if installed): this
    one and every process it started, and the PostgreSQL backends serving ``database``."""

    database: str | None = None
    server: Any = None
    start_rss: int = 0
    _peak: int = 0
    _cpu: dict[int, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def watch(self, pid: int) -> None:
        if psutil is None:
            return
        self.server = psutil.Process(pid)
        self.start_rss = self._peak = self.server.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _ours(self, backends: bool = True) -> float:
        me = psutil.Process()
        processes = [me, *me.children(recursive=True)]
        if backends and self.database:
            label = f" {self.database} "  # "postgres: 15/main: USER DATABASE HOST(PORT) state"
            for process in psutil.process_iter(["name", "cmdline"]):
                if process.info["name"] == "postgres" and label in " ".join(
                    process.info["cmdline"] or ()
                ):
                    processes.append(process)
        for process in processes:
            with suppress(psutil.Error):
                times = process.cpu_times()
                self._cpu[process.pid] = times.user + times.system
        return sum(self._cpu.values())

    def _sample(self) -> None:
        tick = 0
        while not self._stop.wait(0.25):
            tick += 1
            with suppress(psutil.Error), self._lock:
                self._peak = max(self._peak, self.server.memory_info().rss)
                self._ours(backends=tick % 4 == 0)

    def snapshot(self) -> Snapshot | None:
        if psutil is None or self.server is None:
            return None
        with self._lock:
            server = self.server.cpu_times()
            machine = psutil.cpu_times()
            busy = sum(
                getattr(machine, name, 0.0) for name in ("user", "system", "nice", "irq", "softirq")
            )
            peak = max(self._peak, self.server.memory_info().rss)
            self._peak = 0
            return Snapshot(time.monotonic(), server.user + server.system, self._ours(), busy, peak)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


# -- the browsing users -------------------------------------------------------------------


@dataclass(slots=True)
class Sample:
    phase: str
    route: str
    seconds: float
    status: int  # 0: an exception
    error: str = ""
    at: float = 0.0  # seconds into the window when it was sent


@dataclass
class Browser:
    """One user's browser: its own cookies and connection, and when it last heard back."""

    person: Person
    client: httpx.AsyncClient
    last: float = 0.0
    retries: int = 0


async def log_in(browser: Browser) -> float:
    """Log in through the form as a browser does; returns the POST's seconds."""
    client, username = browser.client, browser.person.username
    form = await client.get("/login")
    match = CSRF_INPUT.search(form.text)
    if form.status_code != 200 or match is None:
        raise RuntimeError(f"login form: {form.status_code}")
    started = time.monotonic()
    fields = {"username": username, "password": password_of(username), "next": "/"}
    answer = await client.post("/login", data={**fields, "csrf_token": match.group(1)})
    browser.last = time.monotonic()
    seconds = browser.last - started
    if answer.status_code != 303 or "raksha_session" not in client.cookies:
        raise RuntimeError(f"login of {username}: {answer.status_code} {answer.text[:200]}")
    return seconds


@dataclass
class Window:
    """When the users stop browsing (``until`` may be moved while they browse)."""

    phase: str
    started: float
    until: float


async def fetch(browser: Browser, path: str) -> httpx.Response:
    """GET ``path``; once more if the server had just closed a connection idle for longer
    than its keep-alive (uvicorn: 5 s), as browsers retry an idempotent request."""
    idle = time.monotonic() - browser.last
    try:
        response = await browser.client.get(path)
    except httpx.RemoteProtocolError:
        if idle < STALE_AFTER:
            raise
        browser.retries += 1
        response = await browser.client.get(path)
    browser.last = time.monotonic()
    return response


async def browse(
    browser: Browser,
    pages: Sequence[Page],
    window: Window,
    rng: random.Random,
    out: list[Sample],
) -> None:
    while time.monotonic() < window.until:
        order = list(pages)
        rng.shuffle(order)
        for page in order:
            if time.monotonic() >= window.until:
                return
            started = time.monotonic()
            sample = Sample(window.phase, page.name, 0.0, 0, at=started - window.started)
            try:
                response = await fetch(browser, page.path)
                sample.status = response.status_code
                if response.status_code >= 400:
                    sample.error = response.text[:200]
            except httpx.HTTPError as exc:
                sample.error = repr(exc)[:200]
            sample.seconds = time.monotonic() - started
            out.append(sample)
            await asyncio.sleep(rng.uniform(*THINK))


@dataclass
class Scans:
    """The scan(s) writing during the window: one after another until the window ends."""

    env: dict[str, str]
    folder: Path
    log: Path
    count: Callable[[], int]
    started: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    finished: int = 0

    def next(self) -> None:
        if len(self.started) < len(LIVE_CASES):
            case = LIVE_CASES[len(self.started)]
            self.started.append(case)
            args = ["scan", str(self.folder), "--case", case, "--json"]
            self.process = start(args, self.env, self.log)

    async def begin(self) -> None:
        """Start the first scan; return once it writes (its start-up is not in the window)."""
        before = await asyncio.to_thread(self.count)
        self.next()
        deadline = time.monotonic() + 60
        while await asyncio.to_thread(self.count) == before and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

    async def keep_writing(self, until: float) -> None:
        while time.monotonic() < until:
            await asyncio.sleep(0.25)
            if self.process is not None and self.process.poll() is not None:
                self.finished += 1
                self.process = None
                if time.monotonic() < until - 5:
                    self.next()


@dataclass(frozen=True, slots=True)
class Phase:
    """A browsing window: ``prepare`` runs before it starts, ``alongside`` during it."""

    name: str
    seconds: float
    prepare: Callable[[], Coroutine[Any, Any, None]] | None = None
    alongside: Callable[[float], Coroutine[Any, Any, None]] | None = None


async def browse_all(
    base: str,
    people: Sequence[Person],
    pages: Sequence[Page],
    phases: Sequence[Phase],
    on_phase: Callable[[str, str], None],
) -> tuple[list[float], list[Sample], int]:
    """Log every user in at once, then browse through each phase; the login seconds, every
    request, and how many were sent again on a connection the server had closed."""
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    browsers = [
        Browser(
            p, httpx.AsyncClient(base_url=base, timeout=120, limits=limits, follow_redirects=False)
        )
        for p in people
    ]
    samples: list[Sample] = []
    try:
        on_phase("login", "start")
        logins = await asyncio.gather(*(log_in(b) for b in browsers))
        on_phase("login", "end")

        def users(window: Window) -> list[Coroutine[Any, Any, None]]:
            return [
                browse(
                    b,
                    [page for page in pages if page.open_to(b.person.role)],
                    window,
                    random.Random(f"{window.phase}{b.person.username}"),
                    samples,
                )
                for b in browsers
            ]

        for phase in phases:
            if phase.prepare is not None:  # the users go on browsing (not counted) meanwhile
                between = Window("between", time.monotonic(), float("inf"))
                browsing = asyncio.gather(*users(between))
                await phase.prepare()
                between.until = 0.0
                await browsing
            on_phase(phase.name, "start")
            window = Window(phase.name, time.monotonic(), time.monotonic() + phase.seconds)
            tasks = users(window)
            if phase.alongside is not None:
                tasks.append(phase.alongside(window.until))
            await asyncio.gather(*tasks)
            on_phase(phase.name, "end")
    finally:
        for b in browsers:
            await b.client.aclose()
    return list(logins), samples, sum(b.retries for b in browsers)


# -- the report ---------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of ``values`` (sorted)."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def is_error(sample: Sample) -> bool:
    return sample.status == 0 or sample.status >= 400


def cells(samples: Sequence[Sample]) -> str:
    """requests | p50 | p95 | p99 | max (ms) | errors, as Markdown cells."""
    ms = sorted(s.seconds * 1000 for s in samples)
    errors = sum(1 for s in samples if is_error(s))
    return (
        f"{len(ms):,} | {pct(ms, 0.5):,.0f} | {pct(ms, 0.95):,.0f} | {pct(ms, 0.99):,.0f} | "
        f"{max(ms, default=float('nan')):,.0f} | {errors}"
    )


def who_of(page: Page, people: Sequence[Person]) -> str:
    roles = [r for r in ROLES if page.open_to(r)]
    n = sum(1 for p in people if page.open_to(p.role))
    return f"{'all roles' if len(roles) == len(ROLES) else ', '.join(roles)} ({n})"


@dataclass
class Run:
    """What one run measured, for the report."""

    db: str
    people: list[Person]
    pages: list[Page]
    left_out: list[str]
    logins: list[float]
    samples: list[Sample]
    retries: int
    windows: dict[str, float]  # phase -> seconds
    scan: dict[str, float]
    usage: dict[str, dict[str, float]]  # phase -> seconds, CPU seconds, peak RSS
    start_rss: int
    load: tuple[float, float]
    items_before: int


def report(args: argparse.Namespace, r: Run) -> None:
    loaded = [s for s in r.samples if s.phase == "scan"]
    audited = {p.name for p in r.pages if p.audited}
    roles = ", ".join(f"{n} {role}" for role, n in Counter(p.role for p in r.people).items())
    print(f"\n## Web console: {len(r.people)} users browsing while a scan writes ({r.db})")
    print(
        f"`.venv/bin/python -m bench.bench_web --users {args.users} --seconds {args.seconds} "
        f"--quiet-seconds {args.quiet_seconds} --scan-files {args.scan_files} --earlier-files "
        f"{args.earlier_files}{' --database URL' if args.database else ''}` — one `raksha "
        f"serve` (uvicorn, loopback) on a fresh {r.db} store of {r.items_before:,} items "
        f"({args.earlier_files + KNOWN // 2} from an earlier scan with {KNOWN // 2} hits, the "
        f"rest the scan alone's), a reference set of {KNOWN + FILLER:,} records; "
        f"{len(r.people)} users ({roles}), each logged in through the form, browsing every "
        f"GET page its role may open in random order, {THINK[0]}-{THINK[1]} s think time: "
        f"{args.quiet_seconds} s with no scan, then {args.seconds} s while `raksha scan` of "
        f"{r.scan['files']:,.0f} synthetic pictures writes (another follows if it ends)."
    )
    print("\n| route | who (users) | requests | p50 ms | p95 ms | p99 ms | max ms | errors |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for page in sorted(r.pages, key=lambda p: p.path):
        mine = [s for s in loaded if s.route == page.name]
        mark = " (audited)" if page.audited else ""
        print(f"| `{page.path}`{mark} | {who_of(page, r.people)} | {cells(mine)} |")
    print("\n| window | requests | p50 ms | p95 ms | p99 ms | max ms | errors | requests/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    scan_s, quiet_s = r.windows["scan"], r.windows["quiet"]
    for label, chosen, seconds in (
        (f"**all pages, scan writing ({scan_s:.0f} s)**", loaded, scan_s),
        ("audited pages (append `web.read`)", [s for s in loaded if s.route in audited], scan_s),
        ("other pages", [s for s in loaded if s.route not in audited], scan_s),
        (
            f"all pages, no scan ({quiet_s:.0f} s)",
            [s for s in r.samples if s.phase == "quiet"],
            quiet_s,
        ),
    ):
        if chosen:
            print(f"| {label} | {cells(chosen)} | {len(chosen) / seconds:,.1f} |")
    logins = [Sample("login", "auth.login", x, 303) for x in r.logins]
    print(f"| {len(logins)} logins at once (form POST, argon2) | {cells(logins)} | |")
    sc = r.scan
    print("\n| scan | files | seconds | files/s |\n|---|---:|---:|---:|")
    print(
        f"| alone (idle server up) | {sc['alone_files']:,.0f} | {sc['alone_s']:.1f} | "
        f"{sc['alone_rate']:.1f} |"
    )
    print(
        f"| while {len(r.people)} users browse | {sc['loaded_files']:,.0f} | {scan_s:.1f} | "
        f"{sc['loaded_rate']:.1f} |"
    )
    print(f"| **with users / alone** | | | **{sc['loaded_rate'] / sc['alone_rate']:.2f}** |\n")
    errors = [s for s in r.samples if is_error(s)]
    statuses = dict(sorted(Counter(s.status for s in loaded).items()))
    print(
        f"- Statuses while the scan wrote: {statuses}; errors in all requests (logins and "
        f"between windows too): {len(errors)}; {r.retries} sent again after the server "
        "closed an idle keep-alive connection."
    )
    groups: dict[tuple[str, int, str], list[Sample]] = {}
    for e in errors:
        groups.setdefault((e.route, e.status, e.error[:120]), []).append(e)
    for (route, status, error), found in sorted(groups.items(), key=lambda g: -len(g[1]))[:5]:
        when = ", ".join(f"{e.phase} +{e.at:.1f} s" for e in found[:4])
        print(f"  - {len(found)} × {route} → {status or 'exception'}: {error!r} ({when})")
    if r.usage:
        print(
            "\n| phase | seconds | requests/s | server CPU, cores | server CPU ms/request | "
            "server peak RSS MiB | our processes, cores | other work on the machine, cores |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for phase, u in r.usage.items():
            n = len(logins) if phase == "login" else sum(1 for s in r.samples if s.phase == phase)
            t = u["seconds"]
            rate, per_page = (f"{n / t:,.1f}", f"{1000 * u['server'] / n:,.1f}") if n else ("", "")
            print(
                f"| {PHASES[phase]} | {t:.1f} | {rate} | {u['server'] / t:.2f} | {per_page} | "
                f"{u['peak_rss'] / 2**20:,.0f} | {u['ours'] / t:.2f} | "
                f"{max(0.0, u['machine'] - u['ours']) / t:.2f} |"
            )
        print(
            f"\n- Server RSS when started {r.start_rss / 2**20:,.0f} MiB. Our processes: the "
            "server, this one (the browsers), the scans with their workers"
            + (" and the PostgreSQL backends of the run's database" if args.database else "")
            + f"; other work: the rest of the {os.cpu_count()} CPUs' busy time. Load average "
            f"before the run {r.load[0]:.1f}, after {r.load[1]:.1f}."
        )
    else:
        print("- psutil is not installed (the bench extra): no RSS or CPU figures.")
    print(
        f"- Scan files/s from the scan's first write (alone: {sc['alone_wall']:.1f} s wall "
        f"with start-up); under load {sc['scans']:.0f} scan(s) started, "
        f"{sc['finished']:.0f} finished in the window."
    )
    print(
        f"- Pages browsed ({len(r.pages)}): {', '.join(p.path for p in r.pages)}; left out: "
        f"{', '.join(r.left_out) or 'none'}."
    )
    print(f"- Machine: {machine_line()}")


# -- main ---------------------------------------------------------------------------------


def phase_usage(snapshots: dict[str, Snapshot | None]) -> dict[str, dict[str, float]]:
    used: dict[str, dict[str, float]] = {}
    for phase in PHASES:
        first, last = snapshots.get(f"{phase} start"), snapshots.get(f"{phase} end")
        if first is not None and last is not None:
            used[phase] = {
                "seconds": last.at - first.at,
                "server": last.server - first.server,
                "ours": last.ours - first.ours,
                "machine": last.machine - first.machine,
                "peak_rss": float(last.peak_rss),
            }
    return used


def run(args: argparse.Namespace, url: str | None, work: Path) -> None:
    load_before = os.getloadavg()[0]
    print("building the synthetic pictures (cached)…", flush=True)
    corpus = build_corpus(args.earlier_files, args.scan_files)
    big, home = corpus / "big", work / "home"
    settings = Settings(home=home, database_url=url or f"sqlite:///{home / 'raksha.db'}")
    store = Store.open(settings)
    server: subprocess.Popen[bytes] | None = None
    scans: Scans | None = None
    usage = Usage(make_url(url).database if url else None)
    logs = [work / "server.log", work / "scan.log"]
    try:
        print(f"setting up the store ({args.users} users, cases, reference set, earlier scan)…")
        pages, left_out = discover_pages(settings)  # first: an app that cannot start fails fast
        people, token = set_up_store(store, settings, corpus, args.users)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start(["serve", "--port", str(port)], raksha_env(home, url), logs[0])
        wait_until_up(base, server, logs[0])
        usage.watch(server.pid)
        scan_env = raksha_env(home, url, token)
        print(f"scan alone: {args.scan_files + KNOWN // 2:,} pictures…", flush=True)
        snapshots: dict[str, Snapshot | None] = {"alone start": usage.snapshot()}
        alone = scan_alone(scan_env, big, logs[1], lambda: item_count(store))
        snapshots["alone end"] = usage.snapshot()
        items_before = item_count(store)
        scans = Scans(scan_env, big, logs[1], lambda: item_count(store))
        marks: dict[str, float] = {}
        counts: dict[str, int] = {}

        def on_phase(phase: str, when: str) -> None:
            marks[f"{phase} {when}"] = time.monotonic()
            if phase == "scan":
                counts[when] = item_count(store)
            snapshots[f"{phase} {when}"] = usage.snapshot()
            print(f"  {phase} {when}", flush=True)

        print(
            f"{len(people)} users log in, browse {args.quiet_seconds} s, then {args.seconds} s "
            "with a scan…",
            flush=True,
        )
        phases = [Phase("quiet", args.quiet_seconds)] if args.quiet_seconds else []
        phases.append(Phase("scan", args.seconds, scans.begin, scans.keep_writing))
        logins, samples, retries = asyncio.run(browse_all(base, people, pages, phases, on_phase))
        if scans.process is not None and scans.process.poll() is not None:
            scans.finished += 1
        windows = {
            p: marks.get(f"{p} end", 0) - marks.get(f"{p} start", 0) for p in ("quiet", "scan")
        }
        loaded_files = counts["end"] - counts["start"]
        scan = {
            **alone,
            "files": float(args.scan_files + KNOWN // 2),
            "loaded_files": float(loaded_files),
            "loaded_rate": loaded_files / windows["scan"],
            "scans": float(len(scans.started)),
            "finished": float(scans.finished),
        }
        db = "PostgreSQL" if url else "SQLite"
        load = (load_before, os.getloadavg()[0])
        report(
            args,
            Run(
                db,
                people,
                pages,
                left_out,
                logins,
                samples,
                retries,
                windows,
                scan,
                phase_usage(snapshots),
                usage.start_rss,
                load,
                items_before,
            ),
        )
        if args.keep_logs:
            for log in logs:
                shutil.copy(log, Path(args.keep_logs) / log.name)
    finally:
        if scans is not None and scans.process is not None:
            stop(scans.process)
        if server is not None:
            stop(server)
        usage.close()
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60, help="browsing while the scan writes")
    parser.add_argument("--quiet-seconds", type=int, default=20, help="browsing with no scan")
    parser.add_argument("--scan-files", type=int, default=3000, help="pictures the scan reads")
    parser.add_argument("--earlier-files", type=int, default=300, help="of the earlier scan")
    parser.add_argument(
        "--database",
        default=None,
        help="a PostgreSQL admin URL: a database is created for the run and dropped "
        "(default: SQLite in a temporary RAKSHA_HOME)",
    )
    parser.add_argument("--keep-logs", default=None, help="copy the server and scan logs here")
    args = parser.parse_args()
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="raksha-bench-web-") as work,
        fresh_database(args.database) as url,
    ):
        run(args, url, Path(work))
    print(f"\n(whole run {time.monotonic() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
