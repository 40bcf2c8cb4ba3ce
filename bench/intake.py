"""Intake figures: creating firms over HTTP, next to the database doing the same writes.

- HTTP: the `crm-intake` process (uvicorn, one worker, its outbox relay publishing to
  Kafka), driven by 50 concurrent httpx clients with a real API token (so each request
  also checks revocation). Throughput and p50/p99 latency at peak, then p50/p99 with an
  open-loop load at 50% of that peak (latency counted from each request's scheduled
  start, so a stall is not hidden).
- Baselines, 50 concurrent writers straight on the database, no HTTP, no Kafka:
  the same transaction (enterprise, contact, stage-history entry, two audit entries and
  the outbox record holding enterprise.created and contact.added: the documents intake
  writes); the same documents inserted one by one without transaction or outbox; and
  the raw single insert of one firm document (for scale). The goal ("at least 0.5× the
  raw single-insert rate: the transaction and outbox cost no more than half") compares
  the create with the same documents written as raw single inserts.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.harness import BenchEnv, Figure, Stopwatch
from crm_devstack import free_port
from crm_intake.bootstrap import offline_context
from crm_intake.domain.contact import Contact
from crm_intake.domain.enterprise import EnterpriseProfile, enterprise_from_profile
from crm_intake.entrypoints.http.problems import API
from crm_intake.service import staff
from crm_intake.service.commands import NewEnterprise
from crm_intake.service.context import SYSTEM, IntakeContext, audit_entry, new_id
from crm_intake.service.enterprises import contact_added
from crm_intake.settings import IntakeSettings
from crm_shared.contracts.lifecycle import EnterpriseCreated
from crm_shared.mongo.unit_of_work import Tx

CLIENTS = 50
PER_CLIENT = 40  # 2,000 creates at peak
HALF_LOAD_SECONDS = 10.0
WARMUP = 100
READY_SECONDS = 120


def firm_body() -> dict[str, Any]:
    tag = uuid.uuid4().hex[:12]
    return {
        "name": f"Benchwerk {tag} GmbH",
        "country": "DE",
        "source": "forum",
        "sector": "machinery",
        "website": f"https://bench-{tag}.example.com",
        "needs": ["office_space"],
        "primary_contact": {
            "full_name": f"Erika {tag}",
            "email": f"erika.{tag}@example.com",
            "phone": "+49 30 12345678",
            "language": "de",
            "timezone": "Europe/Berlin",
            "email_consent": True,
        },
    }


class _NoTransaction:
    """What the create's writes need of a `Tx`, for writing them without one: each
    insert then commits on its own, and events go nowhere (no outbox)."""

    session = None

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def emit(self, *_: object, **__: object) -> None:
        pass


async def _create_writes(ctx: IntakeContext, command: NewEnterprise, tx: Tx) -> None:
    """The documents intake's create writes (without its reads and validation)."""
    enterprise_id, contact_id = new_id("ent"), new_id("con")
    profile = EnterpriseProfile.model_validate(command.model_dump(exclude={"primary_contact"}))
    enterprise = enterprise_from_profile(
        profile, enterprise_id=enterprise_id, actor=SYSTEM.id, now=tx.now
    ).model_copy(update={"primary_contact_id": contact_id})
    contact = Contact(
        **command.primary_contact.model_dump(),
        id=contact_id,
        enterprise_id=enterprise_id,
        is_primary=True,
        created_at=tx.now,
        updated_at=tx.now,
    )
    await ctx.enterprises.insert(enterprise, tx.session)
    await ctx.contacts.insert(contact, tx.session)
    stage = {
        "_id": new_id("stg"),
        "enterprise_id": enterprise_id,
        "from_stage": None,
        "to_stage": "first_contact",
        "actor": SYSTEM.id,
        "at": tx.now,
    }
    await ctx.stage_history.add(stage, tx.session)
    audit = [
        audit_entry(
            tx,
            SYSTEM,
            enterprise_id=enterprise_id,
            entity=entity,
            entity_id=entity_id,
            action="created",
            changes={"name": (None, enterprise.name)},
        )
        for entity, entity_id in (("enterprise", enterprise_id), ("contact", contact_id))
    ]
    await ctx.audit.add_many(audit, tx.session)
    created = EnterpriseCreated(
        enterprise_id=enterprise_id,
        name=enterprise.name,
        country=enterprise.country,
        source=enterprise.source,
    )
    tx.emit(created, subject=enterprise_id)
    tx.emit(contact_added(contact, SYSTEM), subject=enterprise_id)


def raw_create(ctx: IntakeContext) -> Callable[[NewEnterprise], Awaitable[None]]:
    """The create's writes in one transaction with its outbox record (two events)."""

    async def write(command: NewEnterprise) -> None:
        await ctx.uow.run(lambda tx: _create_writes(ctx, command, tx))

    return write


def plain_create(ctx: IntakeContext) -> Callable[[NewEnterprise], Awaitable[None]]:
    """The same documents, each inserted on its own: no transaction, no outbox."""

    async def write(command: NewEnterprise) -> None:
        await _create_writes(ctx, command, _NoTransaction())  # type: ignore[arg-type]

    return write


def single_insert(ctx: IntakeContext) -> Callable[[NewEnterprise], Awaitable[None]]:
    """The raw single insert: one firm document, nothing else."""
    collection = ctx.enterprises.collection.database["bench_single_inserts"]

    async def write(command: NewEnterprise) -> None:
        await collection.insert_one(command.model_dump(mode="json"))

    return write


async def raw_rate(write: Callable[[NewEnterprise], Awaitable[None]], count: int) -> float:
    """`count` writes by CLIENTS concurrent writers, per second."""
    queue: asyncio.Queue[NewEnterprise] = asyncio.Queue()
    for _ in range(count):
        queue.put_nowait(NewEnterprise.model_validate(firm_body()))

    async def writer() -> None:
        while not queue.empty():
            await write(queue.get_nowait())

    with Stopwatch() as watch:
        await asyncio.gather(*(writer() for _ in range(CLIENTS)))
    return watch.rate(count)


def _start_intake(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "crm_intake.entrypoints.main"],
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def _wait_ready(http: httpx.AsyncClient, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"crm-intake exited with {process.returncode}")
        try:
            if (await http.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.3)
    raise TimeoutError("crm-intake did not become ready")


async def _create(http: httpx.AsyncClient) -> float:
    started = time.perf_counter()
    response = await http.post(f"{API}/enterprises", json=firm_body())
    if response.status_code != 201:
        raise RuntimeError(f"create failed: {response.status_code} {response.text[:300]}")
    return time.perf_counter() - started


async def peak(http: httpx.AsyncClient) -> tuple[float, list[float]]:
    """Closed loop: CLIENTS clients, each creating PER_CLIENT firms back to back."""

    async def client() -> list[float]:
        return [await _create(http) for _ in range(PER_CLIENT)]

    with Stopwatch() as watch:
        results = await asyncio.gather(*(client() for _ in range(CLIENTS)))
    latencies = [seconds for result in results for seconds in result]
    return watch.rate(len(latencies)), latencies


async def paced(operation: Callable[[], Awaitable[object]], rate: float) -> list[float]:
    """Open loop at `rate` operations/s for HALF_LOAD_SECONDS; latency from scheduled start."""
    count = max(1, int(rate * HALF_LOAD_SECONDS))
    start = time.perf_counter()
    gate = asyncio.Semaphore(CLIENTS)

    async def one(index: int) -> float:
        scheduled = start + index / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        async with gate:
            await operation()
        return time.perf_counter() - scheduled

    return list(await asyncio.gather(*(one(i) for i in range(count))))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


async def run(env: BenchEnv) -> list[Figure]:
    run_id = uuid.uuid4().hex[:8]
    base_env = env.settings_env()
    raw_settings = IntakeSettings(
        _env_file=None, mongo_uri=env.mongo_uri, intake_database=f"bench_intake_raw_{run_id}"
    )
    async with offline_context(raw_settings) as ctx:
        count = CLIENTS * PER_CLIENT
        single_rate = await raw_rate(single_insert(ctx), count)
        plain_rate = await raw_rate(plain_create(ctx), count)
        transaction_rate = await raw_rate(raw_create(ctx), count)

    port = free_port()
    http_settings = IntakeSettings(
        _env_file=None, mongo_uri=env.mongo_uri, intake_database=f"bench_intake_http_{run_id}"
    )
    async with offline_context(http_settings) as ctx:
        await staff.create_user(
            ctx,
            {
                "username": "bench.officer",
                "role": "officer",
                "display_name": "Bench",
                "password": "bench password 123",
            },
        )
        token = (await staff.issue_token(ctx, "bench.officer")).token
    process = _start_intake(
        {
            **base_env,
            "CRM_INTAKE_PORT": str(port),
            "CRM_INTAKE_DATABASE": http_settings.intake_database,
        },
        log=env.workdir / "intake-bench.log",
    )
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends (no close races).
    limits = httpx.Limits(
        max_connections=CLIENTS, max_keepalive_connections=CLIENTS, keepalive_expiry=2.0
    )
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            limits=limits,
            timeout=60,
        ) as http:
            await _wait_ready(http, process)
            for _ in range(WARMUP):
                await _create(http)
            peak_rate, peak_latencies = await peak(http)
            half_latencies = await paced(lambda: _create(http), peak_rate / 2)
    except Exception:
        log_tail = (env.workdir / "intake-bench.log").read_text(errors="replace")[-3000:]
        print(f"crm-intake output (tail):\n{log_tail}", file=sys.stderr)
        raise
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 60)
    # The database floor for latency: the same transaction at the same rate, no HTTP/Kafka.
    async with offline_context(raw_settings) as ctx:
        write = raw_create(ctx)
        raw_half = await paced(
            lambda: write(NewEnterprise.model_validate(firm_body())), peak_rate / 2
        )
        # The goal's baseline again, after the HTTP run: measured on both sides of it,
        # a drift in the machine's load hits baseline and service alike.
        plain_rate = (plain_rate + await raw_rate(plain_create(ctx), count)) / 2

    when = datetime.now(UTC).strftime("%Y-%m-%d")
    note = f"crm-intake process, {CLIENTS} httpx clients, {when}"
    half = f"open loop at {peak_rate / 2:.0f} req/s; baseline: DB alone at that rate"
    return [
        Figure(
            "create firm over HTTP (throughput, 50 clients)",
            peak_rate,
            "req/s",
            baseline_name="raw single inserts of the same documents, no transaction/outbox "
            "(mean of a run before and one after)",
            baseline_value=plain_rate,
            goal="≥ 0.5×",
            note=note,
        ),
        Figure(
            "create firm over HTTP, vs the same transaction on the DB",
            peak_rate,
            "req/s",
            baseline_name="the create's transaction with its outbox record, no HTTP/Kafka",
            baseline_value=transaction_rate,
            note="our code's share: HTTP, auth, validation, duplicate check, relay",
        ),
        Figure(
            "DB alone: the create's documents in a transaction with the outbox",
            transaction_rate,
            "creates/s",
            baseline_name="the same documents as raw single inserts",
            baseline_value=plain_rate,
            note="what the transaction and the outbox cost on SecantusDB itself",
        ),
        Figure(
            "for scale: raw inserts of one firm document",
            single_rate,
            "inserts/s",
            note="a create writes five documents and one outbox record (two events)",
        ),
        Figure("create firm p50 at peak", _percentile(peak_latencies, 0.5), "ms", note=note),
        Figure("create firm p99 at peak", _percentile(peak_latencies, 0.99), "ms", note=note),
        Figure(
            "create firm p50 at 50% of peak",
            _percentile(half_latencies, 0.5),
            "ms",
            baseline_name="DB p50",
            baseline_value=_percentile(raw_half, 0.5),
            note=half,
        ),
        Figure(
            "create firm p99 at 50% of peak",
            _percentile(half_latencies, 0.99),
            "ms",
            baseline_name="DB p99",
            baseline_value=_percentile(raw_half, 0.99),
            goal="< 100 ms",
            note=half,
        ),
    ]
