"""Load and fault tests: the site under gunicorn on 127.0.0.1 with PostgreSQL, 50 logged-in users, faults.

    python bench/bench_load.py [--enterprises 300] [--users 50] [--duration 60] [--json]

Everything runs on a private PostgreSQL cluster this script creates in a temporary directory (initdb,
pg_ctl on a free port; as root through `runuser -u postgres`), never on the machine's shared server,
and is removed at the end, also when the run is interrupted.

1. The demo world (`seed-demo --enterprises N`: organisations, projects, demands, products, offers),
   indexed, a ranking model trained when there is enough history.
2. gunicorn with deploy/gunicorn.conf.py and `--workers 2` (sync workers), 127.0.0.1, behind a stand-in for nginx
   (TRUSTED_PROXIES=1: each user's address in X-Forwarded-For).
3. Mixed traffic of `--users` closed-loop users logged in through the login form, half institutions
   (bank, fund, guarantor: home, the pool, pool searches, a demand, recommendations, their offers,
   making an offer) and half enterprises (home, their demands and one demand with its
   recommendations, comparing offers, the product supermarket, a product, the inbox), each waiting a
   think time of 1–2 s (uniform) between requests. Every request is timed alone (no redirects followed).
   Target: p95 <= 200 ms and no error.
4. The baseline: a bare Flask hello-world (bench/hello_app.py) under the same gunicorn settings, the
   same users and think time; then both again without think time (saturation) for the capacity ratio.
5. Fault: PostgreSQL stopped mid-run and started again (a few seconds down). Every request must be
   answered (2xx/3xx) or fail cleanly (503 with the Chinese error page, no traceback); once the
   database is back, requests succeed without restarting gunicorn.
6. Fault: the search backend down (`SEARCH_BACKEND=elasticsearch` at a closed port): search pages show
   the degraded message with the database's listing, and an enterprise's new demand is created,
   submitted and published by its bureau, with its index change kept in the outbox.

Progress and the table go to stderr; with --json the figures go to stdout.
"""
from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.bench_search import say  # noqa: E402

BIN = Path(sys.executable).parent
PASSWORD = "demo2026"
TARGET_P95_MS = 200
WORKERS = 2
SEARCH_WORDS = ["技改", "设备", "锂电", "生产线", "智能化", "绿色", "新材料", "扩产"]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
OPTION = re.compile(r'<option[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- processes this run owns, stopped whatever happens ------------------------------------------------

class Cluster:
    """A private PostgreSQL cluster in a temporary directory, on a free port."""

    def __init__(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        pg_bin = Path(found[-1]).parent if found else Path(shutil.which("initdb") or "initdb").parent
        self.initdb, self.pg_ctl = str(pg_bin / "initdb"), str(pg_bin / "pg_ctl")
        self.dir = Path(tempfile.mkdtemp(prefix="mm-bench-pg-"))
        self.data, self.log = self.dir / "data", self.dir / "postgres.log"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:  # PostgreSQL refuses to run as root
            shutil.chown(self.dir, "postgres", "postgres")
        self.running = False

    def _run(self, *args: str) -> None:
        cmd = ["runuser", "-u", "postgres", "--", *args] if self.as_root else list(args)
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr or done.stdout}")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/bench"

    def init(self) -> None:
        self._run(self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        self.start()
        admin = sa.create_engine(self.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE bench"))
        admin.dispose()

    def start(self) -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-w", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop")
        self.running = False

    def remove(self) -> None:
        if self.running:
            try:
                self.stop("immediate")
            except RuntimeError as e:
                say(f"stopping the private cluster: {e}")
        shutil.rmtree(self.dir, ignore_errors=True)


class Gunicorn:
    """gunicorn serving `app` with the README's settings, in its own process group."""

    def __init__(self, app: str, env: dict, logdir: Path, name: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.logfile = open(logdir / f"gunicorn-{name}.log", "w")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(WORKERS), app],
            cwd=ROOT, env=env, stdout=self.logfile, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited, see {self.logfile.name}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start within 60 s")

    def tracebacks(self, limit: int = 3) -> list[str]:
        """The last `limit` tracebacks the app logged (to explain an error the run counted)."""
        self.logfile.flush()
        text = Path(self.logfile.name).read_text(errors="replace")
        blocks = re.split(r"\n(?=\[\d{4}-\d\d-\d\d |\S)", text)
        return [b for b in blocks if "Traceback" in b][-limit:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)  # gunicorn's quick shutdown
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.logfile.close()


# -- the measured traffic ------------------------------------------------------------------------------

@dataclass
class Sample:
    label: str
    status: int
    ms: float
    at: float          # seconds since the phase started
    outcome: str       # ok | clean | error
    detail: str = ""


def classify(status: int, body: str) -> str:
    if "Traceback" in body:
        return "error"
    if 200 <= status < 400:
        return "ok"
    if status == 503 and "服务暂不可用" in body:
        return "clean"
    return "error"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


@dataclass
class World:
    institutions: list[str]
    enterprises: list[tuple[str, list[str]]]   # username, its demands' refs
    pool: list[str]
    products: list[str]
    demands: int = 0
    offers: int = 0


_OPEN: list[User] = []  # users whose HTTP session is open, closed by run() however a run ends


def run(coro):
    """asyncio.run(coro), closing every user's HTTP session at the end, also on Ctrl-C."""
    async def main():
        try:
            return await coro
        finally:
            while _OPEN:
                await _OPEN.pop().close()
    return asyncio.run(main())


class User:
    """One closed-loop user with its own cookies and address (the per-address limits see real users)."""

    def __init__(self, n: int, base: str, username: str | None, world: World, rng: random.Random,
                 own: list[str] | None = None):
        self.n, self.base, self.username, self.world, self.rng = n, base, username, world, rng
        self.own = own or []
        self.headers = {"X-Forwarded-For": f"10.{n // 60000}.{n // 250 % 240}.{n % 250 + 1}"}
        self.session: aiohttp.ClientSession | None = None
        self.samples: list[Sample] = []
        self.t0 = time.monotonic()
        self.offers_made = 0

    async def open(self) -> None:
        # unsafe=True: keep cookies set by an IP address (127.0.0.1).
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                             timeout=aiohttp.ClientTimeout(total=30))
        _OPEN.append(self)

    async def close(self) -> None:
        if self.session:
            await self.session.close()
            self.session = None

    async def request(self, label: str, path: str, data: dict | None = None) -> tuple[int, str, dict]:
        start = time.monotonic()
        try:
            async with self.session.request("POST" if data is not None else "GET", self.base + path, data=data,
                                            headers=self.headers, allow_redirects=False) as r:
                body = await r.text(errors="replace")
                status, headers = r.status, dict(r.headers)
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            status, body, headers = 0, f"{type(e).__name__}: {e}", {}
        end = time.monotonic()
        outcome = classify(status, body)
        detail = "" if outcome == "ok" else (body[:300] if status == 0 or "Traceback" in body else f"HTTP {status}")
        self.samples.append(Sample(label, status, (end - start) * 1000, start - self.t0, outcome, detail))
        return status, body, headers

    async def login(self) -> None:
        status, body, _ = await self.request("login form", "/login")
        token = CSRF.search(body)
        if status != 200 or not token:
            raise RuntimeError(f"login page for {self.username}: HTTP {status}")
        status, body, headers = await self.request("login", "/login", {
            "csrf_token": token.group(1), "username": self.username, "password": PASSWORD})
        if status != 302 or "/login" in headers.get("Location", ""):
            raise RuntimeError(f"{self.username} could not log in: HTTP {status}")

    async def step(self, think) -> None:
        """One action of this user's kind, chosen by weight."""
        w, r = self.world, self.rng
        if not self.username:  # the hello-world baseline
            await self.request("hello", "/")
            return
        if not self.own:  # an institution
            action = r.choices(["home", "pool", "search", "demand", "recommended", "offers", "offer"],
                               weights=[10, 20, 20, 20, 10, 10, 10])[0]
            if action == "home":
                await self.request("home", "/")
            elif action == "pool":
                page = r.choice(["", "?page=2", "?sort=newest", "?district=滕州市", "?purpose=equipment"])
                await self.request("pool", "/demands/pool" + page)
            elif action == "search":
                await self.request("pool search", f"/demands/pool?q={r.choice(SEARCH_WORDS)}")
            elif action == "demand":
                await self.request("demand", f"/demands/{r.choice(w.pool)}")
            elif action == "recommended":
                await self.request("recommended", "/recommended")
            elif action == "offers":
                await self.request("my offers", "/offers/")
            else:
                await self.make_offer(r.choice(w.pool), think)
        else:
            action = r.choices(["home", "mine", "demand", "compare", "products", "product", "inbox"],
                               weights=[15, 15, 25, 10, 15, 10, 10])[0]
            if action == "home":
                await self.request("home", "/")
            elif action == "mine":
                await self.request("my demands", "/demands/mine")
            elif action == "demand":
                await self.request("own demand", f"/demands/{r.choice(self.own)}")
            elif action == "compare":
                await self.request("compare offers", f"/offers/compare/{r.choice(self.own)}")
            elif action == "products":
                await self.request("products", "/products/" + r.choice(["", "?q=贷款", "?kind=loan"]))
            elif action == "product":
                await self.request("product", f"/products/{r.choice(w.products)}")
            else:
                await self.request("inbox", "/inbox")

    async def make_offer(self, ref: str, think) -> None:
        status, body, _ = await self.request("offer form", f"/offers/new/{ref}")
        token = CSRF.search(body)
        if status != 200 or not token:
            return  # not this institution's kind of demand, or no place left: answered, nothing to post
        select = re.search(r'<select[^>]*name="product"[^>]*>(.*?)</select>', body, re.S)
        products = OPTION.findall(select.group(1)) if select else []
        amount = re.search(r'name="amount"[^>]*value="([^"]+)"', body)
        await asyncio.sleep(think())  # filling in the form
        status, _, _ = await self.request("make offer", f"/offers/new/{ref}", {
            "csrf_token": token.group(1), "product": products[0] if products else "",
            "amount": amount.group(1) if amount else "100", "rate": "4.2", "rate_reason": "综合授信定价",
            "term_months": "36", "valid_until": (date.today() + timedelta(days=60)).isoformat(),
            "conditions": "需提供近两年财务报表"})
        self.offers_made += status == 302


async def run_phase(users: list[User], seconds: float, think, events=None) -> float:
    """Every user loops until the end of the phase; returns the phase's wall time."""
    start = time.monotonic()
    deadline = start + seconds
    for u in users:
        u.t0 = start
        u.samples = []

    async def loop(u: User) -> None:
        await asyncio.sleep(u.rng.uniform(0, 1))  # users do not all start in the same millisecond
        while time.monotonic() < deadline:
            await u.step(think)
            await asyncio.sleep(think())

    tasks = [loop(u) for u in users] + ([events(start)] if events else [])
    await asyncio.gather(*tasks)
    return time.monotonic() - start


def figures(samples: list[Sample], seconds: float) -> dict:
    ms = [s.ms for s in samples]
    labels = sorted({s.label for s in samples})
    return {
        "requests": len(samples), "seconds": round(seconds, 1), "throughput_rps": round(len(samples) / seconds, 1),
        "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "errors": sum(s.outcome == "error" for s in samples), "clean_503": sum(s.outcome == "clean" for s in samples),
        "by_page": {lb: {"n": len(v), "p50_ms": round(percentile(v, 50), 1), "p95_ms": round(percentile(v, 95), 1)}
                    for lb in labels for v in [[s.ms for s in samples if s.label == lb]]},
    }


def show(name: str, f: dict) -> None:
    say(f"  {name}: {f['requests']} requests in {f['seconds']} s = {f['throughput_rps']}/s, "
        f"p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms, p99 {f['p99_ms']} ms, errors {f['errors']}, "
        f"clean 503 {f['clean_503']}")


def errors_of(users: list[User], limit: int = 5) -> list[str]:
    return [f"{s.label} at {s.at:.1f}s: {s.detail}" for u in users for s in u.samples if s.outcome == "error"][:limit]


# -- set-up -------------------------------------------------------------------------------------------

def flask(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done


def load_world(url: str, users: int) -> World:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        institutions = list(conn.execute(sa.text(
            "SELECT u.username FROM users u JOIN organizations o ON o.id = u.org_id "
            "WHERE o.kind IN ('bank', 'fund', 'guarantor') AND o.status = 'approved' ORDER BY u.id")).scalars())
        rows = conn.execute(sa.text(
            "SELECT u.username, d.ref FROM users u JOIN organizations o ON o.id = u.org_id "
            "JOIN demands d ON d.org_id = o.id WHERE o.kind = 'enterprise' AND o.status = 'approved' "
            "ORDER BY u.id, d.id")).all()
        pool = list(conn.execute(sa.text("SELECT ref FROM demands WHERE status = 'published' ORDER BY id")).scalars())
        demands = conn.execute(sa.text("SELECT count(*) FROM demands")).scalar()
        offers = conn.execute(sa.text("SELECT count(*) FROM offers")).scalar()
        products = list(conn.execute(sa.text("SELECT ref FROM products WHERE status = 'active' ORDER BY id")).scalars())
    engine.dispose()
    own: dict[str, list[str]] = {}
    for username, ref in rows:
        own.setdefault(username, []).append(ref)
    half = users // 2
    if len(institutions) < half or len(own) < users - half:
        raise RuntimeError(f"the world has {len(institutions)} institution and {len(own)} enterprise users "
                           f"with demands; {users} users need more (raise --enterprises)")
    return World(institutions[:half], list(own.items())[:users - half], pool, products, demands, offers)


def make_users(base: str, world: World, seed: int) -> list[User]:
    users = [User(i, base, name, world, random.Random(seed + i)) for i, name in enumerate(world.institutions)]
    n = len(users)
    users += [User(n + i, base, name, world, random.Random(seed + n + i), own=refs)
              for i, (name, refs) in enumerate(world.enterprises)]
    return users


# -- the runs -----------------------------------------------------------------------------------------

def think_time(args):
    """Seconds a user waits between two requests: uniform between --think-min and --think-max."""
    def think() -> float:
        return random.uniform(args.think_min, args.think_max)
    return think


async def load_runs(args, site: Gunicorn, hello: Gunicorn, world: World) -> dict:
    think = think_time(args)
    users = make_users(site.base, world, seed=1)
    for u in users:
        await u.open()
    say(f"logging in {len(users)} users ({len(world.institutions)} institution, {len(world.enterprises)} enterprise)")
    await asyncio.gather(*(u.login() for u in users))
    # A short warm-up: each worker's first requests load templates, the city and the ranking model.
    await run_phase(users, 5, think)
    say(f"mixed traffic: {len(users)} users, think time {args.think_min}–{args.think_max} s, {args.duration} s")
    seconds = await run_phase(users, args.duration, think)
    mixed = figures([s for u in users for s in u.samples], seconds)
    mixed["offers_made"] = sum(u.offers_made for u in users)
    mixed["first_errors"] = errors_of(users)
    show("site, mixed", mixed)

    visitors = [User(i, hello.base, None, world, random.Random(100 + i)) for i in range(len(users))]
    for v in visitors:
        await v.open()
    seconds = await run_phase(visitors, args.baseline, think)
    baseline = figures([s for v in visitors for s in v.samples], seconds)
    show("hello-world, same users and think time", baseline)

    say(f"saturation: the same users without think time, {args.saturation} s each")
    seconds = await run_phase(users, args.saturation, lambda: 0.0)
    site_sat = figures([s for u in users for s in u.samples], seconds)
    show("site, no think time", site_sat)
    seconds = await run_phase(visitors, args.saturation, lambda: 0.0)
    hello_sat = figures([s for v in visitors for s in v.samples], seconds)
    show("hello-world, no think time", hello_sat)
    for u in users + visitors:
        await u.close()
    return {
        "mixed": mixed, "hello_world": baseline, "site_saturated": site_sat, "hello_world_saturated": hello_sat,
        "ratio": {
            "p95_site_over_hello": round(mixed["p95_ms"] / baseline["p95_ms"], 1),
            "p50_site_over_hello": round(mixed["p50_ms"] / baseline["p50_ms"], 1),
            "capacity_site_over_hello": round(site_sat["throughput_rps"] / hello_sat["throughput_rps"], 3),
        },
        "target_met": mixed["p95_ms"] <= TARGET_P95_MS and mixed["errors"] == 0,
    }


async def database_restart_run(args, site: Gunicorn, world: World, cluster: Cluster) -> dict:
    think = think_time(args)
    users = make_users(site.base, world, seed=2)
    for u in users:
        await u.open()
    await asyncio.gather(*(u.login() for u in users))
    times: dict[str, float] = {}

    async def fault(start: float) -> None:
        await asyncio.sleep(args.fault / 4)
        times["stopped"] = time.monotonic() - start
        await asyncio.to_thread(cluster.stop, "fast")
        say(f"  PostgreSQL stopped at {times['stopped']:.1f} s")
        await asyncio.sleep(args.down)
        await asyncio.to_thread(cluster.start)
        times["started"] = time.monotonic() - start
        say(f"  PostgreSQL started again at {times['started']:.1f} s")

    say(f"fault: PostgreSQL stopped for {args.down} s during {args.fault} s of mixed traffic")
    seconds = await run_phase(users, args.fault, think, events=fault)
    for u in users:
        await u.close()
    samples = [s for u in users for s in u.samples]
    f = figures(samples, seconds)
    back = times.get("started", seconds)
    after = [s for s in samples if s.at >= back]
    first_ok = min((s.at for s in after if s.outcome == "ok"), default=None)
    settled = [s for s in after if s.at >= back + 2]
    f.update({
        "stopped_at_s": round(times.get("stopped", 0), 1), "started_at_s": round(back, 1),
        "answered": sum(s.outcome == "ok" for s in samples),
        "first_success_after_start_s": None if first_ok is None else round(first_ok - back, 2),
        "requests_2s_after_start": len(settled), "failed_2s_after_start": sum(s.outcome != "ok" for s in settled),
        "first_errors": errors_of(users),
    })
    f["clean"] = f["errors"] == 0 and f["requests_2s_after_start"] > 0 and f["failed_2s_after_start"] == 0
    say(f"  {f['requests']} requests: {f['answered']} answered, {f['clean_503']} clean 503, {f['errors']} other "
        f"failures; first success {f['first_success_after_start_s']} s after the restart; "
        f"{f['failed_2s_after_start']} of {len(settled)} failed from 2 s after it")
    return f


async def search_down_run(args, site: Gunicorn, world: World, url: str) -> dict:
    think = think_time(args)
    users = make_users(site.base, world, seed=3)
    for u in users:
        await u.open()
    await asyncio.gather(*(u.login() for u in users))
    bank, ent = users[0], users[len(world.institutions)]
    checks: dict[str, object] = {}
    _, body, _ = await bank.request("pool", "/demands/pool")
    checks["pool_degraded_message"] = 'id="search-unavailable"' in body
    checks["pool_rows_from_database"] = len(set(re.findall(r'href="/demands/([\w-]+)"', body)) & set(world.pool))
    status, body, _ = await bank.request("pool search", "/demands/pool?q=设备")
    checks["search_status"] = status
    checks["search_degraded_message"] = 'id="search-unavailable"' in body

    # A write while the index is down: an enterprise creates and submits a demand, its bureau publishes it.
    _, body, _ = await ent.request("demand form", "/demands/new")
    valid = re.search(r'name="valid_until"[^>]*value="([^"]+)"', body)
    status, _, headers = await ent.request("create demand", "/demands/new", {
        "csrf_token": CSRF.search(body).group(1), "title": "搜索中断期间提交的设备更新融资需求",
        "description": "购置数控机床两台，更新老旧生产线。", "amount": "800", "term_months": "36",
        "purpose": "equipment", "financing_types": "loan", "collateral": "equipment", "max_rate": "4.5",
        "valid_until": valid.group(1) if valid else (date.today() + timedelta(days=90)).isoformat(),
        "contact_name": "王经理", "contact_phone": "13900000000"})
    ref = headers.get("Location", "").rstrip("/").rsplit("/", 1)[-1]
    checks["demand_created"] = status == 302 and ref.startswith("dm")
    if checks["demand_created"]:
        _, body, _ = await ent.request("own demand", f"/demands/{ref}")
        status, _, _ = await ent.request("submit demand", f"/demands/{ref}/action",
                                         {"csrf_token": CSRF.search(body).group(1), "action": "submit"})
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            district = conn.execute(sa.text(
                "SELECT o.district FROM demands d JOIN organizations o ON o.id = d.org_id WHERE d.ref = :r"),
                {"r": ref}).scalar()
            reviewer = conn.execute(sa.text(
                "SELECT u.username FROM users u JOIN organizations o ON o.id = u.org_id "
                "WHERE o.kind = 'bureau' AND o.district = :d ORDER BY u.id LIMIT 1"), {"d": district}).scalar()
        bureau = User(9999, site.base, reviewer, world, random.Random(9))
        await bureau.open()
        await bureau.login()
        _, body, _ = await bureau.request("demand", f"/demands/{ref}")
        await bureau.request("publish demand", f"/demands/{ref}/action",
                             {"csrf_token": CSRF.search(body).group(1), "action": "publish"})
        await bureau.close()
        with engine.connect() as conn:
            checks["demand_status"] = conn.execute(sa.text("SELECT status FROM demands WHERE ref = :r"),
                                                   {"r": ref}).scalar()
            checks["outbox_rows_for_it"] = conn.execute(sa.text(
                "SELECT count(*) FROM search_outbox WHERE ref = :r"), {"r": ref}).scalar()
            checks["outbox_pending"] = conn.execute(sa.text("SELECT count(*) FROM search_outbox")).scalar()
        engine.dispose()
        ent.own.append(ref)
    say(f"fault: search backend down, {args.search} s of mixed traffic (after 5 s of warm-up)")
    await run_phase(users, 5, think)
    seconds = await run_phase(users, args.search, think)
    f = figures([s for u in users for s in u.samples], seconds)
    f["first_errors"] = errors_of(users)
    for u in users:
        await u.close()
    f["checks"] = checks
    f["clean"] = (f["errors"] == 0 and checks["pool_degraded_message"] and checks["search_degraded_message"]
                  and bool(checks["pool_rows_from_database"]) and checks.get("demand_status") == "published"
                  and bool(checks.get("outbox_rows_for_it")))
    show("site, search down", f)
    say(f"  checks: {json.dumps(checks, ensure_ascii=False)}")
    return f


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=300, help="enterprises of the demo world")
    parser.add_argument("--users", type=int, default=50, help="concurrent logged-in users")
    parser.add_argument("--duration", type=float, default=60, help="seconds of mixed traffic")
    parser.add_argument("--baseline", type=float, default=30, help="seconds of hello-world traffic")
    parser.add_argument("--saturation", type=float, default=15, help="seconds without think time, each app")
    parser.add_argument("--fault", type=float, default=30, help="seconds of traffic around the database restart")
    parser.add_argument("--down", type=float, default=4, help="seconds the database stays stopped")
    parser.add_argument("--search", type=float, default=15, help="seconds of traffic with the search backend down")
    parser.add_argument("--think-min", type=float, default=1.0)
    parser.add_argument("--think-max", type=float, default=2.0)
    parser.add_argument("--faults-only", action="store_true", help="skip the load and baseline runs")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    args = parser.parse_args()

    # SIGTERM and SIGHUP end the run through the same clean-up as Ctrl-C.
    def _stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    # Ctrl-C even when started in the background by a shell that ignores SIGINT for its jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    cluster: Cluster | None = None
    servers: list[Gunicorn] = []
    tmp = Path(tempfile.mkdtemp(prefix="mm-bench-load-"))
    try:
        cluster = Cluster()
        say(f"private PostgreSQL cluster in {cluster.dir} on port {cluster.port}")
        cluster.init()
        env = {**os.environ, "DATABASE_URL": cluster.url, "SECRET_KEY": "bench-load", "SEARCH_BACKEND": "embedded",
               "SEARCH_INDEX_DIR": str(tmp / "search"), "MODEL_DIR": str(tmp / "models"), "RATELIMIT_ENABLED": "1",
               # Stands in for nginx: each simulated user's address arrives in X-Forwarded-For.
               "TRUSTED_PROXIES": "1"}
        env.pop("ELASTICSEARCH_URL", None)
        started = time.monotonic()
        flask(env, "db", "upgrade")
        flask(env, "seed-demo", "--enterprises", str(args.enterprises))
        flask(env, "search", "reindex")
        trained = flask(env, "ranking", "train", check=False).returncode == 0
        world = load_world(cluster.url, args.users)
        say(f"world: {args.enterprises} enterprises, {world.demands} demands ({len(world.pool)} in the pool), "
            f"{world.offers} offers, {len(world.products)} "
            f"active products, ranking model {'trained' if trained else 'not trained (rule score)'} "
            f"({time.monotonic() - started:.0f} s)")

        site = Gunicorn("wsgi:app", env, tmp, "site")
        servers.append(site)
        hello = Gunicorn("bench.hello_app:app", env, tmp, "hello")
        servers.append(hello)
        load = run(load_runs(args, site, hello, world)) if not args.faults_only else {}
        hello.stop()
        restart = run(database_restart_run(args, site, world, cluster))
        for block in site.tracebacks() if restart["errors"] or load.get("mixed", {}).get("errors") else []:
            say(block)
        site.stop()

        closed = free_port()  # nothing listens there: every call to "Elasticsearch" is refused
        down_env = {**env, "SEARCH_BACKEND": "elasticsearch", "ELASTICSEARCH_URL": f"http://127.0.0.1:{closed}"}
        degraded = Gunicorn("wsgi:app", down_env, tmp, "search-down")
        servers.append(degraded)
        search_down = run(search_down_run(args, degraded, world, cluster.url))
        for block in degraded.tracebacks() if search_down["errors"] else []:
            say(block)
        if args.faults_only:
            return

        load_avg = os.getloadavg()
        result = {
            "conditions": {"workers": WORKERS, "worker_class": "sync", "users": args.users,
                           "think_time_s": [args.think_min, args.think_max], "enterprises": args.enterprises,
                           "demands": world.demands, "published_demands": len(world.pool), "offers": world.offers,
                           "cpus": os.cpu_count(),
                           "load_average_at_end": [round(x, 1) for x in load_avg]},
            **load, "database_restart": restart, "search_down": search_down,
        }
        say(f"ratio site/hello-world: p95 {result['ratio']['p95_site_over_hello']}×, capacity "
            f"{result['ratio']['capacity_site_over_hello']} (load average {load_avg[0]:.1f} on {os.cpu_count()} CPUs)")
        say(f"target p95 <= {TARGET_P95_MS} ms with no error: {'met' if load['target_met'] else 'NOT met'}; "
            f"database restart clean: {restart['clean']}; search down clean: {search_down['clean']}")
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
        if not (restart["clean"] and search_down["clean"]):
            sys.exit(1)
    except KeyboardInterrupt:
        say("interrupted: stopping gunicorn and the private PostgreSQL cluster")
        sys.exit(130)
    finally:
        for server in servers:
            server.stop()
        if cluster is not None:
            cluster.remove()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
