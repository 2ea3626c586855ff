"""Payments as one deployable: the HTTP API, the event subscriptions, the outbox relay and the sweeper that
raises overdue payments (P3) and refreshes the gauges. All of payments' subscriptions and routes are registered
here, top to bottom."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from payments import api, handlers, metrics, store
from payments.accounts import AccountVault
from payments.config import PaymentsSettings
from payments.status import PaymentStatus
from sme_runtime.service import every, service_app, service_consumers
from sme_schemas.contracts import AgreementSigned, AgreementTerminated, ParticipationGivenUp, ReportAccepted
from sme_schemas.evaluation import EvaluatorAllowanceDue

log = logging.getLogger("payments")
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SERVICE = "payments"


# What payments consumes, each event with its handler (checked against sme_schemas.catalog.CONSUMES at start-up)
SUBSCRIPTIONS: dict[type, Callable[[handlers.Payments], Any]] = {
    AgreementSigned: handlers.on_agreement_signed,
    ParticipationGivenUp: handlers.on_participation_given_up,
    ReportAccepted: handlers.on_report_accepted,
    AgreementTerminated: handlers.on_agreement_terminated,
    EvaluatorAllowanceDue: handlers.on_allowance_due,
}


def build_broker(settings: PaymentsSettings, sessions, payments: handlers.Payments) -> KafkaBroker:
    return service_consumers(settings, sessions, SERVICE,
                             {event: make(payments) for event, make in SUBSCRIPTIONS.items()},
                             unit_of=handlers.unit).broker


async def sweep(sessions, payments: handlers.Payments) -> list[str]:
    """Raise what became overdue, then refresh the open/overdue gauges."""
    async with sessions() as session, session.begin():
        raised = await handlers.raise_overdue(handlers.unit(session), payments)
    async with sessions() as session:
        db = store.PaymentsStore(session)
        rows = await db.totals(payments.today())
    for purpose in metrics.PURPOSES:
        for overdue in (False, True):
            due = [r for r in rows if r.purpose == purpose and r.status == PaymentStatus.DUE and r.overdue == overdue]
            metrics.OPEN.labels(purpose, str(overdue).lower()).set(sum(r.n for r in due))
            metrics.OPEN_KRW.labels(purpose, str(overdue).lower()).set(sum(r.amount for r in due))
    return raised


def create_app(settings: PaymentsSettings | None = None) -> FastAPI:
    settings = settings or PaymentsSettings()
    payments = handlers.Payments(programs=settings.programs, clock=settings.clock(),
                                 vault=AccountVault(settings.account_key))
    return service_app(
        settings, service=SERVICE, title="Payments — 김포시 중소기업 지원사업 지원금 지급",
        description="Subsidy requests (서식4) after an accepted result report (P1), the amount in integer KRW (P2), "
                    "the 30-day due date and overdue alerts (P3), adjustments and clawback (P4), evaluator "
                    "allowances (P5). Bank accounts are encrypted and never leave here.",
        migrations=MIGRATIONS, build_broker=lambda sessions: build_broker(settings, sessions, payments),
        router=api.router, default_rule="P1", payments=payments,
        background=(every(settings.sweep_seconds, lambda sessions: sweep(sessions, payments), log, "sweep"),))
