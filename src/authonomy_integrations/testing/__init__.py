"""Helpers for testing apps that use the kit: a pytest plugin and login helpers."""
