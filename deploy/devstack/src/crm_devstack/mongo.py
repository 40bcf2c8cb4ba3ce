"""SecantusDB (a MongoDB-wire-compatible server on WiredTiger) as a child process.

It advertises itself as the primary of a one-node replica set, so drivers allow
multi-document transactions and change streams. It logs the address it bound
(`secantus listening on HOST:PORT`), which is how port 0 is resolved.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from pymongo import AsyncMongoClient

from crm_devstack.process import ProcessNode, port_open

_LISTENING = re.compile(rb"secantus listening on (\S+):(\d+)")


def _secantusd() -> str:
    # Next to our interpreter first: the venv's console script, even when the
    # venv is not activated (as under honcho or pytest run by path).
    local = Path(sys.executable).with_name("secantusd-py")
    if local.is_file():
        return str(local)
    found = shutil.which("secantusd-py")
    if found is None:
        raise FileNotFoundError("secantusd-py not found: install the secantusdb package")
    return found


class MongoNode(ProcessNode):
    """A SecantusDB server on `host:port`, storing in `data_dir/db`.

    Port 0 lets the server pick; the chosen port is then kept for restarts.
    `sync_on_commit` fsyncs the log on each commit, so a kill -9 loses nothing
    that was acknowledged (at a large cost in write throughput).
    """

    name = "mongo"

    def __init__(
        self,
        data_dir: Path | str,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        sync_on_commit: bool = False,
        cache_size: str = "256M",
        log_level: str = "INFO",
    ) -> None:
        super().__init__(data_dir, host=host)
        self.port = port
        self.sync_on_commit = sync_on_commit
        self.cache_size = cache_size
        self.log_level = log_level

    @property
    def storage_path(self) -> Path:
        return self.data_dir / "db"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "secantusd.toml"

    @property
    def uri(self) -> str:
        """A connection string for this node.

        No `replicaSet`/`directConnection` needed: the server's hello names itself
        as primary of set `secantus` and pymongo discovers that. Retryable writes
        stay off: with them on, SecantusDB's write speed degrades badly.
        """
        if not self.port:
            raise RuntimeError("the port is known only once the node has started")
        return f"mongodb://{self.host}:{self.port}/?retryWrites=false"

    @property
    def address(self) -> str:
        return self.uri

    def _prepare(self) -> None:
        # An explicit (empty) config file stops the server from picking up a
        # stray secantusd.toml from the working directory or the home directory.
        if not self.config_path.exists():
            self.config_path.write_text("# Settings come from crm_devstack's command line.\n")

    def _command(self) -> Sequence[str]:
        cmd = [
            _secantusd(),
            "--config",
            str(self.config_path),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--storage-path",
            str(self.storage_path),
            "--cache-size",
            self.cache_size,
            "--log-level",
            self.log_level,
        ]
        if self.sync_on_commit:
            cmd.append("--sync-on-commit")
        return cmd

    def _bound_port(self) -> int:
        try:
            match = _LISTENING.search(self.log_path.read_bytes())
        except FileNotFoundError:
            return 0
        return int(match.group(2)) if match else 0

    async def _probe(self) -> bool:
        # Our own log must say it bound: another server already on the port
        # would otherwise answer the probe while ours dies on "address in use".
        bound = self._bound_port()
        if not bound:
            return False
        self.port = bound
        if not await port_open(self.host, self.port):
            return False
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
            self.uri, serverSelectionTimeoutMS=2000
        )
        try:
            hello = await client.admin.command("hello")
            return bool(hello.get("isWritablePrimary"))
        finally:
            await client.close()
