"""Each service names its statuses in one enum, and its database refuses any other: every `<table>_status_known`
CHECK in the service's migrations lists exactly its enum's values. A status added to the enum without a migration
(or a migration's typo) fails here, before a write fails in production; the gauges labelled by status are built
from the same enums (sme_runtime.metrics.set_by_status)."""
from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Gauge

from contracts.status import AgreementStatus, ReportStatus
from evaluation.status import CandidateStatus, RoundStatus
from intake.domain import Status as ApplicationStatus
from payments.status import PaymentStatus
from portal import labels
from screening.status import RecheckStatus, ScreeningStatus
from sme_runtime.metrics import set_by_status

ROOT = Path(__file__).resolve().parents[2]
TABLES = {("intake", "applications"): ApplicationStatus, ("screening", "screenings"): ScreeningStatus,
          ("screening", "rechecks"): RecheckStatus, ("evaluation", "candidates"): CandidateStatus,
          ("evaluation", "rounds"): RoundStatus, ("contracts", "agreements"): AgreementStatus,
          ("contracts", "reports"): ReportStatus, ("payments", "payments"): PaymentStatus}
CHECK = re.compile(r"CONSTRAINT (\w+)_status_known\s+CHECK \(status IN \(([^)]*)\)\)", re.S)


def checks(service: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for migration in sorted((ROOT / "services" / service / "migrations").glob("*.sql")):
        for table, values in CHECK.findall(migration.read_text("utf-8")):
            found[table] = set(re.findall(r"'([^']*)'", values))
    return found


@pytest.mark.parametrize("service, table", TABLES, ids=lambda x: str(x))
def test_the_database_accepts_exactly_the_statuses_the_enum_names(service, table):
    assert checks(service).get(table) == {s.value for s in TABLES[(service, table)]}


def test_every_status_table_of_a_service_has_its_enum():
    declared = {(service, table) for service in {s for s, _ in TABLES} for table in checks(service)}
    assert declared == set(TABLES)


def test_a_gauge_by_status_shows_every_status_with_zero_for_the_empty_ones():
    gauge = Gauge("test_by_status", "test", ["status"], registry=CollectorRegistry())
    set_by_status(gauge, PaymentStatus, {"due": 3})
    set_by_status(gauge, PaymentStatus, {"paid": 2})  # the due ones were paid: their series drops to 0
    shown = {s.labels["status"]: s.value for m in gauge.collect() for s in m.samples}
    assert shown == {"due": 0, "returned": 0, "paid": 2, "cancelled": 0, "clawed-back": 0}


def test_statuses_are_enums_of_text():
    assert all(issubclass(enum, StrEnum) for enum in TABLES.values())


@pytest.mark.parametrize("shown, enum", [(labels.INTAKE_STATUS, ApplicationStatus),
                                         (labels.SCREENING_STATUS, ScreeningStatus),
                                         (labels.EVALUATION_STATUS, CandidateStatus),
                                         (labels.AGREEMENT_STATUS, AgreementStatus),
                                         (labels.PAYMENT_STATUS, PaymentStatus)],
                         ids=lambda x: getattr(x, "__name__", ""))
def test_the_portal_says_every_status_a_service_can_show_in_korean(shown, enum):
    assert {s.value for s in enum} <= set(shown), f"no Korean label for {sorted({s.value for s in enum} - set(shown))}"
