"""Segments as people keep them: created on the latest run, recomputed by each nightly run with
who joined and left, snapshots that stay as they were, and every count, profile and export within
the viewer's data scope."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankcrm.audit.models import AuditEvent
from bankcrm.core.errors import PermissionDenied, ValidationFailed
from bankcrm.core.lake import Lake
from bankcrm.customers import lake_repository
from bankcrm.segmentation import segment_reports as reports
from bankcrm.segmentation import service as segments
from bankcrm.segmentation.jobs import compute_features, store_features
from bankcrm.segmentation.rules import parse_rule
from bankcrm.segmentation.schemas import SegmentIn
from tests.segmentation.bank import AS_OF, credit_account

RICH = {"join": "and", "items": [{"field": "aum", "operator": "ge", "value": "390000"}]}
NEXT_RUN = date(2026, 11, 30)


def _create(
    db: Session,
    lake: Lake,
    principal: Any,
    name: str = "高资产",
    rule: dict[str, Any] = RICH,
    kind: str = "dynamic",
) -> segments.SegmentItem:
    return segments.create_segment(db, principal, lake, data=SegmentIn(name=name, kind=kind, rule=rule))


def _rerun_with_balances(db: Session, lake: Lake, balances: dict[int, str]) -> None:
    table = pa.table(
        {
            "customer_id": list(balances),
            "category": ["deposit"] * len(balances),
            "balance": [Decimal(v) for v in balances.values()],
        }
    )
    lake_repository.write_balances(lake, "2026-11", table, batch_key="b2")
    store_features(db, lake, compute_features(db, lake, as_of=NEXT_RUN), as_of=NEXT_RUN)


def test_a_new_segment_is_computed_on_the_latest_run(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    segment = _create(db, lake, as_user("bm.beijing"))
    assert segment.as_of == AS_OF
    assert segment.members == 4  # A, B, C and D (its 400,000 counts wealth too); E holds nothing
    members = set(segments.member_ids(db, as_user("bm.beijing"), lake, segment_id=segment.id))
    assert members == {bank["A"], bank["B"], bank["C"], bank["D"]}


def test_the_nightly_run_recomputes_dynamic_segments_and_keeps_who_joined_and_left(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    marketing = as_user("bm.beijing")
    dynamic = _create(db, lake, marketing)
    before = set(segments.member_ids(db, marketing, lake, segment_id=dynamic.id))
    static = _create(db, lake, marketing, name="高资产（固定）", kind="static")

    # November: A falls to 100,000, E rises to 900,000; the others keep October's month end.
    _rerun_with_balances(
        db,
        lake,
        {
            bank["A"]: "100000",
            bank["B"]: "400000",
            bank["C"]: "600000",
            bank["D"]: "400000",
            bank["E"]: "900000",
        },
    )

    after = set(segments.member_ids(db, marketing, lake, segment_id=dynamic.id))
    assert after == before - {bank["A"]} | {bank["E"]}
    runs = segments.segment_runs(db, marketing, segment_id=dynamic.id)
    assert [(r.as_of, r.joined, r.left) for r in runs[:1]] == [(NEXT_RUN, 1, 1)]
    partition = f"segment_id={dynamic.id}/as_of={NEXT_RUN.isoformat()}"
    scan = lake.scan_expression(segments.CHANGES, partitions=partition)
    changes = lake.query(f"SELECT customer_id, change FROM {scan}").to_pylist()
    assert sorted((c["customer_id"], c["change"]) for c in changes) == sorted(
        [(bank["E"], "joined"), (bank["A"], "left")]
    )
    # The static segment kept October's members.
    assert set(segments.member_ids(db, marketing, lake, segment_id=static.id)) == before


def test_running_the_same_date_again_gives_the_same_members(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    marketing = as_user("bm.beijing")
    segment = _create(db, lake, marketing)
    first = segments.member_ids(db, marketing, lake, segment_id=segment.id)
    store_features(db, lake, compute_features(db, lake, as_of=AS_OF), as_of=AS_OF)
    assert segments.member_ids(db, marketing, lake, segment_id=segment.id) == first
    assert len(segments.segment_runs(db, marketing, segment_id=segment.id)) == 1


def test_a_snapshot_keeps_the_members_of_its_day(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    marketing = as_user("bm.beijing")
    dynamic = _create(db, lake, marketing)
    snapshot = segments.snapshot_segment(db, marketing, lake, segment_id=dynamic.id, name="十月高资产")
    assert snapshot.kind == "static"
    october = set(segments.member_ids(db, marketing, lake, segment_id=dynamic.id))
    _rerun_with_balances(db, lake, {bank["A"]: "100000"})
    assert set(segments.member_ids(db, marketing, lake, segment_id=snapshot.id)) == october


def test_a_relationship_manager_sees_only_their_own_customers_in_a_segment(
    db: Session, lake: Lake, bank: dict[str, int], make_customer, as_user
) -> None:  # type: ignore[no-untyped-def]
    other = make_customer("rm.chen", name="别人的客户")
    table = pa.table({"customer_id": [other.id], "category": ["deposit"], "balance": [Decimal("800000")]})
    lake_repository.write_balances(lake, "2026-10", table, batch_key="b-other")
    store_features(db, lake, compute_features(db, lake, as_of=AS_OF), as_of=AS_OF)
    segment = _create(db, lake, as_user("bm.beijing"))

    everyone = set(segments.member_ids(db, as_user("exec"), lake, segment_id=segment.id))
    zhang = set(segments.member_ids(db, as_user("rm.zhang"), lake, segment_id=segment.id))
    chen = set(segments.member_ids(db, as_user("rm.chen"), lake, segment_id=segment.id))
    assert other.id in everyone
    assert chen == {other.id}
    assert zhang == everyone - {other.id}
    assert segments.get_segment(db, as_user("rm.chen"), lake, segment_id=segment.id).members == 1
    preview = segments.preview(db, as_user("rm.chen"), lake, rule=RICH)
    assert (preview.count, [c.id for c in preview.sample]) == (1, [other.id])
    assert reports.segment_profile(db, as_user("rm.chen"), lake, segment_id=segment.id).members == 1


def test_the_preview_counts_and_samples_largest_first_and_stores_nothing(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    preview = segments.preview(db, as_user("bm.beijing"), lake, rule=RICH)
    assert preview.count == len(preview.sample)
    assert preview.sample[0].id == bank["C"]  # 600,000: the largest
    assert segments.list_segments(db, as_user("bm.beijing"), lake) == []


def test_a_rule_that_cannot_compile_is_refused_and_nothing_is_saved(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    broken = {"join": "and", "items": [{"field": "aum", "operator": "between", "value": ["9", "1"]}]}
    with pytest.raises(ValidationFailed) as raised:
        _create(db, lake, as_user("bm.beijing"), rule=broken)
    assert raised.value.problems[0].field == "rule.1.value"
    assert segments.list_segments(db, as_user("bm.beijing"), lake) == []


def test_only_those_allowed_define_segments(db: Session, lake: Lake, bank: dict[str, int], as_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        _create(db, lake, as_user("rm.zhang"))


def test_the_profile_counts_tiers_ages_products_and_channels(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    segment = _create(
        db,
        lake,
        as_user("bm.beijing"),
        rule={"join": "and", "items": [{"field": "aum", "operator": "gt", "value": 0}]},
    )
    profile = reports.segment_profile(db, as_user("bm.beijing"), lake, segment_id=segment.id)
    assert profile.members == 4  # A-D
    assert sum(n for _tier, n in profile.tiers) == 4
    assert dict(profile.ages)["40-49"] == 4  # born 1985
    assert dict(profile.products)["wealth"] == 1  # D
    assert dict(profile.channels) == {"online": 11}  # 11 salaries in the 3 months: A, C, D three each, B two


def test_comparing_two_segments_counts_their_overlap(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    marketing = as_user("bm.beijing")
    rich = _create(db, lake, marketing)
    wealth = _create(
        db,
        lake,
        marketing,
        name="理财客户",
        rule={"join": "and", "items": [{"field": "balance_wealth", "operator": "gt", "value": 0}]},
    )
    comparison = reports.compare_segments(db, marketing, lake, first_id=rich.id, second_id=wealth.id)
    assert comparison.overlap == len(
        {bank["D"]} & set(segments.member_ids(db, marketing, lake, segment_id=rich.id))
    )
    assert comparison.second_profile.members == 1


def test_export_is_permissioned_audited_and_masked(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    segment = _create(db, lake, as_user("bm.beijing"))
    with pytest.raises(PermissionDenied):
        "".join(reports.export_members(db, as_user("analyst"), lake, segment_id=segment.id))
    text = "".join(reports.export_members(db, as_user("bm.beijing"), lake, segment_id=segment.id))
    lines = text.strip().splitlines()
    assert lines[1].startswith("customer_no,name")
    assert len(lines) == 2 + segment.members  # type: ignore[operator]
    assert not re.search(r"\b1\d{10}\b", text)  # mobiles masked
    exports = (
        db.execute(
            select(AuditEvent).where(AuditEvent.entity_type == "segment", AuditEvent.action == "export")
        )
        .scalars()
        .all()
    )
    assert len(exports) == 1


def test_a_segments_members_are_listed_largest_first_with_their_run_figure(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    segment = _create(db, lake, as_user("bm.beijing"))
    members = segments.sample_members(db, as_user("bm.beijing"), lake, segment_id=segment.id)
    assert members[0].customer.id == bank["C"]
    assert [m.aum_mda for m in members] == sorted((m.aum_mda for m in members), reverse=True)


def _window_rule(months: int) -> Any:
    window = {"field": "txn", "operator": "ge", "value": 1, "months": months, "direction": "in"}
    return parse_rule({"join": "and", "items": [window]})


def test_a_window_opens_only_the_months_of_transactions_it_reaches(tmp_path: Any) -> None:
    lake = Lake(tmp_path / "lake")
    for month in ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10"):
        lake.partition_dir(lake_repository.TRANSACTIONS, {"month": month}).mkdir(parents=True)
    # The last 3 rolling months of Oct 31 start on Aug 1; of Oct 15, on Jul 16 (July's folder too).
    assert segments.transaction_folders(lake, _window_rule(3), as_of=date(2026, 10, 31)) == [
        "month=2026-08/bucket=*",
        "month=2026-09/bucket=*",
        "month=2026-10/bucket=*",
    ]
    assert segments.transaction_folders(lake, _window_rule(3), as_of=date(2026, 10, 15))[0] == (
        "month=2026-07/bucket=*"
    )
    # Only months the lake has; none for a rule without a window.
    assert len(segments.transaction_folders(lake, _window_rule(12), as_of=date(2026, 10, 31))) == 5
    assert segments.transaction_folders(lake, parse_rule(RICH), as_of=AS_OF) == []


OVERDUE = {"join": "and", "items": [{"field": "overdue_days_max", "operator": "gt", "value": 90}]}


def test_a_rule_on_the_credit_status_finds_the_customer_in_default(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    credit_account(db, bank["B"], "L-B", "loan", 120, "3000.00")
    credit_account(db, bank["C"], "C-C", "credit_card", 30, "500.00")
    store_features(db, lake, compute_features(db, lake, as_of=AS_OF), as_of=AS_OF)
    assert segments.preview(db, as_user("bm.beijing"), lake, rule=OVERDUE).count == 1
    found = segments.compute_members(db, lake, lake.ibis_backend(), parse_rule(OVERDUE), as_of=AS_OF).tolist()
    assert found == [bank["B"]]


def test_a_run_kept_before_a_field_existed_has_it_missing(
    db: Session, lake: Lake, bank: dict[str, int], as_user
) -> None:  # type: ignore[no-untyped-def]
    # As a run written before the credit status was kept: its file lacks those columns.
    folder = lake.dataset_dir(segments.FEATURES) / f"as_of={AS_OF.isoformat()}"
    for path in folder.glob("*.parquet"):
        older = pq.read_table(path).drop_columns(["credit_products", "overdue_days_max", "overdue_amount"])
        pq.write_table(older, path)
    assert segments.preview(db, as_user("bm.beijing"), lake, rule=OVERDUE).count == 0
    missing = {"join": "and", "items": [{"field": "overdue_amount", "operator": "is_null"}]}
    assert segments.preview(db, as_user("bm.beijing"), lake, rule=missing).count == 5
