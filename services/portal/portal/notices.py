"""What an event means to the people of an application, pure: the line it adds to the application's timeline and
the notices it sends (to the company, its expert, an evaluator, or the center's operators). The notifier stores
both and e-mails the notices; nothing here does I/O."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from portal import labels
from portal.progress import Status
from sme_schemas.base import IntegrationEvent
from sme_schemas.contracts import (
    AgreementSigned, AgreementTerminated, FollowUpReminder, ParticipationGivenUp, ReportAccepted, ReportReturned,
)
from sme_schemas.evaluation import ApplicationSelected, Outcome, ScoresFinalized
from sme_schemas.intake import ApplicationSubmitted, ApplicationWithdrawn
from sme_schemas.payments import (
    GrantDecided, PaymentDue, PaymentOverdue, PaymentRecorded, SubsidyRequestReturned,
)
from sme_schemas.screening import (
    ApplicationRejected, ManualReviewRequested, ScreeningPassed, ScreeningStarted, SupplementRequested,
)

OPERATORS = "operators"


def company(brn: str) -> str:
    return f"company:{brn}"


def expert(brn: str) -> str:
    """An expert's account is for one engagement: the company whose consulting it is."""
    return f"expert:{brn}"


def evaluator(evaluator_id: str) -> str:
    return f"evaluator:{evaluator_id}"


def account(account_id: int) -> str:
    """One person's own notices (their account's lock), whatever their role."""
    return f"account:{account_id}"


def locked_out(account_id: int, failures: int, until: datetime) -> Notice:
    """To the account's holder alone: the sign-in page answers a locked account as it answers a wrong password."""
    return Notice(account(account_id), "account-locked", f"[{PORTAL_TAG}] 로그인 잠금 안내",
                  f"비밀번호가 {failures}회 연속 틀려 계정이 {labels.kst(until)}까지 잠겼습니다. 그때까지는 맞는 "
                  "비밀번호로도 로그인할 수 없습니다. 직접 시도하지 않았다면 센터에 알려 주세요.", link="/login")


def recipient_of(role: str, brn: str | None, evaluator_id: str | None) -> str:
    """Whose notices an account of `role` reads."""
    if role in ("company", "expert"):
        return (company if role == "company" else expert)(brn or "")
    return evaluator(evaluator_id or "") if role == "evaluator" else OPERATORS


@dataclass(frozen=True)
class Entry:
    """A line of an application's timeline."""

    application_id: str
    stage: str  # 접수, 서류검토, 평가, 협약, 수행, 지급, 사후관리
    title: str
    detail: str = ""
    status: Status | None = None  # where the application stands after it, in the company's words (progress)


@dataclass(frozen=True)
class Notice:
    recipient: str
    kind: str
    subject: str
    body: str
    application_id: str | None = None
    link: str | None = None


@dataclass(frozen=True)
class Reading:
    entries: tuple[Entry, ...] = ()
    notices: tuple[Notice, ...] = ()


def _findings(findings) -> str:
    return "\n".join(f"- {labels.rule(f.rule)}: {f.detail}" for f in findings)


Owners = Mapping[str, tuple[str, str]]  # application id → (business registration number, company name)
PORTAL_TAG = "중소기업 지원사업"  # a notice of no program (an account's lock), or of one the portal has no file of


@dataclass(frozen=True)
class ProgramTerms:
    """What a program's notices say of it: its short name, the tag of their subjects ("[SOS 컨설팅]",
    "[스마트공장]"), and the share it pays as an advance once signed (I1; 0: none)."""

    tag: str
    advance_percent: int = 0


@dataclass(frozen=True)
class Known:
    """What the portal knows beside the event: the applying companies and each program's terms."""

    owners: Owners
    programs: Mapping[str, ProgramTerms]

    def get(self, application_id: str, default: tuple[str | None, str]) -> tuple[str | None, str]:
        return self.owners.get(application_id, default)

    def terms(self, event: IntegrationEvent) -> ProgramTerms:
        return self.programs.get(event.program_id) or ProgramTerms(PORTAL_TAG)

    def tag(self, event: IntegrationEvent) -> str:
        return self.terms(event).tag

    def subject(self, event: IntegrationEvent, text: str) -> str:
        return f"[{self.tag(event)}] {text}"


def read(event: IntegrationEvent, owners: Owners, programs: Mapping[str, ProgramTerms] | None = None) -> Reading:
    """The timeline lines and notices of an event. `owners` are the applying companies the portal knows (from
    their ApplicationSubmitted); a company it has not seen gets no notice, its timeline still gets the line.
    `programs`: each program's terms by its id (notifier.program_terms)."""
    reader = _READERS.get(type(event))
    return reader(event, Known(owners, programs or {})) if reader else Reading()


def application_ids(event: IntegrationEvent) -> tuple[str, ...]:
    """The applications an event is about (a round's ScoresFinalized: every ranked one)."""
    if isinstance(event, ScoresFinalized):
        return tuple(r.application_id for r in event.ranking)
    application_id = getattr(event, "application_id", None)
    return (application_id,) if application_id else ()


def _owner(owners: Known, event) -> tuple[str | None, str]:
    brn, name = owners.get(getattr(event, "application_id", None) or "", (None, ""))
    return brn, name


def _submitted(e: ApplicationSubmitted, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    channel = "다른 기관 시스템을 통해" if e.channel == "municipal-system" else "포털에서"
    entry = Entry(e.application_id, "접수", "신청 접수", f"{channel} 접수되었습니다 (신청번호 {e.application_id})",
                  Status("접수", "접수 완료"))
    return Reading((entry,), (Notice(company(e.content.company.business_registration_number), "submitted",
                                     owners.subject(e, "신청이 접수되었습니다"),
                                     f"{e.content.company.name}의 신청({e.application_id})이 접수되었습니다. "
                                     "서류 검토 결과는 포털과 이메일로 알려 드립니다.", e.application_id,
                                     f"/applications/{e.application_id}"),))


def _withdrawn(e: ApplicationWithdrawn, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    return Reading((Entry(e.application_id, "접수", "신청 취소", e.reason or "",
                          Status("접수", "신청 취소", ended=True)),))


def _started(e: ScreeningStarted, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    return Reading((Entry(e.application_id, "서류검토", "서류 검토 시작", "신청서와 증빙을 확인하고 있습니다",
                          Status("심사", "서류 검토 중")),))


def _supplement(e: SupplementRequested, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    documents = "\n".join(
        f"- {' 또는 '.join(labels.DOCUMENT.get(d, d) for d in doc.any_of)}: "
        f"{'제출되지 않음' if doc.problem == 'missing' else '발급일이 1년을 넘음'} ({labels.rule(doc.rule)})"
        for doc in e.documents)
    deadline = labels.kst(e.deadline)
    entry = Entry(e.application_id, "서류검토", "보완 요청", f"기한 {deadline}\n{documents}",
                  Status("심사", f"서류 보완 요청 (기한 {deadline})"))
    notices = (Notice(company(brn), "supplement-requested", owners.subject(e, f"서류 보완 요청 (기한 {deadline})"),
                      f"{name} 신청({e.application_id})에 다음 서류가 필요합니다. {deadline}까지 포털에서 올려 주세요. "
                      f"기한까지 보완하지 않으면 서류 미비로 탈락합니다.\n{documents}", e.application_id,
                      f"/applications/{e.application_id}#supplement"),) if brn else ()
    return Reading((entry,), notices)


def _rejected(e: ApplicationRejected, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    when = "선정 전 재확인에서" if e.stage == "selection-recheck" else "서류 검토에서"
    reasons = _findings(e.findings)
    status = (Status("선정", "탈락 (선정 전 재확인)", ended=True) if e.stage == "selection-recheck"
              else Status("심사", "서류 검토 탈락", ended=True))
    entry = Entry(e.application_id, "서류검토", "탈락", f"{when} 다음 사유로 탈락했습니다\n{reasons}", status)
    notices = (Notice(company(brn), "rejected", owners.subject(e, "검토 결과 안내(탈락)"),
                      f"{name} 신청({e.application_id})은 {when} 다음 사유로 지원 대상에서 제외되었습니다.\n{reasons}\n"
                      "이의가 있으시면 센터로 연락해 주세요.", e.application_id,
                      f"/applications/{e.application_id}"),) if brn else ()
    return Reading((entry,), notices)


def _review(e: ManualReviewRequested, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    questions = _findings(e.questions)
    return Reading((Entry(e.application_id, "서류검토", "담당자 검토", "담당자가 확인하고 있습니다",
                          Status("심사", "서류 검토 중 (담당자 확인)")),),
                   (Notice(OPERATORS, "manual-review", f"[검토 대기] {owners.tag(e)} — {name or '포털 밖 신청'}",
                           f"담당자 판단이 필요합니다:\n{questions}", e.application_id,
                           f"/operator/reviews#review-{e.application_id}"),))


def _passed(e: ScreeningPassed, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    return Reading((Entry(e.application_id, "서류검토", "서류 검토 통과", "평가위원회 심사를 기다립니다",
                          Status("평가", "서류 통과 — 평가 대기")),))


def _scores(e: ScoresFinalized, owners: Known) -> Reading:
    """One event for the whole round: each ranked application's line; the waitlisted and those below the pass
    mark hear now, the selected when ApplicationSelected follows the X11 re-check."""
    entries, notices = [], []
    for r in e.ranking:
        outcome = labels.OUTCOME.get(r.outcome, r.outcome)
        entries.append(Entry(r.application_id, "평가", f"평가 결과: {outcome}",
                             f"순위 {r.rank}, 최종 {r.final}점 (서류 {r.quantitative}, 발표 {r.qualitative})",
                             _outcome_status(r)))
        brn = owners.get(r.application_id, (None, ""))[0]
        if brn and r.outcome != Outcome.SELECTED:
            text = (f"예비 {r.rank}순위로 선정 대기 중입니다. 선정 기업의 포기 등으로 예산이 생기면 "
                    "순서대로 선정됩니다."
                    if r.outcome == Outcome.WAITLISTED else "최종 점수가 선정 최저점 50점에 미치지 못했습니다.")
            notices.append(Notice(company(brn), f"outcome-{r.outcome}", owners.subject(e, f"평가 결과: {outcome}"),
                                  f"{r.company_name} 신청({r.application_id}): {text}", r.application_id,
                                  f"/applications/{r.application_id}"))
    return Reading(tuple(entries), tuple(notices))


def _outcome_status(r) -> Status:
    if r.outcome == Outcome.WAITLISTED:
        return Status("선정", f"선정 대기 (예비 {r.rank}순위)")
    if r.outcome == Outcome.SELECTED:  # final once the X11 re-check confirms it (ApplicationSelected)
        return Status("평가", "평가 완료 — 선정 확인 중")
    return Status("선정", "탈락 (최저점 미달)", ended=True)


def _selected(e: ApplicationSelected, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    how = "예비 순번 승계로 " if e.via == "waitlist-promotion" else ""
    entry = Entry(e.application_id, "평가", f"{how}선정", f"지원 예정액 {labels.won(e.planned_subsidy)}",
                  Status("선정", "선정 — 협약서 서명 대기"))
    if not brn:
        return Reading((entry,))
    body = (f"{name} 신청({e.application_id})이 {how}선정되었습니다. 지원 예정액 {labels.won(e.planned_subsidy)}. "
            "협약서가 서명을 기다립니다: 포털의 협약서 화면에서 서명해 주세요.")
    return Reading((entry,), (
        Notice(company(brn), "selected", owners.subject(e, "선정 안내 — 협약서 서명 요청"), body, e.application_id,
               _agreement_of(e.application_id, "sign")),
        Notice(expert(brn), "selected", owners.subject(e, f"{name} 협약서 서명 요청"),
               f"자문하실 {name}의 신청이 선정되었습니다. 포털의 협약서 화면에서 서명해 주세요.", e.application_id,
               _agreement_of(e.application_id, "sign"))))


def _signed(e: AgreementSigned, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    entry = Entry(e.application_id, "협약", "협약 체결",
                  f"협약금액 {labels.won(e.agreed_amount)}, "
                  f"기간 {labels.day(e.term_start)} ~ {labels.day(e.term_end)}, "
                  f"최소 {e.minimum_sessions}회", Status("협약", "협약 체결 — 사업 수행 중"))
    target = e.business_registration_number or brn
    return Reading((entry,), (_signed_notice(e, owners, target, entry.detail),) if target else ())


def _signed_notice(e: AgreementSigned, owners: Known, target: str, detail: str) -> Notice:
    """The company's next step once signed: in a program that pays an advance (I1) it asks for it on the
    agreement's page; otherwise its consulting begins, logged there."""
    subject = owners.subject(e, "협약이 체결되었습니다")
    if percent := owners.terms(e).advance_percent:
        return Notice(company(target), "agreement-signed", subject,
                      f"{detail}\n이 사업은 협약금액의 {percent}%를 선금으로 지급합니다. 협약서 화면에서 받을 계좌를 "
                      "적어 선금을 청구해 주세요.", e.application_id, f"/agreements/{e.agreement_id}#advance")
    return Notice(company(target), "agreement-signed", subject, detail, e.application_id,
                  f"/agreements/{e.agreement_id}#sessions")


def _given_up(e: ParticipationGivenUp, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    return Reading((Entry(e.application_id, "협약", "사업 포기 승인",
                          f"{labels.day(e.restricted_until)}까지 참여가 제한됩니다",
                          Status("협약", f"사업 포기 ({labels.day(e.restricted_until)}까지 참여 제한)", ended=True)),))


def _terminated(e: AgreementTerminated, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    why = labels.TERMINATION.get(e.reason, e.reason)
    entry = Entry(e.application_id, "협약", "협약 해지", f"사유: {why}" + (" — 지급액 환수" if e.clawback else ""),
                  Status("협약", "협약 해지", ended=True))
    notices = (Notice(company(brn), "agreement-terminated", owners.subject(e, "협약 해지 안내"), entry.detail,
                      e.application_id, f"/agreements/{e.agreement_id}#ended"),) if brn else ()
    return Reading((entry,), notices)


def _returned(e: ReportReturned, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    reasons = "\n".join(f"- {r}" for r in e.reasons)
    entry = Entry(e.application_id, "수행", f"결과보고 보완 요청 ({e.revision}차)", reasons,
                  Status("보고", "결과보고 보완 요청"))
    if not brn:
        return Reading((entry,))
    body = f"결과보고서({e.revision}차)를 다음 내용에 맞게 고쳐 다시 제출해 주세요.\n{reasons}"
    return Reading((entry,), (
        Notice(company(brn), "report-returned", owners.subject(e, "결과보고서 보완 요청"), body, e.application_id,
               f"/agreements/{e.agreement_id}#result-report"),
        Notice(expert(brn), "report-returned", owners.subject(e, f"{name} 결과보고서 보완 요청"), body,
               e.application_id, f"/agreements/{e.agreement_id}#result-report")))


def _accepted(e: ReportAccepted, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    entry = Entry(e.application_id, "수행", "결과보고 승인",
                  f"현장 {e.sessions_held}일, 사후 {e.follow_up_sessions_held}일",
                  Status("보고", "결과보고 승인 — 보조금 청구"))
    target = e.business_registration_number or brn
    notices = (Notice(company(target), "report-accepted", owners.subject(e, "결과보고 승인 — 보조금을 청구하세요"),
                      "결과보고가 승인되었습니다. 포털에서 보조금 지급 청구서(서식4)를 제출해 주세요.",
                      e.application_id, f"/agreements/{e.agreement_id}#subsidy-request"),) if target else ()
    return Reading((entry,), notices)


def _follow_up(e: FollowUpReminder, owners: Known) -> Reading:
    what = labels.follow_up(e.kind)
    when = "기한이 지났습니다" if e.reminder == "overdue" else f"{labels.day(e.due_on)}까지 응답해 주세요"
    entry = Entry(e.application_id, "사후관리", f"사후관리 {what} 요청", f"기한 {labels.day(e.due_on)}",
                  Status("사후관리", f"사후관리 — {what} 응답 {'기한 경과' if e.reminder == 'overdue' else '대기'}"))
    # The link opens the agreement at its follow-up form, where the answer is given (issue 32: no dead end)
    return Reading((entry,), (Notice(company(e.business_registration_number), f"follow-up-{e.reminder}",
                                     owners.subject(e, f"사후관리 {what}: {when}"),
                                     f"{what} — {when}. 포털의 협약 화면 '사후관리'에서 응답해 주세요.",
                                     e.application_id, f"/agreements/{e.agreement_id}#follow-up"),))


def _agreement_of(application_id: str, part: str) -> str:
    """An application's agreement at `part` (its form or section): the portal finds the agreement, which the
    selection and payment events do not name."""
    return f"/applications/{application_id}/agreement#{part}"


def _payment_link(e) -> str:
    """Where a payee reads a payment: an evaluator its allowances (P5), a company its agreement's payments."""
    if e.purpose == "evaluator-allowance":
        return "/evaluator#allowances"
    return _agreement_of(e.application_id, "payments")


def _payee(e, brn) -> str | None:
    if e.purpose == "evaluator-allowance":
        return evaluator(e.evaluator_id) if e.evaluator_id else None
    return company(brn) if brn else None


def _paid_status(e, step_words: tuple[str, str], advance_words: str) -> Status | None:
    """The company's status after a payment event: an evaluator's allowance is not the company's; an advance
    (선금, I1) is paid while the work goes on."""
    if e.purpose == "evaluator-allowance":
        return None
    if getattr(e, "instalment", None) == "advance":
        return Status("수행", advance_words)
    return Status(*step_words)


def _instalment(e, owners: Known) -> str:
    """I1: which part of the subsidy a payment event is about, before its amount ("선금 ", "잔금 "); an allowance or
    the subsidy of a program that pays no advance (one payment, not a 잔금) says nothing."""
    if e.instalment == "balance" and not owners.terms(e).advance_percent:
        return ""
    return {"advance": "선금 ", "balance": "잔금 "}.get(e.instalment or "", "")


def _due(e: PaymentDue, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    text = (f"{_instalment(e, owners)}{labels.won(e.amount)}, 지급 기한 {labels.day(e.due_on)} "
            f"(청구 접수 {labels.day(e.request_received_on)})")
    status = _paid_status(e, ("지급", f"보조금 지급 예정 ({labels.day(e.due_on)}까지)"),
                          "선금 지급 예정 · 사업 수행 중")
    entries = (Entry(e.application_id, "지급", "보조금 지급 예정", text, status),) if e.application_id else ()
    payee = _payee(e, brn)
    notices = [Notice(payee, "payment-due", owners.subject(e, "지급 예정 안내"), text, e.application_id,
                      _payment_link(e))] if payee else []
    if e.purpose == "subsidy":  # P1–P3: a company's request is the center's to decide and pay by the due date
        notices.append(Notice(OPERATORS, "payment-due", f"[보조금 청구] {owners.tag(e)} — {name or '기업'}",
                              f"{text}. 교부결정 후 지급해 주세요.", e.application_id,
                              f"/operator/payments#payment-{e.payment_id}"))
    return Reading(entries, tuple(notices))


def _request_returned(e: SubsidyRequestReturned, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    reasons = "\n".join(f"- {r}" for r in e.reasons)
    text = f"{labels.day(e.request_received_on)} 접수한 보조금 청구(서식4)를 보완이 필요하여 반려합니다.\n{reasons}"
    entries = ((Entry(e.application_id, "지급", "보조금 청구 반려", text,
                      Status("지급", "보조금 청구 반려 — 보완 후 다시 청구")),) if e.application_id else ())
    notices = (Notice(company(brn), "subsidy-request-returned", owners.subject(e, "보조금 청구 보완 요청"),
                      f"{text}\n보완하여 다시 청구하시면 그 접수일부터 30일 이내에 지급됩니다.", e.application_id,
                      _agreement_of(e.application_id or "", "subsidy-request")),) if brn else ()
    return Reading(entries, notices)


def _grant_decided(e: GrantDecided, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    text = (f"교부결정 {_instalment(e, owners)}{labels.won(e.amount)} ({labels.day(e.decided_on)} 결정), "
            f"지급 기한 {labels.day(e.due_on)}")
    status = _paid_status(e, ("지급", "교부결정 — 지급 대기"), "선금 교부결정 · 사업 수행 중")
    entries = (Entry(e.application_id, "지급", "교부결정", text, status),) if e.application_id else ()
    notices = (Notice(company(brn), "grant-decided", owners.subject(e, "사업지원금 교부결정 통지"), text,
                      e.application_id, _payment_link(e)),) if brn else ()
    return Reading(entries, notices)


def _recorded(e: PaymentRecorded, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    text = f"{_instalment(e, owners)}{labels.won(e.amount)}, {labels.day(e.paid_on)} 지급"
    status = _paid_status(e, ("지급", "보조금 지급 완료"), "선금 지급 완료 · 사업 수행 중")
    entries = (Entry(e.application_id, "지급", "지급 완료", text, status),) if e.application_id else ()
    payee = _payee(e, brn)
    return Reading(entries, (Notice(payee, "payment-recorded", owners.subject(e, "지급 완료"), text,
                                    e.application_id, _payment_link(e)),) if payee else ())


def _overdue(e: PaymentOverdue, owners: Known) -> Reading:
    brn, name = _owner(owners, e)
    text = f"{_instalment(e, owners)}{labels.won(e.amount)}, 지급 기한 {labels.day(e.due_on)} 경과"
    status = _paid_status(e, ("지급", "지급 지연 — 센터 확인 중"), "선금 지급 지연 · 센터 확인 중")
    entries = (Entry(e.application_id, "지급", "지급 기한 경과", text, status),) if e.application_id else ()
    payee = _payee(e, brn)
    whose = name or ("평가위원 수당" if e.purpose == "evaluator-allowance" else "보조금")
    notices = [Notice(OPERATORS, "payment-overdue", f"[지급 지연] {owners.tag(e)} — {whose}", text,
                      e.application_id, f"/operator/payments#payment-{e.payment_id}")]
    if payee:
        notices.append(Notice(payee, "payment-overdue", owners.subject(e, "지급이 늦어지고 있습니다"),
                              f"{text}. 센터가 확인하고 있습니다.", e.application_id, _payment_link(e)))
    return Reading(entries, tuple(notices))


_READERS: dict[type, Callable[[Any, Known], Reading]] = {
    ApplicationSubmitted: _submitted, ApplicationWithdrawn: _withdrawn, ScreeningStarted: _started,
    SupplementRequested: _supplement, ApplicationRejected: _rejected, ManualReviewRequested: _review,
    ScreeningPassed: _passed, ScoresFinalized: _scores, ApplicationSelected: _selected, AgreementSigned: _signed,
    ParticipationGivenUp: _given_up, AgreementTerminated: _terminated, ReportReturned: _returned,
    ReportAccepted: _accepted, FollowUpReminder: _follow_up, PaymentDue: _due, PaymentRecorded: _recorded,
    PaymentOverdue: _overdue, SubsidyRequestReturned: _request_returned, GrantDecided: _grant_decided,
}
