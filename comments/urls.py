from django.urls import path

from comments import apis, editing, fast_list, fast_post, feeds, views

app_name = "comments"
urlpatterns = [
    # First: the most requested path (none of the other patterns here matches it).
    path(
        "api/v1/articles/<slug:key>/comments/",
        fast_list.with_cached_get(
            fast_post.with_lean_post(
                apis.ArticleCommentsApi.as_view(),
                unthrottled=apis.ArticleCommentsApi.as_view(post_throttle_classes=()),
            )
        ),
        name="api-article-comments",
    ),
    path("articles/<slug:key>/", views.article_page, name="article"),
    path(
        "articles/<slug:key>/comments/feed/",
        feeds.ArticleCommentsFeed(),
        name="article-feed",
    ),
    path("comments/feed/", feeds.SiteCommentsFeed(), name="feed"),
    path("comments/<int:comment_id>/edit/", editing.comment_edit, name="edit"),
    path("comments/<int:comment_id>/delete/", editing.comment_delete, name="delete"),
    path(
        "comments/stop-notifications/<str:token>/",
        views.stop_notifications,
        name="stop-notifications",
    ),
    path(
        "embed/articles/<slug:key>/comments.html",
        views.article_thread_fragment,
        name="embed-thread",
    ),
    path("api/v1/comment-counts/", apis.CommentCountsApi.as_view(), name="api-comment-counts"),
    path("api/v1/articles/<slug:key>/", apis.ArticleApi.as_view(), name="api-article"),
    path("api/v1/comments/<int:comment_id>/", apis.CommentApi.as_view(), name="api-comment"),
    path(
        "api/v1/comments/<int:comment_id>/flags/",
        apis.CommentFlagsApi.as_view(),
        name="api-comment-flags",
    ),
    path("comments/<int:comment_id>/report/", views.comment_report, name="report"),
    path("comments/moderate/<str:token>/", views.moderation_link, name="moderation-link"),
    path(
        "api/v1/moderation/comments/",
        apis.ModerationCommentListApi.as_view(),
        name="api-moderation-comments",
    ),
    path(
        "api/v1/moderation/comments/<int:comment_id>/<slug:action>/",
        apis.ModerationActionApi.as_view(),
        name="api-moderation-action",
    ),
]
