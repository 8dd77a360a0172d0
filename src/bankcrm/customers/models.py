"""Tables of the customers module: parties, their contact data, relationships, portfolio, accounts,
holdings, interactions, tags, groups, merges and source cross-references.

Transactions and balance history live in the Parquet lake (see ``customers.lake``); everything a
relationship manager edits lives here.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bankcrm.core.db import Base, utcnow


class Customer(Base):
    """One real customer (a party): an individual or a corporate.

    Personal identifiers are C2: ``id_number`` is kept for display through the audited reveal
    flow, ``id_digest`` (a keyed hash) serves exact-match search, so a deployment that encrypts the
    clear column at rest keeps search working.
    """

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_no: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(12))  # individual | corporate
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | deactivated | merged
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    id_type: Mapped[str] = mapped_column(String(20))  # resident_id | uscc | passport | hk_macau_permit | ...
    id_number: Mapped[str] = mapped_column(String(64))
    id_digest: Mapped[str] = mapped_column(String(64), index=True)
    birth_date: Mapped[date | None]
    gender: Mapped[str | None] = mapped_column(String(1))  # M | F, derived from the resident ID
    nationality: Mapped[str | None] = mapped_column(String(3))
    occupation: Mapped[str | None] = mapped_column(String(100))
    income_band: Mapped[str | None] = mapped_column(String(20))
    industry: Mapped[str | None] = mapped_column(String(100))  # corporate
    registered_capital: Mapped[Decimal | None]  # corporate, CNY
    mobile: Mapped[str | None] = mapped_column(String(20))  # primary mobile, denormalised for lists
    risk_level: Mapped[str | None] = mapped_column(String(2))  # C1..C5 from the risk questionnaire
    risk_assessed_on: Mapped[date | None]
    tier: Mapped[str] = mapped_column(String(12), default="mass")
    tier_as_of: Mapped[date | None]  # when the scoring run last tiered it; None: tier from the load
    aum: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    do_not_contact: Mapped[bool] = mapped_column(default=False)
    # Scope by unit: subtree readers see customers whose unit lies in their subtree (unit ids come
    # from identity, so an org move needs no rewrite here).
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    primary_rm_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    deactivated_at: Mapped[datetime | None]
    deactivation_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads this
    __table_args__ = (
        Index("ix_customer_unit_list", "org_unit_id", "status", "id"),
        Index("ix_customer_rm_list", "primary_rm_id", "status", "id"),
        Index("ix_customer_name", "name"),
        # Whole-bank lists sorted by AUM (the default): page 1 and page 1000 walk this index, and
        # test the kind, tier and risk-level filters (and count) without reading the rows.
        Index("ix_customer_list_aum", "status", "aum", "id", "kind", "tier", "risk_level"),
    )


class CustomerSearchKey(Base):
    """Every way a customer can be found, as normalised keys with a kind prefix.

    ``n:张三`` (name), ``p:zhangsan`` (pinyin), ``i:zs`` (initials), ``m:13812345678`` (mobile),
    ``l:5678`` (last four of the mobile), ``d:<digest>`` (ID number), ``c:<customer no>``,
    ``x:<source customer no>``, ``a:<account or card no>``. One index answers every kind of query
    with an exact or prefix range scan, which keeps search fast at millions of customers.
    """

    __tablename__ = "customer_search_key"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True, index=True)


class ContactPoint(Base):
    __tablename__ = "customer_contact_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # mobile | phone | email | wechat
    value: Mapped[str] = mapped_column(String(254))
    is_primary: Mapped[bool] = mapped_column(default=False)
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    source: Mapped[str] = mapped_column(String(40), default="crm")


class Address(Base):
    __tablename__ = "customer_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # home | work | registered | mailing
    line: Mapped[str] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(60))
    postcode: Mapped[str | None] = mapped_column(String(10))
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    source: Mapped[str] = mapped_column(String(40), default="crm")


class Consent(Base):
    """The latest consent per channel; history is in the audit trail."""

    __tablename__ = "customer_consent"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(
        String(12), primary_key=True
    )  # sms | phone | email | app_push | wechat
    granted: Mapped[bool]
    source: Mapped[str] = mapped_column(String(40))
    recorded_on: Mapped[date]
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class CorporateContact(Base):
    """A person acting for a corporate customer: legal representative, finance contact, authorised person."""

    __tablename__ = "corporate_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # legal_rep | finance | authorised
    name: Mapped[str] = mapped_column(String(100))
    mobile: Mapped[str | None] = mapped_column(String(20))
    id_type: Mapped[str | None] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(String(64))
    person_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]


class Relationship(Base):
    """A directed link between two customers: household, corporate affiliation or guarantee."""

    __tablename__ = "customer_relationship"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    to_customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    share_pct: Mapped[Decimal | None]
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class RmAssignment(Base):
    """Who looks after a customer, effective-dated: one primary RM and any number of assistants."""

    __tablename__ = "customer_rm_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    role: Mapped[str] = mapped_column(String(10))  # primary | assistant
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("portfolio_handover.id"))

    __table_args__ = (Index("ix_rm_assignment_user_current", "user_id", "valid_to", "customer_id"),)


class PortfolioHandover(Base):
    """Moving customers from one RM to another, requested by one user and approved by another."""

    __tablename__ = "portfolio_handover"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_rm_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    to_rm_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    customer_ids: Mapped[str] = mapped_column(Text)  # space-separated ids, frozen at request time
    effective_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | approved | rejected | void
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(500))


class SourceXref(Base):
    """Which source-system records (core banking, cards, loans, ...) belong to this customer."""

    __tablename__ = "customer_source_xref"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    source_system: Mapped[str] = mapped_column(String(40))
    source_customer_no: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    match_rule: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("source_system", "source_customer_no", name="uq_customer_source_xref"),
    )


class Product(Base):
    """The bank's product catalogue: deposits, wealth management (R1-R5), funds, insurance, loans, cards."""

    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(
        String(20)
    )  # deposit | time_deposit | wealth | fund | insurance | loan | card
    risk_level: Mapped[str | None] = mapped_column(String(2))  # R1..R5 for investment products
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    is_active: Mapped[bool] = mapped_column(default=True)


class Account(Base):
    """An account or a card held at the bank (C2: the number is masked on display)."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    account_no: Mapped[str] = mapped_column(String(32), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    kind: Mapped[str] = mapped_column(String(20))  # current | savings | time_deposit | loan | credit_card
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    balance: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    credit_limit: Mapped[Decimal | None]
    opened_on: Mapped[date]
    closed_on: Mapped[date | None]
    maturity_date: Mapped[date | None]
    interest_rate: Mapped[Decimal | None]
    overdue_days: Mapped[int] = mapped_column(default=0)
    overdue_amount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | dormant | closed | frozen
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))


class Holding(Base):
    """A position in an investment product: wealth management, fund or insurance."""

    __tablename__ = "holding"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    units: Mapped[Decimal]
    cost: Mapped[Decimal]
    market_value: Mapped[Decimal]
    valued_on: Mapped[date]
    acquired_on: Mapped[date]
    maturity_date: Mapped[date | None]


class Interaction(Base):
    """A visit, call, meeting or note logged by an RM or agent, with an optional follow-up."""

    __tablename__ = "interaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    kind: Mapped[str] = mapped_column(String(12))  # visit | call | meeting | note
    channel: Mapped[str] = mapped_column(String(12))  # branch | phone | video | wechat | email | field
    occurred_at: Mapped[datetime]
    summary: Mapped[str] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(String(500))
    follow_up_on: Mapped[date | None]
    follow_up_done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_interaction_follow_up", "user_id", "follow_up_done_at", "follow_up_on"),)


class Tag(Base):
    """A manual tag (the segmentation module adds rule and model tags to the same catalogue)."""

    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(20), default="basic")
    kind: Mapped[str] = mapped_column(String(10), default="manual")  # manual | rule | model
    description: Mapped[str | None] = mapped_column(String(300))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerTag(Base):
    __tablename__ = "customer_tag"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id"), primary_key=True, index=True)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerGroup(Base):
    """A static list of customers kept by a user (e.g. "Spring Festival visits")."""

    __tablename__ = "customer_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(300))
    owner_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_customer_group_owner_name"),)


class CustomerGroupMember(Base):
    __tablename__ = "customer_group_member"

    group_id: Mapped[int] = mapped_column(ForeignKey("customer_group.id"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True, index=True)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class MergeRequest(Base):
    """Maker-checker merge of duplicates into one survivor, with the surviving value per field."""

    __tablename__ = "merge_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    merged_ids: Mapped[str] = mapped_column(String(400))  # space-separated
    chosen_values: Mapped[str] = mapped_column(Text)  # JSON: field -> customer id whose value survives
    status: Mapped[str] = mapped_column(
        String(12), default="pending"
    )  # pending|approved|rejected|void|unmerged
    reason: Mapped[str] = mapped_column(String(500))
    # A person, or (for merges the matching job made above its auto-merge threshold) no one:
    # then ``requested_by_job`` names the job.
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    requested_by_job: Mapped[str | None] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None]
    snapshot: Mapped[str | None] = mapped_column(Text)  # JSON of everything moved, for unmerge
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads this


class CustomerNumberCounter(Base):
    """The last customer number handed out. One row; bulk loads reserve a block with one update."""

    __tablename__ = "customer_number_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class CustomerScore(Base):
    """A customer's latest key scores, written back by the nightly scoring run (segmentation) for
    the 360° view and the lists. The history stays in the lake, by as-of date."""

    __tablename__ = "customer_score"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True)
    as_of: Mapped[date]
    aum_mda: Mapped[Decimal]  # monthly daily average of the balance month
    aum_qda: Mapped[Decimal]  # daily average over the three balance months up to it
    recency_days: Mapped[int | None]
    frequency_12m: Mapped[int]
    monetary_12m: Mapped[Decimal]
    product_breadth: Mapped[int]
    digital_share_3m: Mapped[float | None]
    aum_change_3m: Mapped[float | None]
    rfm_r: Mapped[int]  # recency, frequency and monetary quintiles, 1-5
    rfm_f: Mapped[int]
    rfm_m: Mapped[int]
    rfm_segment: Mapped[str] = mapped_column(String(24))
    # Lifetime value over the next 12 months (BG/NBD + Gamma-Gamma); empty when the run could not fit
    # the models (too few repeat customers) or the customer has no transaction yet.
    clv_expected_transactions: Mapped[float | None]
    clv_probability_alive: Mapped[float | None]
    clv_expected_value: Mapped[Decimal | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerTierChange(Base):
    """A customer's move between value tiers by the scoring run, with the input that decided it."""

    __tablename__ = "customer_tier_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    as_of: Mapped[date]
    from_tier: Mapped[str] = mapped_column(String(12))
    to_tier: Mapped[str] = mapped_column(String(12))
    aum_mda: Mapped[Decimal]  # the balance month's daily average that decided it
    balance_month: Mapped[str] = mapped_column(String(7))
    reason: Mapped[str] = mapped_column(String(12))  # upgrade | downgrade


class CustomerTagEvent(Base):
    """When a customer gained or lost a tag, and why: a person's hand (manual tags) or the scoring
    run's rule or model band (rule and model tags). The customer_tag row is the present; this is the
    history, kept also for tags that were later removed."""

    __tablename__ = "customer_tag_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), index=True)
    change: Mapped[str] = mapped_column(String(8))  # gained | lost
    at: Mapped[datetime] = mapped_column(default=utcnow)
    as_of: Mapped[date | None]  # the scoring run's business date, for rule and model tags
    reason: Mapped[str] = mapped_column(String(300))  # manual | the rule in words | the band
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
