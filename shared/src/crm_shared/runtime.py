"""What every service runs on: MongoDB, the Kafka broker, the outbox relay, consumers.

A service's `bootstrap(settings)` builds a `Runtime`, registers its consumers,
indexes and background jobs on it, and mounts `runtime.lifespan` in its FastAPI
app. Nothing connects before the app starts.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from types import FrameType
from typing import Any

import structlog
import uvicorn
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from tenacity import AsyncRetrying, stop_after_delay, wait_exponential

from crm_shared.auth.dependencies import Authenticator, TokenCheck
from crm_shared.auth.tokens import TokenSigner
from crm_shared.contracts import Topic, utcnow
from crm_shared.http.contract_docs import contract_docs_router
from crm_shared.http.limits import RequestLimits
from crm_shared.http.ops import ops_router
from crm_shared.http.problems import install_problem_handlers
from crm_shared.kafka.broker import BrokerRecordPublisher, consumer_group, create_broker
from crm_shared.kafka.consumer import EventConsumer
from crm_shared.kafka.relay import OutboxRelay, RelayConfig
from crm_shared.mongo.client import create_mongo_client, ping
from crm_shared.mongo.unit_of_work import UnitOfWork
from crm_shared.settings import ServiceSettings

log = structlog.get_logger(__name__)

StartupHook = Callable[[], Awaitable[None]]  # e.g. a repository's ensure_indexes
BackgroundJob = Callable[[asyncio.Event], Awaitable[None]]
STARTUP_TIMEOUT_SECONDS = 120


class Runtime:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        service: str,
        database: str,
        clock: Callable[[], datetime] = utcnow,
        run_relay: bool = True,
    ) -> None:
        self.settings = settings
        self.service = service
        self.clock = clock
        self.mongo: AsyncMongoClient = create_mongo_client(settings.mongo_uri, app_name=service)
        self.db: AsyncDatabase = self.mongo[database]
        self.broker: KafkaBroker = create_broker(settings, service=service)
        self.uow = UnitOfWork(self.mongo, self.db, service=service, clock=clock)
        self.relay = OutboxRelay(
            self.db,
            BrokerRecordPublisher(self.broker),
            service=service,
            config=RelayConfig.from_settings(settings),
            clock=clock,
        )
        self.consumers: list[EventConsumer] = []
        self._startup_hooks: list[StartupHook] = [self.uow.outbox.ensure_indexes]
        self._jobs: dict[str, BackgroundJob] = {}
        if run_relay:
            self._jobs["outbox-relay"] = self.relay.run

    def consumer(self, topic: Topic, **options: Any) -> EventConsumer:
        """A consumer of `topic` in this service's group; register handlers with `.on`."""
        consumer = EventConsumer(
            topic,
            uow=self.uow,
            broker=self.broker,
            service=self.service,
            max_attempts=self.settings.consumer_max_attempts,
            retry_base_seconds=self.settings.consumer_retry_base_seconds,
            group=consumer_group(self.service, self.settings.kafka_consumer_group_suffix),
            **options,
        )
        self.consumers.append(consumer)
        return consumer

    def on_startup(self, hook: StartupHook) -> StartupHook:
        self._startup_hooks.append(hook)
        return hook

    def background(self, name: str, job: BackgroundJob) -> None:
        """A long-running job (dispatcher, sweeper) started with the service."""
        self._jobs[name] = job

    async def readiness_mongo(self) -> None:
        await ping(self.db)

    async def readiness_kafka(self) -> bool:
        return await self.broker.ping(timeout=2)

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: FastAPI | None = None) -> AsyncIterator[None]:
        await self._wait_for_mongo()
        for hook in self._startup_hooks:
            await hook()
        for consumer in self.consumers:
            consumer.subscribe()
        await self._start_broker()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(job(stop), name=name) for name, job in self._jobs.items()]
        log.info("service started", jobs=list(self._jobs), consumers=len(self.consumers))
        try:
            yield
        finally:
            log.info("service stopping")
            for consumer in self.consumers:
                consumer.stop()
            # Stop taking new messages and let the batch in hand finish (graceful_timeout),
            # then the jobs (the relay finishes its batch), then the producer they publish with.
            await asyncio.gather(*(sub.stop() for sub in self.broker.subscribers))
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.broker.stop()
            await self.mongo.close()
            log.info("service stopped")

    async def _wait_for_mongo(self) -> None:
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(STARTUP_TIMEOUT_SECONDS),
            wait=wait_exponential(max=5),
            reraise=True,
        ):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    log.info("waiting for MongoDB")
                await ping(self.db)

    async def _start_broker(self) -> None:
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(STARTUP_TIMEOUT_SECONDS),
            wait=wait_exponential(max=5),
            reraise=True,
        ):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    log.info("waiting for Kafka")
                await self.broker.start()

    def authenticator(self, still_valid: TokenCheck | None = None) -> Authenticator:
        """Bearer-token auth shared by every service's staff API."""
        bootstrap = self.settings.bootstrap_admin_token
        return Authenticator(
            TokenSigner(self.settings.api_token_secret.get_secret_value()),
            bootstrap_admin_token=bootstrap.get_secret_value() if bootstrap else None,
            still_valid=still_valid,
        )

    def ops(self) -> Any:
        return ops_router({"mongodb": self.readiness_mongo, "kafka": self.readiness_kafka})


def create_service_app(runtime: Runtime, *, title: str, description: str) -> FastAPI:
    """The service's FastAPI app with the runtime's lifespan and the ops endpoints."""
    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=runtime.lifespan)
    install_problem_handlers(app)
    app.add_middleware(RequestLimits)
    app.include_router(runtime.ops())
    app.include_router(contract_docs_router())  # the event contract, for district systems
    app.state.runtime = runtime
    return app


class _GracefulServer(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # uvicorn re-raises the signal after shutdown; a graceful stop exits 0 instead.
        self._captured_signals.clear()


def serve(app: FastAPI, *, host: str, port: int, settings: ServiceSettings) -> None:
    """Serve until SIGTERM/SIGINT; in-flight requests and the batch in hand finish first."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        server_header=False,
    )
    _GracefulServer(config).run()
