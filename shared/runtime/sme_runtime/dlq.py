"""Dead letters an operator can act on: list them with their reasons, and replay chosen ones once their cause is
fixed (a program definition deployed, a consumer corrected).

A replay publishes the original message again — its bytes and headers as first sent, read back from its topic at
the recorded partition and offset (the DLQ copy may be truncated) — to its original topic. The consumer group
that dead-lettered it applies it now; every other group of the topic already recorded its ce_id and changes
nothing, so a replay is idempotent, and so is replaying it twice. Each replay is recorded on the dead letter
(who, when, why). `python -m <service> dlq list|replay` and the operator-only `/dead-letters` routes do this.

T1: an operator sees and replays the dead letters of their agencies' programs (the `program_id` the body names);
one that names no program deployed here belongs to no agency, and only the platform's operations team (agency
`platform`) sees it. The CLI, run with the database's own credentials, sees all."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import TopicAuthorizationFailedError
from fastapi import APIRouter, Depends
from pydantic import Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from sme_runtime.auth import PLATFORM, Principal, Role, requires
from sme_runtime.kafka_access import KafkaAccess, kafka_access
from sme_runtime.problems import Problem, RuleViolation
from sme_runtime.routes import ReadSession, WriteSession, started
from sme_runtime.settings import ServiceSettings
from sme_runtime.views import Form, View
from sme_schemas.values import ShortText

Operator = Annotated[Principal, Depends(requires(Role.OPERATOR))]
Settings = Annotated[ServiceSettings, Depends(started("settings", ServiceSettings))]


class ReplayRequest(Form):
    ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(
        min_length=1, max_length=1000, description="Dead letter ids (from GET /dead-letters)")
    reason: ShortText = Field(description="What was fixed: recorded with the replay")


class DeadLetter(View):
    """An event a consumer group could not apply, with the reason, and its replay once one was made."""

    id: int
    consumer: str = Field(description="The consumer group that dead-lettered it")
    topic: str
    partition: int
    offset: int
    event_id: str | None = Field(description="Its ce_id, when its headers could be read")
    program_id: str | None = Field(None, description="The program its body names, when it names one (T1: whose "
                                   "agency's operators see it)")
    error: str
    recorded_at: datetime
    replayed_at: datetime | None
    replayed_by: str | None
    replay_reason: str | None


class ReplayedView(View):
    dead_letter_id: int
    topic: str
    partition: int
    offset: int
    event_id: str | None


@dataclass(frozen=True)
class Visible:
    """Which dead letters a caller may see (T1): those of `programs`, and with `unattributed` those naming no
    program of `deployed`. `everything()`: the CLI's."""

    programs: list[str] | None
    deployed: list[str]
    unattributed: bool

    @classmethod
    def everything(cls) -> "Visible":
        return cls(None, [], True)

    @classmethod
    def to(cls, operator: Principal, deployed: Iterable[str]) -> "Visible":
        return cls(operator.visible_programs() or [], sorted(deployed), PLATFORM in operator.agencies)

    def params(self) -> dict[str, Any]:
        return {"everything": self.programs is None, "programs": self.programs or [], "deployed": self.deployed,
                "unattributed": self.unattributed}


# T1 as SQL over the parameters of Visible.params()
_VISIBLE = ("(:everything OR program_id = ANY(:programs) OR (:unattributed AND (program_id IS NULL "
            "OR program_id <> ALL(:deployed))))")


@dataclass(frozen=True)
class Replayed:
    dead_letter_id: int
    topic: str
    partition: int
    offset: int
    event_id: str | None


async def dead_letters(session: AsyncSession, visible: Visible, *, consumer: str | None = None,
                       include_replayed: bool = False, limit: int = 100) -> list[dict[str, Any]]:
    rows = await session.execute(text(
        'SELECT id, consumer, topic, partition, "offset", event_id, program_id, error, recorded_at, replayed_at, '
        "replayed_by, replay_reason FROM dead_letters WHERE (CAST(:c AS text) IS NULL OR consumer = :c) "
        f"AND (:all OR replayed_at IS NULL) AND {_VISIBLE} ORDER BY id LIMIT :n"),
        {"c": consumer, "all": include_replayed, "n": limit, **visible.params()})
    return [dict(r._mapping) for r in rows]


async def replay(session: AsyncSession, kafka: KafkaAccess | str, ids: list[int], *, by: str,
                 reason: str, visible: Visible) -> list[Replayed]:
    """Publish the dead letters `ids` again to their topics and record who did it and why (in the caller's
    transaction: a replay that fails to publish records nothing). One the caller may not see is as unknown."""
    rows = (await session.execute(text(
        'SELECT id, topic, partition, "offset", event_id FROM dead_letters WHERE id = ANY(:ids) '
        f"AND {_VISIBLE} ORDER BY id FOR UPDATE"), {"ids": ids, **visible.params()})).all()
    unknown = sorted(set(ids) - {r.id for r in rows})
    if unknown:
        raise RuleViolation(Problem("ids", "not-found", f"no dead letters {unknown} in this service"),
                            status_code=404)
    access = kafka_access(kafka)
    originals = await _originals(access, [(r.topic, r.partition, r.offset) for r in rows])
    producer = AIOKafkaProducer(**access.client(), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for row in rows:
            record = originals[(row.topic, row.partition, row.offset)]
            headers = [*(record.headers or ()), ("dlq_replayed_from", f"{row.topic}/{row.partition}/{row.offset}"
                                                 .encode())]
            try:
                await producer.send_and_wait(row.topic, record.value, key=record.key, headers=headers)
            except TopicAuthorizationFailedError:
                # On an authenticated bus a service writes only its own topics (sme_runtime.bus_acl): the original
                # topic of a dead letter is usually another service's or system's.
                raise RuleViolation(Problem("ids", "bus-acl", f"the bus does not let {access.principal} "
                                            f"write {row.topic}; replay it as the bus administrator: `python -m "
                                            "<service> dlq replay` with <SERVICE>_KAFKA_USERNAME=admin and its "
                                            "password"), status_code=403) from None
    finally:
        await producer.stop()
    await session.execute(text(
        "UPDATE dead_letters SET replayed_at = :at, replayed_by = :by, replay_reason = :why WHERE id = ANY(:ids)"),
        {"at": datetime.now(timezone.utc), "by": by, "why": reason, "ids": ids})
    return [Replayed(r.id, r.topic, r.partition, r.offset, r.event_id) for r in rows]


async def _originals(kafka: KafkaAccess, places: list[tuple[str, int, int]]) -> dict[tuple[str, int, int], Any]:
    reader = AIOKafkaConsumer(**kafka.client(), enable_auto_commit=False)
    try:
        await reader.start()
        found = {}
        for topic, partition, offset in places:
            tp = TopicPartition(topic, partition)
            reader.assign([tp])
            reader.seek(tp, offset)
            record = await asyncio.wait_for(reader.getone(), 30)
            if record.offset != offset:  # retention removed it: only the DLQ copy is left
                raise RuleViolation(Problem("ids", "retention", f"{topic}/{partition}/{offset} is no longer on its "
                                            "topic (retention); publish the DLQ copy by hand"), status_code=409)
            found[(topic, partition, offset)] = record
        return found
    finally:
        await reader.stop()


def dead_letter_routes() -> APIRouter:
    """The operator-only HTTP routes: `GET /dead-letters`, `POST /dead-letters/replay`."""
    router = APIRouter(tags=["operations"])

    @router.get("/dead-letters", summary="Events this service could not apply, with the reason (operators)")
    async def listed(operator: Operator, session: ReadSession, settings: Settings, consumer: str | None = None,
                     include_replayed: bool = False) -> list[DeadLetter]:
        rows = await dead_letters(session, Visible.to(operator, settings.programs), consumer=consumer,
                                  include_replayed=include_replayed)
        return [DeadLetter(**r) for r in rows]

    @router.post("/dead-letters/replay", summary="Publish dead letters again after their cause is fixed "
                 "(operators; idempotent: an event is applied once however often it is replayed)")
    async def replayed(operator: Operator, body: ReplayRequest, session: WriteSession,
                       settings: Settings) -> list[ReplayedView]:
        done = await replay(session, settings.kafka, body.ids, by=f"operator:{operator.subject}", reason=body.reason,
                            visible=Visible.to(operator, settings.programs))
        return [ReplayedView(**r.__dict__) for r in done]

    return router
