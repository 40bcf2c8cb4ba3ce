"""Claims, grouped: the lanes that reach the end of their content together share one
compare-and-set (group commit), since each database write costs about a
millisecond on SecantusDB however few documents it touches."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime

from crm_notification.adapters.deliveries import DeliveryRepository


class ClaimGroups:
    def __init__(
        self, deliveries: DeliveryRepository, *, owner: str, clock: Callable[[], datetime]
    ) -> None:
        self._deliveries = deliveries
        self._owner = owner
        self._clock = clock
        self._waiting: list[tuple[str, asyncio.Future[str | None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def claim(self, delivery_id: str) -> str | None:
        """Claim one delivery; its claim token, or None if it is no longer queued."""
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery_id, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="notification-claims")
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # lanes finishing their content meanwhile join this group
        while self._waiting:
            group, self._waiting = self._waiting, []
            token = uuid.uuid4().hex
            try:
                claimed = await self._deliveries.claim_many(
                    [delivery_id for delivery_id, _ in group],
                    token=token,
                    owner=self._owner,
                    now=self._clock(),
                )
            except Exception as error:
                for _, future in group:
                    if not future.done():
                        future.set_exception(error)
                continue
            for delivery_id, future in group:
                if not future.done():
                    future.set_result(token if delivery_id in claimed else None)
