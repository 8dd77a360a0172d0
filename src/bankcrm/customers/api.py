"""JSON routes of the customers module under /api/v1 (for the call centre and other bank systems)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.responses import StreamingResponse

from bankcrm.core.pagination import MAX_PAGE_SIZE, Page, PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.core.validation import RowId
from bankcrm.customers.schemas import (
    AccountOut,
    AssetsOut,
    AssignmentOut,
    AssistantIn,
    BulkMembership,
    ConsentIn,
    ConsentOut,
    ContactPointOut,
    CorporateContactIn,
    CorporateContactOut,
    CustomerCreate,
    CustomerDetail,
    CustomerFilter,
    CustomerSummary,
    CustomerTagOut,
    CustomerUpdate,
    DoNotContactIn,
    DuplicateCandidate,
    GroupIn,
    GroupOut,
    HandoverIn,
    HandoverOut,
    HoldingOut,
    HouseholdOut,
    InteractionIn,
    InteractionOut,
    MergeRequestIn,
    MergeRequestOut,
    ReasonIn,
    RelationshipIn,
    RelationshipOut,
    RevealIn,
    RevealOut,
    ScoreOut,
    TagIn,
    TagOut,
    TimelineItem,
    TransactionFilter,
    TransactionOut,
    XrefOut,
)
from bankcrm.customers.service import (
    contacts,
    customers,
    interactions,
    merge,
    portfolio,
    relationships,
    tags,
    view360,
)
from bankcrm.web.auth import PrincipalRoute, require
from bankcrm.web.params import PathId, QueryId
from bankcrm.web.transaction import db_session

router = APIRouter(prefix="/api/v1", tags=["customers"], route_class=PrincipalRoute)
DB = Annotated[Session, Depends(db_session)]
PageNo = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
PROBLEM = {"description": "Problem details (RFC 9457)", "content": {"application/problem+json": {}}}
R: dict[int | str, dict[str, Any]] = {401: PROBLEM, 403: PROBLEM, 404: PROBLEM, 422: PROBLEM}
R409: dict[int | str, dict[str, Any]] = {**R, 409: PROBLEM}
READ = Depends(require(Permission.CUSTOMER_READ))


class CustomerPage(BaseModel):
    items: list[CustomerSummary]
    total: int = Field(description="Matching customers; a lower bound when total_exact is false.")
    total_exact: bool = Field(description="False when counting stopped at the cap: more than total match.")
    page: int
    size: int


class TransactionPage(BaseModel):
    items: list[TransactionOut]
    total: int
    page: int
    size: int


class Customer360(BaseModel):
    """Everything the 360° page shows, in one document (masked for the caller)."""

    customer: CustomerDetail
    assignments: list[AssignmentOut]
    assets: AssetsOut
    accounts: list[AccountOut]
    holdings: list[HoldingOut]
    recent_transactions: list[TransactionOut]
    timeline: list[TimelineItem]
    tags: list[CustomerTagOut]
    relationships: list[RelationshipOut]
    household: HouseholdOut
    contacts: list[ContactPointOut]
    consents: list[ConsentOut]
    xrefs: list[XrefOut]
    scores: list[ScoreOut]
    data_quality: list[str]


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, description="The version of the request you reviewed.")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool
    note: Annotated[str, Field(min_length=4, max_length=500)]


class BulkTagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tag_id: RowId
    customer_ids: list[RowId] = Field(min_length=1, max_length=1000)
    add: bool = True


class ChangedOut(BaseModel):
    changed: int


def _page(page: Page[Any]) -> dict[str, Any]:
    return {
        "items": list(page.items),
        "total": page.total,
        "total_exact": page.total_exact,
        "page": page.page,
        "size": page.size,
    }


# Async because it does no I/O: FastAPI runs a sync dependency in the thread pool, one more hop.
async def customer_filter(
    q: Annotated[str | None, Query(max_length=100)] = None,
    kind: Literal["individual", "corporate"] | None = None,
    tier: Literal["mass", "affluent", "vip", "private"] | None = None,
    status: Literal["active", "deactivated", "merged"] | None = "active",
    org_unit_id: QueryId = None,
    rm_id: QueryId = None,
    tag_id: QueryId = None,
    group_id: QueryId = None,
    risk_level: Literal["C1", "C2", "C3", "C4", "C5"] | None = None,
    mine: bool = False,
    sort: Literal[
        "name", "-name", "aum", "-aum", "customer_no", "-customer_no", "created", "-created"
    ] = "-aum",
) -> CustomerFilter:
    return CustomerFilter(
        q=q,
        kind=kind,
        tier=tier,
        status=status,
        org_unit_id=org_unit_id,
        rm_id=rm_id,
        tag_id=tag_id,
        group_id=group_id,
        risk_level=risk_level,
        mine=mine,
        sort=sort,
    )


# ---------------------------------------------------------------- customers


@router.get("/customers", response_model=CustomerPage, responses=R)
def list_customers(
    db: DB,
    principal: Principal = READ,
    filters: CustomerFilter = Depends(customer_filter),
    page: PageNo = 1,
    size: PageSize = 25,
) -> dict[str, Any]:
    return _page(customers.list_customers(db, principal, filters=filters, page=PageRequest(page, size)))


@router.post("/customers", response_model=CustomerDetail, status_code=201, responses=R)
def create_customer(
    db: DB, payload: CustomerCreate, principal: Principal = Depends(require(Permission.CUSTOMER_WRITE))
) -> CustomerDetail:
    return customers.create_customer(db, principal, data=payload)


@router.get("/customers/duplicates", response_model=list[DuplicateCandidate], responses=R)
def duplicates(
    db: DB,
    name: Annotated[str, Query(min_length=1, max_length=200)],
    principal: Principal = READ,
    mobile: Annotated[str | None, Query(max_length=20)] = None,
    birth_date: date | None = None,
) -> list[DuplicateCandidate]:
    found, _hidden = customers.find_duplicates(
        db, principal, name=name, mobile=mobile, birth=birth_date, exclude_id=None
    )
    return found


@router.post("/customers/export", responses={**R, 200: {"content": {"text/csv": {}}}})
def export_customers(
    db: DB,
    principal: Principal = Depends(require(Permission.CUSTOMER_EXPORT)),
    filters: CustomerFilter = Depends(customer_filter),
) -> StreamingResponse:
    rows = customers.export_csv(db, principal, filters=filters)
    return StreamingResponse(
        rows,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="customers-{principal.username}.csv"'},
    )


@router.post("/customers/bulk/tags", response_model=ChangedOut, responses=R)
def bulk_tag(
    db: DB, payload: BulkTagIn, principal: Principal = Depends(require(Permission.CUSTOMER_TAG))
) -> ChangedOut:
    return ChangedOut(
        changed=tags.tag_customers(
            db, principal, tag_id=payload.tag_id, customer_ids=payload.customer_ids, add=payload.add
        )
    )


@router.get("/customers/{customer_id}", response_model=CustomerDetail, responses=R)
def get_customer(db: DB, customer_id: PathId, principal: Principal = READ) -> CustomerDetail:
    return customers.get_customer(db, principal, customer_id=customer_id)


@router.patch("/customers/{customer_id}", response_model=CustomerDetail, responses=R409)
def update_customer(
    db: DB,
    customer_id: PathId,
    payload: CustomerUpdate,
    principal: Principal = Depends(require(Permission.CUSTOMER_WRITE)),
) -> CustomerDetail:
    return customers.update_customer(db, principal, customer_id=customer_id, data=payload)


@router.post("/customers/{customer_id}/deactivate", response_model=CustomerDetail, responses=R)
def deactivate(
    db: DB,
    customer_id: PathId,
    payload: ReasonIn,
    principal: Principal = Depends(require(Permission.CUSTOMER_DEACTIVATE)),
) -> CustomerDetail:
    return customers.set_active(db, principal, customer_id=customer_id, active=False, reason=payload.reason)


@router.post("/customers/{customer_id}/reactivate", response_model=CustomerDetail, responses=R)
def reactivate(
    db: DB,
    customer_id: PathId,
    payload: ReasonIn,
    principal: Principal = Depends(require(Permission.CUSTOMER_DEACTIVATE)),
) -> CustomerDetail:
    return customers.set_active(db, principal, customer_id=customer_id, active=True, reason=payload.reason)


@router.post("/customers/{customer_id}/reveal", response_model=RevealOut, responses=R)
def reveal(
    db: DB,
    customer_id: PathId,
    payload: RevealIn,
    principal: Principal = Depends(require(Permission.PII_UNMASK)),
) -> RevealOut:
    return customers.reveal(db, principal, customer_id=customer_id, data=payload)


@router.post("/customers/{customer_id}/consents", response_model=list[ConsentOut], responses=R)
def set_consent(
    db: DB,
    customer_id: PathId,
    payload: ConsentIn,
    principal: Principal = Depends(require(Permission.CUSTOMER_WRITE)),
) -> list[ConsentOut]:
    customers.set_consent(
        db,
        principal,
        customer_id=customer_id,
        channel=payload.channel,
        granted=payload.granted,
        source=payload.source,
    )
    return view360.consents(db, principal, customer_id=customer_id)


# ---------------------------------------------------------------- 360 sections


@router.get("/customers/{customer_id}/360", response_model=Customer360, responses=R)
def customer_360(db: DB, customer_id: PathId, principal: Principal = READ) -> Customer360:
    recent = view360.transactions(
        db, principal, customer_id=customer_id, filters=TransactionFilter(), page=PageRequest(1, 20)
    )
    return Customer360(
        customer=customers.get_customer(db, principal, customer_id=customer_id),
        assignments=portfolio.assignments(db, principal, customer_id=customer_id),
        assets=view360.assets(db, principal, customer_id=customer_id),
        accounts=view360.accounts(db, principal, customer_id=customer_id),
        holdings=view360.holdings(db, principal, customer_id=customer_id),
        recent_transactions=list(recent.items),
        timeline=view360.timeline(db, principal, customer_id=customer_id, limit=20),
        tags=tags.tags_of(db, principal, customer_id=customer_id),
        relationships=relationships.relationships(db, principal, customer_id=customer_id),
        household=relationships.household(db, principal, customer_id=customer_id),
        contacts=view360.contact_points(db, principal, customer_id=customer_id),
        consents=view360.consents(db, principal, customer_id=customer_id),
        xrefs=view360.xrefs(db, principal, customer_id=customer_id),
        scores=view360.scores(db, principal, customer_id=customer_id),
        data_quality=view360.data_quality_flags(db, principal, customer_id=customer_id),
    )


@router.get("/customers/{customer_id}/assets", response_model=AssetsOut, responses=R)
def customer_assets(db: DB, customer_id: PathId, principal: Principal = READ) -> AssetsOut:
    return view360.assets(db, principal, customer_id=customer_id)


@router.get("/customers/{customer_id}/accounts", response_model=list[AccountOut], responses=R)
def customer_accounts(db: DB, customer_id: PathId, principal: Principal = READ) -> list[AccountOut]:
    return view360.accounts(db, principal, customer_id=customer_id)


@router.get("/customers/{customer_id}/holdings", response_model=list[HoldingOut], responses=R)
def customer_holdings(db: DB, customer_id: PathId, principal: Principal = READ) -> list[HoldingOut]:
    return view360.holdings(db, principal, customer_id=customer_id)


@router.get("/customers/{customer_id}/transactions", response_model=TransactionPage, responses=R)
def customer_transactions(
    db: DB,
    customer_id: PathId,
    principal: Principal = READ,
    page: PageNo = 1,
    size: PageSize = 50,
    date_from: date | None = None,
    date_to: date | None = None,
    min_amount: Annotated[Decimal | None, Query(ge=0, max_digits=20, decimal_places=2)] = None,
    max_amount: Annotated[Decimal | None, Query(ge=0, max_digits=20, decimal_places=2)] = None,
    direction: Literal["in", "out"] | None = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    channel: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    filters = TransactionFilter(
        date_from=date_from,
        date_to=date_to,
        min_amount=min_amount,
        max_amount=max_amount,
        direction=direction,
        category=category,
        channel=channel,
    )
    return _page(
        view360.transactions(
            db, principal, customer_id=customer_id, filters=filters, page=PageRequest(page, size)
        )
    )


@router.get("/customers/{customer_id}/timeline", response_model=list[TimelineItem], responses=R)
def customer_timeline(db: DB, customer_id: PathId, principal: Principal = READ) -> list[TimelineItem]:
    return view360.timeline(db, principal, customer_id=customer_id)


@router.get("/customers/{customer_id}/relationships", response_model=list[RelationshipOut], responses=R)
def customer_relationships(db: DB, customer_id: PathId, principal: Principal = READ) -> list[RelationshipOut]:
    return relationships.relationships(db, principal, customer_id=customer_id)


@router.post(
    "/customers/{customer_id}/relationships", response_model=RelationshipOut, status_code=201, responses=R
)
def add_relationship(
    db: DB,
    customer_id: PathId,
    payload: RelationshipIn,
    principal: Principal = Depends(require(Permission.CUSTOMER_WRITE)),
) -> RelationshipOut:
    return relationships.add_relationship(db, principal, customer_id=customer_id, data=payload)


@router.post("/customers/{customer_id}/relationships/{relationship_id}/end", status_code=204, responses=R)
def end_relationship(
    db: DB,
    customer_id: PathId,
    relationship_id: PathId,
    payload: ReasonIn,
    principal: Principal = Depends(require(Permission.CUSTOMER_WRITE)),
) -> None:
    relationships.end_relationship(
        db, principal, customer_id=customer_id, relationship_id=relationship_id, reason=payload.reason
    )


@router.get("/customers/{customer_id}/household", response_model=HouseholdOut, responses=R)
def customer_household(db: DB, customer_id: PathId, principal: Principal = READ) -> HouseholdOut:
    return relationships.household(db, principal, customer_id=customer_id)


@router.get("/customers/{customer_id}/tags", response_model=list[CustomerTagOut], responses=R)
def customer_tags(db: DB, customer_id: PathId, principal: Principal = READ) -> list[CustomerTagOut]:
    return tags.tags_of(db, principal, customer_id=customer_id)


@router.put("/customers/{customer_id}/tags/{tag_id}", response_model=ChangedOut, responses=R)
def add_tag(
    db: DB,
    customer_id: PathId,
    tag_id: PathId,
    principal: Principal = Depends(require(Permission.CUSTOMER_TAG)),
) -> ChangedOut:
    return ChangedOut(
        changed=tags.tag_customers(db, principal, tag_id=tag_id, customer_ids=[customer_id], add=True)
    )


@router.delete("/customers/{customer_id}/tags/{tag_id}", response_model=ChangedOut, responses=R)
def remove_tag(
    db: DB,
    customer_id: PathId,
    tag_id: PathId,
    principal: Principal = Depends(require(Permission.CUSTOMER_TAG)),
) -> ChangedOut:
    return ChangedOut(
        changed=tags.tag_customers(db, principal, tag_id=tag_id, customer_ids=[customer_id], add=False)
    )


@router.get("/customers/{customer_id}/contacts", response_model=list[ContactPointOut], responses=R)
def customer_contacts(db: DB, customer_id: PathId, principal: Principal = READ) -> list[ContactPointOut]:
    return view360.contact_points(db, principal, customer_id=customer_id)


@router.get("/customers/{customer_id}/xrefs", response_model=list[XrefOut], responses=R)
def customer_xrefs(db: DB, customer_id: PathId, principal: Principal = READ) -> list[XrefOut]:
    return view360.xrefs(db, principal, customer_id=customer_id)


@router.get("/customers/{customer_id}/scores", response_model=list[ScoreOut], responses=R)
def customer_scores(db: DB, customer_id: PathId, principal: Principal = READ) -> list[ScoreOut]:
    return view360.scores(db, principal, customer_id=customer_id)


@router.get("/customers/{customer_id}/assignments", response_model=list[AssignmentOut], responses=R)
def customer_assignments(db: DB, customer_id: PathId, principal: Principal = READ) -> list[AssignmentOut]:
    return portfolio.assignments(db, principal, customer_id=customer_id)


@router.get("/customers/{customer_id}/interactions", response_model=list[InteractionOut], responses=R)
def customer_interactions(db: DB, customer_id: PathId, principal: Principal = READ) -> list[InteractionOut]:
    return interactions.list_interactions(db, principal, customer_id=customer_id)


@router.post(
    "/customers/{customer_id}/interactions", response_model=InteractionOut, status_code=201, responses=R
)
def log_interaction(
    db: DB,
    customer_id: PathId,
    payload: InteractionIn,
    principal: Principal = Depends(require(Permission.INTERACTION_WRITE)),
) -> InteractionOut:
    return interactions.log_interaction(db, principal, customer_id=customer_id, data=payload)


@router.get("/follow-ups", response_model=list[InteractionOut], responses=R)
def my_follow_ups(
    db: DB, principal: Principal = READ, days_ahead: Annotated[int, Query(ge=0, le=90)] = 7
) -> list[InteractionOut]:
    return interactions.follow_ups_due(db, principal, days_ahead=days_ahead, limit=100)


@router.post("/interactions/{interaction_id}/done", response_model=InteractionOut, responses=R)
def follow_up_done(
    db: DB, interaction_id: PathId, principal: Principal = Depends(require(Permission.INTERACTION_WRITE))
) -> InteractionOut:
    return interactions.complete_follow_up(db, principal, interaction_id=interaction_id)


# ---------------------------------------------------------------- tags and lists


@router.get("/tags", response_model=list[TagOut], responses=R)
def list_tags(db: DB, principal: Principal = READ) -> list[TagOut]:
    return tags.list_tags(db, principal)


@router.post("/tags", response_model=TagOut, status_code=201, responses=R)
def create_tag(
    db: DB, payload: TagIn, principal: Principal = Depends(require(Permission.TAG_MANAGE))
) -> TagOut:
    return tags.create_tag(db, principal, data=payload)


@router.get("/customer-lists", response_model=list[GroupOut], responses=R)
def my_lists(db: DB, principal: Principal = READ) -> list[GroupOut]:
    return tags.my_groups(db, principal)


@router.post("/customer-lists", response_model=GroupOut, status_code=201, responses=R)
def create_list(
    db: DB, payload: GroupIn, principal: Principal = Depends(require(Permission.CUSTOMER_TAG))
) -> GroupOut:
    return tags.create_group(db, principal, data=payload)


@router.post("/customer-lists/{group_id}/members", response_model=ChangedOut, responses=R)
def add_members(
    db: DB,
    group_id: PathId,
    payload: BulkMembership,
    principal: Principal = Depends(require(Permission.CUSTOMER_TAG)),
) -> ChangedOut:
    return ChangedOut(
        changed=tags.set_group_membership(
            db, principal, group_id=group_id, customer_ids=payload.customer_ids, add=True
        )
    )


@router.post("/customer-lists/{group_id}/members/remove", response_model=ChangedOut, responses=R)
def remove_members(
    db: DB,
    group_id: PathId,
    payload: BulkMembership,
    principal: Principal = Depends(require(Permission.CUSTOMER_TAG)),
) -> ChangedOut:
    return ChangedOut(
        changed=tags.set_group_membership(
            db, principal, group_id=group_id, customer_ids=payload.customer_ids, add=False
        )
    )


# ---------------------------------------------------------------- merges


@router.get("/merge-requests", response_model=list[MergeRequestOut], responses=R)
def list_merges(
    db: DB,
    principal: Principal = READ,
    status: Literal["pending", "approved", "rejected", "void", "unmerged"] | None = None,
) -> list[MergeRequestOut]:
    return merge.list_merges(db, principal, status=status)


@router.post("/merge-requests", response_model=MergeRequestOut, status_code=201, responses=R409)
def request_merge(
    db: DB, payload: MergeRequestIn, principal: Principal = Depends(require(Permission.MERGE_REQUEST))
) -> MergeRequestOut:
    return merge.request_merge(db, principal, data=payload)


@router.get("/merge-requests/{merge_id}", response_model=MergeRequestOut, responses=R)
def get_merge(db: DB, merge_id: PathId, principal: Principal = READ) -> MergeRequestOut:
    return merge.get_merge(db, principal, merge_id=merge_id)


@router.put("/merge-requests/{merge_id}", response_model=MergeRequestOut, responses=R409)
def edit_merge(
    db: DB,
    merge_id: PathId,
    payload: MergeRequestIn,
    principal: Principal = Depends(require(Permission.MERGE_REQUEST)),
) -> MergeRequestOut:
    return merge.edit_merge(db, principal, merge_id=merge_id, data=payload)


@router.post("/merge-requests/{merge_id}/approve", response_model=MergeRequestOut, responses=R409)
def approve_merge(
    db: DB,
    merge_id: PathId,
    payload: ApproveIn,
    principal: Principal = Depends(require(Permission.MERGE_APPROVE)),
) -> MergeRequestOut:
    return merge.approve_merge(db, principal, merge_id=merge_id, version=payload.version)


@router.post("/merge-requests/{merge_id}/reject", response_model=MergeRequestOut, responses=R)
def reject_merge(
    db: DB,
    merge_id: PathId,
    payload: ReasonIn,
    principal: Principal = Depends(require(Permission.MERGE_APPROVE)),
) -> MergeRequestOut:
    return merge.reject_merge(db, principal, merge_id=merge_id, note=payload.reason)


@router.post("/merge-requests/{merge_id}/unmerge", response_model=MergeRequestOut, responses=R)
def unmerge(
    db: DB,
    merge_id: PathId,
    payload: ReasonIn,
    principal: Principal = Depends(require(Permission.MERGE_APPROVE)),
) -> MergeRequestOut:
    return merge.unmerge(db, principal, merge_id=merge_id, reason=payload.reason)


# ---------------------------------------------------------------- handovers


@router.get("/handovers", response_model=list[HandoverOut], responses=R)
def list_handovers(
    db: DB, principal: Principal = READ, status: Literal["pending", "approved", "rejected"] | None = None
) -> list[HandoverOut]:
    return portfolio.list_handovers(db, principal, status=status)


@router.post("/handovers", response_model=HandoverOut, status_code=201, responses=R)
def request_handover(
    db: DB, payload: HandoverIn, principal: Principal = Depends(require(Permission.HANDOVER_REQUEST))
) -> HandoverOut:
    return portfolio.request_handover(db, principal, data=payload)


@router.post("/handovers/{handover_id}/decision", response_model=HandoverOut, responses=R)
def decide_handover(
    db: DB,
    handover_id: PathId,
    payload: DecisionIn,
    principal: Principal = Depends(require(Permission.HANDOVER_APPROVE)),
) -> HandoverOut:
    return portfolio.decide_handover(
        db, principal, handover_id=handover_id, approve=payload.approve, note=payload.note
    )


@router.get(
    "/customers/{customer_id}/corporate-contacts", response_model=list[CorporateContactOut], responses=R
)
def corporate_contacts(db: DB, customer_id: PathId, principal: Principal = READ) -> list[CorporateContactOut]:
    return contacts.list_contacts(db, principal, customer_id=customer_id)


@router.post(
    "/customers/{customer_id}/corporate-contacts",
    response_model=CorporateContactOut,
    status_code=201,
    responses=R,
)
def add_corporate_contact(
    db: DB,
    customer_id: PathId,
    payload: CorporateContactIn,
    principal: Principal = Depends(require(Permission.CUSTOMER_WRITE)),
) -> CorporateContactOut:
    return contacts.add_contact(db, principal, customer_id=customer_id, data=payload)


@router.post("/customers/{customer_id}/corporate-contacts/{contact_id}/end", status_code=204, responses=R)
def end_corporate_contact(
    db: DB,
    customer_id: PathId,
    contact_id: PathId,
    payload: ReasonIn,
    principal: Principal = Depends(require(Permission.CUSTOMER_WRITE)),
) -> None:
    contacts.end_contact(db, principal, customer_id=customer_id, contact_id=contact_id, reason=payload.reason)


@router.post("/customers/{customer_id}/do-not-contact", response_model=CustomerDetail, responses=R)
def do_not_contact(
    db: DB,
    customer_id: PathId,
    payload: DoNotContactIn,
    principal: Principal = Depends(require(Permission.CUSTOMER_WRITE)),
) -> CustomerDetail:
    customers.set_do_not_contact(
        db, principal, customer_id=customer_id, value=payload.do_not_contact, reason=payload.reason
    )
    return customers.get_customer(db, principal, customer_id=customer_id)


@router.post("/customers/{customer_id}/assistants", response_model=list[AssignmentOut], responses=R)
def add_assistant(
    db: DB,
    customer_id: PathId,
    payload: AssistantIn,
    principal: Principal = Depends(require(Permission.CUSTOMER_WRITE)),
) -> list[AssignmentOut]:
    portfolio.add_assistant(db, principal, customer_id=customer_id, user_id=payload.user_id)
    return portfolio.assignments(db, principal, customer_id=customer_id)
