"""The example's URLs; the webhook route exists when a webhook secret is configured."""

from __future__ import annotations

from django.conf import settings
from django.urls import URLPattern, path

from authonomy_integrations.django import webhook_view
from authonomy_integrations.webhooks import WebhookReceiver

from ..shared import SIGNED_OUT_PATH
from . import views

urlpatterns: list[URLPattern] = [
    path("", views.home),
    path("profile", views.profile),
    path("admin", views.admin),
    path("api/me", views.me),
    path("webhooks", views.webhooks),
    path(SIGNED_OUT_PATH.lstrip("/"), views.signed_out),
    path("favicon.ico", views.favicon),
]

_config = settings.AUTHONOMY_CONFIG
if _config.webhook_secrets:
    receiver = WebhookReceiver(_config)
    receiver.on_any(views.remember)
    urlpatterns.append(path(_config.webhook_path.lstrip("/"), webhook_view(receiver)))
