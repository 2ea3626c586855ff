"""Admission control (issue 28): a service takes no more work than it can answer promptly, and says "busy, come
back in N s" to the rest at once, instead of queueing it for a minute and a half (intake at 300 forms/s on a
loaded 2-core host answered with a p99 of 31–93 s).

Two signs of too much work, checked before a request reaches the app:
- requests in flight at the limit (`<SERVICE>_MAX_IN_FLIGHT`): more would only wait for the same database pool
  and CPU behind them;
- the event loop running late (`<SERVICE>_MAX_LOOP_LAG_MS`) while the service has work of its own in flight (an
  eighth of the limit, at least one): on a saturated CPU the requests already admitted are late, and every one
  more makes all of them later. A late loop with little in flight is the host's load, not the service's:
  refusing the one person at a browser frees nothing (the portal refused a lone evaluator's form on a busy CI
  host), so they are admitted.

A refused request gets 503 with `Retry-After` (the recent time to answer, at least 1 s) in the one error shape,
rule `busy`, before any of its body is read; nothing was done, so the same request may be sent again (with its
Idempotency-Key). The probes and /metrics are never refused: an orchestrator must see a busy service as alive."""
from __future__ import annotations

import asyncio
import json
import math
import time

from prometheus_client import Counter, Gauge
from starlette.types import ASGIApp, Receive, Scope, Send

from sme_runtime.metrics import REGISTRY

NEVER_REFUSED = ("/livez", "/readyz", "/health", "/metrics")
LAG_PROBE_SECONDS = 0.05
LAG_MEMORY_SECONDS = 0.5  # a late loop is judged by its worst lateness this recently: no flapping per timer

SHED = Counter("sme_http_shed", "Requests refused with 503 busy before any work (admission control)",
               ["service", "reason"], registry=REGISTRY)
IN_FLIGHT = Gauge("sme_http_in_flight", "Requests admitted and not yet answered", ["service"], registry=REGISTRY,
                  multiprocess_mode="livesum")
LOOP_LAG = Gauge("sme_event_loop_lag_seconds", "How late the event loop last ran a timer", ["service"],
                 registry=REGISTRY, multiprocess_mode="max")


def lag_sheds_from(max_in_flight: int) -> int:
    """Requests in flight from which a late loop refuses more: an eighth of the limit, at least one."""
    return max(1, math.ceil(max_in_flight / 8))


class Admission:
    """The decision, apart from ASGI: admit while in flight < limit and the loop is on time. Pure bookkeeping."""

    def __init__(self, *, max_in_flight: int, max_loop_lag_ms: float) -> None:
        self.max_in_flight, self.max_loop_lag = max_in_flight, max_loop_lag_ms / 1000
        self.in_flight, self.loop_lag = 0, 0.0
        self.lag_sheds_from = lag_sheds_from(max_in_flight)
        self.answer_seconds = 0.0  # exponentially weighted time to answer an admitted request

    def refusal(self) -> str | None:
        """Why a request arriving now is refused (None: admitted)."""
        if self.in_flight >= self.max_in_flight:
            return "in-flight"
        if self.loop_lag > self.max_loop_lag and self.in_flight >= self.lag_sheds_from:
            return "loop-lag"
        return None

    def answered(self, seconds: float) -> None:
        self.answer_seconds = seconds if self.answer_seconds == 0 else 0.9 * self.answer_seconds + 0.1 * seconds

    def retry_after(self) -> int:
        """Seconds after which a refused request likely finds room: the recent time to answer (the work now in
        flight is done by then) and the loop's lateness, at least 1."""
        return max(1, math.ceil(self.answer_seconds + self.loop_lag))


class AdmissionControl:
    """ASGI middleware applying `Admission` to every HTTP request but the probes'."""

    def __init__(self, app: ASGIApp, *, service: str, max_in_flight: int, max_loop_lag_ms: float,
                 for_browsers: bool = False) -> None:
        self.app, self.service, self.for_browsers = app, service, for_browsers
        self.admission = Admission(max_in_flight=max_in_flight, max_loop_lag_ms=max_loop_lag_ms)
        self._watch: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(NEVER_REFUSED):
            await self.app(scope, receive, send)
            return
        if self._watch is None:
            self._watch = asyncio.get_running_loop().create_task(self._watch_the_loop())
        if reason := self.admission.refusal():
            SHED.labels(self.service, reason).inc()
            await _busy(send, self.admission.retry_after(), reason, html=self.for_browsers)
            return
        self.admission.in_flight += 1
        IN_FLIGHT.labels(self.service).inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.admission.in_flight -= 1
            IN_FLIGHT.labels(self.service).dec()
            self.admission.answered(time.perf_counter() - started)

    async def _watch_the_loop(self) -> None:
        """How late a short timer fires (the time every ready callback waits for the CPU), the worst of the last
        LAG_MEMORY_SECONDS."""
        recent: list[tuple[float, float]] = []
        while True:
            due = time.perf_counter() + LAG_PROBE_SECONDS
            await asyncio.sleep(LAG_PROBE_SECONDS)
            now = time.perf_counter()
            recent = [(at, lag) for at, lag in recent if now - at <= LAG_MEMORY_SECONDS] + [(now, max(0.0, now - due))]
            self.admission.loop_lag = max(lag for _, lag in recent)
            LOOP_LAG.labels(self.service).set(self.admission.loop_lag)


async def _busy(send: Send, retry_after: int, reason: str, *, html: bool = False) -> None:
    what = ("as many requests as it answers promptly are in progress" if reason == "in-flight"
            else "the service is behind on the work it already took")
    if html:  # a person at a browser: the same in Korean, and nothing of what they typed was taken
        body = (f'<!doctype html><html lang="ko"><meta charset="utf-8"><title>잠시 후 다시 시도해 주세요</title>'
                f"<p>지금 요청이 많아 처리하지 못했습니다. 아무것도 처리되지 않았으니 {retry_after}초 후 다시 "
                f"시도해 주세요.</p></html>").encode()
        media = b"text/html; charset=utf-8"
    else:
        body = json.dumps({"errors": [{"field": "(service)", "rule": "busy",
                                       "message": f"{what}; nothing was done: send the same request again after "
                                                  f"{retry_after} s"}]}).encode()
        media = b"application/json"
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", media), (b"retry-after", str(retry_after).encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
