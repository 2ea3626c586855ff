"""The main job's last stage: walls between agencies (T1, issue 27). Every route of the five services' OpenAPI
documents is tried, on this call's records, by another agency's staff (and, where evaluators or experts act, by
another agency's evaluator or expert): each is refused (404/403) or, a listing, shows none of this call's records,
and every record read again afterwards is as it was. The same routes read by this agency's staff answer 200, so a
refusal is the wall, not a missing record. Exits non-zero naming each route that let the other agency through."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from deploy.local import polite
from deploy.local.endpoints import BASE, CONTRACTS, EVALUATION, PAYMENTS, SCREENING, token
from deploy.local.procs import demo_agencies
from deploy.local.show import heading
from deploy.sample.program_call import sample_forms
from sme_runtime.auth import Role

URLS = {"intake": BASE, "screening": SCREENING, "evaluation": EVALUATION, "contracts": CONTRACTS,
        "payments": PAYMENTS}
NOT_A_RECORD = ("/livez", "/readyz", "/health", "/schemas/", "/asyncapi.json", "/metrics")
PUBLIC = {("intake", "GET", "/programs")}  # program announcements (공고) are every agency's to read
# A company's own routes: one account across agencies, walled by its number (C9), not by an agency
COMPANY_ONLY = {("contracts", "POST", "/agreements/{agreement_id}/give-up"),
                ("contracts", "POST", "/agreements/{agreement_id}/report"),
                ("contracts", "POST", "/agreements/{agreement_id}/follow-ups/{kind}")}
EVALUATOR_ONLY = {("evaluation", "PUT", "/rounds/{round_id}/applications/{application_id}/declaration"),
                  ("evaluation", "PUT", "/rounds/{round_id}/applications/{application_id}/score")}
EVALUATOR_TOO = {("evaluation", "GET", "/rounds"), ("evaluation", "GET", "/rounds/{round_id}/applications"),
                 ("evaluation", "GET", "/rounds/{round_id}/applications/{application_id}")}
EXPERT_ROUTES = {("contracts", "POST", "/agreements/{agreement_id}/sessions"),
                 ("contracts", "GET", "/agreements/{agreement_id}"),
                 ("contracts", "GET", "/agreements/{agreement_id}/sessions"),
                 ("contracts", "GET", "/agreements/{agreement_id}/follow-ups"), ("contracts", "GET", "/agreements")}


@dataclass
class Tally:
    refused: dict[int, int] = field(default_factory=dict)
    lists_hidden: int = 0
    own_reads: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def tried(self) -> int:
        return sum(self.refused.values()) + self.lists_hidden + len(self.failures)


def run_walls(program: dict[str, Any]) -> Tally:
    own = program["agency"]
    other = next(a for a in (*demo_agencies(), "walled-off-agency") if a != own)
    heading(f"walls between agencies (T1): {other}'s people at {own}'s records")
    ids = _records_of(program)
    routes = _routes()
    before = _reads(routes, ids, program, audited_too=True)
    tally = Tally()
    for service, method, path in routes:
        for role in _tried_as(service, method, path):
            # the same person as the records' own (the seated evaluator, the engagement's expert): only the agency
            # differs, so a refusal is the agency's wall and not a seat's or an engagement's
            person = {Role.EVALUATOR: {"subject": ids["evaluator_id"]}, Role.EXPERT: {"brn": ids["brn"]}}
            _try(tally, service, method, path, ids, program,
                 token(role, agencies=(other,), **person.get(role, {})), role)
    after = _reads(routes, ids, program)
    changed = sorted(k for k in after if before[k] != after[k])
    tally.own_reads = len(before)
    tally.failures += [f"{k}: changed after {other}'s attempts" for k in changed]
    by_status = ", ".join(f"{n}× {s}" for s, n in sorted(tally.refused.items()))
    print(f"{tally.tried} attempts on {len(routes)} routes of {len(URLS)} services by {other}'s staff, evaluator and "
          f"expert: {sum(tally.refused.values())} refused ({by_status}), {tally.lists_hidden} listings showed none "
          f"of {own}'s records, {len(tally.failures)} let through")
    print(f"{len(before)} reads as {own}'s staff answered 200; read again after the attempts, "
          f"{len(after) - len(changed)} of {len(after)} unchanged (reading the account number is itself audited: "
          f"read once); company-only routes ({len(COMPANY_ONLY)}) are walled by the company's number (C9)")
    if tally.failures:
        raise SystemExit("walls between agencies let through:\n  " + "\n  ".join(tally.failures))
    return tally


def _records_of(program: dict[str, Any]) -> dict[str, Any]:
    """One record of each kind of this call, as its own agency's staff find them."""
    pid, staff = program["program_id"], token(Role.OPERATOR, agencies=(program["agency"],))
    payments = polite.get(f"{PAYMENTS}/payments", params={"program_id": pid}, headers=staff).json()
    paid = next(p for p in payments if p["purpose"] == "subsidy")
    agreements = polite.get(f"{CONTRACTS}/agreements", params={"program_id": pid}, headers=staff).json()
    agreement = next(a for a in agreements if a["application_id"] == paid["application_id"])
    round_id = polite.get(f"{EVALUATION}/applications/{paid['application_id']}", headers=staff).json()["round_id"]
    committee = polite.get(f"{EVALUATION}/rounds/{round_id}", headers=staff).json()["committee"]
    dead = {s: [d["id"] for d in polite.get(f"{url}/dead-letters", params={"include_replayed": "true"},
                                           headers=staff).json() if d.get("program_id") == pid]
            for s, url in URLS.items()}
    return {"program_id": pid, "application_id": paid["application_id"], "payment_id": paid["payment_id"],
            "agreement_id": agreement["agreement_id"], "brn": agreement["business_registration_number"],
            "round_id": round_id, "kind": "survey",
            "evaluator_id": next(s["evaluator_id"] for s in committee if s["role"] != "secretary"),
            "dead_letters": dead}


def _routes() -> list[tuple[str, str, str]]:
    found = []
    for service, url in URLS.items():
        for path, operations in polite.get(f"{url}/openapi.json").json()["paths"].items():
            if not path.startswith(NOT_A_RECORD):
                found += [(service, method.upper(), path) for method in operations
                          if (service, method.upper(), path) not in PUBLIC | COMPANY_ONLY]
    return sorted(found)


def _tried_as(service: str, method: str, path: str) -> list[Role]:
    key = (service, method, path)
    roles = [] if key in EVALUATOR_ONLY else [Role.OPERATOR]
    if key in EVALUATOR_ONLY | EVALUATOR_TOO:
        roles.append(Role.EVALUATOR)
    if key in EXPERT_ROUTES:
        roles.append(Role.EXPERT)
    return roles


def _url(service: str, path: str, ids: dict) -> str:
    filled = path
    for name in ("application_id", "payment_id", "agreement_id", "round_id", "evaluator_id", "program_id", "kind"):
        filled = filled.replace("{" + name + "}", str(ids[name]))
    return URLS[service] + filled


def _body(service: str, method: str, path: str, ids: dict, program: dict) -> Any:
    """A body that passes validation, so the answer is the wall's, not the form's."""
    form = {**sample_forms(program, date.today(), count=1, seed=7)[0], "program_id": ids["program_id"]}
    account = {"bank": "농협은행", "number": "301-1234-5678-91", "holder": "(주)다른기관"}
    dead = ids["dead_letters"][service] or [2**62]  # none of this call here: an id no one has
    bodies = {
        "/applications": form, "/applications/{application_id}": form,
        "/applications/{application_id}/withdrawal": {"reason": "다른 기관의 철회 시도"},
        "/reviews/{application_id}/rulings": {"decision": "exclude", "rules": ["X4"],
                                              "reason": "다른 기관의 판단 시도"},
        # into the records' agency's pool: the other agency's own pool is its own to keep (T1)
        "/evaluators/{evaluator_id}": {"name": "다른 기관 위원", "affiliation": "다른 기관",
                                       "agency": program["agency"]},
        "/rounds": {"program_id": ids["program_id"]},
        "/rounds/{round_id}/committee": {"members": [{"evaluator_id": ids["evaluator_id"], "role": "chair"}]},
        "/rounds/{round_id}/applications/{application_id}/declaration": {"conflicted": True},
        "/rounds/{round_id}/applications/{application_id}/score": {"levels": {}},
        "/agreements/{agreement_id}/amendments": {"reason": "다른 기관의 변경 시도"},
        "/agreements/{agreement_id}/sessions": {"held_on": date.today().isoformat(), "hours": 1, "kind": "follow-up",
                                                "place": "다른 기관", "notes": "다른 기관의 기록 시도"},
        "/agreements/{agreement_id}/give-up/approve": {"restrict": True},
        "/agreements/{agreement_id}/termination": {"reason": "fraud", "note": "다른 기관의 해지 시도"},
        "/agreements/{agreement_id}/report/return": {"reasons": ["다른 기관의 반려 시도"]},
        "/subsidy-requests": {"application_id": ids["application_id"], "proven_cost_including_vat": 1_100_000,
                              "documents": {k: "docs://other" for k in ("quote_ref", "transaction_statement_ref",
                                                                        "tax_invoice_ref", "deposit_receipt_ref",
                                                                        "bankbook_copy_ref")},
                              "account": account},
        "/advance-requests": {"application_id": ids["application_id"], "account": account},
        "/payments/{payment_id}/record": {"amount": 1}, "/payments/{payment_id}/recoveries": {"amount": 1},
        "/payments/{payment_id}/return": {"reasons": ["다른 기관의 반려 시도"]},
        "/payments/{payment_id}/adjustments": {"reason": "다른 기관의 조정 시도", "amount": 1},
        "/dead-letters/replay": {"ids": dead, "reason": "다른 기관의 재처리 시도"},
    }
    if method in ("POST", "PUT") and path not in bodies and not _bodiless(path):
        raise SystemExit(f"walls stage: no body for {method} {service}{path}; add one to walls_stage._body")
    return bodies.get(path)


def _bodiless(path: str) -> bool:
    return path.endswith(("/signatures", "/close", "/report/accept", "/grant-decision"))


def _try(tally: Tally, service: str, method: str, path: str, ids: dict, program: dict, headers: dict,
         role: Role) -> None:
    answer = polite.request(method, _url(service, path, ids), headers=headers,
                           json=_body(service, method, path, ids, program), timeout=30)
    where = f"{method} {service}{path} as {role}"
    if answer.status_code in (403, 404):
        tally.refused[answer.status_code] = tally.refused.get(answer.status_code, 0) + 1
    elif method == "GET" and answer.status_code == 200 and not _shows_own(answer.text, ids):
        tally.lists_hidden += 1
    else:
        tally.failures.append(f"{where}: {answer.status_code} {answer.text[:200]}")


def _shows_own(text: str, ids: dict) -> bool:
    own = [ids[k] for k in ("program_id", "application_id", "payment_id", "agreement_id", "round_id")]
    return any(value in text for value in own) or any(f'"id":{n},' in text.replace(" ", "")
                                                      for d in ids["dead_letters"].values() for n in d)


AUDITED_READS = {("payments", "GET", "/payments/{payment_id}/account")}


def _reads(routes: list[tuple[str, str, str]], ids: dict, program: dict, *,
           audited_too: bool = False) -> dict[str, Any]:
    """Every GET route as the own agency's staff: each must answer 200 (the record is there to be walled). A read
    that is itself recorded (the full account number) only with `audited_too`."""
    staff = token(Role.OPERATOR, agencies=(program["agency"],))
    seen = {}
    for service, method, path in routes:
        if method != "GET" or (service, method, path) in EVALUATOR_ONLY or (
                not audited_too and (service, method, path) in AUDITED_READS):
            continue
        answer = polite.get(_url(service, path, ids), headers=staff, timeout=30)
        if answer.status_code != 200:
            raise SystemExit(f"walls stage: GET {service}{path} as {program['agency']}'s staff: "
                             f"{answer.status_code} {answer.text[:200]}")
        seen[f"GET {service}{path}"] = json.dumps(answer.json(), sort_keys=True, ensure_ascii=False)
    return seen
