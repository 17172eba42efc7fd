"""DRF serializers: shapes only. The rules live in the model's validators and services."""

from rest_framework import serializers

from comments.models import SUMMARY_MAX, Article, Comment, Flag
from reex.validators import HttpUrlValidator


class ArticleSerializer(serializers.Serializer):
    """An article as integrations see it; ``comments_open`` counts the auto-close age."""

    key = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()
    summary = serializers.CharField(help_text="Plain text, a few sentences.")
    image_url = serializers.CharField()
    author = serializers.CharField()
    published_at = serializers.DateTimeField()
    comments_open = serializers.BooleanField()
    comment_count = serializers.IntegerField(help_text="Approved comments only.")


# Left out, these three keep what the article has (a feed may have set them); "" clears.
KEPT_IF_LEFT_OUT = " Left out: unchanged; an empty string clears it."


class ArticleWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    url = serializers.URLField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        validators=[HttpUrlValidator()],
    )
    published_at = serializers.DateTimeField()
    comments_open = serializers.BooleanField(required=False, default=True)
    summary = serializers.CharField(
        max_length=SUMMARY_MAX,
        required=False,
        allow_blank=True,
        help_text="Plain text, a few sentences." + KEPT_IF_LEFT_OUT,
    )
    image_url = serializers.URLField(
        max_length=500,
        required=False,
        allow_blank=True,
        validators=[HttpUrlValidator()],
        help_text="An http:// or https:// image address." + KEPT_IF_LEFT_OUT,
    )
    author = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Byline." + KEPT_IF_LEFT_OUT
    )


class CommentCreateSerializer(serializers.Serializer):
    # Lengths, formats and blanks are checked by the model, so that the API and the
    # reader's form give the same messages; these fields only check the JSON types.
    author_name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    author_email = serializers.CharField(allow_blank=True, trim_whitespace=False)
    author_url = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, default=""
    )
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)
    parent = serializers.IntegerField(  # type: ignore[assignment]
        required=False, allow_null=True, default=None, min_value=1
    )
    notify_replies = serializers.BooleanField(required=False, default=False)
    article_url = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        default="",
        help_text=(
            "The page the comment was written on (the embed sends it): an unknown article "
            "whose page lies under REEX_SITE_URLS is created with this comment."
        ),
    )
    article_title = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=300,
        default="",
        help_text="The page's title as the browser saw it: a hint, never stored as the title.",
    )


class CommentAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    detail = serializers.CharField()
    edit_token = serializers.CharField(
        allow_blank=True,
        help_text="Lets the author edit or delete the comment until editable_until "
        "(X-Reex-Edit-Token); empty when edits are off. Shown once: keep it.",
    )
    editable_until = serializers.DateTimeField(allow_null=True)


class CommentEditSerializer(serializers.Serializer):
    # As for a new comment, the model checks lengths, formats and blanks.
    author_name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    author_url = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    edit_token = serializers.CharField(
        required=False, help_text="The edit token, if not sent as X-Reex-Edit-Token."
    )


class CommentEditedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    detail = serializers.CharField()


class PublicCommentSerializer(serializers.ModelSerializer):
    """A published comment: never the email, the IP or the raw body."""

    class Meta:
        model = Comment
        fields = ["id", "parent", "author_name", "author_url", "body_html", "created_at"]
        read_only_fields = fields


class ModerationCommentSerializer(serializers.ModelSerializer):
    article: "serializers.SlugRelatedField[Article]" = serializers.SlugRelatedField(
        slug_field="key", read_only=True
    )

    class Meta:
        model = Comment
        fields = [
            "id",
            "article",
            "parent",
            "author_name",
            "author_email",
            "author_url",
            "ip_address",
            "user_agent",
            "status",
            "spam_score",
            "reasons",
            "body",
            "body_html",
            "created_at",
        ]
        read_only_fields = fields


class ModerationResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()


class FlagCreateSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Flag.Reason.choices)
    detail = serializers.CharField(
        required=False, allow_blank=True, max_length=500, default="", trim_whitespace=True
    )
    # The embed's anonymous reader id, when it has one: tells readers apart on one network.
    reader = serializers.RegexField(
        r"^[A-Za-z0-9_-]{8,64}$", required=False, allow_blank=True, default=""
    )


class FlagAcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField()
