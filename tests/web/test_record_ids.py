"""Ids that cannot name a record are refused at the edge, never handed to the database."""

from __future__ import annotations

import pytest

from bankcrm.core.validation import MAX_ROW_ID, parse_row_id

TOO_BIG = str(MAX_ROW_ID + 1)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/users/{id}", "/api/v1/org-units/{id}", "/api/v1/org-units/{id}/moves", "/api/v1/roles/{id}"],
)
def test_api_path_id_beyond_bigint_is_invalid_input(signed_in, path: str) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin").client
    assert client.get(path.format(id=TOO_BIG)).status_code == 422
    assert client.get(path.format(id=MAX_ROW_ID)).status_code == 404


def test_page_path_id_beyond_bigint_is_invalid_input(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin").client
    assert client.get(f"/admin/users/{TOO_BIG}").status_code == 422
    assert client.get(f"/admin/org-units/{TOO_BIG}").status_code == 422


def test_body_id_beyond_bigint_is_a_field_error(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin").client
    response = client.post(
        "/api/v1/org-units", json={"code": "X1", "name": "x", "kind": "team", "parent_id": int(TOO_BIG)}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "parent_id"


@pytest.mark.parametrize("value", [TOO_BIG, "²", "٣", "-1", "0"])
def test_id_filters_typed_as_text_never_fail(signed_in, value: str) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin").client
    assert client.get("/api/v1/audit-events", params={"actor": value}).status_code == 200
    assert client.get("/admin/audit", params={"actor": value, "page": value}).status_code == 200
    assert client.get("/admin/users", params={"org_unit_id": value}).status_code == 200


def test_parse_row_id_accepts_only_ascii_digits_within_bigint() -> None:
    assert parse_row_id("42") == 42
    assert parse_row_id(" 7 ") == 7
    assert parse_row_id(str(MAX_ROW_ID)) == MAX_ROW_ID
    for bad in (None, "", "0", "-3", "4.0", "²", "٣", TOO_BIG):
        assert parse_row_id(bad) is None, bad
