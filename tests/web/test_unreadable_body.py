from __future__ import annotations

from fastapi.testclient import TestClient


def test_unreadable_json_body_is_a_documented_400_problem(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin").client
    response = client.post(
        "/api/v1/org-units", content=b"\x80\x81\xfe", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    operation = client.get("/api/openapi.json").json()["paths"]["/api/v1/org-units"]["post"]
    assert "400" in operation["responses"]


def test_every_operation_with_a_body_documents_the_400(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    operations = [op for item in schema["paths"].values() for op in item.values() if isinstance(op, dict)]
    with_body = [op for op in operations if "requestBody" in op]
    assert with_body
    assert all("400" in op["responses"] for op in with_body)
    assert all("400" not in op["responses"] for op in operations if "requestBody" not in op)
