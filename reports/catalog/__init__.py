"""Every report, one module each; importing this package registers them (reports.framework.register)."""

from reports.catalog import (
    agencies,  # noqa: F401
    aging,  # noqa: F401
    collection_rate,  # noqa: F401
    days_in_ar,  # noqa: F401
    payment_plans,  # noqa: F401
    productivity,  # noqa: F401
    returned_mail,  # noqa: F401
    writeoffs,  # noqa: F401
)
