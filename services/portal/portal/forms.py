"""서식1 + 서식2 as a web form, pure: the fields in the order of the paper form, the posted fields turned into the
JSON intake takes, and intake's problems turned back into messages beside the fields they name."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Mapping

from portal import labels


@dataclass(frozen=True)
class Field:
    name: str  # the path intake's problems name, e.g. company.regular_employees
    label: str
    kind: str = "text"  # text, textarea, number, date, email, tel, select, yes-no, checkboxes
    required: bool = True
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()


def _choices(mapping: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(mapping.items())


SECTIONS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    ("기업 현황", (
        Field("company.name", "기업명"), Field("company.ceo_name", "대표자 성명"),
        Field("company.business_registration_number", "사업자등록번호", help="숫자 10자리 (- 없이도 됩니다)"),
        Field("company.founded_on", "설립일자", "date"), Field("company.business_type", "업태"),
        Field("company.business_items", "종목"),
        Field("company.industry_code", "업종 코드(한국표준산업분류)", help="예: C29 — 중소기업 여부 판단에 씁니다"),
        Field("company.main_products", "주생산품"), Field("company.main_equipment", "주요 보유설비"),
        Field("company.regular_employees", "상시종업원수(명)", "number"),
        Field("company.revenue_last_year", "전년도 매출액(원)", "number", help="원 단위, 숫자만"),
        Field("company.hq_address", "본사 소재지"),
        Field("company.factory_address", "사업장(공장) 소재지", required=False,
              help="공장이 있으면(공장등록증 필요)"),
        Field("company.gimpo_business_since", "김포시 사업 시작일", "date"),
    )),
    ("사업 담당자", (
        Field("project_manager.name", "성명"), Field("project_manager.department", "부서"),
        Field("project_manager.title", "직책"),
        Field("project_manager.phone", "연락처", "tel", help="예: 031-987-6543"),
        Field("project_manager.email", "이메일", "email"),
    )),
    ("컨설팅 계획", (
        Field("consulting.consulting_field", "컨설팅 희망분야"),
        Field("consulting.consultant_field", "컨설턴트 전문분야"),
        Field("consulting.cost_excluding_vat", "컨설팅 소요비용(부가세 제외, 원)", "number"),
        Field("consulting.sessions", "컨설팅 횟수", "number"),
        Field("consulting.company_difficulties", "기업애로사항", "textarea"),
        Field("consulting.company_introduction", "기업소개", "textarea"),
        Field("consulting.project_overview", "과제개요", "textarea"),
        Field("consulting.necessity_and_purpose", "필요성 및 목적", "textarea"),
        Field("consulting.expected_effects", "기대효과", "textarea"),
        Field("consulting.consulting_content", "컨설팅 내용", "textarea"),
        Field("consulting.schedule.0.month", "진행일정 1 — 월", help="YYYY-MM"),
        Field("consulting.schedule.0.activity", "진행일정 1 — 추진내용"),
        Field("consulting.schedule.1.month", "진행일정 2 — 월", required=False, help="YYYY-MM"),
        Field("consulting.schedule.1.activity", "진행일정 2 — 추진내용", required=False),
        Field("consulting.planned_completion_on", "완료 예정일", "date"),
    )),
    ("전문가(컨설턴트)", (
        Field("expert.name", "성명", required=False, help="전문가를 정했으면 적어 주세요"),
        Field("expert.affiliation", "소속", required=False), Field("expert.title", "직위", required=False),
        Field("expert.contact", "연락처", "tel", required=False),
        Field("expert.qualification.highest_degree", "최종 학위", "select", required=False,
              choices=_choices(labels.DEGREE)),
        Field("expert.qualification.consulting_years", "해당 분야 컨설팅 경력(년)", "number", required=False),
        Field("expert.qualification.licences", "자격증", "checkboxes", required=False,
              choices=_choices(labels.LICENCE)),
    )),
    ("가점 및 우대사항", (
        Field("bonus.past_public_projects", "과제 수행실적(건)", "number", required=False),
        Field("bonus.research_staff", "연구인력(석·박사, 명)", "number", required=False),
        Field("bonus.certifications", "우대사항", "checkboxes", required=False, choices=_choices(labels.CERTIFICATION)),
    )),
    ("확인 및 동의", (
        Field("declarations.plans_to_relocate_outside_gimpo", "사업기간 중 타 시로 이전할 계획이 있습니까?", "yes-no",
              help="있으면 지원 대상이 아닙니다"),
        Field("declarations.consent_to_data_use", "개인·기업정보 수집·이용·제공에 동의합니다 (서식2, 필수)", "consent"),
    )),
)
FIELDS = {f.name: f for _, fields in SECTIONS for f in fields}
EXPERT_SECTION = "전문가(컨설턴트)"
PLAN_SECTION = "컨설팅 계획"


def sections_for(program: dict) -> tuple[tuple[str, tuple[Field, ...]], ...]:
    """서식1 in the program's own words (its file's form_labels, A1): a smart-factory build asks for 구축 희망분야,
    not 컨설팅 희망분야; a two-party program (support.expert_party false) has no expert to name."""
    words: dict[str, str] = {**_region_words(program), **(program.get("form_labels") or {})}
    return tuple((_section_title(program, title), tuple(replace(f, label=words.get(f.name, f.label)) for f in fields))
                 for title, fields in SECTIONS if not (_two_party(program) and title == EXPERT_SECTION))


def _two_party(program: dict) -> bool:
    """C1: a program whose agreement has no expert party (support.expert_party false)."""
    return not (program.get("support") or {}).get("expert_party", True)


def _section_title(program: dict, title: str) -> str:
    return (program.get("form_labels") or {}).get(f"section:{title}", title)


def _region_words(program: dict) -> dict[str, str]:
    """The program's own city where the form names one (X1, Q3): a Seoul program asks since when the company has
    done business in 서울특별시, not in 김포시."""
    city = program.get("region_city")
    return {"company.gimpo_business_since": f"{city} 사업 시작일"} if city else {}


def agreement_words(program: dict) -> dict[str, str]:
    """The agreement page in the program's words (issue 32), from its 서식1 words: the activity its plan names
    ('컨설팅 계획' → 컨설팅 일지, '스마트공장 구축 계획' → 스마트공장 구축 일지) and whom the cost was paid to — the
    expert, the smart factory's 공급기업, or in a two-party program (no expert party) the project itself."""
    activity = _section_title(program, PLAN_SECTION).removesuffix(" 계획")
    if _two_party(program):
        paid = "사업비로 지급한 금액"
    else:
        payee = _section_title(program, EXPERT_SECTION).removesuffix("(컨설턴트)")
        paid = f"{payee}{'에게' if payee == '전문가' else '에'} 지급한 금액"  # a person 에게, a company 에
    fees = "자문료 지급 증빙" if activity == "컨설팅" else "비용 지급 증빙"
    return {"log": f"{activity} 일지", "paid": f"{paid} (부가세 포함, 원)", "fees": f"{fees} (부가세 포함)"}


def labels_for(program: dict) -> dict[str, str]:
    """Each field's label as the program's form shows it (for the error summary)."""
    return {f.name: f.label for _, fields in sections_for(program) for f in fields}


_INDEX = re.compile(r"^\d+$")
MULTI = {"bonus.certifications", "expert.qualification.licences"}
EVIDENCE_ROWS = 8

_MESSAGES = (
    ("Field required", "필수 항목입니다"),
    ("Tuple should have at least", "하나 이상 입력해 주세요"),
    ("List should have at least", "하나 이상 입력해 주세요"),
    ("Tuple should have at most", "너무 많이 입력했습니다"),
    ("List should have at most", "너무 많이 입력했습니다"),
    ("String should have at most", "너무 깁니다"),
    ("Input should be less than or equal to", "허용된 최댓값을 넘습니다"),
    ("Input should be greater than", "더 큰 값이어야 합니다"),
    ("String should have at least", "입력해 주세요"),
    ("Input should be a valid integer", "숫자만 입력해 주세요"),
    ("Input should be greater than or equal to", "0 이상이어야 합니다"),
    ("Input should be a valid date", "날짜를 YYYY-MM-DD로 입력해 주세요"),
    ("String should match pattern", "형식이 맞지 않습니다"),
    ("Input should be a valid boolean", "예 또는 아니오를 고르세요"),
    ("Input should be", "고를 수 있는 값이 아닙니다"),
    ("the consent to collect", "개인·기업정보 수집·이용·제공 동의(서식2)는 필수입니다"),
)


_ENGLISH = re.compile(r"[A-Za-z]{2,}[ ,'-]+[A-Za-z]{2,}")
_HANGUL = re.compile(r"[가-힣]")
_WORDS_IN_MESSAGES = (("check digit", "사업자등록번호의 검증 숫자가 맞지 않습니다"),
                      ("not a valid email", "이메일 형식이 맞지 않습니다"))


def plain_message(message: str) -> str:
    """A service's message as a person here reads it: the catalogue's Korean for the validation library's English,
    the service's own Korean as it is, and for an English sentence nobody catalogued a plain Korean line (the
    rule's words beside it say which rule; issue 32: no English on a page)."""
    for prefix, korean in _MESSAGES:
        if message.startswith(prefix):
            return korean
    for words, korean in _WORDS_IN_MESSAGES:
        if words in message:
            return korean
    if _ENGLISH.search(message) and not _HANGUL.search(message):
        return "입력한 값이 규칙에 맞지 않습니다"
    return message


_OTHER_FIELDS = {"evidence": "증빙 서류", "reasons": "사유", "answers": "답변", "hours": "시간", "held_on": "날짜",
                 "photo_refs": "사진", "photos": "사진", "kind": "구분", "place": "장소", "notes": "내용",
                 "report": "결과보고서", "report_ref": "결과보고서", "logs": "컨설팅 일지", "fees": "자문료 지급 증빙",
                 "draft": "보고서 초안", "proven_cost_including_vat": "지급 금액", "account.bank": "은행",
                 "account.number": "계좌번호", "account.holder": "예금주", "email": "이메일", "login": "아이디",
                 "password": "비밀번호", "name": "이름", "role": "역할", "purpose": "목적", "reason": "사유",
                 "evaluator_id": "평가위원", "members": "위원", "program_id": "사업", "application_id": "신청"}


def field_label(name: str) -> str:
    """The words a person reads for a field a problem names (never its path: 'company.ceo_name' is 대표자 성명);
    empty when the message says enough by itself."""
    if name in FIELDS:
        return FIELDS[name].label
    parts = name.split(".")
    if parts[0] == "evidence" and len(parts) > 1 and parts[1].isdigit():
        return f"증빙 {int(parts[1]) + 1}번째 줄"
    if parts[0] == "program_fields":
        return "사업별 문항"
    if parts[0] in ("documents",) and len(parts) > 1:
        return "제출 서류"
    return _OTHER_FIELDS.get(name, _OTHER_FIELDS.get(parts[-1], ""))


def field_errors(problems: list[dict[str, str]]) -> dict[str, str]:
    """Intake's problems by the form field they name: '입력해 주세요 — A1 (신청서 필수 항목)'."""
    out: dict[str, str] = {}
    for p in problems:
        name = p.get("field", "")
        text = labels.cited(plain_message(p.get("message", "")), p.get("rule"))
        out[name] = f"{out[name]}; {text}" if name in out else text
    return out


def unplaced(errors: dict[str, str], shown: set[str]) -> dict[str, str]:
    """Problems naming no field on the page (shown at the top, never dropped)."""
    return {k: v for k, v in errors.items() if k not in shown}


def _put(tree: dict, path: list[str], value: Any) -> None:
    node: Any = tree
    for i, part in enumerate(path[:-1]):
        nxt: Any = [] if _INDEX.match(path[i + 1]) else {}
        if isinstance(node, list):
            index = int(part)
            while len(node) <= index:
                node.append(type(nxt)())
            node = node[index]
        else:
            node = node.setdefault(part, nxt)
    last = path[-1]
    if isinstance(node, list):
        index = int(last)
        while len(node) <= index:
            node.append(None)
        node[index] = value
    else:
        node[last] = value


def application_json(posted: Mapping[str, Any], multi: Mapping[str, list[str]], program: dict,
                     evidence: list[dict]) -> dict:
    """The JSON intake takes. Values stay as typed (intake checks them and names the field); blank optional fields
    are left out, an unnamed expert is no expert, and the program's own questions take their kinds."""
    tree: dict[str, Any] = {"program_id": program["program_id"]}
    for name, field in FIELDS.items():
        if field.kind in ("checkboxes",):
            _put(tree, name.split("."), list(multi.get(name, [])))
            continue
        raw = str(posted.get(name, "")).strip()
        if field.kind == "yes-no":
            _put(tree, name.split("."), {"yes": True, "no": False}.get(raw, raw or None))
        elif field.kind == "consent":
            _put(tree, name.split("."), raw == "on")
        elif raw or field.required:
            _put(tree, name.split("."), raw)
    schedule = tree.get("consulting", {}).get("schedule", [])
    tree.setdefault("consulting", {})["schedule"] = [s for s in schedule if s and any(s.values())]
    expert = tree.get("expert") or {}
    if not expert.get("name"):
        tree.pop("expert", None)
    else:
        expert.setdefault("qualification", {}).setdefault("highest_degree", "none")
    tree["evidence"] = evidence
    tree["program_fields"] = program_answers(posted, program)
    return tree


def program_answers(posted: Mapping[str, Any], program: dict) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for question in program.get("application_fields") or []:
        raw = str(posted.get(f"program_fields.{question['code']}", "")).strip()
        if not raw:
            continue
        if question["kind"] == "yes-no":
            answers[question["code"]] = {"yes": True, "no": False}.get(raw, raw)
        elif question["kind"] in ("count", "amount-krw"):
            answers[question["code"]] = int(raw) if raw.isdigit() else raw
        else:
            answers[question["code"]] = raw
    return answers


def values_of(application: dict) -> dict[str, Any]:
    """An application as intake shows it, back into form values (for amending and supplementing)."""
    content, contacts = application["content"], application.get("contacts") or {}
    values: dict[str, Any] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        elif isinstance(node, list) and prefix not in MULTI:
            for i, v in enumerate(node):
                walk(f"{prefix}.{i}", v)
        else:
            values[prefix] = node

    walk("", {k: v for k, v in content.items() if k not in ("evidence", "program_fields", "declarations")})
    values["declarations.plans_to_relocate_outside_gimpo"] = (
        "yes" if content["declarations"]["plans_to_relocate_outside_gimpo"] else "no")
    values["declarations.consent_to_data_use"] = "on"
    values["project_manager.phone"] = contacts.get("project_manager_phone", "")
    values["project_manager.email"] = contacts.get("project_manager_email", "")
    values["expert.contact"] = contacts.get("expert_contact") or ""
    for code, answer in (content.get("program_fields") or {}).items():
        values[f"program_fields.{code}"] = ("yes" if answer else "no") if isinstance(answer, bool) else answer
    return values


def resubmission(application: dict, evidence: list[dict]) -> dict:
    """The whole form again (intake's PUT takes the form), with the evidence list replaced: a supplement (E6)."""
    values = values_of(application)
    multi = {name: list(values.get(name) or []) for name in MULTI}
    form = application_json(values, multi, {"program_id": application["program_id"]}, evidence)
    # the program's own answers go back as intake keeps them (already of their kinds)
    return {**form, "program_fields": dict(application["content"].get("program_fields") or {})}


def follow_up_answers(posted: Mapping[str, Any], kind: str, survey_items: list[dict],
                      outcome_questions: list[dict]) -> tuple[dict[str, bool | int | str], dict[str, str]]:
    """M1: a posted follow-up form as contracts takes it — the survey's 1–5 per item, an outcome report's yes/no,
    whole numbers and text by question — and the questions left unanswered or not a number, in Korean."""
    answers: dict[str, bool | int | str] = {}
    errors: dict[str, str] = {}
    questions = ([{**i, "kind": "scale"} for i in survey_items] if kind == "survey" else outcome_questions)
    for q in questions:
        raw = str(posted.get(f"answer.{q['code']}", "")).strip().replace(",", "")
        if not raw:
            errors[q["code"]] = labels.cited(f"{q['title']}: 답해 주세요", "M1")
        elif q["kind"] == "yes-no":
            answers[q["code"]] = raw == "yes"
        elif q["kind"] in ("scale", "count", "amount-krw"):
            if not raw.isdigit():
                errors[q["code"]] = labels.cited(f"{q['title']}: 0 이상의 숫자로 적어 주세요", "M1")
            else:
                answers[q["code"]] = int(raw)
        else:
            answers[q["code"]] = raw
    return answers, errors


AMENDMENT_NUMBERS = ("agreed_amount", "minimum_sessions", "follow_up_sessions")


def amendment(posted: Mapping[str, Any]) -> dict[str, Any]:
    """C5: a posted amendment as contracts takes it — only the terms filled in change; numbers as numbers (a
    number written with commas is still one; anything else goes as written, for contracts to name)."""
    body: dict[str, Any] = {"reason": str(posted.get("reason", "")).strip(),
                            "agreed_by": [p for p in ("company", "expert") if posted.get(f"agreed_by.{p}") == "yes"]}
    for name in ("term_end", "expert_name", "expert_affiliation", *AMENDMENT_NUMBERS):
        value = str(posted.get(name, "")).strip()
        if value:
            plain = value.replace(",", "")
            body[name] = int(plain) if name in AMENDMENT_NUMBERS and plain.isdigit() else value
    return body


def close_reasons(round_: Mapping[str, Any]) -> list[str]:
    """S3: why a round cannot close yet, each in Korean with its rule — evaluation's reasons (close_blocked_by),
    an application's with its facts (score_shortfalls: the scores it has and needs, who has not scored it, who
    is excluded for a conflict), evaluators by their names."""
    names = {s["evaluator_id"]: s["name"] for s in round_.get("committee") or []}
    shortfalls = {f["application_id"]: f for f in round_.get("score_shortfalls") or []}
    return [labels.cited(_close_reason(p, shortfalls, names), p.get("rule") or "S3")
            for p in round_.get("close_blocked_by") or []]


def _close_reason(problem: Mapping[str, str], shortfalls: Mapping[str, Mapping], names: Mapping[str, str]) -> str:
    field = problem.get("field", "")
    shortfall = shortfalls.get(field.removeprefix("applications.")) if field.startswith("applications.") else None
    if shortfall:
        return shortfall_words(shortfall, names)
    return {"committee": "평가위원회를 아직 구성하지 않았습니다",
            "applications": "순위를 매길 신청이 없습니다"}.get(field, plain_message(problem.get("message", "")))


def shortfall_words(shortfall: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """'(주)김포정밀: 유효한 평가 점수 2/3 — 아직 채점하지 않은 위원: 평가위원3; 이해충돌로 제외: 평가위원4(신청 기업에
    최근 재직)'."""
    def who(ids) -> str:
        return ", ".join(names.get(e, "평가위원") for e in ids)

    why = []
    if shortfall["not_scored_by"]:
        why.append(f"아직 채점하지 않은 위원: {who(shortfall['not_scored_by'])}")
    if shortfall["excluded"]:
        why.append("이해충돌로 제외: " + ", ".join(
            f"{names.get(x['evaluator_id'], '평가위원')}({labels.CONFLICT.get(x['reason'], '이해충돌')})"
            for x in shortfall["excluded"]))
    if shortfall["too_few_evaluators"]:
        why.append("이해충돌 없는 위원이 모자랍니다. 위원을 더 배정하세요")
    head = f"{shortfall['company_name']}: 유효한 평가 점수 {shortfall['valid_scores']}/{shortfall['needed']}"
    return f"{head} — {'; '.join(why)}" if why else head
