"""Control characters (NUL above all, which PostgreSQL refuses) never reach the database."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from bankcrm.core.validation import without_control_characters
from bankcrm.identity.schemas import OrgUnitCreate
from tests.conftest import csrf_from

NUL = "\x00"


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/users", "q"),
        ("/api/v1/users", "role"),
        ("/api/v1/org-units", "q"),
        ("/api/v1/audit-events", "actor"),
    ],
)
def test_api_text_query_with_a_control_character_is_invalid_input(signed_in, path: str, param: str) -> None:  # type: ignore[no-untyped-def]
    response = signed_in("admin").client.get(path, params={param: f"a{NUL}b"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == param


def test_api_body_text_with_a_control_character_is_a_field_error(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin").client
    rm = client.get("/api/v1/users", params={"q": "rm.zhang"}).json()["items"][0]
    response = client.post(f"/api/v1/users/{rm['id']}/disable", json={"reason": f"000{NUL}"})
    assert response.status_code == 422, response.text
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [
        ("reason", "string_control_characters")
    ]


def test_page_searches_drop_control_characters(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin").client
    assert client.get("/admin/users", params={"q": f"rm{NUL}", "role": NUL}).status_code == 200
    assert client.get("/admin/org-units", params={"q": NUL}).status_code == 200
    assert client.get("/admin/audit", params={"action": f"login{NUL}", "actor": NUL}).status_code == 200
    assert client.post("/admin/audit/export", data={"action": f"login{NUL}"}).status_code == 200


def test_login_with_a_control_character_in_the_username_fails_politely(client: TestClient) -> None:
    form = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": f"admin{NUL}",
            "password": "Demo#Passw0rd-2026",
            "csrf_token": csrf_from(form.text),
        },
    )
    assert response.status_code == 200
    assert "用户名或密码错误" in response.text


def test_every_input_model_refuses_control_characters() -> None:
    with pytest.raises(ValidationError) as error:
        OrgUnitCreate.model_validate({"code": "AB", "name": f"a{NUL}b", "kind": "team", "parent_id": 1})
    assert error.value.errors()[0]["type"] == "string_control_characters"
    assert OrgUnitCreate.model_validate({"code": "AB", "name": "第一\t组", "kind": "team", "parent_id": 1})
    assert without_control_characters(f"a{NUL}b\x1f\tc\n") == "ab\tc\n"


def test_redirect_target_with_a_control_character_goes_home(signed_in) -> None:  # type: ignore[no-untyped-def]
    response = signed_in("admin").client.post("/lang", data={"locale": "en", "next": f"/admin{NUL}/users"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
