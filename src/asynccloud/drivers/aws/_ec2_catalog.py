"""A small built-in table of EC2 on-demand prices, so ``NodeSize.price`` is filled for common types.

EC2's API does not return prices (the Pricing API is a separate, global, paginated service). The table
covers a few general-purpose Linux types in ``us-east-1`` (USD per hour, on-demand); anything else is
``None`` ("unknown"), never a guess. Prices change: treat them as indicative.
"""

from __future__ import annotations

from typing import Final

__all__ = ["ON_DEMAND_USD_PER_HOUR", "hourly_price"]

#: ``(region, instance type) -> USD per hour`` for Linux on-demand instances.
ON_DEMAND_USD_PER_HOUR: Final[dict[tuple[str, str], float]] = {
    ("us-east-1", "t2.nano"): 0.0058,
    ("us-east-1", "t2.micro"): 0.0116,
    ("us-east-1", "t2.small"): 0.023,
    ("us-east-1", "t2.medium"): 0.0464,
    ("us-east-1", "t3.nano"): 0.0052,
    ("us-east-1", "t3.micro"): 0.0104,
    ("us-east-1", "t3.small"): 0.0208,
    ("us-east-1", "t3.medium"): 0.0416,
    ("us-east-1", "t3.large"): 0.0832,
    ("us-east-1", "m5.large"): 0.096,
    ("us-east-1", "m5.xlarge"): 0.192,
    ("us-east-1", "c5.large"): 0.085,
    ("us-east-1", "r5.large"): 0.126,
}


def hourly_price(region: str, instance_type: str) -> float | None:
    """The on-demand Linux price of an instance type in a region, or ``None`` when not in the table."""
    return ON_DEMAND_USD_PER_HOUR.get((region, instance_type))
