"""Concurrent plan writes to one account serialise on the account row (PostgreSQL: each thread has
its own connection; SQLite serialises all writers, so there is nothing to race)."""

import threading

import pytest
from django.db import connection, connections

from core.errors import ApplicationError
from payment_plans import services
from payment_plans.models import PaymentPlan
from tests.payment_plans.conftest import pay

THREADS = 6


def _in_parallel(work) -> tuple[list, list[BaseException]]:
    barrier = threading.Barrier(THREADS)
    results, errors = [], []

    def run(n):
        try:
            barrier.wait()
            results.append(work(n))
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reps_setting_up_plans_at_once_get_one_plan_and_clear_refusals(account, medium, sqlite_flushable):
    if connection.vendor != "postgresql":
        pytest.skip("parallel writers need PostgreSQL")
    results, errors = _in_parallel(
        lambda n: services.plan_create(acting_user=medium, account_id=account.pk, installment_count=4, activate=True)
    )
    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(error, ApplicationError) for error in errors), errors
    assert PaymentPlan.objects.filter(account=account).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_payment_application_racing_itself_gives_the_same_answer(account, medium, sqlite_flushable):
    if connection.vendor != "postgresql":
        pytest.skip("parallel writers need PostgreSQL")
    plan = services.plan_create(acting_user=medium, account_id=account.pk, installment_count=4, activate=True)
    pay(account, "75.00")
    _, errors = _in_parallel(lambda n: services.plan_payment_received(account_id=account.pk))
    assert errors == []
    rows = list(plan.installments.order_by("due_on").values_list("paid_amount", flat=True))
    assert [str(amount) for amount in rows] == ["50.00", "25.00", "0.00", "0.00"]
