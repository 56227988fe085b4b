from fastapi.testclient import TestClient


def test_healthz_reports_the_database_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_unknown_api_path_answers_json_404(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "不存在" in response.json()["error"]["message"] or response.json()["error"]["message"]
