"""Every event of the platform in one place: who publishes it and who consumes it."""
from __future__ import annotations

from sme_schemas.base import IntegrationEvent
from sme_schemas.contracts import (
    AgreementSigned, AgreementTerminated, FollowUpReminder, FollowUpSubmitted, ParticipationGivenUp, ReportAccepted,
    ReportReturned,
)
from sme_schemas.evaluation import ApplicationSelected, EvaluatorAllowanceDue, RecheckRequested, ScoresFinalized
from sme_schemas.intake import (
    ApplicationAmended, ApplicationFiledByMunicipalSystem, ApplicationFilingResult, ApplicationSubmitted,
    ApplicationWithdrawn,
)
from sme_schemas.payments import (
    ClawbackRecovered, GrantDecided, PaymentDue, PaymentOverdue, PaymentRecorded, SubsidyClawedBack,
    SubsidyRequestReturned,
)
from sme_schemas.screening import (
    ApplicationRejected, ManualReviewRequested, RecheckCompleted, ScreeningPassed, ScreeningStarted,
    SupplementRequested,
)

EVENTS: tuple[type[IntegrationEvent], ...] = (
    ApplicationFiledByMunicipalSystem, ApplicationFilingResult,
    ApplicationSubmitted, ApplicationAmended, ApplicationWithdrawn,
    ScreeningStarted, ScreeningPassed, ApplicationRejected, SupplementRequested, ManualReviewRequested,
    RecheckCompleted,
    ScoresFinalized, ApplicationSelected, RecheckRequested, EvaluatorAllowanceDue,
    AgreementSigned, AgreementTerminated, ParticipationGivenUp, ReportAccepted, ReportReturned,
    FollowUpReminder, FollowUpSubmitted,
    PaymentDue, SubsidyRequestReturned, GrantDecided, PaymentRecorded, PaymentOverdue, SubsidyClawedBack,
    ClawbackRecovered,
)

BY_TYPE: dict[str, type[IntegrationEvent]] = {e.ce_type(): e for e in EVENTS}
BY_TOPIC: dict[str, type[IntegrationEvent]] = {e.topic(): e for e in EVENTS}

# What each service consumes (what it publishes is read off `producer`); the AsyncAPI documents are generated
# from this table. ScoresFinalized is for other municipal systems and dashboards: contracts drafts from
# ApplicationSelected with the parties as screening verified them (ScreeningPassed).
CONSUMES: dict[str, tuple[type[IntegrationEvent], ...]] = {
    "intake": (ApplicationFiledByMunicipalSystem, ScreeningStarted, ApplicationRejected, ScreeningPassed,
               SupplementRequested),
    "screening": (ApplicationSubmitted, ApplicationAmended, ApplicationWithdrawn, RecheckRequested,
                  ParticipationGivenUp),
    "evaluation": (ScreeningPassed, RecheckCompleted, AgreementTerminated, ParticipationGivenUp),
    "contracts": (ScreeningPassed, ApplicationSelected),
    "payments": (AgreementSigned, ReportAccepted, AgreementTerminated, ParticipationGivenUp, EvaluatorAllowanceDue),
    # The web portal: each application's timeline and the notices its people get (e-mail and in the portal)
    "portal": (ApplicationSubmitted, ApplicationWithdrawn, ScreeningStarted, SupplementRequested, ApplicationRejected,
               ManualReviewRequested, ScreeningPassed, ScoresFinalized, ApplicationSelected, AgreementSigned,
               ParticipationGivenUp, AgreementTerminated, ReportReturned, ReportAccepted, FollowUpReminder,
               PaymentDue, SubsidyRequestReturned, GrantDecided, PaymentRecorded, PaymentOverdue),
}
SERVICES = tuple(CONSUMES)


def produced_by(service: str) -> tuple[type[IntegrationEvent], ...]:
    """The events a service publishes."""
    return tuple(e for e in EVENTS if e.producer == service)
