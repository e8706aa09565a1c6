"""Tests of the Quart adapter's own behaviour (the shared suites run it through the registry)."""
