"""JSON routes of the integration module: monitor sources and batches; send records in small batches."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse

from bankcrm.core.pagination import MAX_PAGE_SIZE, PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.core.validation import RowId
from bankcrm.integration.schemas import (
    BatchOut,
    FieldRejectOut,
    GoldenRecordOut,
    IngestOut,
    RecordsIn,
    RejectOut,
    SourceOut,
    SourceQualityDetailOut,
    SourceQualityOut,
)
from bankcrm.integration.service import golden, matching, monitor, quality, runs
from bankcrm.web.auth import PrincipalRoute, require
from bankcrm.web.transaction import db_session

router = APIRouter(prefix="/api/v1/integration", tags=["integration"], route_class=PrincipalRoute)
DB = Annotated[Session, Depends(db_session)]
PROBLEM = {"description": "Problem details (RFC 9457)", "content": {"application/problem+json": {}}}
R: dict[int | str, dict[str, Any]] = {401: PROBLEM, 403: PROBLEM, 404: PROBLEM, 422: PROBLEM}
READ = Depends(require(Permission.INTEGRATION_READ))


class BatchPage(BaseModel):
    items: list[BatchOut]
    total: int
    page: int
    size: int


class RejectPage(BaseModel):
    items: list[RejectOut]
    total: int
    page: int
    size: int


@router.get("/sources", response_model=list[SourceOut], responses=R)
def list_sources(db: DB, principal: Principal = READ) -> list[SourceOut]:
    return monitor.sources(db, principal)


@router.get("/batches", response_model=BatchPage, responses=R)
def list_batches(
    db: DB,
    principal: Principal = READ,
    source: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z0-9_]+$")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 25,
) -> dict[str, Any]:
    result = monitor.batches(db, principal, source=source, page=PageRequest(page, size))
    return {"items": list(result.items), "total": result.total, "page": result.page, "size": result.size}


@router.get("/batches/{batch_id}", response_model=BatchOut, responses=R)
def get_batch(db: DB, batch_id: int, principal: Principal = READ) -> BatchOut:
    return monitor.batch(db, principal, batch_id=batch_id)


@router.get("/batches/{batch_id}/rejects", response_model=RejectPage, responses=R)
def batch_rejects(
    db: DB,
    batch_id: int,
    principal: Principal = READ,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> dict[str, Any]:
    result = monitor.rejects(db, principal, batch_id=batch_id, page=PageRequest(page, size))
    return {"items": list(result.items), "total": result.total, "page": result.page, "size": result.size}


@router.post(
    "/sources/{source}/records",
    response_model=IngestOut,
    status_code=201,
    responses={**R, 200: {"description": "Replayed or already loaded", "model": IngestOut}, 409: PROBLEM},
)
def send_records(
    db: DB,
    source: Annotated[str, Path(max_length=40, pattern=r"^[a-z0-9_]+$")],
    payload: RecordsIn,
    principal: Principal = Depends(require(Permission.INTEGRATION_RUN)),
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> JSONResponse:
    """Load records keyed by the source's own column names. Send an ``Idempotency-Key`` header to make
    retries safe: the same key and body replay the first answer, the same key with another body is 409."""
    status, out = runs.run_records(
        db, principal, source=source, data=payload, idempotency_key=idempotency_key
    )
    return JSONResponse(out.model_dump(mode="json"), status_code=status)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accept: bool


class FieldComparisonOut(BaseModel):
    field: str
    left: str | None = Field(description="Masked value from the left record")
    right: str | None = Field(description="Masked value from the right record")
    agreement: Literal["same", "differs", "blank", "not_comparable"] = Field(
        description="How the clear values compare; not_comparable for numbers of different document types"
    )
    weight: float | None = Field(description="This comparison's contribution to the match weight")


class CandidateOut(BaseModel):
    id: int
    probability: float
    weight: float
    status: str
    left_source: str
    right_source: str
    left_customer_id: int | None
    right_customer_id: int | None
    fields: list[FieldComparisonOut]


class CandidatePage(BaseModel):
    items: list[CandidateOut]
    total: int
    page: int
    size: int


@router.get("/matches", response_model=CandidatePage, responses=R)
def match_queue(
    db: DB,
    principal: Principal = READ,
    status: Literal["pending", "accepted", "rejected", "auto_merged"] = "pending",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 25,
) -> dict[str, Any]:
    result = matching.review_queue(db, principal, status=status, page=PageRequest(page, size))
    return {
        "items": [asdict(item) for item in result.items],
        "total": result.total,
        "page": result.page,
        "size": result.size,
    }


@router.post("/matches/{candidate_id}/decision", response_model=CandidateOut, responses=R)
def decide_match(
    db: DB,
    candidate_id: int,
    payload: DecisionIn,
    principal: Principal = Depends(require(Permission.MATCH_REVIEW)),
) -> dict[str, Any]:
    return asdict(matching.decide(db, principal, candidate_id=candidate_id, accept=payload.accept))


SourceCode = Annotated[str, Path(max_length=40, pattern=r"^[a-z0-9_]+$")]


class FieldRejectPage(BaseModel):
    items: list[FieldRejectOut]
    total: int
    page: int
    size: int


@router.get("/quality", response_model=list[SourceQualityOut], responses=R)
def quality_overview(db: DB, principal: Principal = READ) -> list[SourceQualityOut]:
    """Every source's last delivery: freshness, and completeness, validity and uniqueness per field."""
    return [SourceQualityOut.model_validate(item) for item in quality.overview(db, principal)]


@router.get("/quality/{source}", response_model=SourceQualityDetailOut, responses=R)
def quality_of_source(db: DB, source: SourceCode, principal: Principal = READ) -> SourceQualityDetailOut:
    """One source's figures with their trend over its recent batches (oldest first)."""
    figures = quality.source_quality(db, principal, source=source)
    history = quality.trend(db, principal, source=source)
    return SourceQualityDetailOut.model_validate(
        {
            **SourceQualityOut.model_validate(figures).model_dump(),
            "trend": {
                "batch_ids": [batch.id for batch in history.batches],
                "completeness": history.completeness,
                "validity": history.validity,
            },
        }
    )


@router.get("/quality/{source}/{field}/rejects", response_model=FieldRejectPage, responses=R)
def quality_failing_records(
    db: DB,
    source: SourceCode,
    field: Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9_]+$")],
    principal: Principal = READ,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> dict[str, Any]:
    """The records of one source rejected for one field, newest batch first; values masked."""
    result = quality.failing_records(db, principal, source=source, field=field, page=PageRequest(page, size))
    return {"items": list(result.items), "total": result.total, "page": result.page, "size": result.size}


@router.get("/golden/{customer_id}", response_model=GoldenRecordOut, responses=R)
def golden_record(db: DB, customer_id: RowId, principal: Principal = READ) -> GoldenRecordOut:
    """Per field: the golden value, every source's value, the survivorship rule that chose; and the
    history of the choices, newest first. Values masked; customers outside the caller's scope are 404."""
    return GoldenRecordOut.model_validate(golden.golden_record(db, principal, customer_id=customer_id))
