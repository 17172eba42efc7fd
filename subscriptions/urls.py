from django.urls import URLPattern, URLResolver, include, path

from subscriptions import apis, views, webhooks

app_name = "subscriptions"

links = [
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("confirm/<str:token>/resend/", views.confirm_resend, name="confirm_resend"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
api = [
    path("subscriptions/", apis.SubscribeApi.as_view(), name="api_subscribe"),
    path("subscriptions/confirm/", apis.ConfirmApi.as_view(), name="api_confirm"),
    path("subscriptions/unsubscribe/", apis.UnsubscribeApi.as_view(), name="api_unsubscribe"),
    path("lists/", apis.ListsApi.as_view(), name="api_lists"),
    path("subscribers/", apis.SubscribersApi.as_view(), name="api_subscribers"),
]
urlpatterns: list[URLPattern | URLResolver] = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/box/", views.subscribe_box, name="subscribe_box"),
    path("subscribe/done/", views.subscribe_done, name="subscribe_done"),
    path("subscriptions/", include(links)),
    path("newsletter/<slug:slug>/", views.archive, name="archive"),
    path("newsletter/<slug:slug>/<int:number>/", views.archive_edition, name="archive_edition"),
    path("dev/outbox/", views.dev_outbox, name="dev_outbox"),
    path(
        "webhooks/anymail/postmark/tracking/",
        webhooks.postmark_tracking,
        name="anymail_postmark_tracking",
    ),
    path("api/v1/", include(api)),
]
