"""The docs' fixtures: a sandbox of the test's own, its variables set as samples expect."""

from .samples import app_url, sandbox_env

__all__ = ["app_url", "sandbox_env"]
