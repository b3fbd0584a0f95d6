from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "collections_app"
    verbose_name = "Collections"

    def ready(self):
        # Connecting receivers is what importing the module does; Django's documented place for it.
        from collections_app import receivers  # noqa: F401  (the queue follows every ledger posting)
        from collections_app.agencies import receivers as agency_receivers  # noqa: F401  (placements follow too)
