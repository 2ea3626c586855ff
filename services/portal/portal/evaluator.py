"""The evaluator's pages: the rounds they sit on, the applications assigned to them (evaluation never lists a
conflicted one, F6), the declaration of conflicts, and the score sheet of 별표3 (S1) with the normalised total (S2)."""
from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from portal import labels
from portal.web import PortalServices, posted, render, see_other, signed_in

router = APIRouter()
LEVEL_NAMES = ("매우우수", "우수", "보통", "미흡", "매우미흡")


@router.get("/evaluator")
async def rounds(request: Request, services: PortalServices) -> Response:
    user = await signed_in(request, "evaluator")
    found = await services.get(user.person, "evaluation", "/rounds")
    # Closed rounds too: an evaluator looks back at what they scored (issue 32: a closed round showed nothing)
    assigned = {r["round_id"]: await services.get(user.person, "evaluation", f"/rounds/{r['round_id']}/applications")
                for r in found}
    names = {p["program_id"]: p["name"] for p in await services.programs(user.person)}
    # P5: their allowances, where the allowance notices link (#allowances)
    allowances = await services.get(user.person, "payments", "/payments")
    return await render(request, "evaluator.html", rounds=found, assigned=assigned, allowances=allowances,
                        program_names=names,
                        round_names={r["round_id"]: labels.round_name(r["round_id"], r["program_id"], names)
                                     for r in found})


def normalised(levels: dict[str, int], sheet: dict) -> Decimal:
    """S2: the raw total scaled to the sheet's `normalised_to` (100), as evaluation computes it."""
    raw = sum(levels.values())
    return (Decimal(raw) * sheet.get("normalised_to", 100) / sheet["raw_max"]).quantize(Decimal("0.01"))


@router.get("/evaluator/rounds/{round_id}/applications/{application_id}")
async def sheet(request: Request, services: PortalServices, round_id: str, application_id: str) -> Response:
    user = await signed_in(request, "evaluator")
    found = await services.get(user.person, "evaluation",
                                                 f"/rounds/{round_id}/applications/{application_id}")
    return await render(request, "score_sheet.html", round_id=round_id, app=found, level_names=LEVEL_NAMES,
                        errors={}, saved=None, chosen={})


@router.post("/evaluator/rounds/{round_id}/applications/{application_id}/declaration")
async def declare(request: Request, services: PortalServices, round_id: str, application_id: str) -> Response:
    user, form = await posted(request, "evaluator")
    conflicted = form.get("conflicted") == "yes"
    body = {"conflicted": conflicted, "relation": str(form.get("relation", "")).strip() or None,
            "detail": str(form.get("detail", "")).strip() or None}
    path = f"/rounds/{round_id}/applications/{application_id}"
    answer = await services.call(user.person, "evaluation", "PUT", f"{path}/declaration", json=body)
    if answer.ok and conflicted:
        return see_other("/evaluator")  # a conflicted application leaves the evaluator's list (F6)
    if answer.ok:
        return see_other(f"/evaluator{path}")
    found = await services.get(user.person, "evaluation", path)
    return await render(request, "score_sheet.html", 422, round_id=round_id, app=found, level_names=LEVEL_NAMES,
                        errors={p["field"]: p for p in answer.problems}, saved=None, chosen={})


@router.post("/evaluator/rounds/{round_id}/applications/{application_id}/score")
async def score(request: Request, services: PortalServices, round_id: str, application_id: str) -> Response:
    user, form = await posted(request, "evaluator")
    path = f"/rounds/{round_id}/applications/{application_id}"
    found = await services.get(user.person, "evaluation", path)
    chosen = {item["code"]: str(form.get(f"levels.{item['code']}", ""))
              for item in found["committee_sheet"]["items"]}
    missing = {f"levels.{code}": {"rule": "S1", "message": "다섯 단계 중 하나를 고르세요"}
               for code, value in chosen.items() if not value.isdigit()}
    if missing:
        return await render(request, "score_sheet.html", 422, round_id=round_id, app=found,
                            level_names=LEVEL_NAMES, errors=missing, saved=None, chosen=chosen)
    levels = {code: int(value) for code, value in chosen.items()}
    answer = await services.call(user.person, "evaluation", "PUT", f"{path}/score", json={"levels": levels})
    if not answer.ok:
        return await render(request, "score_sheet.html", 422, round_id=round_id, app=found,
                            level_names=LEVEL_NAMES, errors={p["field"]: p for p in answer.problems}, saved=None,
                            chosen=chosen)
    found = await services.get(user.person, "evaluation", path)
    return await render(request, "score_sheet.html", round_id=round_id, app=found, level_names=LEVEL_NAMES,
                        errors={}, saved=answer.body, chosen=chosen)
