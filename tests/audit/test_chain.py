"""The audit trail is append-only and hash-chained; `audit verify` finds any tampering."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.audit.models import AuditEvent
from bankcrm.core.context import Actor, Origin
from bankcrm.core.masking import MaskKind
from tests.conftest import BACKEND

ACTOR = Actor(
    user_id=7,
    username="auditor.test",
    role="admin",
    origin=Origin(ip="10.1.2.3", user_agent="pytest", request_id="req-1"),
)


def write_events(db: Session, count: int) -> list[AuditEvent]:
    return [
        audit.record_event(db, ACTOR, action="test", entity_type="thing", entity_id=i, details={"n": i})
        for i in range(count)
    ]


def lift_guards(db: Session) -> None:
    """What an attacker with database access would do first (undone by the test's rollback)."""
    if BACKEND == "postgres":
        db.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    else:
        db.execute(text("DROP TRIGGER audit_event_no_update"))
        db.execute(text("DROP TRIGGER audit_event_no_delete"))


def test_events_chain_onto_each_other_and_verify(db: Session) -> None:
    events = write_events(db, 5)
    for earlier, later in itertools.pairwise(events):
        assert later.prev_hash == earlier.row_hash
        assert later.seq == earlier.seq + 1
    report = audit.verify_chain(db)
    assert report.ok
    assert report.checked >= 5


def test_event_records_who_where_and_why(db: Session) -> None:
    event = audit.record_event(
        db,
        ACTOR,
        action="unmask",
        entity_type="user",
        entity_id=3,
        details={"field": "mobile"},
        reason="customer called about a card",
    )
    assert (event.actor_id, event.actor_name, event.actor_role) == (7, "auditor.test", "admin")
    assert (event.ip, event.user_agent, event.request_id) == ("10.1.2.3", "pytest", "req-1")
    assert event.reason == "customer called about a card"


def test_changes_record_before_and_after_with_personal_data_masked(db: Session) -> None:
    event = audit.record_change(
        db,
        ACTOR,
        entity_type="user",
        entity_id=9,
        action="update",
        before={"display_name": "张三", "mobile": "13812345678", "unchanged": 1},
        after={"display_name": "张三丰", "mobile": "13987654321", "unchanged": 1},
        sensitive={"mobile": MaskKind.MOBILE},
    )
    changes = audit.to_out(event).changes
    assert changes == {
        "display_name": {"before": "张三", "after": "张三丰"},
        "mobile": {"before": "138****5678", "after": "139****4321"},
    }
    assert "13812345678" not in event.changes


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"])
def test_the_database_refuses_to_change_or_remove_audit_rows(db: Session, statement: str) -> None:
    write_events(db, 1)
    savepoint = db.begin_nested()
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute(text(statement))
    savepoint.rollback()


def test_verify_names_a_changed_row(db: Session) -> None:
    events = write_events(db, 4)
    lift_guards(db)
    db.execute(
        text("UPDATE audit_event SET reason = 'nothing to see' WHERE seq = :seq"), {"seq": events[2].seq}
    )
    report = audit.verify_chain(db)
    assert not report.ok
    assert report.first_bad_seq == events[2].seq
    assert "changed" in (report.problem or "")


def test_verify_names_the_gap_of_a_removed_row(db: Session) -> None:
    events = write_events(db, 4)
    lift_guards(db)
    db.execute(text("DELETE FROM audit_event WHERE seq = :seq"), {"seq": events[1].seq})
    report = audit.verify_chain(db)
    assert not report.ok
    assert report.first_bad_seq == events[2].seq
    assert "removed" in (report.problem or "")


def test_verify_notices_the_newest_row_was_removed(db: Session) -> None:
    events = write_events(db, 3)
    lift_guards(db)
    db.execute(text("DELETE FROM audit_event WHERE seq = :seq"), {"seq": events[-1].seq})
    report = audit.verify_chain(db)
    assert not report.ok
    assert "head" in (report.problem or "")


def test_verify_catches_reordered_rows(db: Session) -> None:
    events = write_events(db, 4)
    lift_guards(db)
    first, second = events[1].seq, events[2].seq
    db.execute(text("UPDATE audit_event SET seq = -1 WHERE seq = :s"), {"s": first})
    db.execute(text("UPDATE audit_event SET seq = :a WHERE seq = :b"), {"a": first, "b": second})
    db.execute(text("UPDATE audit_event SET seq = :b WHERE seq = -1"), {"b": second})
    report = audit.verify_chain(db)
    assert not report.ok
    assert report.first_bad_seq == first


def test_verify_catches_a_row_inserted_out_of_order(db: Session) -> None:
    events = write_events(db, 3)
    lift_guards(db)
    forged = events[1]
    # A forged row squeezed in: shift the later rows up and insert a copy of an old one in the gap.
    db.execute(text("UPDATE audit_event SET seq = seq + 1 WHERE seq > :s"), {"s": forged.seq})
    db.execute(
        text(
            "INSERT INTO audit_event (seq, occurred_at, actor_name, actor_role, action, entity_type, "
            "changes, prev_hash, row_hash) "
            "SELECT seq + 1, occurred_at, actor_name, actor_role, 'forged', entity_type, "
            "changes, row_hash, row_hash FROM audit_event WHERE seq = :s"
        ),
        {"s": forged.seq},
    )
    report = audit.verify_chain(db)
    assert not report.ok
    assert report.first_bad_seq == forged.seq + 1


def test_chain_head_tracks_the_newest_row(db: Session) -> None:
    last = write_events(db, 2)[-1]
    newest = db.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
    assert newest.row_hash == last.row_hash


def test_rows_appended_in_bulk_chain_on_and_hold_what_one_at_a_time_rows_hold(db: Session) -> None:
    single = audit.record_change(
        db,
        ACTOR,
        entity_type="customer",
        entity_id=1,
        action="update_from_source",
        before={"mobile": "13800001111"},
        after={"mobile": "13900002222"},
        sensitive={"mobile": MaskKind.MOBILE},
        reason="survivorship",
    )
    audit.record_many(
        db,
        ACTOR,
        [
            audit.change_entry(
                entity_type="customer",
                entity_id=1,
                action="update_from_source",
                before={"mobile": "13800001111"},
                after={"mobile": "13900002222"},
                sensitive={"mobile": MaskKind.MOBILE},
                reason="survivorship",
            ),
            audit.event_entry(action="xref_linked", entity_type="customer", entity_id=2, details={"n": 1}),
        ],
    )
    after = list(
        db.execute(select(AuditEvent).where(AuditEvent.seq > single.seq).order_by(AuditEvent.seq)).scalars()
    )
    assert [e.seq for e in after] == [single.seq + 1, single.seq + 2]
    assert after[0].prev_hash == single.row_hash
    assert after[1].prev_hash == after[0].row_hash
    same = (
        "actor_name",
        "actor_role",
        "ip",
        "user_agent",
        "request_id",
        "action",
        "entity_id",
        "changes",
        "reason",
    )
    assert [getattr(after[0], c) for c in same] == [getattr(single, c) for c in same]
    assert "139****2222" in after[0].changes
    next_one = audit.record_event(db, ACTOR, action="test", entity_type="thing")
    assert next_one.prev_hash == after[1].row_hash
    assert audit.verify_chain(db).ok
