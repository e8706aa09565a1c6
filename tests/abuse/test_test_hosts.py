"""Plain http is allowed for this machine only: no exception for test clients' host names."""

from __future__ import annotations

import pytest

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._core.api import ApiFlows
from authonomy_integrations._core.urls import url_problem
from authonomy_integrations._errors import ConfigurationError

BASE = {"audience": "app_1", "api_key": "ak_test"}


@pytest.mark.parametrize("field", ["app_url", "issuer", "api_base_url", "jwks_url"])
@pytest.mark.parametrize("host", ["testserver", "testclient", "example.test"])
def test_plain_http_to_a_test_host_name_is_a_configuration_error(field: str, host: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        AuthonomyConfig(**BASE, **{field: f"http://{host}"})
    assert refused.value.field == field
    assert "https" in refused.value.message


@pytest.mark.parametrize("url", ["http://localhost", "http://127.0.0.1:8000", "http://[::1]:8000"])
def test_plain_http_to_this_machine_is_allowed(url: str) -> None:
    assert url_problem(url) is None
    assert AuthonomyConfig(**BASE, app_url=url).app_url == url


def test_api_client_refuses_a_test_host_over_plain_http() -> None:
    with pytest.raises(ConfigurationError):
        ApiFlows("http://testserver/v1", "ak_test")
