"""A single-node Apache Kafka (KRaft, broker and controller in one JVM) from Maven jars.

The jars come from `deploy/devstack/kafka/pom.xml` via `mvn dependency:copy-dependencies`
into a cache outside the tracked files, so only the first run downloads anything.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from crm_devstack.process import ProcessNode, free_port, port_open
from crm_devstack.tools import MissingToolError, repo_root, require_tool

LIBS_DIRNAME = "kafka-libs"
CACHE_ENV = "CRM_DEVSTACK_CACHE"

_LOG4J2 = """\
# Written by crm_devstack on every start. Console only: the parent process sends it to kafka.log.
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
# Per-request and client chatter drowns the lines that explain a failed start.
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = WARN
"""


def default_cache_dir() -> Path:
    """`$CRM_DEVSTACK_CACHE`, else `<repo>/.cache` (ignored by git)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return repo_root() / ".cache"


def _has_jars(libs: Path) -> bool:
    return libs.is_dir() and any(libs.glob("kafka_2.13-*.jar"))


def ensure_kafka_libs(cache_dir: Path | str | None = None) -> Path:
    """The directory holding Kafka's whole classpath, running Maven only when it is missing.

    Maven writes into a temporary sibling that is renamed into place at the end, so an
    interrupted download never leaves a half-filled directory that looks complete.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    libs = cache / LIBS_DIRNAME
    if _has_jars(libs):
        return libs
    mvn = require_tool("mvn", "Maven resolves Kafka's jars (Debian: apt-get install -y maven)")
    pom = repo_root() / "deploy" / "devstack" / "kafka" / "pom.xml"
    if not pom.is_file():
        raise MissingToolError(f"Kafka pom not found at {pom}")
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=LIBS_DIRNAME + ".", dir=cache))
    try:
        # Output kept for errors only: with -q Maven still prints colour codes.
        result = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={staging}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            output = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
            raise RuntimeError(f"mvn could not fetch Kafka's jars ({result.returncode}):\n{output}")
        if not _has_jars(staging):
            raise RuntimeError(f"mvn ran but left no Kafka jar in {staging}")
        if libs.exists():  # an empty or partial directory from an older layout
            shutil.rmtree(libs)
        try:
            staging.rename(libs)
        except OSError:
            if not _has_jars(libs):  # lost a race to another process: theirs is as good
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return libs


def random_cluster_id() -> str:
    """A cluster id as Kafka writes them: a UUID in URL-safe base64 without padding."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        # Kafka avoids ids starting with '-': the tools would read them as a flag.
        if not text.startswith("-"):
            return text


def _recorded_ports(properties: Path) -> tuple[int, int] | None:
    """The (client, controller) ports a formatted data dir was last started with."""
    try:
        text = properties.read_text()
    except FileNotFoundError:
        return None
    match = re.search(
        r"^listeners=PLAINTEXT://[^:]+:(\d+),CONTROLLER://[^:]+:(\d+)$", text, re.MULTILINE
    )
    return (int(match.group(1)), int(match.group(2))) if match else None


class KafkaNode(ProcessNode):
    """One Kafka 4 broker+controller on `host:port`, data in `data_dir`.

    Port 0 picks a free port. A data dir that is already formatted is reused as it
    is (topics and messages survive a restart); with port 0 it also keeps the ports
    it had, since the controller's address is part of the recorded quorum.
    """

    name = "kafka"

    def __init__(
        self,
        data_dir: Path | str,
        *,
        port: int = 0,
        controller_port: int = 0,
        host: str = "127.0.0.1",
        libs_dir: Path | str | None = None,
        heap: str = "512m",
        extra_properties: dict[str, str] | None = None,
    ) -> None:
        super().__init__(data_dir, host=host)
        recorded = _recorded_ports(self.properties_path) if self.formatted else None
        self.port = port or (recorded[0] if recorded else free_port(host))
        self.controller_port = controller_port or (recorded[1] if recorded else free_port(host))
        self._libs_dir = Path(libs_dir) if libs_dir is not None else None
        self.heap = heap
        self.extra_properties = dict(extra_properties or {})

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def address(self) -> str:
        return self.bootstrap

    @property
    def properties_path(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log_dirs(self) -> Path:
        return self.data_dir / "kraft-logs"

    @property
    def formatted(self) -> bool:
        return (self.log_dirs / "meta.properties").is_file()

    def properties(self) -> dict[str, str]:
        controller = f"{self.host}:{self.controller_port}"
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "listeners": f"PLAINTEXT://{self.bootstrap},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://{self.bootstrap}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "controller.quorum.bootstrap.servers": controller,
            "log.dirs": str(self.log_dirs),
            # Topics are created explicitly, with their partition counts and
            # retention, by the project's topic setup; a typo must not create one.
            "auto.create.topics.enable": "false",
            "num.partitions": "1",
            "default.replication.factor": "1",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "min.insync.replicas": "1",
            # A single test consumer should not wait 3 s for companions that never come.
            "group.initial.rebalance.delay.ms": "0",
            # Lets tests use short consumer sessions (stock floor: 6 s), so a
            # killed consumer's partitions move on quickly.
            "group.min.session.timeout.ms": "1000",
            # After a kill -9 the restarted broker cannot register until its old
            # session expires (default 9 s); one local node can afford a short one.
            "broker.heartbeat.interval.ms": "500",
            "broker.session.timeout.ms": "3000",
        }
        props.update(self.extra_properties)
        return props

    def _libs(self) -> Path:
        if self._libs_dir is None:
            self._libs_dir = ensure_kafka_libs()
        return self._libs_dir

    def _java(self) -> str:
        return require_tool(
            "java", "Kafka 4 needs Java 17+ (Debian: apt-get install -y default-jre)"
        )

    def _classpath(self) -> str:
        return str(self._libs() / "*")

    def _jvm(self) -> list[str]:
        log4j2 = self.data_dir / "log4j2.properties"
        return [
            self._java(),
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j2}",
            "-cp",
            self._classpath(),
        ]

    def _prepare(self) -> None:
        self._libs()
        props = "".join(f"{key}={value}\n" for key, value in self.properties().items())
        self.properties_path.write_text("# Written by crm_devstack on every start.\n" + props)
        (self.data_dir / "log4j2.properties").write_text(_LOG4J2)
        if self.formatted:
            return
        format_cmd = [
            *self._jvm(),
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "-t",
            random_cluster_id(),
            "-c",
            str(self.properties_path),
        ]
        result = subprocess.run(format_cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"formatting {self.log_dirs} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )

    def _command(self) -> Sequence[str]:
        return [*self._jvm(), "kafka.Kafka", str(self.properties_path)]

    async def _probe(self) -> bool:
        # A plain connect first: aiokafka logs an error for every refused connection.
        if not await port_open(self.host, self.port):
            return False
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
        try:
            await admin.start()
            cluster = await admin.describe_cluster()
        finally:
            await admin.close()
        # The cluster id proves it is our broker answering, not another one that
        # already held the port while ours failed to bind.
        return (
            cluster.get("cluster_id") == self.cluster_id()
            and bool(cluster.get("brokers"))
            and cluster.get("controller_id", -1) != -1
        )

    def cluster_id(self) -> str | None:
        """The id recorded when the data dir was formatted."""
        try:
            text = (self.log_dirs / "meta.properties").read_text()
        except FileNotFoundError:
            return None
        match = re.search(r"^cluster\.id=(\S+)$", text, re.MULTILINE)
        return match.group(1) if match else None
