"""The Quart example: ``python -m examples.quart_app`` (see ``__main__``)."""
