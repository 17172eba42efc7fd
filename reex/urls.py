from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from reex.bench import bare
from reex.health import healthz

admin.site.site_header = "reex moderation"
admin.site.site_title = "reex"
admin.site.index_title = "Moderation"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("bench/bare", bare, name="bench-bare"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("comments.urls")),
    path("", include("subscriptions.urls")),
]
