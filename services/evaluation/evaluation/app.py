"""Evaluation as one deployable: the operators' and evaluators' HTTP API, the event subscriptions, the outbox
relay and the gauges. All of evaluation's subscriptions and routes are registered here, top to bottom."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from evaluation import api, handlers, metrics, store
from evaluation.config import EvaluationSettings
from evaluation.status import CandidateStatus, RoundStatus
from sme_runtime.metrics import set_by_status
from sme_runtime.service import every, service_app, service_consumers
from sme_schemas.contracts import AgreementTerminated, ParticipationGivenUp
from sme_schemas.screening import RecheckCompleted, ScreeningPassed

log = logging.getLogger("evaluation")
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SERVICE = "evaluation"


# What evaluation consumes, each event with its handler (checked against sme_schemas.catalog.CONSUMES at start-up)
SUBSCRIPTIONS: dict[type, Callable[[handlers.Evaluation], Any]] = {
    ScreeningPassed: handlers.on_screening_passed,
    RecheckCompleted: handlers.on_recheck_completed,
    AgreementTerminated: handlers.on_agreement_terminated,
    ParticipationGivenUp: handlers.on_given_up,
}


def build_broker(settings: EvaluationSettings, sessions, evaluation: handlers.Evaluation) -> KafkaBroker:
    return service_consumers(settings, sessions, SERVICE,
                             {event: make(evaluation) for event, make in SUBSCRIPTIONS.items()},
                             unit_of=handlers.unit).broker


async def refresh_gauges(sessions, evaluation: handlers.Evaluation) -> None:
    """Statuses, free budget per program, waiting re-checks and applications short of evaluators."""
    async with sessions() as session:
        db = store.EvaluationStore(session)
        statuses = await db.counts_by_status()
        budgets = {p: await db.committed_budget(p) for p in evaluation.programs}
        waiting = await db.rechecks_waiting()
        short = 0
        for r in await db.rounds():
            if r.status == RoundStatus.OPEN and r.program_id in evaluation.programs:
                short += len((await handlers.round_view(handlers.unit(session), evaluation, r)).short_of_evaluators())
    set_by_status(metrics.CANDIDATES, CandidateStatus, statuses)
    for program_id, committed in budgets.items():
        metrics.BUDGET_AVAILABLE.labels(program_id).set(evaluation.programs[program_id].budget - committed)
    metrics.RECHECKS_WAITING.set(waiting.n)
    metrics.RECHECK_OLDEST_SECONDS.set(
        (datetime.now(timezone.utc) - waiting.oldest).total_seconds() if waiting.oldest else 0)
    metrics.SHORT_OF_EVALUATORS.set(short)


def create_app(settings: EvaluationSettings | None = None) -> FastAPI:
    settings = settings or EvaluationSettings()
    evaluation = handlers.Evaluation(programs=settings.programs, clock=lambda: datetime.now(timezone.utc))
    return service_app(
        settings, service=SERVICE, title="Evaluation — 김포시 중소기업 지원사업 평가·선정",
        description="Document score (Q1–Q7), the expert committee and its conflicts of interest (F6), committee "
                    "scores (S1–S3), ranking (F1–F3), selection within the budget and the waitlist (F4, F5), X11 "
                    "re-checks before the selected are notified, and evaluator allowances (F7).",
        migrations=MIGRATIONS, build_broker=lambda sessions: build_broker(settings, sessions, evaluation),
        router=api.router, default_rule="S1", evaluation=evaluation,
        background=(every(settings.gauge_seconds, lambda sessions: refresh_gauges(sessions, evaluation), log,
                          "gauges"),))
