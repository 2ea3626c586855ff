"""One adapter interface for the four registries (D2), an HTTP adapter for each, and the pure interpretation
of what each registry answers.

The HTTP shapes follow the real services: the business-status adapter speaks the national tax service's
business-status and validation API (`/api/nts-businessman/v1/status`, `/validate`); the others speak small JSON
APIs. A deployment points each adapter at a real endpoint by configuration (SCREENING_REGISTRY_URL and
SCREENING_REGISTRY_KEY); tests and the main job use the local registry server in deploy/registry/."""
from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any, Callable, Protocol

import httpx

from screening.lookup.duplicates import PriorProject, ProjectText, check_duplicates
from screening.lookup.messages import DuplicateVerdict, LookupResult, LookupSubject, Registry, Verdict
from screening.similarity.analysis import kiwi
from screening.similarity.index import PriorProjectIndex
from screening.similarity.verdict import Applicant, Judgement, Thresholds, judge
from sme_schemas.screening import Finding


class RegistryUnavailable(Exception):
    """The registry did not answer (timeout, connection refused, 5xx, 429): the lookup waits and retries."""


class RegistryTimedOut(RegistryUnavailable):
    """The registry did not answer within the timeout."""


class RegistryRefused(Exception):
    """The registry answered that it will not answer this query (4xx): a person has to look."""


class RegistryAdapter(Protocol):
    registry: Registry

    async def look_up(self, subject: LookupSubject) -> LookupResult:
        """Ask the registry; raise RegistryUnavailable when it cannot answer now."""


class BatchingRegistryAdapter(RegistryAdapter, Protocol):
    """A registry that answers many subjects in one call (the worker sends up to `batch_limit` at a time)."""

    batch_limit: int

    async def look_up_many(self, subjects: list[LookupSubject]) -> list[LookupResult]:
        """One answer per subject, in the order asked."""


# --- pure interpretation of registry answers ------------------------------------------------------------------

NTS_SUSPENDED, NTS_CLOSED, NTS_ACTIVE = "02", "03", "01"
NTS_BATCH_LIMIT = 100  # business numbers per status or validation call, the NTS API's own limit


def interpret_business_status(status: dict[str, Any], validation: dict[str, Any] | None) -> LookupResult:
    """X3 from the NTS status code; X4 referral when the NTS validation (BRN + 개업일자 + 대표자) disagrees."""
    row = (status.get("data") or [{}])[0]
    code = row.get("b_stt_cd", "")
    if code == NTS_SUSPENDED:
        return LookupResult(
            verdict=Verdict.EXCLUDED,
            findings=(
                Finding(
                    rule="X3",
                    detail=f"국세청 사업자 상태: {row.get('b_stt') or '휴업자'} (사업자등록번호 {row.get('b_no')})",
                ),
            ),
        )
    if code == NTS_CLOSED:
        return LookupResult(
            verdict=Verdict.EXCLUDED,
            findings=(
                Finding(
                    rule="X3",
                    detail=f"국세청 사업자 상태: {row.get('b_stt') or '폐업자'}, 폐업일 {_iso_day(row.get('end_dt'))}",
                ),
            ),
        )
    if code != NTS_ACTIVE:
        return LookupResult(verdict=Verdict.REFER, findings=(Finding(
            rule="X3", detail=f"국세청 조회 결과를 확정할 수 없습니다: {row.get('tax_type') or '상태 코드 없음'}"),))
    state = f"국세청 사업자 상태: {row.get('b_stt', '계속사업자')} ({row.get('tax_type', '')})"
    valid = ((validation or {}).get("data") or [{}])[0].get("valid")
    if validation is not None and valid != "01":
        return LookupResult(verdict=Verdict.REFER, findings=(Finding(
            rule="X4", detail=f"{state}; 진위확인 결과 신청서의 대표자 성명 또는 개업일자가 등록 정보와 다릅니다: "
                              "허위 기재 여부 판단이 필요합니다"),))
    return LookupResult.clear("X3", state)


PLACE_KINDS = {"hq": "본사", "factory": "공장"}


def interpret_places(places: list[dict[str, Any]] | None, subject: LookupSubject) -> LookupResult | None:
    """X1 공고일 현재, from the registration itself (사업장 소재지와 그 등록·이전일): a place in the program's city
    registered on or before the announcement day and not moved out before it. None: the registry knows no places
    for the company (the application's statement stands, checked by the rules). A company registered in the city
    later than the application says is referred (X4: Q3 counts the years in the city from the application)."""
    city, announced = subject.region_city, subject.announcement_date
    if not city or not places:
        return None
    in_city = [p for p in places if city in p.get("address", "")]
    on_the_day = [p for p in in_city
                  if _in_effect(_iso_or_none(p.get("registered_on")), _iso_or_none(p.get("moved_out_on")), announced)]
    history = "; ".join(f"{PLACE_KINDS.get(p.get('kind', ''), p.get('kind', ''))} {p.get('address')} "
                        f"({_iso_day(p.get('registered_on'))}~{_iso_or_none(p.get('moved_out_on')) or ''})"
                        for p in places)
    if not on_the_day:
        return LookupResult(verdict=Verdict.EXCLUDED, findings=(Finding(
            rule="X1", detail=f"공고일({announced}) 현재 {city}에 등록된 본사·공장이 없습니다 "
                              f"(등록 이력: {history})"),))
    known = [date.fromisoformat(day) for p in on_the_day if (day := _iso_or_none(p.get("registered_on")))]
    since, declared = min(known, default=None), subject.declared_in_city_since
    if since is not None and declared is not None and since > declared:
        return LookupResult(verdict=Verdict.REFER, findings=(Finding(
            rule="X4", detail=f"신청서의 {city} 사업 개시일 {declared}보다 등록상 {city} 소재일 {since}이 늦습니다: "
                              f"허위 기재 여부와 Q3 배점 판단이 필요합니다 (등록 이력: {history})"),))
    return LookupResult.clear("X1", f"공고일({announced}) 현재 {city} 소재 등록 확인: {history}")


def merged(*results: LookupResult | None) -> LookupResult:
    """One registry's answers to several questions as one: the gravest verdict, every finding."""
    given = [r for r in results if r is not None]
    gravest = next((v for v in (Verdict.EXCLUDED, Verdict.REFER) if any(r.verdict is v for r in given)),
                   Verdict.CLEAR)
    return LookupResult(verdict=gravest, findings=tuple(f for r in given for f in r.findings
                                                        if r.verdict is gravest or gravest is Verdict.CLEAR))


def _in_effect(start: str | None, end: str | None, on: date) -> bool:
    return (start is None or date.fromisoformat(start) <= on) and (end is None or date.fromisoformat(end) >= on)


CREDIT_RULES = {"credit-restriction": ("X2", "금융기관 불량거래처 규제"), "delinquency": ("X8", "신용거래 불량")}
ROLE_NAMES = {"company": "기업", "ceo": "대표자", "project-manager": "과제책임자"}


def interpret_credit(answer: dict[str, Any], as_of: date) -> LookupResult:
    """X2 credit restriction, X8 credit delinquency: of the company, the CEO or the project manager, in effect."""
    findings = []
    for subject in answer.get("results", []):
        for record in subject.get("records", []):
            if record.get("type") in CREDIT_RULES and _in_effect(
                record.get("registered_on"), record.get("cleared_on"), as_of
            ):
                rule, label = CREDIT_RULES[record["type"]]
                findings.append(Finding(rule=rule, detail=f"{ROLE_NAMES.get(subject.get('role'), subject.get('role'))} "
                                        f"{subject.get('name', '')}: {label} ({record.get('institution', '')}, "
                                        f"{record.get('registered_on')} 등록)"))
    if findings:
        return LookupResult(verdict=Verdict.EXCLUDED, findings=tuple(findings))
    return LookupResult.clear("X2", "기업·대표자·과제책임자 모두 신용 규제·불량 기록 없음")


ADMINISTRATIVE = {
    "environmental-enforcement": "환경 단속",
    "illegal-building": "위반건축물",
    "local-tax-arrears": "지방세 체납",
}
PUBLIC = {"public-sanction": "공공기관 사업 제재", "unfulfilled-obligation": "의무사항 불이행"}


def interpret_sanctions(answer: dict[str, Any], *, announcement_date: date, as_of: date) -> LookupResult:
    """X9: an administrative sanction in effect on the announcement date; X8: a public sanction or unfulfilled
    obligation in effect now."""
    findings = []
    for record in answer.get("records", []):
        category, role = record.get("category"), ROLE_NAMES.get(record.get("subject_role"), "기업")
        start, end = record.get("imposed_on"), record.get("lifted_on")
        if category in ADMINISTRATIVE and _in_effect(start, end, announcement_date):
            findings.append(
                Finding(
                    rule="X9",
                    detail=f"공고일({announcement_date}) 기준 행정처분: {ADMINISTRATIVE[category]} "
                    f"— {record.get('agency')} {record.get('record_id')} ({start}~{end or ''}) "
                    f"{record.get('detail', '')}".strip(),
                )
            )
        elif category in PUBLIC and _in_effect(start, end, as_of):
            findings.append(Finding(rule="X8", detail=f"{role}: {PUBLIC[category]} — {record.get('agency')} "
                                    f"{record.get('record_id')} ({start}~{end or ''})"))
    if findings:
        return LookupResult(verdict=Verdict.EXCLUDED, findings=tuple(findings))
    return LookupResult.clear("X9", "공고일 기준 행정처분·공공기관 제재 기록 없음 (환경, 건축, 지방세)")


def _thresholds(subject: LookupSubject) -> Thresholds:
    """The program's D3 lines as the request carries them; a request from before a line existed gets its default."""
    given = {"duplicate_threshold": subject.duplicate_threshold, "borderline_threshold": subject.borderline_threshold,
             "outlier_z": subject.national_outlier_z, "semantic_threshold": subject.national_semantic_threshold,
             "semantic_z": subject.national_semantic_z}
    return Thresholds(**{name: value for name, value in given.items() if value is not None})


def interpret_prior_projects(answer: dict[str, Any], subject: LookupSubject,
                             national: PriorProjectIndex | None = None) -> LookupResult:
    """X5 with D1–D3: the plan against the company's ongoing projects in the R&D registries and, when the worker
    has the national prior-project index, against every company's projects."""
    own = _against_own_projects(answer, subject)
    if national is None or own.verdict is Verdict.EXCLUDED:
        return own
    given = {"goal": subject.goal, "method": subject.method, "content": subject.content}
    plan = {element: text for element, text in given.items() if text}
    judgement = judge(
        national.search(plan, top=None),
        Applicant(subject.business_registration_number, subject.ceo_name),
        _thresholds(subject),
    )
    if judgement.verdict is DuplicateVerdict.DUPLICATE:
        return LookupResult(verdict=Verdict.EXCLUDED, findings=(Finding(
            rule="X5", detail=f"동일·유사 과제가 이미 수행되었습니다 (전국 선행 과제 {len(national):,}건 검색): "
                              f"{judgement.evidence()}"),))
    if judgement.verdict is DuplicateVerdict.BORDERLINE:
        referral = Finding(rule="D3", detail=_side_by_side(judgement, len(national)))
        return LookupResult(verdict=Verdict.REFER, findings=(*own.findings, referral)
                            if own.verdict is Verdict.REFER else (referral,))
    if own.verdict is Verdict.REFER:
        return own
    return LookupResult.clear("X5", f"{own.findings[0].detail}; 전국 선행 과제 {len(national):,}건 중 최고 유사: "
                                    f"{judgement.evidence()}")


def _side_by_side(judgement: Judgement, corpus_size: int) -> str:
    """The committee's view of a referral: the match named, its scores, and its own words per element (the
    applicant's plan is on the application beside it)."""
    assert judgement.match is not None, "a referral always names its match"
    record = judgement.match.record
    texts = "\n".join(f"[{label}] {(record.get(element) or '')[:1500]}"
                      for element, label in (("goal", "개발목표"), ("method", "개발방법"), ("content", "개발내용")))
    return (f"유사 과제 가능성 (위원회 판단 필요, 전국 선행 과제 {corpus_size:,}건 검색): {judgement.evidence()}\n"
            f"유사 과제의 계획 내용:\n{texts}")


def _against_own_projects(answer: dict[str, Any], subject: LookupSubject) -> LookupResult:
    """The company's own ongoing projects as the registries list them."""
    corpus = [PriorProject(registry=item["registry"], project_id=item["project_id"], title=item["title"],
                           company_brn=item.get("company_brn"),
                           text=ProjectText(goal=item["goal"], method=item["method"], content=item["content"]))
              for item in answer.get("items", [])]
    plan = ProjectText(goal=subject.goal or "", method=subject.method or "", content=subject.content or "")
    check = check_duplicates(plan, corpus, duplicate_threshold=subject.duplicate_threshold or 0.75,
                             borderline_threshold=subject.borderline_threshold or 0.45)
    if check.verdict is DuplicateVerdict.DUPLICATE:
        return LookupResult(verdict=Verdict.EXCLUDED, findings=(Finding(
            rule="X5", detail=f"동일·유사 과제를 타 기관에서 수행 중입니다: {check.evidence()}"),))
    if check.verdict is DuplicateVerdict.BORDERLINE:
        return LookupResult(verdict=Verdict.REFER, findings=(Finding(
            rule="D3", detail=f"유사 과제 가능성 (위원회 판단 필요): {check.evidence()}"),))
    searched = f"수행 중 과제 {len(corpus)}건과 비교" + (f", 최고 유사 {check.evidence()}" if check.best else "")
    return LookupResult.clear("X5", searched)


# --- HTTP adapters ------------------------------------------------------------------------------------------

POOL_SIZE = 8  # connections per HTTP pool of a registry adapter


class _Pool:
    """One httpx client (its connection pool) and the calls this adapter has under way on it."""

    def __init__(self, client: httpx.AsyncClient, *, owned: bool) -> None:
        self.client, self.owned = client, owned
        self.in_flight, self.retired = 0, False


class HttpRegistry(ABC):
    """Shared HTTP plumbing: a registry that does not answer is unavailable; a refusal is for an operator."""

    registry: Registry
    batch_limit: int

    def __init__(self, base_url: str, *, service_key: str = "", client: httpx.AsyncClient | None = None,
                 connections: int = 64, timeout_seconds: float | None = None, pool_size: int = POOL_SIZE) -> None:
        self.base_url, self.service_key = base_url.rstrip("/"), service_key
        # With `timeout_seconds` each call to the registry is bounded here, and only the call: what the worker
        # does with the answer on its own CPU (the national similarity analysis) is not the registry being slow,
        # and bounding it too made a loaded host's analysis queue look like a failing registry — timeouts, an
        # open circuit, the batch polled and analysed again, and the slowest analyses never answered (issue 28).
        # The bound is httpx's own (connect, write, read, and the wait for a pooled connection): a call that
        # times out fails inside httpcore, which closes that connection. Cancelling the call from outside
        # (asyncio.wait_for) instead could leave its connection in the pool for good (httpcore #1093): one
        # worker ended with all 64 connections in CLOSE-WAIT and answered three lookups a minute (issue 30).
        # Without it the worker's own timeout bounds the whole lookup.
        # Every connection the worker may use at once is kept alive (httpx keeps 20 by default: a worker with 64
        # calls in flight would open and close a TCP connection for most of them), spread over small pools:
        # httpcore walks all of a pool's connections for every request, which cost a worker with one pool of 64
        # more than half its CPU (py-spy).
        self.pool_size = pool_size
        self.pools = [_Pool(client, owned=False)] if client else [
            self._new_pool() for _ in range(max(1, -(-connections // pool_size)))]
        self.client = self.pools[0].client
        self._turn = 0
        self.timeout_seconds = timeout_seconds
        self._timeout = httpx.Timeout(timeout_seconds) if timeout_seconds is not None else None
        # connect, write, read and the pool wait are each bounded by the timeout: four of them and a second
        self._backstop = 4 * timeout_seconds + 1 if timeout_seconds is not None else None
        self.pools_replaced = 0
        self._closing: set[asyncio.Task[None]] = set()

    def _new_pool(self) -> _Pool:
        return _Pool(httpx.AsyncClient(timeout=None, limits=httpx.Limits(
            max_connections=self.pool_size, max_keepalive_connections=self.pool_size)), owned=True)

    async def look_up(self, subject: LookupSubject) -> LookupResult:
        return (await self.look_up_many([subject]))[0]

    async def look_up_many(self, subjects: list[LookupSubject]) -> list[LookupResult]:
        """One answer per subject, in the order asked: every registry is asked in batches (issue 30)."""
        if not 1 <= len(subjects) <= self.batch_limit:
            raise ValueError(f"{self.registry.value}: a call takes 1 to {self.batch_limit} applications, "
                             f"not {len(subjects)}")
        return await self._answer(subjects)

    @abstractmethod
    async def _answer(self, subjects: list[LookupSubject]) -> list[LookupResult]:
        """The registry's answers to 1 to `batch_limit` subjects."""

    @property
    def bounds_its_calls(self) -> bool:
        """Whether each registry call is bounded here (the worker then leaves the rest of a lookup unbounded)."""
        return self.timeout_seconds is not None

    async def _call(self, method: str, path: str, **kwargs) -> dict[str, Any]:
        pool = self.pools[self._turn % len(self.pools)]
        self._turn += 1
        pool.in_flight += 1
        request = pool.client.request(
            method, self.base_url + path, params={"serviceKey": self.service_key, **kwargs.pop("params", {})},
            timeout=self._timeout if self._timeout is not None else httpx.USE_CLIENT_DEFAULT, **kwargs)
        try:
            # httpx bounds each phase; the backstop only cuts short a call that no phase timeout caught (a server
            # trickling its answer), and that pool is then replaced like any call cut short.
            response = await asyncio.wait_for(request, self._backstop)
        except httpx.PoolTimeout as exc:
            self._replace(pool)  # no connection freed up within the timeout: a slot may be held by nobody
            raise RegistryTimedOut(f"{self.registry.value}: {type(exc).__name__}: no free connection") from exc
        except (httpx.TimeoutException, asyncio.TimeoutError) as exc:
            if isinstance(exc, asyncio.TimeoutError):
                self._replace(pool)
            raise RegistryTimedOut(f"{self.registry.value}: {type(exc).__name__}: no answer within "
                                   f"{self.timeout_seconds}s") from exc
        except httpx.HTTPError as exc:
            raise RegistryUnavailable(f"{self.registry.value}: {type(exc).__name__}: {exc}") from exc
        except asyncio.CancelledError:
            self._replace(pool)  # cut short from outside: httpcore may have kept its connection (see above)
            raise
        finally:
            pool.in_flight -= 1
            self._close_if_done(pool)
        if response.status_code >= 500 or response.status_code == 429:
            raise RegistryUnavailable(f"{self.registry.value}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise RegistryRefused(f"{self.registry.value} refused the query: HTTP {response.status_code} "
                                  f"{response.text[:200]}")
        return response.json()

    def _replace(self, pool: _Pool) -> None:
        """New calls go to a fresh pool at once; the old one is closed (every socket it holds, in CLOSE-WAIT or
        orphaned) as soon as the calls still under way on it are over."""
        if pool.retired or not pool.owned:
            return
        pool.retired = True
        self.pools[self.pools.index(pool)] = self._new_pool()
        self.pools_replaced += 1

    def _close_if_done(self, pool: _Pool) -> None:
        if pool.retired and pool.in_flight == 0:
            closing = asyncio.ensure_future(pool.client.aclose())
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        for pool in self.pools:
            await pool.client.aclose()
        await asyncio.gather(*self._closing, return_exceptions=True)


class BusinessStatusRegistry(HttpRegistry):
    """The NTS status and validation API: both calls take up to 100 businesses at once, so a surge of
    applications costs two calls per hundred, not two per application."""

    registry = Registry.BUSINESS_STATUS
    batch_limit = NTS_BATCH_LIMIT

    async def _answer(self, subjects: list[LookupSubject]) -> list[LookupResult]:
        numbers = [s.business_registration_number for s in subjects]
        status = await self._call("POST", "/api/nts-businessman/v1/status", json={"b_no": numbers})
        places = await self._places(subjects)
        validation = await self._call("POST", "/api/nts-businessman/v1/validate", json={"businesses": [
            {"b_no": s.business_registration_number, "start_dt": s.founded_on.strftime("%Y%m%d"),
             "p_nm": s.ceo_name} for s in subjects]})
        rows = {row.get("b_no"): row for row in status.get("data") or []}
        checks = validation.get("data") or []
        if len(checks) != len(subjects):
            raise RegistryRefused(f"validation answered {len(checks)} of {len(subjects)} businesses")
        results = []
        for subject, check in zip(subjects, checks):  # the API answers validations in the order asked
            brn = subject.business_registration_number
            if check.get("b_no") != brn:
                raise RegistryRefused(f"validation answers out of order: {check.get('b_no')} for {brn}")
            results.append(merged(
                interpret_business_status({"data": [rows.get(brn, {"b_no": brn})]}, {"data": [check]}),
                interpret_places(places.get(brn), subject)))
        return results

    async def _places(self, subjects: list[LookupSubject]) -> dict[str, list[dict[str, Any]]]:
        """X1: the registered places (사업장 소재지 이력) of the businesses whose program asks for a city."""
        asked = [s.business_registration_number for s in subjects if s.region_city]
        if not asked:
            return {}
        answer = await self._call("POST", "/api/business-places/v1/places", json={"b_no": asked})
        return {row.get("b_no"): row.get("places") or [] for row in answer.get("data") or []}


CREDIT_BATCH_LIMIT = 33  # applications per credit inquiry: three subjects each, up to 99 subjects a call
SANCTIONS_BATCH_LIMIT = 100  # businesses per sanctions search
PROJECTS_BATCH_LIMIT = 100  # businesses per R&D project search


class CreditRegistry(HttpRegistry):
    """The credit bureau's inquiry takes a list of subjects (company, CEO, project manager): a surge's
    applications go in one call per 33, not one call each — the call, not the answer, was two thirds of the
    worker's CPU (issue 30)."""

    registry = Registry.CREDIT
    batch_limit = CREDIT_BATCH_LIMIT

    async def _answer(self, subjects: list[LookupSubject]) -> list[LookupResult]:
        answers: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        for as_of, on_the_day in _by_day(subjects):
            asked = [q for s in on_the_day for q in _credit_subjects(s)]
            answer = await self._call("POST", "/credit/v1/inquiries",
                                      json={"as_of": as_of.isoformat(), "subjects": list({
                                          (q["role"], q["brn"], q["name"]): q for q in asked}.values())})
            for result in answer.get("results", []):
                answers[(as_of.isoformat(), result.get("role"), result.get("brn"), result.get("name"))] = result
        results = []
        for s in subjects:
            own = [answers.get((s.as_of.isoformat(), q["role"], q["brn"], q["name"])) for q in _credit_subjects(s)]
            if any(r is None for r in own):
                raise RegistryRefused(f"the credit bureau left {s.business_registration_number}'s subjects unanswered")
            results.append(interpret_credit({"results": own}, s.as_of))
        return results


def _by_day(subjects: list[LookupSubject]) -> list[tuple[date, list[LookupSubject]]]:
    """The subjects by the day they are asked about (one call per day; nearly always one), days in order."""
    days: dict[date, list[LookupSubject]] = {}
    for subject in subjects:
        days.setdefault(subject.as_of, []).append(subject)
    return sorted(days.items())


def _credit_subjects(subject: LookupSubject) -> list[dict[str, str]]:
    brn = subject.business_registration_number
    return [{"role": "company", "brn": brn, "name": subject.company_name},
            {"role": "ceo", "brn": brn, "name": subject.ceo_name},
            {"role": "project-manager", "brn": brn, "name": subject.project_manager_name}]


class SanctionsRegistry(HttpRegistry):
    """Sanction records of up to 100 businesses a call (issue 30); each is judged on its own announcement date."""

    registry = Registry.SANCTIONS
    batch_limit = SANCTIONS_BATCH_LIMIT

    async def _answer(self, subjects: list[LookupSubject]) -> list[LookupResult]:
        numbers = list(dict.fromkeys(s.business_registration_number for s in subjects))
        answer = await self._call("POST", "/sanctions/v1/records/search", json={"brns": numbers})
        found = {row.get("brn"): row for row in answer.get("results", [])}
        results = []
        for s in subjects:
            row = found.get(s.business_registration_number)
            if row is None:
                raise RegistryRefused(f"the sanctions search left {s.business_registration_number} unanswered")
            results.append(interpret_sanctions(row, announcement_date=s.announcement_date, as_of=s.as_of))
        return results


# The similarity analysis (Kiwi morphemes, TF-IDF) is CPU work: it runs beside the event loop, one at a time, so
# the worker's other lookups, its polls and /health go on meanwhile.
_ANALYSIS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="similarity")


class PriorProjectRegistry(HttpRegistry):
    """The company's ongoing projects from the registries (live), and — with `national` — the national
    prior-project index this worker owns (`SCREENING_SIMILARITY_INDEX`)."""

    registry = Registry.DUPLICATE_PROJECTS
    batch_limit = PROJECTS_BATCH_LIMIT
    national: PriorProjectIndex | None = None

    async def _answer(self, subjects: list[LookupSubject]) -> list[LookupResult]:
        """The ongoing projects of up to 100 businesses in one search per day asked about (issue 30: one call per
        lookup was most of the worker's CPU), then each plan analysed against its own company's projects."""
        ongoing: dict[tuple[date, str], list[dict[str, Any]]] = {}
        for as_of, on_the_day in _by_day(subjects):
            numbers = list(dict.fromkeys(s.business_registration_number for s in on_the_day))
            answer = await self._call("POST", "/rnd/v1/projects/search", json={
                "brns": numbers, "ongoing_on": as_of.isoformat(), "registries": ["NTIS", "SMTECH", "GSTEP-PMS"]})
            for brn in numbers:
                ongoing[(as_of, brn)] = []
            for item in answer.get("items", []):
                if (key := (as_of, item.get("company_brn"))) in ongoing:
                    ongoing[key].append(item)
        answers = [{"items": ongoing[(s.as_of, s.business_registration_number)]} for s in subjects]
        return await asyncio.get_running_loop().run_in_executor(_ANALYSIS, self._analyse, answers, subjects)

    def _analyse(self, answers: list[dict[str, Any]], subjects: list[LookupSubject]) -> list[LookupResult]:
        return [interpret_prior_projects(a, s, self.national) for a, s in zip(answers, subjects)]

    async def warm_up(self) -> None:
        """Load the morpheme analyser before the first lookup, so no lookup's timeout pays for it."""
        await asyncio.get_running_loop().run_in_executor(_ANALYSIS, kiwi)


ADAPTERS: dict[Registry, Callable[..., RegistryAdapter]] = {
    Registry.BUSINESS_STATUS: BusinessStatusRegistry, Registry.CREDIT: CreditRegistry,
    Registry.SANCTIONS: SanctionsRegistry, Registry.DUPLICATE_PROJECTS: PriorProjectRegistry,
}


def _iso_or_none(nts_day: str | None) -> str | None:
    return _iso_day(nts_day) if (nts_day or "").strip() else None


def _iso_day(nts_day: str | None) -> str:
    """The tax service's 20261021 as 2026-10-21, the way every date is written; anything else as it came."""
    digits = (nts_day or "").strip()
    if len(digits) == 8 and digits.isdigit():
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    return digits or "미상"
