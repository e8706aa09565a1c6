"""The Flask example: ``python -m examples.flask_app`` (see ``__main__``)."""
