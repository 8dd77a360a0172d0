from __future__ import annotations

import pytest


@pytest.mark.parametrize("value", ["0", "20260101", "1700000000", "2026-1-1"])
def test_audit_date_filter_takes_only_iso_dates(signed_in, value: str) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin").client
    response = client.get("/api/v1/audit-events", params={"date_to": value})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "date_to"
    assert client.get("/admin/audit", params={"date_to": value}).status_code == 422


def test_audit_date_filter_at_the_ends_of_the_calendar_answers(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin").client
    params = {"date_from": "0001-01-01", "date_to": "9999-12-31"}
    response = client.get("/api/v1/audit-events", params=params)
    assert response.status_code == 200, response.text
    assert response.json()["total"] > 0
    assert client.get("/admin/audit", params=params).status_code == 200
    assert client.post("/admin/audit/export", data=params).status_code == 200


def test_move_effective_date_is_an_iso_date_not_a_timestamp(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin").client
    units = {
        u["code"]: u["id"] for u in client.get("/api/v1/org-units", params={"size": 200}).json()["items"]
    }
    response = client.post(
        f"/api/v1/org-units/{units['BJ-HD-T1']}/moves",
        json={"to_parent_id": units["BJ-CY"], "effective_date": 0, "reason": "timestamp typo"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "effective_date"
