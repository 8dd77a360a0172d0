"""Numbers, money and dates as bank staff read them (UI.md): exact, locale-aware, Asia/Shanghai."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")
CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "US$", "HKD": "HK$", "EUR": "€"}
_CENT = Decimal("0.01")


def format_money(amount: Decimal | int | None, currency: str = "CNY") -> str:
    """``¥1,234,567.89``; always two decimals, thousands separators, the currency shown."""
    if amount is None:
        return "—"
    value = Decimal(amount).quantize(_CENT, rounding=ROUND_HALF_UP)
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{abs(value):,.2f}"


def format_compact_money(amount: Decimal | int | None, locale: str, currency: str = "CNY") -> str:
    """Summaries in Chinese use 万/亿 (``123.46万``); English uses K/M/B. Tables keep full figures."""
    if amount is None:
        return "—"
    value = Decimal(amount)
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    sign = "-" if value < 0 else ""
    value = abs(value)
    if locale == "zh_CN":
        steps = [(Decimal(100_000_000), "亿"), (Decimal(10_000), "万")]
    else:
        steps = [(Decimal(1_000_000_000), "B"), (Decimal(1_000_000), "M"), (Decimal(1_000), "K")]
    for size, suffix in steps:
        if value >= size:
            return f"{sign}{symbol}{(value / size).quantize(_CENT, rounding=ROUND_HALF_UP):,.2f}{suffix}"
    return f"{sign}{symbol}{value.quantize(_CENT, rounding=ROUND_HALF_UP):,.2f}"


def format_number(value: int | Decimal | None) -> str:
    return "—" if value is None else f"{value:,}"


def to_business_time(moment: datetime) -> datetime:
    return moment.astimezone(BUSINESS_TZ)


def format_datetime(moment: datetime | None, *, seconds: bool = False) -> str:
    if moment is None:
        return "—"
    local = to_business_time(moment)
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_date(day: date | datetime | None) -> str:
    if day is None:
        return "—"
    if isinstance(day, datetime):
        day = to_business_time(day).date()
    return day.isoformat()


def business_today() -> date:
    return datetime.now(BUSINESS_TZ).date()
