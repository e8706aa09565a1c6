"""Webhook delivery: Standard Webhooks signatures, background sending, retries, a log."""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import httpx

from ._clock import Clock
from ._models import Delivery, Subscription

__all__ = ["DEFAULT_RETRY_SCHEDULE", "DeliveryRecord", "WebhookDispatcher", "signature"]

#: Seconds to wait before each retry of a delivery that got no 2xx.
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0, 600.0)

#: How many (event, receiver) deliveries the console keeps.
DEFAULT_HISTORY = 500

_SECRET_PREFIX = "whsec_"


def _secret_key(secret: str) -> bytes:
    if secret.startswith(_SECRET_PREFIX):
        encoded = secret[len(_SECRET_PREFIX) :]
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4))
    return secret.encode()


def signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64 HMAC-SHA256>`` entry of ``webhook-signature``."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True)
class _Job:
    event_id: str
    event_type: str
    body: bytes
    webhook: Subscription
    attempt: int
    retries: bool = True


@dataclass
class DeliveryRecord:
    """One event to one receiver, over all its attempts: what the console lists."""

    event_id: str
    event_type: str
    webhook: Subscription
    body: bytes
    queued_at: float
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    last_attempt_at: float | None = None

    @property
    def ok(self) -> bool:
        """Whether the last attempt got a 2xx."""
        return self.last_status is not None and 200 <= self.last_status < 300


class WebhookDispatcher:
    """Sends events on a background thread and retries failures on a schedule."""

    def __init__(
        self,
        clock: Clock,
        retry_schedule: Sequence[float] = DEFAULT_RETRY_SCHEDULE,
        timeout: float = 5.0,
        history: int = DEFAULT_HISTORY,
    ) -> None:
        self._clock = clock
        self._retry_schedule = tuple(retry_schedule)
        self._timeout = timeout
        self._queue: list[tuple[float, int, _Job]] = []
        self._sequence = 0
        self._queue_changed = threading.Condition()
        self._log: list[Delivery] = []
        self._log_changed = threading.Condition()
        # Guarded by _log_changed, like the log: one record per (event id, webhook id).
        self._records: OrderedDict[tuple[str, str], DeliveryRecord] = OrderedDict()
        self._history = history
        self._thread: threading.Thread | None = None
        self._stopping = False

    def enqueue(self, event_id: str, event_type: str, body: bytes, webhook: Subscription) -> None:
        """Deliver ``body`` to ``webhook`` as soon as possible."""
        record = DeliveryRecord(event_id, event_type, webhook, body, self._clock.now())
        with self._log_changed:
            self._records[(event_id, webhook.id)] = record
            while len(self._records) > self._history:
                self._records.popitem(last=False)
        self._schedule(_Job(event_id, event_type, body, webhook, attempt=1), delay=0.0)

    def resend(self, event_id: str, webhook_id: str) -> int | None:
        """Send a recorded delivery once more, same event id and body, freshly signed.

        Returns the attempts made so far (to wait for the next with
        :meth:`wait_for_attempts`), or None for a delivery no longer in the history.
        A resend is one attempt: when it fails, no retries follow.
        """
        with self._log_changed:
            record = self._records.get((event_id, webhook_id))
            if record is None:
                return None
            attempts = record.attempts
        job = _Job(event_id, record.event_type, record.body, record.webhook, attempts + 1, False)
        self._schedule(job, delay=0.0)
        return attempts

    def wait_for_attempts(
        self, event_id: str, webhook_id: str, more_than: int, timeout: float
    ) -> bool:
        """Block until a delivery has made more than ``more_than`` attempts; False on timeout."""

        def done() -> bool:
            record = self._records.get((event_id, webhook_id))
            return record is None or record.attempts > more_than

        with self._log_changed:
            return self._log_changed.wait_for(done, timeout)

    @property
    def records(self) -> list[DeliveryRecord]:
        """Recent deliveries (one per event and receiver), newest first, as snapshots."""
        with self._log_changed:
            return [replace(record) for record in reversed(self._records.values())]

    @property
    def timeout(self) -> float:
        """Seconds one attempt may take."""
        return self._timeout

    @property
    def running(self) -> bool:
        """Whether the sending thread is started."""
        with self._queue_changed:
            return self._thread is not None

    def cancel(self, webhook_id: str) -> None:
        """Drop pending deliveries to a deleted webhook."""
        with self._queue_changed:
            self._queue = [item for item in self._queue if item[2].webhook.id != webhook_id]
            heapq.heapify(self._queue)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every attempt so far, oldest first."""
        with self._log_changed:
            return list(self._log)

    def wait_for(
        self, predicate: Callable[[list[Delivery]], bool], timeout: float
    ) -> list[Delivery]:
        """Block until ``predicate(deliveries)`` holds; ``TimeoutError`` after ``timeout``."""
        with self._log_changed:
            if not self._log_changed.wait_for(lambda: predicate(list(self._log)), timeout):
                raise TimeoutError(f"webhook deliveries did not match within {timeout}s")
            return list(self._log)

    def start(self) -> None:
        """Start sending; pending deliveries resume."""
        with self._queue_changed:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name="authonomy-sandbox-webhooks", daemon=True
            )
        self._thread.start()

    def stop(self) -> None:
        """Stop sending after the attempt in flight; pending deliveries are kept."""
        with self._queue_changed:
            thread, self._thread = self._thread, None
            self._stopping = True
            self._queue_changed.notify_all()
        if thread is not None:
            thread.join(timeout=self._timeout + 5)

    def _schedule(self, job: _Job, delay: float) -> None:
        with self._queue_changed:
            self._sequence += 1
            heapq.heappush(self._queue, (time.monotonic() + delay, self._sequence, job))
            self._queue_changed.notify_all()

    def _next_job(self) -> _Job | None:
        with self._queue_changed:
            while not self._stopping:
                now = time.monotonic()
                if self._queue and self._queue[0][0] <= now:
                    return heapq.heappop(self._queue)[2]
                wait = self._queue[0][0] - now if self._queue else None
                self._queue_changed.wait(wait)
            return None

    def _run(self) -> None:
        with httpx.Client(timeout=self._timeout, follow_redirects=False) as client:
            while (job := self._next_job()) is not None:
                self._attempt(client, job)

    def _attempt(self, client: httpx.Client, job: _Job) -> None:
        started = self._clock.now()
        status_code, error = self._post(client, job, int(started))
        with self._log_changed:
            delivery = Delivery(
                event_id=job.event_id,
                event_type=job.event_type,
                webhook_id=job.webhook.id,
                url=job.webhook.url,
                attempt=self._count_attempt(job, status_code, error, started),
                status_code=status_code,
                error=error,
                started_at=started,
                finished_at=self._clock.now(),
            )
            self._log.append(delivery)
            self._log_changed.notify_all()
        if job.retries and not delivery.ok and job.attempt <= len(self._retry_schedule):
            retry = _Job(job.event_id, job.event_type, job.body, job.webhook, job.attempt + 1)
            self._schedule(retry, delay=self._retry_schedule[job.attempt - 1])

    def _count_attempt(
        self, job: _Job, status_code: int | None, error: str | None, started: float
    ) -> int:
        """Update the delivery's record (held: ``_log_changed``); the attempt's number."""
        record = self._records.get((job.event_id, job.webhook.id))
        if record is None:
            return job.attempt
        record.attempts += 1
        record.last_status, record.last_error, record.last_attempt_at = status_code, error, started
        # Counted, not taken from the job: a resend and a pending retry may overlap.
        return record.attempts

    def _post(
        self, client: httpx.Client, job: _Job, timestamp: int
    ) -> tuple[int | None, str | None]:
        headers = {
            "content-type": "application/json",
            "user-agent": "authonomy-sandbox",
            "webhook-id": job.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(job.webhook.secret, job.event_id, timestamp, job.body),
        }
        try:
            response = client.post(job.webhook.url, content=job.body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None
