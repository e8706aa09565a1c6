"""Django settings of the example: Authonomy from the ``AUTHONOMY_*`` variables.

``python -m examples.django_app`` sets those variables for an embedded sandbox before
Django reads this module. After sign-out the browser lands on ``/signed-out``, and log
lines start with ``[app]`` (the embedded sandbox's with ``[sandbox]``), as in the other
demos.
"""

from __future__ import annotations

import os
import secrets

from authonomy_integrations import AuthonomyConfig
from examples.shared import log_config, with_signed_out_page

# The example signs nothing with Django's own key; a fresh one per start is enough here.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(32)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "examples.django_app.urls"
WSGI_APPLICATION = "examples.django_app.wsgi.application"
INSTALLED_APPS = ["authonomy_integrations.django"]  # adds the Authonomy system checks
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "authonomy_integrations.django.AuthonomyMiddleware",
]
USE_TZ = True
LOGGING = log_config()

AUTHONOMY_CONFIG = with_signed_out_page(AuthonomyConfig.from_env())
