"""Django REST framework, its throttle rates, and the OpenAPI schema (drf-spectacular)."""

from reex.conf.core import env


def _rate(value: str) -> str | None:
    """Return a DRF rate string, or None (no limit) for ``0``."""
    return None if value.strip() in ("", "0") else value.strip()


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # The schema declares no authentication on operations anyone may call.
    "DEFAULT_SCHEMA_CLASS": "reex.schema.PublicAwareAutoSchema",
    "EXCEPTION_HANDLER": "reex.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "comment": _rate(env.str("REEX_COMMENT_RATE", default="10/min")),
        "subscribe": _rate(env.str("REEX_SUBSCRIBE_RATE", default="5/min")),
        "flag": _rate(env.str("REEX_FLAG_RATE", default="10/hour")),
    },
    "NUM_PROXIES": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "reex API",
    "DESCRIPTION": "Comments, moderation and newsletter subscriptions for a news site.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "reex.schema.describe_outages",
    ],
}
