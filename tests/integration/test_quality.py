"""Data quality: figures per field and batch, freshness per source, a trend, and the failing records."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bankcrm.core.context import Actor
from bankcrm.core.db import utcnow
from bankcrm.core.errors import NotFound, PermissionDenied
from bankcrm.core.lake import Lake
from bankcrm.core.pagination import PageRequest
from bankcrm.integration.mapping import registry
from bankcrm.integration.models import Batch
from bankcrm.integration.service import quality
from bankcrm.integration.service.ingest import ingest_file
from tests.integration.files import core_row, resident_id, write_core

JOB = Actor.system("test-quality")


def first_delivery(folder: Path) -> Path:
    """Four records: one with no e-mail or mobile, one with a bad mobile, one with a bad ID number,
    and an ID number repeated under two customer numbers."""
    shared_id = resident_id(date(1980, 1, 2), 11)
    rows = [
        core_row("Q1", "赵一", resident_id(date(1990, 5, 1), 1), EMAIL="zhao@example.cn"),
        core_row("Q2", "钱二", shared_id, mobile="", EMAIL=""),
        core_row("Q3", "孙三", shared_id, mobile="1380000", UPDATED="2026-11-29 06:30:00"),
        core_row("Q4", "李四", "110108199001011234"),  # wrong check character
    ]
    return write_core(folder, "core_customers_20261128.csv", rows)


def second_delivery(folder: Path) -> Path:
    rows = [
        core_row(f"R{n}", "周五", resident_id(date(1985, 3, 3), n), EMAIL=f"z{n}@example.cn")
        for n in range(4)
    ]
    return write_core(folder, "core_customers_20261129.csv", rows)


def figures_by_field(figures: list[quality.FieldFigures]) -> dict[str, quality.FieldFigures]:
    return {f.field: f for f in figures}


@pytest.mark.usefixtures("demo")
def test_completeness_validity_and_uniqueness_are_counted_per_field(
    db: Session,
    lake: Lake,
    tmp_path: Path,
    as_user,  # type: ignore[no-untyped-def]
) -> None:
    ingest_file(db, JOB, source="core", path=first_delivery(tmp_path))
    source = quality.source_quality(db, as_user("admin"), source="core")
    fields = figures_by_field(source.fields)
    assert fields["email"].completeness == 0.25  # one e-mail among four records
    assert fields["mobile"].completeness == 0.75
    assert fields["mobile"].validity == round(2 / 3, 4)  # 1380000 is not a mobile number
    assert fields["mobile"].invalid == 1
    assert fields["id_number"].validity == 0.75
    assert fields["id_number"].uniqueness == 0.75  # four filled, three distinct
    assert fields["id_number"].duplicates == 1
    assert fields["name"].uniqueness is None  # names are not expected to be unique
    assert fields["updated_at"].newest == "2026-11-28T22:30:00+00:00"  # 06:30 Beijing time, kept in UTC
    assert fields["updated_at"].newest_local == "2026-11-29 06:30"
    assert source.late is False


@pytest.mark.usefixtures("demo")
@pytest.mark.usefixtures("demo")
def test_fields_are_listed_in_the_order_of_the_mapping_file(
    db: Session,
    lake: Lake,
    tmp_path: Path,
    as_user,  # type: ignore[no-untyped-def]
) -> None:
    ingest_file(db, JOB, source="core", path=first_delivery(tmp_path))
    listed = [f.field for f in quality.source_quality(db, as_user("admin"), source="core").fields]
    mapped = list(dict.fromkeys(registry()["core"].columns.values()))
    assert listed == mapped


@pytest.mark.usefixtures("demo")
def test_a_source_is_late_when_no_delivery_came_in_its_expected_interval(
    db: Session,
    lake: Lake,
    tmp_path: Path,
    as_user,  # type: ignore[no-untyped-def]
) -> None:
    admin = as_user("admin")
    assert quality.source_quality(db, admin, source="core").late  # never delivered
    result = ingest_file(db, JOB, source="core", path=first_delivery(tmp_path))
    batch = db.get(Batch, result.batch_id)
    assert batch is not None
    batch.finished_at = utcnow() - timedelta(hours=25)
    db.flush()
    overview = {s.code: s for s in quality.overview(db, admin)}
    assert overview["core"].late
    assert overview["core"].hours_since_delivery is not None
    assert overview["core"].hours_since_delivery >= 25


@pytest.mark.usefixtures("demo")
def test_the_trend_lists_the_recent_batches_oldest_first(
    db: Session,
    lake: Lake,
    tmp_path: Path,
    as_user,  # type: ignore[no-untyped-def]
) -> None:
    first = ingest_file(db, JOB, source="core", path=first_delivery(tmp_path))
    second = ingest_file(db, JOB, source="core", path=second_delivery(tmp_path))
    history = quality.trend(db, as_user("admin"), source="core")
    assert [b.id for b in history.batches] == [first.batch_id, second.batch_id]
    assert history.completeness["email"] == [0.25, 1.0]
    assert history.validity["id_number"] == [0.75, 1.0]


@pytest.mark.usefixtures("demo")
def test_failing_records_of_a_field_are_the_rejects_with_masked_values(
    db: Session,
    lake: Lake,
    tmp_path: Path,
    as_user,  # type: ignore[no-untyped-def]
) -> None:
    ingest_file(db, JOB, source="core", path=first_delivery(tmp_path))
    failing = quality.failing_records(
        db, as_user("admin"), source="core", field="id_number", page=PageRequest(1, 10)
    )
    assert failing.total == 1
    assert failing.items[0].source_customer_no == "Q4"
    assert failing.items[0].value == "110***********1234"
    with pytest.raises(NotFound):
        quality.failing_records(db, as_user("admin"), source="core", field="pin", page=PageRequest(1, 10))
    with pytest.raises(NotFound):
        quality.source_quality(db, as_user("admin"), source="nosuch")


@pytest.mark.usefixtures("demo")
def test_only_integration_rights_see_data_quality(db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        quality.overview(db, as_user("rm.zhang"))


def test_quality_pages_show_the_figures_and_drill_down(
    db: Session,
    lake: Lake,
    tmp_path: Path,
    signed_in,
    client,  # type: ignore[no-untyped-def]
) -> None:
    signed_in("admin")
    first = ingest_file(db, JOB, source="core", path=first_delivery(tmp_path))
    ingest_file(db, JOB, source="core", path=second_delivery(tmp_path))
    overview = client.get("/integration/quality")
    assert overview.status_code == 200
    assert 'data-source="core"' in overview.text
    detail = client.get("/integration/quality/core")
    assert detail.status_code == 200
    assert 'data-testid="quality-trend"' in detail.text
    assert 'href="/integration/quality/core/id_number"' not in detail.text  # the last batch is clean
    first_batch = client.get(f"/integration/batches/{first.batch_id}").text
    assert 'href="/integration/quality/core/id_number" data-testid="failing-id_number">1</a>' in first_batch
    drill = client.get("/integration/quality/core/id_number")
    assert drill.status_code == 200
    assert "Q4" in drill.text
    assert client.get("/integration/quality/nosuch").status_code == 404
    api = client.get("/api/v1/integration/quality/core").json()
    assert api["trend"]["completeness"]["email"] == [0.25, 1.0]
    assert client.get("/api/v1/integration/quality/core/id_number/rejects").json()["total"] == 1
    signed_in("rm.zhang")
    assert client.get("/integration/quality").status_code == 403
    assert client.get("/api/v1/integration/quality").status_code == 403
