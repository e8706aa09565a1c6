"""Which ``return_url`` a login may name: one on the app's origins (``--app-url``).

Authonomy sends the browser, and the code, only back to the app's own addresses. The
sandbox started with ``--app-url`` knows them and checks each login the way the kit
checks a request's ``Host``: the return URL's origin must be one of them, port
included, and on a tenant origin (``https://{customer}.myapp.example``) its label must
be the customer the login is for. Without ``--app-url`` (an in-process ``Sandbox`` in
tests) any absolute URL is accepted.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .._core.origins import Origins
from ._envelope import ApiError

__all__ = ["check_return_url"]


def check_return_url(origins: Origins | None, return_url: str, customer_id: str) -> None:
    """Raise ``VALIDATION_ERROR`` unless ``return_url`` may receive ``customer_id``'s
    login (always, when ``origins`` is ``None``)."""
    if origins is None:
        return
    parts = urlsplit(return_url)
    origin = origins.match(parts.netloc)
    if origin is None or origin.url != f"{parts.scheme}://{origin.host}":
        raise ApiError.validation(
            "return_url is not on one of the app's origins", field="return_url"
        )
    if origin.customer is not None and origin.customer != customer_id:
        raise ApiError.validation(
            "return_url is on another customer's host than customer_id", field="return_url"
        )
