"""AWS regions: the names a price may be asked for, so that a typo is an error, never the `*` price.

A region the catalog has no row for would otherwise price at the scope's `*` row, so `us-east1` or `mars-1`
would look like a real bill. Source: AWS, "AWS Regions" (docs.aws.amazon.com/global-infrastructure/latest/
regions/aws-regions.html), checked 2026-12-01; commercial, GovCloud and China regions.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from .errors import UnknownRegionError

REGIONS: tuple[str, ...] = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    "af-south-1",
    "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1", "ca-west-1",
    "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2",
    "eu-west-3",
    "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
    "us-gov-east-1", "us-gov-west-1",
    "cn-north-1", "cn-northwest-1",
)
_KNOWN = frozenset(REGIONS)


def closest(region: str, n: int = 3) -> list[str]:
    """The real regions nearest in spelling (always some: a wild guess still gets a list to choose from)."""
    key = region.strip().lower()
    near = difflib.get_close_matches(key, REGIONS, n=n, cutoff=0.6)
    if len(near) < n:
        near += [r for r in difflib.get_close_matches(key, REGIONS, n=n + len(near), cutoff=0.0) if r not in near]
    return near[:n]


def check_regions(regions: Iterable[str | None] | Mapping[str | None, int], source: str = "input") -> None:
    """Raise UnknownRegionError for the first region that is not an AWS region (with its request count when
    `regions` maps region -> requests)."""
    counts = regions if isinstance(regions, Mapping) else None
    for r in regions:
        if r is None or r in _KNOWN:
            continue
        n = f" ({counts[r]:,} requests)" if counts is not None else ""
        raise UnknownRegionError(
            f"{source}: unknown AWS region {r!r}{n}; closest real regions: {', '.join(closest(r))}. Fix the "
            "region in the data, or pass --region with a real one for a source that has none")
