"""A wrong webhook secret says so, where the user will look.

A delivery signed with another secret than the app's is refused (400) in every adapter,
and the log says the likely cause: the secret differs from the subscription's, which the
sandbox prints. A ``whsec_`` secret whose rest is not base64 fails where the
configuration is built, naming ``AUTHONOMY_WEBHOOK_SECRET``; a secret without the
prefix is used as it is.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._errors import ConfigurationError
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.webhooks import (
    WebhookReceiver,
    WebhookVerificationError,
    WebhookVerifier,
    sign,
)

from .adapters import ADAPTER_NAMES as ADAPTERS
from .adapters import serve_example
from .django.helpers import WEBHOOK_SECRET
from .webhooks.conftest import OTHER_SECRET, event_body

HINT = "signed with another secret than AUTHONOMY_WEBHOOK_SECRET"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _deliver(url: str, secret: str) -> httpx.Response:
    body = event_body("evt_wrong_secret")
    headers = sign(secret, "evt_wrong_secret", int(time.time()), body)
    return httpx.post(
        f"{url}/webhooks/authonomy",
        content=body,
        headers={**headers, "content-type": "application/json"},
    )


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_delivery_signed_with_another_secret_logs_the_likely_cause(
    sb: Sandbox, adapter: str, caplog: pytest.LogCaptureFixture
) -> None:
    config_for = lambda url: sb.config(app_url=url, webhook_secret=WEBHOOK_SECRET)  # noqa: E731
    with serve_example(adapter, config_for) as url:
        assert _deliver(url, OTHER_SECRET).status_code == 400
        hints = [r.getMessage() for r in caplog.records if HINT in r.getMessage()]
        assert len(hints) == 1, [r.getMessage() for r in caplog.records]
        assert "authonomy-sandbox prints" in hints[0] and "'whsec_'" in hints[0]
        caplog.clear()
        assert _deliver(url, WEBHOOK_SECRET).status_code == 200
        assert not [r for r in caplog.records if HINT in r.getMessage()]


def test_a_whsec_secret_that_is_not_base64_fails_where_the_config_is_built() -> None:
    environ = {
        "AUTHONOMY_AUDIENCE": "app_x",
        "AUTHONOMY_LOGIN_PATH": "",
        "AUTHONOMY_WEBHOOK_SECRET": "whsec_not*base64",
    }
    with pytest.raises(ConfigurationError) as failure:
        AuthonomyConfig.from_env(environ)
    assert str(failure.value) == (
        "webhook_secret (AUTHONOMY_WEBHOOK_SECRET): the part after 'whsec_' is not valid base64"
    )


def test_a_receiver_without_a_secret_names_the_variable() -> None:
    with pytest.raises(ConfigurationError) as failure:
        WebhookReceiver(AuthonomyConfig(audience="app_x", login_path=None))
    assert failure.value.variable == "AUTHONOMY_WEBHOOK_SECRET"


def test_a_secret_without_the_prefix_is_used_as_it_is() -> None:
    body = event_body("evt_plain")
    headers = sign("plain-text-secret", "evt_plain", int(time.time()), body)
    assert WebhookVerifier("plain-text-secret").verify(headers, body).id == "evt_plain"
    # The same key written the whsec_ way: base64 of those bytes after the prefix.
    assert WebhookVerifier("whsec_cGxhaW4tdGV4dC1zZWNyZXQ=").verify(headers, body).id
    with pytest.raises(WebhookVerificationError):
        WebhookVerifier("plain-text-secreT").verify(headers, body)
