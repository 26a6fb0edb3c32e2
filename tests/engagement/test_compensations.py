"""Compensations on a task: kinds, amounts with two decimals, ISO 4217 currencies, audit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from core.errors import InvalidError, NotFoundError
from engagement.models import Compensation, TaskEvent
from engagement.replies import service
from tests.engagement.test_replies import seed_task


def add(session, task_id, **kw):
    values: dict[str, Any] = {
        "kind": "refund",
        "amount": None,
        "currency": None,
        "note": None,
        "actor": "maya",
    }
    values.update(kw)
    return service.add_compensation(session, task_id, **values)


def test_compensations_are_recorded_listed_and_audited(session):
    task, _ = seed_task(session)
    apology = add(session, task.id, kind="apology", note="Called the customer")
    refund = add(session, task.id, amount=Decimal("25.5"), currency="eur")
    voucher = add(session, task.id, kind="voucher", amount=Decimal("10.00"), currency="USD")
    replacement = add(session, task.id, kind="replacement", amount=Decimal("0"), currency="GBP")
    session.commit()
    session.expire_all()

    listed = service.list_compensations(session, task.id)
    assert [c.id for c in listed] == [apology.id, refund.id, voucher.id, replacement.id]
    assert [(c.kind, c.amount, c.currency) for c in listed] == [
        ("apology", None, None),
        ("refund", Decimal("25.50"), "EUR"),
        ("voucher", Decimal("10.00"), "USD"),
        ("replacement", Decimal("0.00"), "GBP"),
    ]
    assert listed[0].note == "Called the customer" and listed[0].created_by == "maya"
    events = session.scalars(
        select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)
    ).all()
    assert [(e.type, e.actor) for e in events] == [("compensation", "maya")] * 4
    assert events[1].data == {
        "compensation_id": refund.id,
        "kind": "refund",
        "amount": "25.50",
        "currency": "EUR",
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "cash"}, "kind must be one of apology, refund, voucher, replacement, other"),
        ({"amount": Decimal("10")}, "currency is required with an amount"),
        ({"currency": "EUR"}, "currency given without an amount"),
        ({"amount": Decimal("-1"), "currency": "EUR"}, "amount must be between 0 and"),
        ({"amount": Decimal("1.005"), "currency": "EUR"}, "amount has more than 2 decimal places"),
        ({"amount": Decimal("NaN"), "currency": "EUR"}, "amount must be between 0 and"),
        ({"amount": Decimal("1e13"), "currency": "EUR"}, "amount must be between 0 and"),
        ({"amount": Decimal("5"), "currency": "EURO"}, "is not an ISO 4217 code"),
        ({"amount": Decimal("5"), "currency": "E1R"}, "is not an ISO 4217 code"),
        ({"amount": Decimal("5"), "currency": "ÉUR"}, "is not an ISO 4217 code"),
    ],
)
def test_invalid_compensations_are_refused(session, fields, message):
    task, _ = seed_task(session)
    with pytest.raises(InvalidError, match=message):
        add(session, task.id, **fields)
    assert session.scalars(select(Compensation)).all() == []
    assert session.scalars(select(TaskEvent)).all() == []


def test_trailing_zeros_beyond_cents_are_fine(session):
    task, _ = seed_task(session)
    assert add(session, task.id, amount=Decimal("7.500"), currency="CHF").amount == Decimal("7.50")


def test_unknown_task(session):
    with pytest.raises(NotFoundError, match="task 424242 not found"):
        add(session, 424242, kind="apology")
    with pytest.raises(NotFoundError, match="task 424242 not found"):
        service.list_compensations(session, 424242)
