"""AWS regions: the names a price may be asked for, so that a typo is an error, never the `*` price.

A region the catalog has no row for would otherwise price at the scope's `*` row, so `us-east1` or `mars-1`
would look like a real bill. Source: AWS, "AWS Regions" (docs.aws.amazon.com/global-infrastructure/latest/
regions/aws-regions.html), checked 2026-12-01; commercial, GovCloud and China regions, and the European
Sovereign Cloud's first region. It is a superset of the Bedrock regions (Amazon Bedrock, "Regional availability
by endpoints": every `bedrock-runtime` region is here); a real region without a price row is a MissingPriceError
naming what to add, not this module's business.
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
    "eusc-de-east-1",
)
_KNOWN = frozenset(REGIONS)


def unknown_sql(expr: str) -> str:
    """SQL: `expr` holds a region that is not an AWS region (NULL, no region, is not unknown)."""
    return f"({expr} IS NOT NULL AND {expr} NOT IN ({', '.join(repr(r) for r in REGIONS)}))"


def reason_sql(expr: str) -> str:
    """SQL: a record's skip/error reason for an unknown region (`explain` adds the closest real ones)."""
    return "'unknown AWS region ''' || left(" + expr + ", 40) || ''''"


def explain(reason: str) -> str:
    """A reason from `reason_sql` with the closest real regions added (other reasons unchanged)."""
    head = "unknown AWS region '"
    if reason.startswith(head) and reason.endswith("'"):
        return f"{reason}; closest real regions: {', '.join(closest(reason[len(head):-1]))}"
    return reason


def closest(region: str, n: int = 3) -> list[str]:
    """The real regions nearest in spelling (always some: a wild guess still gets a list to choose from)."""
    key = region.strip().lower()
    near = difflib.get_close_matches(key, REGIONS, n=n, cutoff=0.6)
    if len(near) < n:
        near += [r for r in difflib.get_close_matches(key, REGIONS, n=n + len(near), cutoff=0.0) if r not in near]
    return near[:n]


def unknown_message(region: str, source: str = "") -> str:
    """Why `region` is refused, with the real regions nearest in spelling (after `source: ` when given)."""
    return (f"{source}: " if source else "") + \
        f"unknown AWS region {region!r}; closest real regions: {', '.join(closest(region))}"


def check_region(region: str, source: str = "--region") -> str:
    """`region` when it is an AWS region; UnknownRegionError naming the closest real ones otherwise."""
    if region not in _KNOWN:
        raise UnknownRegionError(unknown_message(region, source))
    return region


def unknown(regions: Mapping[str | None, int]) -> dict[str, int]:
    """The values of `regions` (region -> requests) that are not AWS regions, most requests first."""
    return dict(sorted(((r, n) for r, n in regions.items() if r is not None and r not in _KNOWN),
                       key=lambda x: (-x[1], x[0])))


def check_regions(regions: Iterable[str | None] | Mapping[str | None, int], source: str = "input",
                  fix: str = "fix the region in the data") -> None:
    """Raise UnknownRegionError naming every region that is not an AWS region, each with its closest real
    ones (and its request count when `regions` maps region -> requests). None (no region) is not checked here:
    it takes the `--region` default, which is checked on its own."""
    counts = regions if isinstance(regions, Mapping) else None
    bad = list(unknown(counts)) if counts is not None else sorted({r for r in regions if r and r not in _KNOWN})
    if not bad:
        return
    parts = [f"{r!r}" + (f" ({counts[r]:,} request{'s' if counts[r] != 1 else ''})" if counts is not None else "")
             + f": closest real regions {', '.join(closest(r))}" for r in bad]
    raise UnknownRegionError(
        f"{source}: unknown AWS region{'s' if len(bad) > 1 else ''} " + "; ".join(parts) + f"; {fix}")
