"""Pydantic models in and out of the customers module. Inputs forbid unknown fields."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bankcrm.core.validation import RowId

CustomerKind = Literal["individual", "corporate"]
IdType = Literal[
    "resident_id",
    "uscc",
    "passport",
    "hk_macau_permit",
    "taiwan_permit",
    "foreign_permanent",
    "business_licence",
    "other",
]
RiskLevel = Literal["C1", "C2", "C3", "C4", "C5"]
Channel = Literal["sms", "phone", "email", "app_push", "wechat"]
Text100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=500)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None

INDIVIDUAL_ID_TYPES = (
    "resident_id",
    "passport",
    "hk_macau_permit",
    "taiwan_permit",
    "foreign_permanent",
    "other",
)
CORPORATE_ID_TYPES = ("uscc", "business_licence", "other")


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=2000)


class CustomerFields(StrictIn):
    """The editable facts of a customer; identifiers are validated by the service (DOMAIN.md)."""

    name: Text200
    name_en: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    id_type: IdType
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    birth_date: date | None = Field(
        default=None, description="Derived from a resident ID; give it for other IDs."
    )
    gender: Literal["M", "F"] | None = Field(default=None, description="Derived from a resident ID.")
    nationality: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = "CHN"
    mobile: Annotated[str, StringConstraints(max_length=20)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    occupation: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    income_band: Literal["<50k", "50k-150k", "150k-300k", "300k-1m", ">1m"] | None = None
    industry: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    registered_capital: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    risk_level: RiskLevel | None = None
    risk_assessed_on: date | None = None


class CustomerCreate(CustomerFields):
    kind: CustomerKind
    org_unit_id: RowId | None = Field(default=None, description="Defaults to the creator's unit.")
    primary_rm_id: RowId | None = Field(default=None, description="Defaults to the creator when an RM.")
    confirm_not_duplicate: bool = Field(
        default=False, description="Save although likely duplicates were found (they are shown first)."
    )


class CustomerUpdate(CustomerFields):
    # An edit may leave the identifier out: the stored one is kept (it is never sent to a page).
    id_type: IdType | None = None  # type: ignore[assignment]
    id_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None
    ) = None  # type: ignore[assignment]
    version: int = Field(ge=1)
    confirm_not_duplicate: bool = False


class ReasonIn(StrictIn):
    reason: Reason


class RevealIn(StrictIn):
    field: Literal["id_number", "mobile", "email", "address"]
    reason: Reason


class RevealOut(BaseModel):
    field: str
    value: str | None


class DuplicateCandidate(BaseModel):
    customer_id: int
    customer_no: str
    name: str
    reasons: list[str]
    score: int


class CustomerSummary(BaseModel):
    """A row of a customer list; personal data already masked for the viewer."""

    id: int
    customer_no: str
    kind: str
    status: str
    name: str
    mobile: str | None
    id_type: str
    id_number: str
    tier: str
    aum: Decimal | None
    risk_level: str | None
    org_unit_id: int
    org_unit_name: str
    primary_rm_id: int | None
    primary_rm_name: str | None


class CustomerHeader(BaseModel):
    """What a 360° section shows of the customer itself; the name already masked for the viewer."""

    id: int
    kind: str
    status: str
    name: str
    do_not_contact: bool


class CustomerDetail(CustomerSummary):
    name_en: str | None
    birth_date: date | None
    age: int | None
    gender: str | None
    nationality: str | None
    email: str | None
    address: str | None
    occupation: str | None
    income_band: str | None
    industry: str | None
    registered_capital: Decimal | None
    risk_assessed_on: date | None
    risk_assessment_valid: bool
    do_not_contact: bool
    merged_into_id: int | None
    deactivated_at: datetime | None
    deactivation_reason: str | None
    version: int
    flags: list[str]
    can_reveal: bool


class CustomerFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    kind: CustomerKind | None = None
    tier: Literal["mass", "affluent", "vip", "private"] | None = None
    status: Literal["active", "deactivated", "merged"] | None = "active"
    org_unit_id: RowId | None = None
    rm_id: RowId | None = None
    tag_id: RowId | None = None
    group_id: RowId | None = None
    risk_level: RiskLevel | None = None
    mine: bool = False
    sort: Literal["name", "-name", "aum", "-aum", "customer_no", "-customer_no", "created", "-created"] = (
        "-aum"
    )


class ConsentIn(StrictIn):
    channel: Channel
    granted: bool
    source: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] = "crm"


class ConsentOut(BaseModel):
    channel: str
    granted: bool
    source: str
    recorded_on: date


class ContactPointIn(StrictIn):
    kind: Literal["mobile", "phone", "email", "wechat"]
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
    is_primary: bool = False
    valid_from: date | None = None


class ContactPointOut(BaseModel):
    id: int
    kind: str
    value: str
    is_primary: bool
    valid_from: date
    valid_to: date | None
    source: str


class AddressOut(BaseModel):
    id: int
    kind: str
    line: str
    city: str | None
    valid_from: date
    valid_to: date | None


class InteractionIn(StrictIn):
    kind: Literal["visit", "call", "meeting", "note"]
    channel: Literal["branch", "phone", "video", "wechat", "email", "field"]
    occurred_at: datetime | None = Field(default=None, description="Defaults to now.")
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=4000)]
    next_step: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    follow_up_on: date | None = None


class InteractionOut(BaseModel):
    id: int
    customer_id: int
    customer_name: str | None = None
    user_id: int
    user_name: str
    kind: str
    channel: str
    occurred_at: datetime
    summary: str
    next_step: str | None
    follow_up_on: date | None
    follow_up_done_at: datetime | None


class TagIn(StrictIn):
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9_.-]{2,40}$")]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    category: Literal["basic", "behaviour", "value", "risk", "preference", "lifecycle"] = "basic"
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None


class TagOut(BaseModel):
    id: int
    code: str
    name: str
    category: str
    kind: str


class CustomerTagOut(TagOut):
    added_by: str | None
    added_at: datetime


class GroupIn(StrictIn):
    name: Text100
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None


class TagEventOut(BaseModel):
    """A customer gaining or losing a tag: by hand (reason "manual") or by the scoring run."""

    tag_code: str
    tag_name: str
    kind: str
    change: str  # gained | lost
    at: datetime
    as_of: date | None
    reason: str
    actor: str | None


class GroupOut(BaseModel):
    id: int
    name: str
    description: str | None
    owner_id: int
    member_count: int


class BulkMembership(StrictIn):
    customer_ids: list[RowId] = Field(min_length=1, max_length=1000)


class AccountOut(BaseModel):
    id: int
    account_no: str
    product_code: str
    product_name: str
    kind: str
    currency: str
    balance: Decimal
    credit_limit: Decimal | None
    opened_on: date
    maturity_date: date | None
    overdue_days: int
    overdue_amount: Decimal
    status: str


class HoldingOut(BaseModel):
    id: int
    product_code: str
    product_name: str
    category: str
    risk_level: str | None
    units: Decimal
    market_value: Decimal
    cost: Decimal
    valued_on: date
    maturity_date: date | None


class AssetsOut(BaseModel):
    aum: Decimal
    by_category: dict[str, Decimal]
    trend: list[tuple[str, Decimal]] = Field(description="Month (YYYY-MM) and month-end AUM, oldest first.")
    liabilities: Decimal


class TransactionOut(BaseModel):
    txn_id: str
    booked_at: datetime
    account_no: str
    direction: str
    amount: Decimal
    currency: str
    category: str
    channel: str
    counterparty: str | None
    description: str | None


class TransactionFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date_from: date | None = None
    date_to: date | None = None
    min_amount: Decimal | None = Field(default=None, ge=0)
    max_amount: Decimal | None = Field(default=None, ge=0)
    direction: Literal["in", "out"] | None = None
    category: Annotated[str, StringConstraints(max_length=40)] | None = None
    channel: Annotated[str, StringConstraints(max_length=40)] | None = None


class RelationshipIn(StrictIn):
    to_customer_id: RowId
    kind: Literal[
        "spouse",
        "parent",
        "child",
        "household",
        "parent_company",
        "subsidiary",
        "shareholder",
        "guarantor",
        "affiliate",
    ]
    share_pct: Decimal | None = Field(default=None, ge=0, le=100, decimal_places=2)


class RelationshipOut(BaseModel):
    """A link as one of its customers' viewers sees it: the other party's id, name and number are
    left out (None, "—") when that customer is outside the viewer's data scope."""

    id: int
    from_customer_id: int | None
    to_customer_id: int | None
    other_customer_id: int | None
    other_name: str
    other_customer_no: str
    kind: str
    direction: Literal["out", "in"]
    share_pct: Decimal | None
    other_visible: bool


class HouseholdOut(BaseModel):
    members: list[int] = Field(description="The members within the caller's data scope.")
    total_aum: Decimal = Field(description="The AUM of those members only.")
    visible_members: int
    hidden_members: int = Field(description="Members outside the caller's data scope (counted only).")


class XrefOut(BaseModel):
    source_system: str
    source_customer_no: str
    linked_at: datetime
    match_rule: str | None


class TimelineItem(BaseModel):
    at: datetime
    kind: str  # interaction | change | follow_up | service | campaign
    title: str
    detail: str | None
    actor: str | None
    fields: list[str] = Field(default_factory=list, description="For a change: the fields it changed.")
    subject: str | None = Field(None, description="For a change: what it concerned, e.g. the tag's name.")


class ScoreOut(BaseModel):
    name: str
    value: str | None
    computed_on: date | None
    segment: str | None = Field(default=None, description="RFM segment code, for the RFM score")


class TierChangeOut(BaseModel):
    """One move between value tiers, with the figure that decided it."""

    as_of: date  # the scoring run that moved the customer
    from_tier: str
    to_tier: str
    reason: str  # upgrade | downgrade
    balance_month: str  # YYYY-MM whose daily average AUM decided it
    aum_mda: Decimal


class MergeRequestIn(StrictIn):
    survivor_id: RowId
    merged_ids: list[RowId] = Field(min_length=1, max_length=9)
    chosen_values: dict[str, RowId] = Field(
        default_factory=dict, description="field -> id of the customer whose value wins"
    )
    reason: Reason


class MergeRequestOut(BaseModel):
    id: int
    survivor_id: int
    merged_ids: list[int]
    chosen_values: dict[str, int]
    status: str
    reason: str
    requested_by: int | None
    requested_by_name: str
    requested_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    version: int


class HandoverIn(StrictIn):
    from_rm_id: RowId
    to_rm_id: RowId
    customer_ids: list[RowId] | None = Field(
        default=None, max_length=5000, description="A selection; all of the RM's customers when omitted."
    )
    reason: Reason


class HandoverOut(BaseModel):
    id: int
    from_rm_id: int
    from_rm_name: str
    to_rm_id: int
    to_rm_name: str
    customer_count: int
    effective_date: date
    status: str
    reason: str
    requested_by: int
    requested_at: datetime
    decided_by: int | None
    decided_at: datetime | None


class AssignmentOut(BaseModel):
    user_id: int
    user_name: str
    role: str
    valid_from: date
    valid_to: date | None


class PortfolioSummary(BaseModel):
    customers: int
    total_aum: Decimal
    by_tier: dict[str, int]
    aum_by_tier: dict[str, Decimal]


class CorporateContactIn(StrictIn):
    role: Literal["legal_rep", "finance", "authorised"]
    name: Text100
    mobile: Annotated[str, StringConstraints(max_length=20)] | None = None
    id_type: IdType | None = None
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None


class CorporateContactOut(BaseModel):
    id: int
    role: str
    name: str
    mobile: str | None
    id_type: str | None
    id_number: str | None
    valid_from: date
    valid_to: date | None


class DoNotContactIn(StrictIn):
    do_not_contact: bool
    reason: Reason


class AssistantIn(StrictIn):
    user_id: RowId
