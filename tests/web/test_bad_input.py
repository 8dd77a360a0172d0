"""Bad input gets a clear, specific answer and changes nothing (issue: platform foundation)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from bankcrm.identity.service import orgs
from bankcrm.identity.service import users as user_service


def ho_id(db: Session) -> int:
    unit = orgs.find_unit_by_code(db, "HO")
    assert unit is not None
    return unit.id


def test_a_form_without_csrf_token_is_refused_and_changes_nothing(
    signed_in, client: TestClient, db: Session
) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    del client.headers["X-CSRF-Token"]
    response = client.post(
        "/admin/users/new",
        data={
            "username": "csrf.victim",
            "display_name": "x",
            "org_unit_id": ho_id(db),
            "role": "analyst",
            "password": "Blue-river-stone-88",
        },
    )
    assert response.status_code == 403
    assert "表单已过期" in response.text
    assert user_service.find_user_by_username(db, "csrf.victim") is None


def test_a_forged_csrf_token_is_refused(signed_in, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    client.headers["X-CSRF-Token"] = "0" * 48
    assert client.post("/logout").status_code == 403


def test_the_login_form_is_csrf_protected_too(client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": "x"})
    assert response.status_code == 403


def test_malformed_json_is_a_problem_document(signed_in, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    response = client.post(
        "/api/v1/users", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/problems/validation-failed"
    assert body["status"] == 422
    assert body["errors"][0]["rule"] == "json_invalid"


def test_unknown_fields_are_rejected_naming_the_field(signed_in, client: TestClient, db: Session) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    response = client.post(
        "/api/v1/org-units",
        json={"code": "NEW-X", "name": "新机构", "kind": "team", "parent_id": ho_id(db), "colour": "red"},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors == [
        {"field": "colour", "rule": "extra_forbidden", "message": errors[0]["message"], "value": "red"}
    ]
    assert orgs.find_unit_by_code(db, "NEW-X") is None


def test_unknown_query_parameters_of_the_json_api_are_rejected_naming_each(
    signed_in, client: TestClient
) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    response = client.get("/api/v1/users", params={"size": 5, "activ": "false", "colour": "red"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [(e["field"], e["rule"], e["value"]) for e in errors] == [
        ("activ", "extra_forbidden", "false"),
        ("colour", "extra_forbidden", "red"),
    ]
    # Every parameter a route declares is known, its dependencies' included.
    known = {"size": 5, "active": "false", "sort": "-username"}
    assert client.get("/api/v1/users", params=known).status_code == 200
    assert (
        client.get("/api/v1/audit-events", params={"date_from": "2026-01-01", "size": 5}).status_code == 200
    )


def test_an_unknown_query_parameter_does_not_outrank_signing_in(client: TestClient) -> None:
    response = client.get("/api/v1/users", params={"activ": "false"}, headers={"Accept": "application/json"})
    assert response.status_code == 401


def test_pages_ignore_query_parameters_they_do_not_take(signed_in, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    # Links into the pages may carry tracking or stale filters; a browser user gets the page.
    signed_in("admin")
    assert client.get("/admin/users", params={"utm_source": "mail"}).status_code == 200


def test_over_long_strings_are_refused_with_the_limit(signed_in, client: TestClient, db: Session) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    response = client.post(
        "/api/v1/org-units",
        json={"code": "NEW-Y", "name": "长" * 201, "kind": "team", "parent_id": ho_id(db)},
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["field"], error["rule"]) == ("name", "string_too_long")


def test_domain_validation_errors_list_field_value_and_rule(
    signed_in, client: TestClient, db: Session
) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    response = client.post(
        "/api/v1/users",
        json={
            "username": "new.rm",
            "display_name": "新客户经理",
            "org_unit_id": ho_id(db),
            "role": "relationship_manager",
            "mobile": "12345",
            "password": "Blue-river-stone-88",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "mobile",
            "rule": "mobile.format",
            "value": "12345",
            "message": "中国大陆手机号码为 11 位数字，以 13–19 开头。",
        }
    ]


def test_sql_metacharacters_in_search_are_just_text(signed_in, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    for term in ("'; DROP TABLE app_user; --", "%", "\\", '"'):
        response = client.get("/api/v1/users", params={"q": term})
        assert response.status_code == 200
        assert response.json()["total"] == 0
    assert client.get("/admin/users", params={"q": "' OR '1'='1"}).status_code == 200


def test_html_in_names_is_escaped_on_display(signed_in, client: TestClient, db: Session, as_user) -> None:  # type: ignore[no-untyped-def]
    from bankcrm.identity.schemas import OrgUnitCreate

    orgs.create_org_unit(
        db,
        as_user("admin"),
        data=OrgUnitCreate(
            code="XSS-1", name='<script>alert("x")</script>团队', kind="team", parent_id=ho_id(db)
        ),
    )
    signed_in("admin")
    page = client.get("/admin/org-units", params={"q": "XSS"})
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert" in page.text


def test_an_expired_session_sends_the_browser_to_sign_in(client: TestClient) -> None:
    client.cookies.set("bankcrm_session", "expired-or-made-up")
    response = client.get("/admin/audit")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_wrong_types_in_query_parameters_are_422_not_500(signed_in, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    assert client.get("/api/v1/users", params={"page": "abc"}).status_code == 422
    assert client.get("/api/v1/users", params={"size": "100000"}).status_code == 422
    assert client.get("/api/v1/audit-events", params={"date_from": "2026-13-01"}).status_code == 422
    assert client.get("/admin/users", params={"page": "-3", "sort": "password_hash"}).status_code == 200
