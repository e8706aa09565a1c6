"""The test URLconf: the example's pages plus views that pin each guard, sync and async,
two webhook views (blocking and async handlers) and Django REST framework views."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authonomy_integrations.django import (
    login_required,
    require_groups,
    require_policy,
    webhook_view,
)
from authonomy_integrations.django.rest_framework import (
    AuthonomyAuthentication,
    IsAuthonomyAuthenticated,
    RequireGroups,
    RequirePolicy,
)
from examples.django_app.urls import urlpatterns as example_urls

from .receivers import async_receiver, blocking_receiver


def _whoami(request: HttpRequest) -> JsonResponse:
    user: Any = request.user
    auth: Any = getattr(request, "auth", None)
    return JsonResponse(
        {
            "authenticated": user.is_authenticated,
            "id": user.id,
            # Django's own anonymous user (contrib.auth) has a manager here, not a set.
            "groups": sorted(user.groups) if isinstance(user.groups, frozenset) else None,
            "auth": sorted(auth) if auth is not None else None,
        }
    )


async def _awhoami(request: HttpRequest) -> JsonResponse:
    return _whoami(request)


async def _auser(request: HttpRequest) -> JsonResponse:
    """Who ``await request.auser()`` says is calling, as Django's async decorators ask."""
    user: Any = await request.auser()
    return JsonResponse({"authenticated": user.is_authenticated, "id": user.id})


class DrfMe(APIView):
    authentication_classes = [AuthonomyAuthentication]
    permission_classes = [IsAuthonomyAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"id": request.user.id, "scopes": sorted(request.auth)})

    def post(self, request: Request) -> Response:
        return Response({"posted": request.data})


class DrfAdmins(APIView):
    permission_classes = [RequireGroups("admins")]

    def get(self, request: Request) -> Response:
        return Response({"id": request.user.id})


class DrfMfa(APIView):
    permission_classes = [IsAuthonomyAuthenticated, RequirePolicy("require-mfa")]

    def get(self, request: Request) -> Response:
        return Response({"id": request.user.id})


class DrfOpen(APIView):
    def get(self, request: Request) -> Response:
        user = request.user
        return Response({"authenticated": bool(user and user.is_authenticated)})


urlpatterns: list[URLPattern] = [
    *example_urls,
    path("whoami", _whoami),
    path("async/auser", _auser),
    path("sync/login", login_required(_whoami)),
    path("async/login", login_required(_awhoami)),
    path("sync/admins", require_groups("admins")(_whoami)),
    path("async/admins", require_groups("admins")(_awhoami)),
    path("sync/mfa", require_policy("require-mfa")(_whoami)),
    path("async/mfa", require_policy("require-mfa")(_awhoami)),
    path("hooks/blocking", webhook_view(blocking_receiver)),
    path("hooks/async", webhook_view(async_receiver)),
    path("drf/me", DrfMe.as_view()),
    path("drf/admins", DrfAdmins.as_view()),
    path("drf/mfa", DrfMfa.as_view()),
    path("drf/open", DrfOpen.as_view()),
]
