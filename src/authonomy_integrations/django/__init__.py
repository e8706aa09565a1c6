"""Authonomy for Django: sign-in routes, sessions, bearer tokens, policies and webhooks.

::

    # settings.py
    MIDDLEWARE = [..., "authonomy_integrations.django.AuthonomyMiddleware"]
    AUTHONOMY_CONFIG = AuthonomyConfig.from_env()   # absent: from_env() at start-up

    # views.py
    from authonomy_integrations.django import require_policy

    @require_policy("require-mfa")
    def admin(request):              # request.user is an AuthonomyUser
        ...

    # urls.py
    urlpatterns = [path("webhooks/authonomy", webhook_view(receiver))]

The middleware serves ``login_path`` (GET), ``callback_path`` (GET) and ``logout_path``
(POST), and sets ``request.user`` (an
:class:`~authonomy_integrations._core.user.AuthonomyUser` or an unauthenticated user) and
``request.auth`` on every other request, under WSGI and ASGI. With
``django.contrib.auth`` installed too, list ``AuthonomyMiddleware`` after its
``AuthenticationMiddleware``. Adding ``"authonomy_integrations.django"`` to
``INSTALLED_APPS`` adds system checks. Django REST framework classes are in
:mod:`authonomy_integrations.django.rest_framework`.
"""

# ruff: noqa: E402 -- the extras are checked before the imports that need them
from .._extras import require_extra

require_extra("authonomy_integrations.django", "django", "django", "asgiref")

from ._account import aaccess_token, access_token, aend_sessions, end_sessions
from ._guards import login_required, require_groups, require_policy, require_scopes
from ._middleware import AuthonomyMiddleware
from ._settings import AuthonomyImproperlyConfigured
from ._webhooks import webhook_view

__all__ = [
    "AuthonomyImproperlyConfigured",
    "AuthonomyMiddleware",
    "aaccess_token",
    "access_token",
    "aend_sessions",
    "end_sessions",
    "login_required",
    "require_groups",
    "require_policy",
    "require_scopes",
    "webhook_view",
]
