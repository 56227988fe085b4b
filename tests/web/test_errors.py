"""One error handler: JSON for the API, a fragment for htmx, a page or a redirect for browsers."""

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from zhifa.errors import Conflict, NotAuthenticated

router = APIRouter()


class Payload(BaseModel):
    count: int


@router.get("/api/v1/test-conflict")
def api_conflict() -> None:
    raise Conflict("The password must not contain the user name.", detail={"field": "x"})


@router.post("/api/v1/test-validate")
def api_validate(payload: Payload) -> dict[str, int]:
    return {"count": payload.count}


@router.get("/test-conflict")
def page_conflict() -> None:
    raise Conflict("The password must not contain the user name.")


@router.get("/test-login-needed")
def page_login_needed() -> None:
    raise NotAuthenticated("Please log in first.")


@pytest.fixture
def test_client(app: FastAPI) -> TestClient:
    app.include_router(router)
    return TestClient(app, base_url="https://testserver")


class TestApiErrors:
    def test_business_refusal_is_json_with_code_message_detail_in_chinese(
        self, test_client: TestClient
    ) -> None:
        response = test_client.get("/api/v1/test-conflict")
        assert response.status_code == 409
        assert response.json() == {
            "error": {
                "code": "conflict",
                "message": "密码不能包含用户名。",
                "detail": {"field": "x"},
            }
        }

    def test_english_is_available_on_request(self, test_client: TestClient) -> None:
        response = test_client.get("/api/v1/test-conflict?lang=en")
        assert response.json()["error"]["message"] == "The password must not contain the user name."

    def test_payload_validation_is_422_naming_the_field(self, test_client: TestClient) -> None:
        response = test_client.post("/api/v1/test-validate", json={"count": "many"})
        assert response.status_code == 422
        body = response.json()["error"]
        assert body["code"] == "invalid_input"
        assert body["detail"][0]["field"] == "count"
        assert "count" in body["message"]


class TestBrowserErrors:
    def test_a_page_refusal_renders_an_error_page(self, test_client: TestClient) -> None:
        response = test_client.get("/test-conflict")
        assert response.status_code == 409
        assert response.headers["content-type"].startswith("text/html")
        assert "密码不能包含用户名。" in response.text

    def test_htmx_gets_a_fragment_retargeted_to_the_flash_area(
        self, test_client: TestClient
    ) -> None:
        response = test_client.get("/test-conflict", headers={"HX-Request": "true"})
        assert response.status_code == 409
        assert response.headers["HX-Retarget"] == "#flash"
        assert "<html" not in response.text
        assert "密码不能包含用户名。" in response.text

    def test_anonymous_browser_is_sent_to_the_login_page(self, test_client: TestClient) -> None:
        response = test_client.get("/test-login-needed", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/test-login-needed"

    def test_anonymous_htmx_request_is_redirected_by_header(self, test_client: TestClient) -> None:
        response = test_client.get("/test-login-needed", headers={"HX-Request": "true"})
        assert response.status_code == 401
        assert response.headers["HX-Redirect"] == "/login?next=/test-login-needed"


class TestLanguageLinks:
    def test_switching_language_keeps_the_rest_of_the_query(self, test_client: TestClient) -> None:
        page = test_client.get("/test-conflict?next=/admin/units")
        assert 'href="/test-conflict?next=%2Fadmin%2Funits&amp;lang=en"' in page.text
