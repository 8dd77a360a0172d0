from fastapi.testclient import TestClient


def test_login_page_renders_in_chinese_by_default(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert "登录" in response.text


def test_admin_home_shows_security_widget(signed_in) -> None:  # type: ignore[no-untyped-def]
    session = signed_in("admin")
    response = session.client.get("/")
    assert response.status_code == 200, response.text
    assert 'data-testid="w-security"' in response.text
