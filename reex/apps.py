from django.apps import AppConfig


class ReexConfig(AppConfig):
    name = "reex"
    verbose_name = "reex"

    def ready(self) -> None:
        from reex import db  # noqa: F401  (registers the database checks)
