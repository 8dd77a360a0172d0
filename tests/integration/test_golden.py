"""Golden records: survivorship rules per field, an employee's correction, and each field's history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bankcrm.core.context import Actor
from bankcrm.core.errors import NotFound, PermissionDenied
from bankcrm.core.lake import Lake
from bankcrm.core.permissions import Permission
from bankcrm.customers.schemas import CustomerUpdate
from bankcrm.customers.service import customers
from bankcrm.customers.service import merge as customer_merge
from bankcrm.integration.mapping import MappingError
from bankcrm.integration.service import golden
from bankcrm.integration.service.ingest import ingest_file
from bankcrm.integration.survivorship import CRM, Candidate, load_survivorship, winner
from tests.integration.files import core_row, resident_id, write_core

JOB = Actor.system("test-golden")
PERSON = resident_id(date(1979, 4, 5), 21)
ONLINE_HEADER = ["user_id", "real_name", "cert_type", "cert_no", "phone", "mail", "last_login"]


def candidate(source: str, value: str, trust: int, day: int) -> Candidate:
    return Candidate(source, "N1", value, trust, datetime(2026, 11, day, tzinfo=UTC))


# ---------------------------------------------------------------- the rules


def test_most_trusted_takes_the_value_of_the_source_with_the_highest_trust() -> None:
    chosen = winner("most_trusted", [candidate("online", "a", 40, 28), candidate("core", "b", 90, 1)])
    assert chosen is not None
    assert chosen.source == "core"


def test_most_recent_takes_the_value_updated_last() -> None:
    chosen = winner("most_recent", [candidate("online", "a", 40, 28), candidate("core", "b", 90, 1)])
    assert chosen is not None
    assert chosen.source == "online"


def test_a_value_whose_source_says_when_it_changed_outranks_one_that_only_arrived_later() -> None:
    dated = candidate("core", "13800001111", 90, 1)
    snapshot = Candidate("cards", "N2", "13900002222", 60, datetime(2026, 11, 28, tzinfo=UTC), dated=False)
    assert winner("most_recent", [dated, snapshot]) == dated


def test_most_complete_takes_the_longest_value_and_ties_go_to_trust() -> None:
    long = candidate("cards", "北京市海淀区中关村大街1号", 60, 1)
    short = candidate("core", "北京市", 90, 28)
    assert winner("most_complete", [short, long]) == long
    same_length = [candidate("online", "abc", 40, 28), candidate("core", "xyz", 90, 1)]
    chosen = winner("most_complete", same_length)
    assert chosen is not None
    assert chosen.source == "core"


def test_blank_values_never_win() -> None:
    assert winner("most_recent", [candidate("online", "", 40, 28)]) is None


def test_survivorship_errors_name_the_line(tmp_path: Path) -> None:
    config = tmp_path / "survivorship.toml"
    config.write_text(
        '[survivorship]\ndefault = "most_trusted"\n\n[survivorship.fields]\nmobile = "newest"\n'
    )
    with pytest.raises(MappingError, match=r"line 5: 'mobile' has rule 'newest'; the rules are"):
        load_survivorship(config)
    config.write_text('[survivorship]\n[survivorship.fields]\npassword = "most_recent"\n')
    with pytest.raises(MappingError, match=r"line 3: 'password' is not a golden-record field"):
        load_survivorship(config)
    config.write_text('[survivorship]\ncrm_trust = "high"\n')
    with pytest.raises(MappingError, match=r"line 2: crm_trust must be a whole number"):
        load_survivorship(config)


def test_the_shipped_configuration_is_valid() -> None:
    config = load_survivorship()
    assert config.rule_for("mobile") == "most_recent"
    assert config.rule_for("address") == "most_complete"
    assert config.rule_for("name") == "most_trusted"


# ---------------------------------------------------------------- golden records from deliveries


def core_delivery(folder: Path, **extra: str) -> Path:
    row = core_row("C100", "张三", PERSON, EMAIL="zs@core.cn", UPDATED="2026-11-20 09:00:00", **extra)
    return write_core(folder, f"core_customers_2026112{len(extra)}.csv", [row])


def online_delivery(folder: Path, *, phone: str, login: str, name: str = "張三") -> Path:
    row = {
        "user_id": "U100",
        "real_name": name,
        "cert_type": "ID",
        "cert_no": PERSON,
        "phone": phone,
        "mail": "zs@online.cn",
        "last_login": login,
    }
    return write_core(folder, f"online_users_{login[:10].replace('-', '')}.csv", [row], header=ONLINE_HEADER)


def the_customer(db: Session) -> int:
    digest = customers.identity_digest("resident_id", PERSON)
    customer_id = customers.find_customer_by_identity(db, digest)
    assert customer_id is not None
    return customer_id


@pytest.mark.usefixtures("demo")
def test_a_newer_mobile_from_a_less_trusted_source_wins_but_the_name_stays(
    db: Session,
    lake: Lake,
    tmp_path: Path,
    as_user,  # type: ignore[no-untyped-def]
) -> None:
    ingest_file(db, JOB, source="core", path=core_delivery(tmp_path))
    customer_id = the_customer(db)
    ingest_file(
        db,
        JOB,
        source="online",
        path=online_delivery(tmp_path, phone="13900002222", login="2026-11-28 08:00:00", name="張叄"),
    )
    values = customers.golden_values(db, customer_id)
    assert values is not None
    assert values.values["mobile"] == "13900002222"  # most recent
    assert values.values["email"] == "zs@online.cn"  # most recent
    assert values.values["name"] == "张三"  # most trusted: core (90) over online (40)
    view = golden.golden_record(db, as_user("admin"), customer_id=customer_id)
    fields = {f.field: f for f in view.fields}
    assert fields["mobile"].source == "online"
    assert fields["name"].source == "core"
    assert [s.source for s in fields["name"].sources] == ["core", "online"]
    assert fields["mobile"].value == "139****2222"
    mobile_history = [h for h in view.history if h.field == "mobile"]
    assert [h.source for h in mobile_history] == ["online", "core"]  # newest first
    assert mobile_history[0].previous == "138****1111"


@pytest.mark.usefixtures("demo")
def test_an_older_delivery_does_not_overturn_a_newer_value(
    db: Session,
    lake: Lake,
    tmp_path: Path,
    as_user,  # type: ignore[no-untyped-def]
) -> None:
    ingest_file(
        db,
        JOB,
        source="online",
        path=online_delivery(tmp_path, phone="13900002222", login="2026-11-28 08:00:00"),
    )
    customer_id = the_customer(db)
    ingest_file(db, JOB, source="core", path=core_delivery(tmp_path))
    values = customers.golden_values(db, customer_id)
    assert values is not None
    assert values.values["mobile"] == "13900002222"  # core's mobile is from the 20th, online's the 28th
    assert values.values["name"] == "张三"  # core is more trusted, whoever came first
    assert values.values["address"] == "北京市海淀区中关村大街1号"  # only core has one (cleaned up)


@pytest.mark.usefixtures("demo")
def test_a_correction_made_in_the_crm_survives_an_older_delivery(
    db: Session,
    lake: Lake,
    tmp_path: Path,
    as_user,  # type: ignore[no-untyped-def]
) -> None:
    ingest_file(db, JOB, source="core", path=core_delivery(tmp_path))
    customer_id = the_customer(db)
    manager = as_user("sbm.haidian")
    before = customers.get_customer(db, manager, customer_id=customer_id)
    customers.update_customer(
        db,
        manager,
        customer_id=customer_id,
        data=CustomerUpdate(
            name="张三",
            mobile="13700003333",
            occupation="教师",
            risk_level="C3",
            risk_assessed_on=date(2026, 6, 1),
            version=before.version,
            confirm_not_duplicate=True,
        ),
    )
    # The same core record again, changed elsewhere (its update time is still older than the edit).
    ingest_file(db, JOB, source="core", path=core_delivery(tmp_path, ADDR="北京市海淀区 中关村大街 2 号"))
    values = customers.golden_values(db, customer_id)
    assert values is not None
    assert values.values["mobile"] == "13700003333"
    assert values.values["occupation"] == "教师"
    assert values.values["address"] == "北京市海淀区中关村大街2号"
    history = golden.golden_record(db, as_user("admin"), customer_id=customer_id).history
    assert any(h.field == "mobile" and h.source == CRM for h in history)


@pytest.mark.usefixtures("demo")
def test_a_new_golden_record_knows_every_field_came_from_its_first_source(
    db: Session,
    lake: Lake,
    tmp_path: Path,
    as_user,  # type: ignore[no-untyped-def]
) -> None:
    result = ingest_file(db, JOB, source="core", path=core_delivery(tmp_path))
    view = golden.golden_record(db, as_user("admin"), customer_id=the_customer(db))
    assert {h.field for h in view.history} >= {"name", "mobile", "email", "address", "risk_level"}
    assert {h.source for h in view.history} == {"core"}
    assert {h.batch_id for h in view.history} == {result.batch_id}
    risk = next(h for h in view.history if h.field == "risk_level")
    assert risk.value == "C3 (2026-06-01)"


@pytest.mark.usefixtures("demo")
def test_the_golden_record_shows_names_in_clear_only_to_viewers_who_may_see_names(
    db: Session,
    lake: Lake,
    tmp_path: Path,
    as_user,  # type: ignore[no-untyped-def]
) -> None:
    ingest_file(db, JOB, source="core", path=core_delivery(tmp_path))
    customer_id = the_customer(db)
    admin = as_user("admin")
    name = {f.field: f for f in golden.golden_record(db, admin, customer_id=customer_id).fields}["name"]
    assert name.value == "张三"
    assert [s.value for s in name.sources] == ["张三"]
    without_names = replace(admin, permissions=admin.permissions - {Permission.CUSTOMER_NAME_VIEW.value})
    fields = {f.field: f for f in golden.golden_record(db, without_names, customer_id=customer_id).fields}
    assert fields["name"].value == "张*"
    assert [s.value for s in fields["name"].sources] == ["张*"]
    assert fields["mobile"].value == "138****1111"  # other personal data stays masked for everyone


@pytest.mark.usefixtures("demo")
def test_only_integration_rights_see_a_golden_record_and_only_in_scope(
    db: Session,
    lake: Lake,
    tmp_path: Path,
    as_user,  # type: ignore[no-untyped-def]
) -> None:
    ingest_file(db, JOB, source="core", path=core_delivery(tmp_path))
    customer_id = the_customer(db)
    with pytest.raises(PermissionDenied):
        golden.golden_record(db, as_user("rm.zhang"), customer_id=customer_id)
    with pytest.raises(NotFound):
        golden.golden_record(db, as_user("admin"), customer_id=10**9)


def test_the_golden_record_page_and_api_show_sources_rules_and_history(
    db: Session,
    lake: Lake,
    tmp_path: Path,
    signed_in,
    client,  # type: ignore[no-untyped-def]
) -> None:
    signed_in("admin")
    ingest_file(db, JOB, source="core", path=core_delivery(tmp_path))
    ingest_file(
        db,
        JOB,
        source="online",
        path=online_delivery(tmp_path, phone="13900002222", login="2026-11-28 08:00:00"),
    )
    customer_id = the_customer(db)
    page = client.get(f"/integration/golden/{customer_id}")
    assert page.status_code == 200
    assert 'data-testid="golden-fields"' in page.text
    assert "139****2222" in page.text
    assert "13900002222" not in page.text
    section = client.get(f"/customers/{customer_id}/sections/sources")
    assert f'href="/integration/golden/{customer_id}"' in section.text
    api = client.get(f"/api/v1/integration/golden/{customer_id}").json()
    mobile = next(f for f in api["fields"] if f["field"] == "mobile")
    assert mobile["source"] == "online"
    assert mobile["rule"] == "most_recent"
    assert [h["source"] for h in api["history"] if h["field"] == "mobile"] == ["online", "core"]
    assert client.get("/integration/golden/999999999").status_code == 404
    sources_page = client.get("/integration").text
    assert 'data-testid="survivorship-rules"' in sources_page
    assert '<tr data-field="address">' in sources_page
    signed_in("rm.zhang")
    assert client.get(f"/integration/golden/{customer_id}").status_code == 403
    assert client.get(f"/api/v1/integration/golden/{customer_id}").status_code == 403


@pytest.mark.usefixtures("demo")
def test_a_merged_customer_lends_its_sources_to_the_survivor_until_an_unmerge(
    db: Session,
    lake: Lake,
    tmp_path: Path,
    as_user,  # type: ignore[no-untyped-def]
) -> None:
    other = resident_id(date(1979, 4, 5), 22)  # the same person registered again with a typo'd ID
    rows = [
        core_row("C100", "张三", PERSON, UPDATED="2026-11-20 09:00:00"),
        core_row("C200", "张三", other, mobile="13900002222", UPDATED="2026-11-27 09:00:00"),
    ]
    ingest_file(db, JOB, source="core", path=write_core(tmp_path, "core_customers_20261128.csv", rows))
    survivor = the_customer(db)
    merged = customers.find_customer_by_identity(db, customers.identity_digest("resident_id", other))
    assert merged is not None
    request = customer_merge.system_merge(db, JOB, survivor_id=survivor, merged_id=merged, reason="test")
    assert request is not None
    golden.refresh(db, JOB, customer_id=survivor)
    sources = {
        f.field: f.sources for f in golden.golden_record(db, as_user("admin"), customer_id=survivor).fields
    }
    assert {s.source_customer_no for s in sources["mobile"]} == {"C100", "C200"}
    values = customers.golden_values(db, survivor)
    assert values is not None
    assert values.values["mobile"] == "13900002222"  # C200's is the more recent

    customer_merge.unmerge(db, as_user("sbm.haidian"), merge_id=request.id, reason="two people after all")
    after = {
        f.field: f.sources for f in golden.golden_record(db, as_user("admin"), customer_id=survivor).fields
    }
    assert {s.source_customer_no for s in after["mobile"]} == {"C100"}
    back = {f.field: f.sources for f in golden.golden_record(db, as_user("admin"), customer_id=merged).fields}
    assert {s.source_customer_no for s in back["mobile"]} == {"C200"}
