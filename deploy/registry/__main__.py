"""Local stand-in for one external registry (D2): a real HTTP server over a dataset file.

    python -m deploy.registry --registry business-status --port 8101 --data .local/registry.json

None of the real registries (the national tax service's business-status API, the credit bureau, the
sanctions sources, NTIS / SMTECH / GSTEP PMS) is reachable from here. Each registry runs as its own process so
one can be killed or slowed without touching the others; the screening workers talk to it exactly as to the real
endpoint. Like a real registry it takes its time: every call answers after a latency drawn uniformly from
`--latency-ms` (default 50-150, a national API over the internet), so a worker's concurrency is measured, not
hidden; `--latency-ms 0` answers at once, `--delay-seconds` adds a fixed delay on top (a slow registry)."""
from __future__ import annotations

import argparse
import asyncio
import json
import random
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Body, FastAPI, Query
from fastapi.responses import JSONResponse

REGISTRIES = ("business-status", "credit", "sanctions", "duplicate-projects")
UNKNOWN_BRN = "국세청에 등록되지 않은 사업자등록번호입니다."
NTS_BATCH_LIMIT = 100
DEFAULT_LATENCY_MS = (50.0, 150.0)


def parse_latency(text: str) -> tuple[float, float]:
    """'50-150' -> (50.0, 150.0); '0' -> (0.0, 0.0)."""
    low, _, high = text.partition("-")
    bounds = (float(low), float(high or low))
    if bounds[0] < 0 or bounds[1] < bounds[0]:
        raise argparse.ArgumentTypeError(f"--latency-ms {text!r}: give MIN-MAX milliseconds with 0 <= MIN <= MAX")
    return bounds


def create_registry_app(registry: str, data: dict[str, Any], *, delay_seconds: float = 0.0,
                        latency_ms: tuple[float, float] = (0.0, 0.0)) -> FastAPI:
    app = FastAPI(title=f"Local registry: {registry}")
    app.state.calls = 0
    app.state.subjects = 0
    app.state.latency_ms = latency_ms

    @app.middleware("http")
    async def slow_and_count(request, call_next):
        if request.url.path != "/health" and not request.url.path.startswith("/_local/"):
            app.state.calls += 1
            pause = delay_seconds + random.uniform(*app.state.latency_ms) / 1000
            if pause:
                await asyncio.sleep(pause)
        return await call_next(request)

    @app.put("/_local/latency", summary="Change the latency (local stand-in only: a registry that slows down and "
             "recovers, bench.registry_storm)")
    async def set_latency(body: dict = Body(...)):
        try:
            app.state.latency_ms = parse_latency(str(body.get("latency_ms", "0")))
        except (argparse.ArgumentTypeError, ValueError) as exc:
            return JSONResponse({"field": "latency_ms", "message": str(exc)}, status_code=422)
        return {"latency_ms": list(app.state.latency_ms)}

    @app.get("/health")
    async def health() -> dict:
        return {"registry": registry, "calls": app.state.calls, "subjects": app.state.subjects,
                "latency_ms": list(app.state.latency_ms)}

    @app.post("/_local/records/{brn}", summary="Add a record (local stand-in only: a record that arrives later)")
    async def add_record(brn: str, record: dict = Body(...)) -> dict:
        section = {"credit": "credit", "sanctions": "sanctions"}.get(registry)
        if section is None:
            return {"added": False}
        data[section].setdefault(brn, []).append(record)
        return {"added": True}

    if registry == "business-status":
        _business_status(app, data["business_status"])
        _business_places(app, data.get("business_places", {}))
    elif registry == "credit":
        _credit(app, data["credit"])
    elif registry == "sanctions":
        _sanctions(app, data["sanctions"])
    else:
        _projects(app, data["projects"])
    return app


def _business_status(app: FastAPI, companies: dict[str, dict]) -> None:
    """Shaped like the NTS 사업자등록정보 상태조회 / 진위확인 API (nts-businessman/v1): up to 100 businesses a
    call; more is refused with 413 and the API's own code, as the real one does."""

    def too_many(count: int) -> JSONResponse | None:
        if count > NTS_BATCH_LIMIT:
            return JSONResponse({"status_code": "TOO_LARGE_REQUEST",
                                 "message": f"요청 건수가 {NTS_BATCH_LIMIT}건을 초과했습니다 ({count}건)"},
                                status_code=413)
        return None

    def row(brn: str) -> dict:
        known = companies.get(brn)
        if known is None:
            return {"b_no": brn, "b_stt": "", "b_stt_cd": "", "tax_type": UNKNOWN_BRN, "tax_type_cd": "", "end_dt": "",
                    "utcc_yn": "", "tax_type_change_dt": "", "invoice_apply_dt": ""}
        return {"b_no": brn, **{k: known[k] for k in ("b_stt", "b_stt_cd", "tax_type", "tax_type_cd", "end_dt")},
                "utcc_yn": "N", "tax_type_change_dt": "", "invoice_apply_dt": ""}

    @app.post("/api/nts-businessman/v1/status")
    async def status(body: dict = Body(...), serviceKey: str = Query("")):  # noqa: N803 - the API's name
        numbers = body.get("b_no", [])
        if refused := too_many(len(numbers)):
            return refused
        app.state.subjects += len(numbers)
        rows = [row(b) for b in numbers]
        return {"status_code": "OK", "request_cnt": len(numbers),
                "match_cnt": sum(1 for r in rows if r["b_stt_cd"]), "data": rows}

    @app.post("/api/nts-businessman/v1/validate")
    async def validate(body: dict = Body(...), serviceKey: str = Query("")):  # noqa: N803
        out = []
        if refused := too_many(len(body.get("businesses", []))):
            return refused
        for q in body.get("businesses", []):
            known = companies.get(q.get("b_no"))
            ok = known is not None and known["start_dt"] == q.get("start_dt") and known["p_nm"] == q.get("p_nm")
            out.append({"b_no": q.get("b_no"), "valid": "01" if ok else "02",
                        **({} if ok else {"valid_msg": "확인할 수 없습니다."}), "request_param": q,
                        **({"status": row(q["b_no"])} if ok else {})})
        return {"status_code": "OK", "request_cnt": len(out), "valid_cnt": sum(r["valid"] == "01" for r in out),
                "data": out}


def _business_places(app: FastAPI, places: dict[str, list]) -> None:
    """Where each business is registered and since when (사업장 소재지 이력: kind hq or factory, address,
    registered_on and moved_out_on as YYYYMMDD, as the tax service writes dates). No public API answers this in one
    call — a center reads it from 사업자등록증명 and 공장등록 — so the stand-in's shape is ours; batched like the NTS
    calls, up to 100 businesses."""

    @app.post("/api/business-places/v1/places")
    async def by_business(body: dict = Body(...), serviceKey: str = Query("")):  # noqa: N803
        numbers = body.get("b_no", [])
        if len(numbers) > NTS_BATCH_LIMIT:
            return JSONResponse({"status_code": "TOO_LARGE_REQUEST",
                                 "message": f"요청 건수가 {NTS_BATCH_LIMIT}건을 초과했습니다 ({len(numbers)}건)"},
                                status_code=413)
        return {"status_code": "OK", "data": [{"b_no": b, "places": places.get(b, [])} for b in numbers]}


def _credit(app: FastAPI, records: dict[str, list]) -> None:
    @app.post("/credit/v1/inquiries")
    async def inquiries(body: dict = Body(...)) -> dict:
        results = []
        app.state.subjects += len(body.get("subjects", []))
        for subject in body.get("subjects", []):
            found = [r for r in records.get(subject.get("brn"), [])
                     if r["role"] == subject.get("role") and r["name"] == subject.get("name")]
            results.append({**subject, "records": [rec for r in found for rec in r["records"]]})
        return {"as_of": body.get("as_of"), "results": results}


def _sanctions(app: FastAPI, records: dict[str, list]) -> None:
    @app.get("/sanctions/v1/records")
    async def by_company(brn: str = Query(..., pattern=r"^\d{10}$"), serviceKey: str = Query("")) -> dict:  # noqa: N803
        return {"brn": brn, "records": records.get(brn, [])}

    @app.post("/sanctions/v1/records/search", summary="Records of up to 100 businesses in one call")
    async def by_companies(body: dict = Body(...), serviceKey: str = Query("")):  # noqa: N803
        numbers = body.get("brns", [])
        if len(numbers) > NTS_BATCH_LIMIT:
            return JSONResponse({"message": f"한 번에 {NTS_BATCH_LIMIT}개 사업자까지 조회할 수 있습니다 "
                                            f"({len(numbers)}개)"}, status_code=413)
        app.state.subjects += len(numbers)
        return {"results": [{"brn": b, "records": records.get(b, [])} for b in numbers]}


def _projects(app: FastAPI, projects: list[dict]) -> None:
    @app.post("/rnd/v1/projects/search")
    async def search(body: dict = Body(...), serviceKey: str = Query("")):  # noqa: N803
        on = date.fromisoformat(body.get("ongoing_on") or date.today().isoformat())
        wanted = set(body.get("registries") or ("NTIS", "SMTECH", "GSTEP-PMS"))
        companies = set(body.get("brns") or [body.get("brn")])  # up to 100 businesses a call, or one
        if len(companies) > NTS_BATCH_LIMIT:
            return JSONResponse({"message": f"한 번에 {NTS_BATCH_LIMIT}개 사업자까지 검색할 수 있습니다 "
                                            f"({len(companies)}개)"}, status_code=413)
        app.state.subjects += len(companies)
        items = [p for p in projects if p["company_brn"] in companies and p["registry"] in wanted
                 and date.fromisoformat(p["start"]) <= on <= date.fromisoformat(p["end"])]
        return {"total": len(items), "items": items}


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m deploy.registry", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", required=True, choices=REGISTRIES)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data", type=Path, required=True, help="dataset JSON (deploy/sample/screening_scenario.py)")
    parser.add_argument("--latency-ms", type=parse_latency, default=DEFAULT_LATENCY_MS, metavar="MIN-MAX",
                        help="each call answers after a latency drawn from this range (default 50-150; 0: at once)")
    parser.add_argument(
        "--delay-seconds", type=float, default=0.0, help="answer this much later still (a slow registry)"
    )
    args = parser.parse_args()
    data = json.loads(args.data.read_text("utf-8"))
    uvicorn.run(create_registry_app(args.registry, data, delay_seconds=args.delay_seconds, latency_ms=args.latency_ms),
                host=args.host, port=args.port, log_level="warning", backlog=4096)


if __name__ == "__main__":
    main()
