from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "collections_app"
    verbose_name = "Collections"

    def ready(self):
        from collections_app import signals  # noqa: F401  (connects the login audit receivers)
