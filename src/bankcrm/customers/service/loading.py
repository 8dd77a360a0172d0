"""Verbs for loading jobs (integration, demo data) that act as the system, not as a signed-in user.

They write the same rows as the user-facing verbs and leave audit rows naming the job.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.context import Actor
from bankcrm.customers import repository as repo
from bankcrm.customers.models import Consent, CustomerTag, Interaction, Relationship, Tag

_SUMMARIES = (
    "电话回访，客户对定期存款到期续存有意向",
    "网点面谈，介绍稳健型理财产品",
    "客户咨询养老金账户开立",
    "上门拜访，了解企业经营资金需求",
    "微信沟通信用卡账单分期",
)


def ensure_tag(session: Session, actor: Actor, *, code: str, name: str, category: str) -> int:
    tag = repo.find_tag_by_code(session, code)
    if tag is None:
        tag = Tag(code=code, name=name, category=category)
        repo.add(session, tag)
        session.flush()
        audit.record_change(
            session,
            actor,
            entity_type="tag",
            entity_id=tag.id,
            action="create",
            before={},
            after={"code": code, "name": name, "category": category},
        )
    return tag.id


def tag_customer(session: Session, actor: Actor, *, tag_id: int, customer_id: int) -> None:
    if repo.get_customer_tag(session, customer_id, tag_id) is None:
        repo.add(session, CustomerTag(customer_id=customer_id, tag_id=tag_id))
        session.flush()
        tag = repo.find_tag(session, tag_id)
        audit.record_event(
            session,
            actor,
            action="tag",
            entity_type="customer",
            entity_id=customer_id,
            details={"tag": tag.code if tag else str(tag_id)},  # as a person's tagging records it
        )


def log_interaction(
    session: Session, *, user_id: int, customer_id: int, rng: random.Random, today: date
) -> None:
    """A past interaction by the customer's RM; some promise a follow-up due in the coming days."""
    occurred = datetime.combine(today - timedelta(days=rng.randrange(1, 60)), time(2 + rng.randrange(8)), UTC)
    follow_up = today + timedelta(days=rng.randrange(0, 5)) if rng.random() < 0.5 else None
    repo.add(
        session,
        Interaction(
            customer_id=customer_id,
            user_id=user_id,
            kind=rng.choice(("visit", "call", "meeting")),
            channel=rng.choice(("branch", "phone", "wechat")),
            occurred_at=occurred,
            summary=rng.choice(_SUMMARIES),
            next_step="跟进客户需求" if follow_up else None,
            follow_up_on=follow_up,
        ),
    )


def link_customers(session: Session, *, from_id: int, to_id: int, kind: str, today: date) -> None:
    repo.add(
        session, Relationship(from_customer_id=from_id, to_customer_id=to_id, kind=kind, valid_from=today)
    )


def record_consent(
    session: Session,
    *,
    customer_id: int,
    channel: str,
    granted: bool,
    recorded_on: date,
    source: str = "core",
) -> None:
    current = repo.get_consent(session, customer_id, channel)
    if current is None:
        repo.add(
            session,
            Consent(
                customer_id=customer_id,
                channel=channel,
                granted=granted,
                source=source,
                recorded_on=recorded_on,
            ),
        )
