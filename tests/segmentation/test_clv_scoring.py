"""Lifetime value in the scoring run, and the tier history on the customer page.

The CLV case is small and known: each customer's purchase days are written down here, so the history
the run builds (Beijing business days, repeat days, the first purchase left out of the spend) is checked
through the predictions, which must equal what the ``clv`` module gives for those histories."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy.orm import Session

from bankcrm.core.context import Actor
from bankcrm.core.lake import Lake
from bankcrm.customers import lake_repository
from bankcrm.customers.service import scoring, view360
from bankcrm.customers.service.errors import CustomerNotFound
from bankcrm.segmentation import clv
from bankcrm.segmentation.clv_scoring import horizon_weeks
from bankcrm.segmentation.jobs import FEATURES, compute_features, store_features

AS_OF = date(2026, 10, 31)
# Beijing 00:00 is 16:00 UTC the day before: a booking at 15:30 UTC and one at 16:30 UTC fall on two
# business days although they share a UTC date.
BEIJING_EVENING = timedelta(hours=15, minutes=30)  # 23:30 Beijing, same business day
BEIJING_MORNING = timedelta(hours=16, minutes=30)  # 00:30 Beijing, the next business day


def _plan(index: int) -> list[tuple[date, Decimal]]:
    """Customer ``index``'s purchase days and amounts: every 1 to 5 weeks from a first purchase; odd
    customers stop after a few purchases (they dropped out), even ones keep buying until the as-of
    day; spending differs between customers and a little between purchases."""
    first = date(2025, 6, 2) + timedelta(days=3 * index)
    every = timedelta(weeks=1 + index % 5)
    last = 1 + index % 4 if index % 2 else 60
    base = 40 + 25 * (index % 9) + 3 * index
    days = []
    for n in range(last + 1):
        day = first + every * n
        if day > AS_OF:
            break
        days.append((day, Decimal(base + 7 * ((n * 3 + index) % 5))))
    return days


def _booked(day: date, late: bool) -> datetime:
    """A UTC booking time on Beijing business day ``day``."""
    midnight_utc = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1)
    return midnight_utc + (BEIJING_MORNING if not late else BEIJING_EVENING + timedelta(days=1))


def _write_log(lake: Lake, plans: dict[int, list[tuple[date, Decimal]]]) -> None:
    rows = []
    for customer, days in plans.items():
        for number, (day, amount) in enumerate(days):
            # Each purchase day is two bookings, 00:30 and 23:30 Beijing time: one purchase of their sum.
            half = (amount / 2).quantize(Decimal("0.01"))
            for late, part in ((False, half), (True, amount - half)):
                rows.append(
                    {
                        "txn_id": f"C{customer}-{number}-{int(late)}",
                        "customer_id": customer,
                        "account_no": "6222020200005678",
                        "booked_at": _booked(day, late),
                        "direction": "out" if number % 2 else "in",
                        "amount": part,
                        "currency": "CNY",
                        "category": "shopping",
                        "channel": "pos",
                        "counterparty": None,
                        "description": None,
                    }
                )
    # After the as-of day (Beijing): must not count.
    late_row = {**rows[0], "txn_id": "after", "booked_at": datetime(2026, 10, 31, 16, 0, tzinfo=UTC)}
    table = pa.Table.from_pylist([*rows, late_row], schema=lake_repository.TRANSACTION_SCHEMA)
    lake_repository.write_transactions(lake, table, batch_key="clv")


def _expected(plans: dict[int, list[tuple[date, Decimal]]]) -> dict[int, tuple[float, float, float]]:
    """The clv module's predictions for the histories written above, computed from the plans."""
    ids = sorted(plans)
    frequency = np.array([len(plans[c]) - 1 for c in ids], dtype=float)
    recency = np.array([(plans[c][-1][0] - plans[c][0][0]).days / 7 for c in ids])
    age = np.array([(AS_OF - plans[c][0][0]).days / 7 for c in ids])
    monetary = np.array(
        [
            float(sum(a for _, a in plans[c][1:]) / (len(plans[c]) - 1)) if len(plans[c]) > 1 else 0.0
            for c in ids
        ]
    )
    bg = clv.fit_bgnbd(frequency, recency, age)
    spenders = frequency > 0
    gg = clv.fit_gamma_gamma(frequency[spenders], monetary[spenders])
    horizon = horizon_weeks(AS_OF)
    transactions = clv.expected_transactions(bg, horizon, frequency, recency, age)
    alive = clv.probability_alive(bg, frequency, recency, age)
    value = transactions * clv.expected_spend(gg, frequency, monetary)
    return {c: (transactions[i], alive[i], value[i]) for i, c in enumerate(ids)}


def test_the_run_writes_back_the_clv_modules_predictions(db: Session, lake: Lake, make_customer) -> None:  # type: ignore[no-untyped-def]
    people = [make_customer(name=f"客户{i}").id for i in range(30)]
    quiet = make_customer(name="无交易").id
    plans = {customer: _plan(index) for index, customer in enumerate(people)}
    _write_log(lake, plans)
    store_features(db, lake, compute_features(db, lake, as_of=AS_OF), as_of=AS_OF)

    expected = _expected(plans)
    for customer, (transactions, alive, value) in expected.items():
        score = scoring.latest_score(db, customer)
        assert score is not None
        assert score.clv_expected_transactions == pytest.approx(transactions, rel=1e-4)
        assert score.clv_probability_alive == pytest.approx(alive, rel=1e-4)
        assert score.clv_expected_value is not None
        assert float(score.clv_expected_value) == pytest.approx(value, rel=1e-4, abs=0.01)
    nothing = scoring.latest_score(db, quiet)
    assert nothing is not None
    assert nothing.clv_expected_value is None  # no transaction: nothing predicted, nothing invented
    kept = lake.query(f"SELECT count(clv_expected_value) FROM {lake.scan_expression(FEATURES)}")
    assert kept.column(0)[0].as_py() == len(people)  # kept in the lake with the features


def test_the_scores_section_shows_the_lifetime_value(
    db: Session, lake: Lake, make_customer, signed_in
) -> None:  # type: ignore[no-untyped-def]
    people = [make_customer(name=f"客户{i}").id for i in range(30)]
    _write_log(lake, {customer: _plan(index) for index, customer in enumerate(people)})
    store_features(db, lake, compute_features(db, lake, as_of=AS_OF), as_of=AS_OF)
    score = scoring.latest_score(db, people[6])
    assert score is not None
    assert score.clv_expected_value is not None
    section = signed_in("rm.zhang").client.get(f"/customers/{people[6]}/sections/scores").text
    assert "客户终身价值（未来12个月）" in section
    assert f"¥{score.clv_expected_value:,.2f}" in section
    assert "仍活跃概率" in section


def test_too_few_repeat_customers_leave_the_lifetime_value_empty(
    db: Session, lake: Lake, make_customer
) -> None:  # type: ignore[no-untyped-def]
    people = [make_customer(name=f"客户{i}").id for i in range(3)]
    _write_log(lake, {customer: _plan(index + 1) for index, customer in enumerate(people)})
    store_features(db, lake, compute_features(db, lake, as_of=AS_OF), as_of=AS_OF)
    for customer in people:
        score = scoring.latest_score(db, customer)
        assert score is not None
        assert score.clv_expected_value is None
        assert score.clv_probability_alive is None


def _move(
    db: Session, customer: int, as_of: date, from_tier: str, to_tier: str, reason: str, aum: str
) -> None:
    month = f"{as_of.year:04d}-{as_of.month:02d}"
    changes = pa.Table.from_pylist(
        [
            {
                "customer_id": customer,
                "from_tier": from_tier,
                "to_tier": to_tier,
                "reason": reason,
                "aum_mda": Decimal(aum),
                "balance_month": month,
            }
        ]
    )
    scoring.apply_tier_changes(db, changes, as_of=as_of, actor=Actor.system("test"))


def test_the_tier_history_lists_every_move_newest_first(db: Session, make_customer, as_user) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(name="钱十").id
    _move(db, person, date(2026, 6, 30), "mass", "affluent", "upgrade", "62000.00")
    _move(db, person, date(2026, 8, 31), "affluent", "vip", "upgrade", "510000.00")
    _move(db, person, date(2026, 11, 30), "vip", "affluent", "downgrade", "320000.50")
    history = view360.tier_history(db, as_user("rm.zhang"), customer_id=person)
    assert [(h.as_of, h.from_tier, h.to_tier, h.reason) for h in history] == [
        (date(2026, 11, 30), "vip", "affluent", "downgrade"),
        (date(2026, 8, 31), "affluent", "vip", "upgrade"),
        (date(2026, 6, 30), "mass", "affluent", "upgrade"),
    ]
    assert history[0].aum_mda == Decimal("320000.50")
    assert history[0].balance_month == "2026-11"


def test_the_tier_history_is_within_the_viewers_scope(db: Session, make_customer, as_user) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(name="孙十一").id
    _move(db, person, date(2026, 6, 30), "mass", "affluent", "upgrade", "62000.00")
    with pytest.raises(CustomerNotFound):
        view360.tier_history(db, as_user("rm.chen"), customer_id=person)


def test_the_scores_section_shows_the_tier_history(db: Session, make_customer, signed_in) -> None:  # type: ignore[no-untyped-def]
    person = make_customer(name="李十二").id
    rm = signed_in("rm.zhang")
    empty = rm.client.get(f"/customers/{person}/sections/scores").text
    assert 'data-testid="tier-history-empty"' in empty
    _move(db, person, date(2026, 6, 30), "mass", "affluent", "upgrade", "62000.00")
    _move(db, person, date(2026, 9, 30), "affluent", "mass", "downgrade", "41000.00")
    section = rm.client.get(f"/customers/{person}/sections/scores").text
    table = section[section.index('data-testid="tier-history"') :]
    assert table.index("2026-09-30") < table.index("2026-06-30")  # newest first
    assert "¥41,000.00" in table
    assert "宽限期满降级" in table
    assert "升级" in table


def _regular_plan(index: int) -> list[tuple[date, Decimal]]:
    """Purchases at a steady pace for everyone, none long quiet before the as-of day."""
    first = date(2025, 11, 1) + timedelta(days=7 * index)
    every = timedelta(weeks=3 + index % 4)
    days = [
        (first + every * n, Decimal(40 + 25 * index + 7 * ((n * 3 + index) % 4)))
        for n in range(index % 5 + 1)
    ]
    return [(day, amount) for day, amount in days if day <= AS_OF]


def test_a_fit_without_dropouts_leaves_figures_empty_rather_than_nonsense(
    db: Session, lake: Lake, make_customer
) -> None:  # type: ignore[no-untyped-def]
    # No one has been quiet for long: the dropout parameters of BG/NBD run off towards infinity and its
    # closed forms give NaN, which must reach neither the operational store nor the page.
    people = [make_customer(name=f"客户{i}").id for i in range(24)]
    _write_log(lake, {customer: _regular_plan(index) for index, customer in enumerate(people)})
    store_features(db, lake, compute_features(db, lake, as_of=AS_OF), as_of=AS_OF)
    for customer in people:
        score = scoring.latest_score(db, customer)
        assert score is not None
        assert score.clv_expected_value is None
        assert score.clv_expected_transactions is None
