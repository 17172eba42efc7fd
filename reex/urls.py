from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from reex.bench import bare
from reex.health import healthz
from reex.metrics import metrics_view

# A database outage raised outside a view (in a middleware) is a 503 too.
handler500 = "reex.errors.server_error"

admin.site.site_header = "reex moderation"
admin.site.site_title = "reex"
admin.site.index_title = "Moderation"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("bench/bare", bare, name="bench-bare"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI sets a few inline styles; its scripts stay external (the split view).
    path(
        "api/docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
    path("", include("comments.urls")),
    path("", include("subscriptions.urls")),
]
