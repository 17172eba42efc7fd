"""The REST API of the comments capability: thin views over services and selectors."""

import re
from http import HTTPStatus

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from comments import public_cache, selectors, services
from comments.fast_post import comment_post_answer
from comments.models import Article, Comment
from comments.reporters import reporter_fingerprint, reporter_source
from comments.serializers import (
    ArticleSerializer,
    ArticleWriteSerializer,
    CommentAcceptedSerializer,
    CommentCreateSerializer,
    CommentEditedSerializer,
    CommentEditSerializer,
    FlagAcceptedSerializer,
    FlagCreateSerializer,
    ModerationCommentSerializer,
    ModerationResultSerializer,
    PublicCommentSerializer,
)
from reex.net import CommentRateThrottle, FlagThrottle, client_ip
from reex.schema import RETRY_AFTER, invalid, problem

_problem = problem
# Any operation with a body may also answer these before its own checks run.
BODY_PROBLEMS = {
    413: _problem("The body is too large."),
    415: _problem("The body is not JSON."),
}
NOT_ALLOWED = {
    401: _problem("No or invalid credentials."),
    403: _problem("Not allowed."),
}


class PublicCommentPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PublicCommentSerializer(many=True)


class ModerationCommentPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ModerationCommentSerializer(many=True)


def _detail(message: str, status: HTTPStatus, headers: dict[str, str] | None = None) -> Response:
    return Response({"detail": message}, status=status, headers=headers)


def _field_errors(error: DjangoValidationError) -> ValidationError:
    return ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages)


class CanChangeArticles(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("comments.change_article"))


class CanModerate(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("comments.moderate_comment"))


class ArticleApi(APIView):
    permission_classes = [CanChangeArticles]

    @extend_schema(
        responses={
            200: ArticleSerializer,
            404: _problem("No such article."),
        },
        auth=[],
        operation_id="article_get",
        summary="Show an article (anyone, no credentials)",
    )
    def get(self, request: Request, key: str) -> Response:
        article = get_object_or_404(Article, key=key)
        summary = selectors.article_summary(article=article, now=timezone.now())
        return Response(ArticleSerializer(summary).data)

    @extend_schema(
        request=ArticleWriteSerializer,
        responses={
            200: ArticleSerializer,
            201: ArticleSerializer,
            400: invalid(ArticleWriteSerializer, extra=("key",)),
            **NOT_ALLOWED,
            404: _problem("Not a valid article key."),
            **BODY_PROBLEMS,
        },
        operation_id="article_put",
        summary="Create or update an article (needs the article change permission)",
    )
    def put(self, request: Request, key: str) -> Response:
        incoming = ArticleWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            article, created = services.article_upsert(key=key, **incoming.validated_data)
        except DjangoValidationError as error:
            raise _field_errors(error) from error
        summary = selectors.article_summary(article=article, now=timezone.now())
        status = HTTPStatus.CREATED if created else HTTPStatus.OK
        return Response(ArticleSerializer(summary).data, status=status)


MAX_COUNT_KEYS = 50
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,200}$")


class CommentCountsQuerySerializer(serializers.Serializer):
    """The count spans' query: what a 400 names when the keys are missing or malformed."""

    articles = serializers.CharField()


class CommentCountsApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "articles",
                OpenApiTypes.STR,
                required=True,
                description=f"Comma-separated article keys, 1 to {MAX_COUNT_KEYS}.",
            )
        ],
        responses={
            200: OpenApiResponse(
                {"type": "object", "additionalProperties": {"type": "integer"}},
                description="Each key's number of approved comments (0 for an unknown key).",
            ),
            400: invalid(CommentCountsQuerySerializer),
        },
        summary="Count the approved comments of several articles (the embed's count spans)",
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("articles", "")
        keys = list(dict.fromkeys(key for key in raw.split(",") if key))
        if not 0 < len(keys) <= MAX_COUNT_KEYS or not all(map(_SLUG.match, keys)):
            message = f"Give 1 to {MAX_COUNT_KEYS} comma-separated article keys."
            raise ValidationError({"articles": [message]})
        return Response(selectors.article_comment_counts(keys=keys))


class PublicCommentPagination(CursorPagination):
    ordering = ("created_at", "id")
    page_size = 50


class ArticleCommentsApi(APIView):
    # Empty for the view a post goes on to once comments.fast_post has counted it.
    post_throttle_classes: tuple[type[BaseThrottle], ...] = (CommentRateThrottle,)

    def get_throttles(self) -> list[BaseThrottle]:
        if self.request.method != "POST":
            return []
        return [throttle() for throttle in self.post_throttle_classes]

    @extend_schema(
        responses={
            200: PublicCommentPageSerializer,
            404: _problem("No such article, or a bad cursor."),
        },
        operation_id="article_comments_list",
        summary="List an article's approved comments, oldest first",
    )
    def get(self, request: Request, key: str) -> HttpResponse:
        # Only the plain first page (no query string) is cached, so junk parameters cannot
        # fill the cache.
        if request.query_params:
            return Response(self._page(request, key))
        body = public_cache.public_list_first_page(
            article_key=key,
            url=request.build_absolute_uri(),
            render=lambda: JSONRenderer().render(self._page(request, key)),
        )
        return HttpResponse(body, content_type="application/json")

    def _page(self, request: Request, key: str) -> dict[str, object]:
        article = get_object_or_404(Article, key=key)
        paginator = PublicCommentPagination()
        rows = selectors.comment_rows_public(article=article)
        page = paginator.paginate_queryset(rows, request, view=self) or []
        results = [selectors.comment_row_public(row) for row in page]
        return dict(paginator.get_paginated_response(results).data)

    @extend_schema(
        request=CommentCreateSerializer,
        responses={
            202: CommentAcceptedSerializer,
            400: invalid(CommentCreateSerializer),
            403: _problem("Comments are closed."),
            404: _problem("No such article."),
            409: _problem("Duplicate comment."),
            429: _problem("Too fast (see Retry-After)."),
            **BODY_PROBLEMS,
        },
        parameters=[RETRY_AFTER],
        operation_id="comment_create",
        summary="Submit a comment (it awaits moderation)",
    )
    def post(self, request: Request, key: str) -> Response:
        incoming = CommentCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        status, body, headers = comment_post_answer(
            request=request, key=key, data=incoming.validated_data
        )
        return Response(body, status=status, headers=headers)


EDIT_TOKEN_HEADER = "X-Reex-Edit-Token"  # noqa: S105 (a header name)
EDITED = "Your edit is saved and awaits moderation."


def _edit_token(request: Request) -> str:
    token = request.headers.get(EDIT_TOKEN_HEADER) or ""
    if not token and isinstance(request.data, dict):
        token = str(request.data.get("edit_token") or "")
    return token


def _author_refusal(error: services.CommentError) -> Response:
    if isinstance(error, services.EditTooLate):
        body = {"detail": error.message, "code": error.code}
        return Response(body, status=HTTPStatus.CONFLICT)
    return _detail(error.message, HTTPStatus.FORBIDDEN)


class EditRefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(help_text="edit_window_closed, has_replies or not_editable.")


EDIT_TOKEN = OpenApiParameter(
    EDIT_TOKEN_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The edit_token of the comment's 202 answer (or edit_token in the body).",
)
AUTHOR_REFUSALS = {
    403: _problem("No edit token, or not this comment's."),
    404: _problem("No such comment."),
    409: OpenApiResponse(
        EditRefusalSerializer,
        description="Too late: the edit window closed, someone replied, or it is spam/trash.",
    ),
}


class CommentApi(APIView):
    """The author's own comment: edit or delete it with the edit token, while allowed."""

    @extend_schema(
        request=CommentEditSerializer,
        parameters=[EDIT_TOKEN],
        responses={
            200: CommentEditedSerializer,
            400: invalid(CommentEditSerializer),
            **AUTHOR_REFUSALS,
            **BODY_PROBLEMS,
        },
        auth=[],
        operation_id="comment_edit",
        summary="Edit your new comment (its edit token; it is moderated again)",
    )
    def patch(self, request: Request, comment_id: int) -> Response:
        incoming = CommentEditSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        changes = {k: v for k, v in incoming.validated_data.items() if k != "edit_token"}
        try:
            comment = services.comment_author_edit(
                comment_id=comment_id, token=_edit_token(request), changes=changes
            )
        except Comment.DoesNotExist as error:
            raise NotFound("No Comment matches the given query.") from error
        except DjangoValidationError as error:
            raise _field_errors(error) from error
        except (services.EditNotAllowed, services.EditTooLate) as error:
            return _author_refusal(error)
        return Response({"id": comment.pk, "status": comment.status, "detail": EDITED})

    @extend_schema(
        request=None,
        parameters=[EDIT_TOKEN],
        responses={204: None, **AUTHOR_REFUSALS},
        auth=[],
        operation_id="comment_delete",
        summary="Delete your new comment (its edit token)",
    )
    def delete(self, request: Request, comment_id: int) -> Response:
        try:
            services.comment_author_delete(comment_id=comment_id, token=_edit_token(request))
        except Comment.DoesNotExist as error:
            raise NotFound("No Comment matches the given query.") from error
        except (services.EditNotAllowed, services.EditTooLate) as error:
            return _author_refusal(error)
        return Response(status=HTTPStatus.NO_CONTENT)


class ModerationPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50


class ModerationQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Comment.Status.choices, required=False)


class ModerationCommentListApi(APIView):
    permission_classes = [IsAuthenticated, CanModerate]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=Comment.Status.values, required=False)
        ],
        responses={
            200: ModerationCommentPageSerializer,
            400: invalid(ModerationQuerySerializer),
            404: _problem("A bad cursor."),
            **NOT_ALLOWED,
        },
        operation_id="moderation_comments_list",
        summary="List comments for moderators, newest first",
    )
    def get(self, request: Request) -> Response:
        status = request.query_params.get("status") or None
        if status is not None and status not in Comment.Status.values:
            choices = ", ".join(Comment.Status.values)
            raise ValidationError({"status": [f"Choose one of {choices}."]})
        paginator = ModerationPagination()
        queryset = selectors.comment_list_moderation(status=status)
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(ModerationCommentSerializer(page, many=True).data)


class ModerationActionApi(APIView):
    permission_classes = [IsAuthenticated, CanModerate]

    @extend_schema(
        request=None,
        responses={
            200: ModerationResultSerializer,
            **NOT_ALLOWED,
            404: _problem("No such comment or action."),
            409: _problem("Not possible in this state."),
        },
        operation_id="moderation_action",
        summary="Approve, mark spam, mark not spam (ham), trash or restore a comment",
    )
    def post(self, request: Request, comment_id: int, action: str) -> Response:
        if action not in services.MODERATOR_ACTIONS:
            raise NotFound(f"Unknown action; use one of {', '.join(services.MODERATOR_ACTIONS)}.")
        comment = get_object_or_404(Comment, pk=comment_id)
        try:
            comment = services.comment_moderator_action(
                comment=comment, action=action, actor=request.user
            )
        except services.InvalidTransition as error:
            return _detail(error.message, HTTPStatus.CONFLICT)
        return Response({"id": comment.pk, "status": comment.status})


REPORT_RECEIVED = "Thank you: moderators will look at this comment."
NO_SUCH_COMMENT = "No published comment has this id."


class CommentFlagsApi(APIView):
    """A reader reports a published comment. Anything else, pending or spam or missing,
    is the same 404: a report tells nothing a reader could not see on the page."""

    throttle_classes = [FlagThrottle]

    @extend_schema(
        request=FlagCreateSerializer,
        responses={
            202: FlagAcceptedSerializer,
            400: invalid(FlagCreateSerializer),
            404: _problem(NO_SUCH_COMMENT),
            429: _problem("Too many reports (see Retry-After)."),
            **BODY_PROBLEMS,
        },
        summary="Report a published comment to the moderators (once per reader)",
    )
    def post(self, request: Request, comment_id: int) -> Response:
        incoming = FlagCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data, ip = incoming.validated_data, client_ip(request)
        agent = request.META.get("HTTP_USER_AGENT", "")
        try:
            flag = services.flag_create(
                comment_id=comment_id,
                reason=data["reason"],
                detail=data["detail"],
                reporter=reporter_fingerprint(ip=ip, user_agent=agent, reader_id=data["reader"]),
                source=reporter_source(ip=ip),
            )
        except DjangoValidationError as error:
            raise _field_errors(error) from error
        if flag is None:
            raise NotFound(NO_SUCH_COMMENT)
        return Response({"detail": REPORT_RECEIVED}, status=HTTPStatus.ACCEPTED)
