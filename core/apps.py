from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Staff and audit"

    def ready(self):
        # Connecting receivers is what importing the module does; Django's documented place for it.
        from core import signals  # noqa: F401  (the login audit receivers)
