"""Cell kinds of vendor exports: how each is parsed into the contract's Arrow type and how the writer formats it.

A parser takes the delivered text (never None: empty cells are nulls before a parser sees them) and returns the
value, or raises ValueError with the reason the row is quarantined for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa

from orchestration.extract.raw_contract import TIMESTAMP

UTC_FORMAT = "%Y-%m-%d %H:%M:%S"  # HubSpot / Zendesk style exports, in UTC
LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S %z"  # Shopify: shop-local time with its UTC offset, e.g. 2026-03-04 11:15:00 +0100


INT64 = range(-(2**63), 2**63)


def _int64(value: int, text: str) -> int:
    """The contract stores integers as int64: a larger one is a bad value (quarantined), not an overflow later."""
    if value not in INT64:
        raise ValueError(f"out of range: {text!r}")
    return value


def _int(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"not an integer: {text!r}") from None
    return _int64(value, text)


def _float(text: str) -> float:
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"not a finite number: {text!r}")
    return value


def _units_to_micros(text: str) -> int:
    """Google Ads 'Cost' in currency units -> the API's cost_micros, exactly (Decimal, no float rounding)."""
    try:
        units = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None
    if not units.is_finite():
        raise ValueError(f"not an amount: {text!r}")
    if units.adjusted() > 18:  # beyond int64 micros; checked before int() builds a number of that many digits
        raise ValueError(f"out of range: {text!r}")
    return _int64(int(units * 1_000_000), text)


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("yes", "true", "1", "y"):
        return True
    if value in ("no", "false", "0", "n"):
        return False
    raise ValueError(f"not yes/no: {text!r}")


def _timestamp(text: str) -> datetime:
    """UTC wall time, or any time with an explicit offset (converted to UTC); a time whose UTC conversion leaves the
    calendar (year 1 or 9999 with an offset) is a bad value."""
    try:
        return _parse_timestamp(text)
    except OverflowError:
        raise ValueError(f"timestamp out of range: {text!r}") from None


def _parse_timestamp(text: str) -> datetime:
    value = text.strip()
    for fmt in (LOCAL_FORMAT, UTC_FORMAT):
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"unparseable timestamp: {text!r}") from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"unparseable date: {text!r}") from None


def _shopify_status(text: str) -> str:
    """Shopify's financial status -> the contract's order status ('paid' orders are completed)."""
    value = text.strip().lower()
    return {"paid": "completed"}.get(value, value)


def _fmt_float(value: float) -> str:
    return repr(float(value))


def _fmt_ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime(UTC_FORMAT)


@dataclass(frozen=True)
class Kind:
    type: pa.DataType
    parse: Callable[[str], Any]
    format: Callable[[Any], str]


KINDS: dict[str, Kind] = {
    "text": Kind(pa.string(), lambda s: s, str),
    "int": Kind(pa.int64(), _int, str),
    "float": Kind(pa.float64(), _float, _fmt_float),
    "micros_from_units": Kind(pa.int64(), _units_to_micros, lambda v: str(Decimal(int(v)) / 1_000_000)),
    "yes_no": Kind(pa.bool_(), _bool, lambda v: "yes" if v else "no"),
    "timestamp": Kind(TIMESTAMP, _timestamp, _fmt_ts),
    # Written in the customer's local time with its offset (see writer.py); parsed back to UTC like any timestamp.
    "local_timestamp": Kind(TIMESTAMP, _timestamp, _fmt_ts),
    "date": Kind(pa.date32(), _date, lambda v: v.isoformat()),
    "shopify_financial_status": Kind(pa.string(), _shopify_status, lambda v: {"completed": "paid"}.get(v, v)),
}


def is_local_time(text: str) -> bool:
    """True when a delivered timestamp is local time (a non-zero UTC offset): counted as repaired dirt."""
    value = text.strip()
    return len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit() and value[-4:] != "0000"
