"""What /api/schema/ tells an integrator: error bodies and authentication per operation."""

from http import HTTPStatus

import pytest
import yaml

pytestmark = pytest.mark.django_db
METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/")
    assert response.status_code == HTTPStatus.OK
    return yaml.safe_load(response.content)


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def _body_schema(response: dict) -> dict | None:
    return response.get("content", {}).get("application/json", {}).get("schema")


def test_every_error_answer_has_a_body_schema(schema):
    for name, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert _body_schema(response), f"{name} {status} has no body schema"


def test_every_400_describes_its_fields(schema):
    components = schema["components"]["schemas"]
    for name, operation in _operations(schema):
        answer = operation["responses"].get("400")
        if answer is None:
            continue
        body = _body_schema(answer)
        assert body is not None, name
        ref = body["$ref"].rsplit("/", 1)[1]
        properties = components[ref]["properties"]
        assert "non_field_errors" in properties, name
        assert any(p.get("type") == "array" for p in properties.values()), name


def test_public_operations_declare_no_authentication(schema):
    public = [
        "GET /api/v1/articles/{key}/",
        "GET /api/v1/articles/{key}/comments/",
        "POST /api/v1/articles/{key}/comments/",
        "PATCH /api/v1/comments/{comment_id}/",
        "DELETE /api/v1/comments/{comment_id}/",
        "POST /api/v1/subscriptions/",
    ]
    operations = dict(_operations(schema))
    for name in public:
        assert not operations[name].get("security"), name


def test_protected_operations_declare_their_token(schema):
    operations = dict(_operations(schema))
    for name in ("PUT /api/v1/articles/{key}/", "GET /api/v1/moderation/comments/"):
        assert {"tokenAuth": []} in operations[name]["security"], name
        assert "401" in operations[name]["responses"], name


def test_429_and_503_declare_retry_after(schema):
    operations = dict(_operations(schema))
    create = operations["POST /api/v1/articles/{key}/comments/"]["responses"]
    assert "Retry-After" in create["429"]["headers"]
    for name, operation in operations.items():
        assert "Retry-After" in operation["responses"]["503"]["headers"], name
