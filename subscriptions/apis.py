"""The subscriptions REST API (thin: validate, call a service, answer)."""

from http import HTTPStatus
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from reex.net import SubscribeThrottle
from reex.schema import RETRY_AFTER, invalid
from subscriptions import selectors, services, tokens
from subscriptions.api_signup import ACCEPTED, signup_answer
from subscriptions.consent import CURRENT as CONSENT
from subscriptions.consent import Requester, requester_of
from subscriptions.models import ConsentEvent, MailingList, Subscription
from subscriptions.serializers import (
    ConfirmInSerializer,
    MailingListSerializer,
    SubscribeAcceptedSerializer,
    SubscribeInSerializer,
    SubscriberOutSerializer,
    SubscribersQuerySerializer,
    SubscriptionsProblemSerializer,
    SubscriptionStatusSerializer,
    UnsubscribeInSerializer,
)

# What any API operation may answer besides its own outcomes: the body unreadable (400),
# a media type other than JSON (415), a body over the size limit (413).
_BODY_PROBLEMS = {
    413: OpenApiResponse(SubscriptionsProblemSerializer, description="body too large"),
    415: OpenApiResponse(SubscriptionsProblemSerializer, description="not JSON"),
}


def _token_answers(
    serializer: type[ConfirmInSerializer | UnsubscribeInSerializer],
    more: dict[int, OpenApiResponse] | None = None,
) -> dict[int, object]:
    """Return the schema answers of an operation that takes an emailed link's token."""
    return {
        200: SubscriptionStatusSerializer,
        400: invalid(serializer),
        **(more or {}),
        **_BODY_PROBLEMS,
    }


def _invalid_token() -> Response:
    return Response({"token": ["Invalid token."]}, status=HTTPStatus.BAD_REQUEST)


# Open to anyone without credentials: readers, and the links in their emails. (A comment,
# not a docstring: the schema would show it on every operation.)
class _PublicApi(APIView):
    authentication_classes: list[type] = []
    permission_classes = [permissions.AllowAny]


def _requester(request: Request) -> Requester:
    return requester_of(request, source=ConsentEvent.Source.API)


class SubscribeApi(_PublicApi):
    throttle_classes = [SubscribeThrottle]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # The everyday sign-up skips DRF's per-request machinery; the rest is DRF's.
        answer = signup_answer(self, request)
        return answer if answer is not None else super().dispatch(request, *args, **kwargs)

    @extend_schema(
        request=SubscribeInSerializer,
        responses={
            202: SubscribeAcceptedSerializer,
            400: invalid(SubscribeInSerializer),
            429: OpenApiResponse(
                SubscriptionsProblemSerializer, description="too many sign-ups (Retry-After)"
            ),
            **_BODY_PROBLEMS,
        },
        parameters=[RETRY_AFTER],
        description=(
            "Sign up for one or more lists (double opt-in). The answer is the same for "
            f"every address. Consent text (version {CONSENT.version}): {CONSENT.text}"
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = SubscribeInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.subscription_request(
            email=serializer.validated_data["email"],
            lists=serializer.validated_data["lists"],
            consent=CONSENT,
            requester=_requester(request),
        )
        return Response({"detail": ACCEPTED}, status=HTTPStatus.ACCEPTED)


class ConfirmApi(_PublicApi):
    @extend_schema(
        request=ConfirmInSerializer,
        responses=_token_answers(
            ConfirmInSerializer,
            {
                410: OpenApiResponse(
                    SubscriptionsProblemSerializer,
                    description="expired, or replaced by a newer link",
                )
            },
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = ConfirmInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.subscription_confirm(
                token=serializer.validated_data["token"], requester=_requester(request)
            )
        except tokens.TokenExpired:
            return Response(
                {"detail": "This confirmation link has expired or was replaced by a newer one."},
                status=HTTPStatus.GONE,
            )
        except tokens.TokenInvalid:
            return _invalid_token()
        return Response({"status": "confirmed"})


class UnsubscribeApi(_PublicApi):
    @extend_schema(
        request=UnsubscribeInSerializer, responses=_token_answers(UnsubscribeInSerializer)
    )
    def post(self, request: Request) -> Response:
        serializer = UnsubscribeInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.subscription_unsubscribe_by_token(
                token=serializer.validated_data["token"],
                everything=serializer.validated_data["all"],
                requester=_requester(request),
            )
        except tokens.TokenInvalid:
            return _invalid_token()
        return Response({"status": "unsubscribed"})


class ConsentSerializer(serializers.Serializer):
    version = serializers.CharField()
    text = serializers.CharField()


class ConsentApi(_PublicApi):
    @extend_schema(
        responses={200: ConsentSerializer},
        summary="The consent text a sign-up form on another site must show (the embed's box)",
    )
    def get(self, request: Request) -> Response:
        return Response({"version": CONSENT.version, "text": CONSENT.text})


class ListsApi(generics.ListAPIView):
    """The public mailing lists."""

    authentication_classes: list[type] = []
    permission_classes = [permissions.AllowAny]
    serializer_class = MailingListSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[MailingList]:
        return selectors.lists_public()


class CanViewSubscribers(permissions.BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and user.has_perm("subscriptions.view_subscriber")
        )


class SubscriberCursor(CursorPagination):
    ordering = "id"
    page_size = 100
    max_page_size = 1000
    page_size_query_param = "page_size"


class SubscribersApi(generics.ListAPIView):
    """Addresses on one list with their status, for integrations (token + view permission)."""

    permission_classes = [CanViewSubscribers]
    serializer_class = SubscriberOutSerializer
    pagination_class = SubscriberCursor

    @extend_schema(
        parameters=[
            OpenApiParameter("list", str, required=True, description="list slug, e.g. daily"),
            OpenApiParameter(
                "status",
                str,
                enum=Subscription.Status.values,
                description="confirmed means mailable: suppressed addresses are left out",
            ),
        ],
        responses={
            200: SubscriberOutSerializer(many=True),
            400: invalid(SubscribersQuerySerializer),
            401: OpenApiResponse(SubscriptionsProblemSerializer, description="no credentials"),
            403: OpenApiResponse(
                SubscriptionsProblemSerializer, description="no subscriptions.view_subscriber"
            ),
            404: OpenApiResponse(SubscriptionsProblemSerializer, description="a bad cursor"),
        },
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Subscription]:
        query = SubscribersQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.subscriptions_on_list(
            mailing_list=query.validated_data["list"],
            status=query.validated_data.get("status"),
        )
