"""A server run as a child process: start, wait until it serves, stop, kill, restart.

`KafkaNode` and `MongoNode` share this. The child's output goes to a log file in
its data dir (the previous run's log is kept as `<name>.log.1`), so a start that
times out or a child that dies can be explained with the log's tail.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

_PR_SET_PDEATHSIG = 1


class NodeStartError(RuntimeError):
    """The child exited or did not serve in time; the message carries its log tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (another process may still take it later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port (within a second)."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def _load_prctl() -> Callable[[int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return cast("Callable[[int, int], int]", ctypes.CDLL(None, use_errno=True).prctl)
    except (OSError, AttributeError):
        return None


# Looked up once here, not in the child: dlopen between fork and exec can deadlock
# on a loader lock that another thread held at the moment of the fork.
_PRCTL = _load_prctl()


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if our Python process dies
    # (even by SIGKILL) the kernel sends SIGTERM to the server, so a crashed
    # test run or CLI never leaves a broker or database behind.
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(text.splitlines()[-lines:])


class ProcessNode(ABC):
    """Lifecycle of one server child process; subclasses say how to run and probe it."""

    name: str = "node"

    def __init__(self, data_dir: Path | str, *, host: str = "127.0.0.1") -> None:
        self.data_dir = Path(data_dir).resolve()
        self.host = host
        self._proc: subprocess.Popen[bytes] | None = None

    # -- what subclasses provide -------------------------------------------------

    @abstractmethod
    def _command(self) -> Sequence[str]:
        """The argv that runs the server (called after `_prepare`)."""

    def _prepare(self) -> None:
        """Write config, format storage, … before each start (runs in a worker thread)."""
        return None

    @abstractmethod
    async def _probe(self) -> bool:
        """True once the server really answers requests."""

    @property
    @abstractmethod
    def address(self) -> str:
        """What a client connects to (bootstrap servers, connection string)."""

    # -- lifecycle ---------------------------------------------------------------

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"{self.name}.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # The lifecycle methods take `timeout` themselves (ruff ASYNC109) because a
    # timeout here must say why: the error carries the server's log tail.
    async def start(self, timeout: float = 60.0) -> float:  # noqa: ASYNC109
        """Start the child and wait until it serves; returns the seconds it took."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        began = time.monotonic()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Preparing may run a JVM (Kafka's storage format): keep the event loop free.
        await asyncio.to_thread(self._prepare)
        self._rotate_log()
        with self.log_path.open("wb") as log:
            # Forked from the event loop's thread on purpose, not a worker thread:
            # the parent-death signal fires when the forking *thread* exits.
            self._proc = subprocess.Popen(  # noqa: ASYNC220
                list(self._command()),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                # Own session: a Ctrl-C in the terminal reaches only our CLI,
                # which then stops the server in order.
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        try:
            await self.wait_ready(timeout)
        except BaseException:
            self.kill()
            raise
        return time.monotonic() - began

    async def wait_ready(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while True:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                code = None if proc is None else proc.returncode
                raise NodeStartError(
                    f"{self.name} exited with status {code} while starting; "
                    f"log {self.log_path}:\n{tail(self.log_path)}"
                )
            with contextlib.suppress(Exception):
                if await self._probe():
                    return
            if time.monotonic() > deadline:
                raise NodeStartError(
                    f"{self.name} did not serve within {timeout:.0f} s; "
                    f"log {self.log_path}:\n{tail(self.log_path)}"
                )
            await asyncio.sleep(0.2)

    async def stop(self, timeout: float = 30.0) -> int | None:  # noqa: ASYNC109
        """SIGTERM, wait up to `timeout` (then SIGKILL); returns the exit status."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(proc.wait, timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
        code = await asyncio.to_thread(proc.wait)
        self._proc = None
        return code

    def kill(self) -> None:
        """SIGKILL, as a crash would: no flush, no clean shutdown."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        self._proc = None

    async def restart(self, timeout: float = 60.0) -> float:  # noqa: ASYNC109
        """Stop if running, then start again on the same ports and data."""
        await self.stop()
        return await self.start(timeout)

    def _rotate_log(self) -> None:
        if self.log_path.exists():
            os.replace(self.log_path, self.log_path.with_name(self.log_path.name + ".1"))
