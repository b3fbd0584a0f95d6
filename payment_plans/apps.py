from django.apps import AppConfig


class PaymentPlansConfig(AppConfig):
    name = "payment_plans"
    verbose_name = "Payment plans"

    def ready(self):
        # Connecting receivers is what importing the module does; Django's documented place for it.
        from payment_plans import receivers  # noqa: F401  (plans follow every ledger posting)
