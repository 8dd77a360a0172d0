"""JSON bodies must carry the types the schema documents; forms (all text) are still coerced."""

from __future__ import annotations

from typing import Any

import pytest


def _units(client: Any) -> dict[str, int]:
    items = client.get("/api/v1/org-units", params={"size": 200}).json()["items"]
    return {unit["code"]: unit["id"] for unit in items}


@pytest.mark.parametrize("parent", [True, "1", 1.0])
def test_json_id_of_the_wrong_type_is_a_field_error(signed_in, parent: object) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin").client
    response = client.post(
        "/api/v1/org-units", json={"code": "T1X", "name": "新组", "kind": "team", "parent_id": parent}
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "parent_id"


def test_json_date_must_be_a_real_iso_date(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin").client
    units = _units(client)
    response = client.post(
        f"/api/v1/org-units/{units['BJ-HD-T1']}/moves",
        json={"to_parent_id": units["BJ-CY"], "effective_date": "2030-02-30", "reason": "no such day"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "effective_date"
    scheduled = client.post(
        f"/api/v1/org-units/{units['BJ-HD-T1']}/moves",
        json={"to_parent_id": units["BJ-CY"], "effective_date": "2030-02-28", "reason": "a real day"},
    )
    assert scheduled.status_code == 201, scheduled.text
    assert scheduled.json()["status"] == "scheduled"


def test_forms_still_post_numbers_as_text(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin").client
    parent = _units(client)["BJ-HD"]
    response = client.post(
        "/admin/org-units/new",
        data={"code": "T1Y", "name": "表单新组", "name_en": "", "kind": "team", "parent_id": str(parent)},
    )
    assert response.status_code == 303, response.text
