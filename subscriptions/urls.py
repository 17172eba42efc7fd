from django.urls import URLPattern, URLResolver, path

from subscriptions import apis, views, webhooks

app_name = "subscriptions"
urlpatterns: list[URLPattern | URLResolver] = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/box/", views.subscribe_box, name="subscribe_box"),
    path("subscribe/done/", views.subscribe_done, name="subscribe_done"),
    path("subscriptions/confirm/<str:token>/", views.confirm, name="confirm"),
    path(
        "subscriptions/confirm/<str:token>/resend/",
        views.confirm_resend,
        name="confirm_resend",
    ),
    path("subscriptions/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("dev/outbox/", views.dev_outbox, name="dev_outbox"),
    path(
        "webhooks/anymail/postmark/tracking/",
        webhooks.postmark_tracking,
        name="anymail_postmark_tracking",
    ),
    path("api/v1/subscriptions/", apis.SubscribeApi.as_view(), name="api_subscribe"),
    path("api/v1/subscriptions/confirm/", apis.ConfirmApi.as_view(), name="api_confirm"),
    path(
        "api/v1/subscriptions/unsubscribe/",
        apis.UnsubscribeApi.as_view(),
        name="api_unsubscribe",
    ),
    path("api/v1/lists/", apis.ListsApi.as_view(), name="api_lists"),
    path("api/v1/subscribers/", apis.SubscribersApi.as_view(), name="api_subscribers"),
]
