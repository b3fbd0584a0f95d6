from django.apps import AppConfig


class PaymentPlansConfig(AppConfig):
    name = "payment_plans"
