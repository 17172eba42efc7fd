"""What the OpenAPI schema (drf-spectacular) says about errors and authentication.

An integrator generates a client from ``/api/schema/``: every error body needs a schema
(a 400's messages per field, a refusal's ``detail``) and every operation its real
authentication, or the client can neither read the errors nor call a public operation
without credentials.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class ProblemSerializer(serializers.Serializer):
    """Every refusal but a 400: what went wrong, for a person to read."""

    detail = serializers.CharField()


def _messages_of(field: serializers.Field) -> serializers.Field:
    # A list or object field reports per item ({"0": [...]}), a plain field a list.
    if isinstance(field, serializers.ListField | serializers.DictField | serializers.Serializer):
        return serializers.JSONField(required=False, help_text="Messages per item.")
    return serializers.ListField(child=serializers.CharField(), required=False)


def field_errors(
    serializer: type[serializers.Serializer], *, extra: tuple[str, ...] = ()
) -> type[serializers.Serializer]:
    """Return the schema of a 400 answer to ``serializer``'s input: each invalid field
    named with its messages (``extra``: fields the model checks besides the input's)."""
    fields: dict[str, Any] = {
        name: _messages_of(field) for name, field in serializer().fields.items()
    }
    fields |= {name: _messages_of(serializers.CharField()) for name in extra}
    fields["non_field_errors"] = _messages_of(serializers.CharField())
    not_json = "Instead of field messages: the body is not valid JSON."
    if "detail" in fields:
        # The input has a field named detail too: its messages (a list) or the body's (text).
        fields["detail"] = serializers.JSONField(
            required=False, help_text=f"Its messages. {not_json}"
        )
    else:
        fields["detail"] = serializers.CharField(required=False, help_text=not_json)
    name = serializer.__name__.removesuffix("Serializer") + "ErrorsSerializer"
    return type(name, (serializers.Serializer,), fields)


def problem(description: str) -> OpenApiResponse:
    """A refusal documented with the ``{"detail": ...}`` body."""
    return OpenApiResponse(ProblemSerializer, description=description)


def invalid(serializer: type[serializers.Serializer], **kwargs: Any) -> OpenApiResponse:
    """A 400 documented with the per-field messages of ``serializer``'s input."""
    description = "Messages per invalid field (a list of strings each)."
    return OpenApiResponse(field_errors(serializer, **kwargs), description=description)


RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429, 503],
    description="Seconds to wait before trying again.",
)


class PublicAwareAutoSchema(AutoSchema):
    """drf-spectacular's schema, declaring no authentication where none is needed.

    drf-spectacular marks an operation open to anyone with optional credentials (``{}``
    among its security requirements); generated clients read any requirement as needed.
    """

    def get_auth(self) -> list[dict[str, list[Any]]]:
        auth = super().get_auth()
        return [] if {} in auth else auth


def describe_outages(
    result: dict[str, Any], generator: object, request: object, public: bool
) -> dict[str, Any]:
    """Add the database outage's 503 (``{detail}`` and ``Retry-After``) to every operation.

    A drf-spectacular postprocessing hook: any operation may meet it, so it is declared
    once here rather than on each view.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "Problem",
        {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]},
    )
    outage = {
        "description": "The database is unreachable: try again after Retry-After seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method in ("get", "put", "post", "patch", "delete"):
                operation.setdefault("responses", {}).setdefault("503", outage)
    return result
