"""Bedrock's billing usage types (`USE1-Claude4Sonnet-cache-read-input-token-count-cross-region-global`):
their grammar, and the catalog model each names.

The Cost and Usage Report (`readers.cur`), the AWS Price List (`catalog.pricelist`) and the CUR writer
(`writers`) all read or write these strings; the grammar lives here, beside the catalog it resolves against,
so none of them imports another to reach it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UnknownModelError
from . import Catalog

# AWS's billing short codes (docs.aws.amazon.com/global-infrastructure/latest/regions/aws-region-billing-codes.html,
# checked 2026-12-02): the prefix of every CUR usage type.
REGION_CODES: dict[str, str] = {
    "us-east-1": "USE1", "us-east-2": "USE2", "us-west-1": "USW1", "us-west-2": "USW2", "ca-central-1": "CAN1",
    "ca-west-1": "CAN2", "mx-central-1": "MXC1", "sa-east-1": "SAE1", "eu-west-1": "EU", "eu-west-2": "EUW2",
    "eu-west-3": "EUW3",
    "eu-central-1": "EUC1", "eu-central-2": "EUC2", "eu-north-1": "EUN1", "eu-south-1": "EUS1",
    "eu-south-2": "EUS2", "ap-northeast-1": "APN1", "ap-northeast-2": "APN2", "ap-northeast-3": "APN3",
    "ap-southeast-1": "APS1", "ap-southeast-2": "APS2", "ap-south-1": "APS3", "ap-southeast-3": "APS4",
    "ap-south-2": "APS5", "ap-southeast-4": "APS6", "ap-southeast-5": "APS7", "ap-southeast-6": "APS8",
    "ap-southeast-7": "APS9", "ap-east-1": "APE1", "ap-east-2": "APE2",
    "me-central-1": "MEC1", "me-south-1": "MES1", "il-central-1": "ILC1", "af-south-1": "AFS1",
    "us-gov-west-1": "UGW1", "us-gov-east-1": "UGE1",
}
CODE_REGIONS = {v: k for k, v in REGION_CODES.items()}
KIND_SUFFIX = {"input": "input-tokens", "output": "output-tokens", "cache_read": "cache-read-input-token-count",
               "cache_write_5m": "cache-write-input-token-count",
               "cache_write_1h": "cache-write-1h-input-token-count"}
GEOS = ("global", "us-gov", "us", "eu", "apac", "jp", "au", "ca")
# Words of a usage type after its model segment, by meaning (docs/readers.md, CUR section, says where each
# family was seen). Anything else makes the line "not understood": it is listed with its dollars, never guessed.
_TIER_WORDS = {"batch": "batch", "flex": "flex", "priority": "priority", "standard": "standard"}
_NOISE = {"tokens", "token", "count", "units", "text"}
_MODALITIES = {"speech", "audio", "image", "images", "video"}
_NOT_TOKENS = {"reserved", "provisioned", "storage", "customization", "training", "tpm", "minute", "custom",
               "search", "created", "request", "second", "seconds"}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD_DIGITS = re.compile(r"^(read|write)(\d+[mh])$")


def usage_type_sql(code: str, billing: str, kind: str, tier: str, scope: str) -> str:
    """SQL that builds a first-party usage type from column expressions (used by the CUR writer)."""
    kinds = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in KIND_SUFFIX.items())
    return (f"{code} || '-' || {billing} || '-' || (CASE {kind} {kinds} END) || "
            f"(CASE WHEN {tier} = 'standard' THEN '' ELSE '-' || {tier} END) || "
            f"(CASE WHEN {scope} = 'in-region' THEN '' ELSE '-cross-region-' || {scope} END)")


def default_geo(region: str) -> str:
    """The geography of a cross-region usage type that does not name one, from the billing region."""
    if region.startswith("us-gov"):
        return "us-gov"
    head = region.split("-")[0]
    return {"us": "us", "eu": "eu", "ap": "apac", "ca": "ca"}.get(head, head)


@dataclass(frozen=True)
class UsageType:
    """A Bedrock text-token usage type, parsed. `family` names the grammar it was written in."""

    region: str
    billing_name: str
    kind: str
    tier: str
    scope: str
    long_context: bool = False
    family: str = "first-party"


@dataclass(frozen=True)
class NotTokens:
    """A Bedrock usage type that is not a text-token charge (images, speech, provisioned, ...): why."""

    reason: str


def _words(text: str) -> list[str]:
    """`CacheWrite1hInputTokenCount_Global` -> cache write 1h input token count global (lower case)."""
    out: list[str] = []
    for w in re.split(r"[-_]", _CAMEL.sub("_", text)):
        w = w.lower()
        m = _WORD_DIGITS.match(w)
        out.extend([m[1], m[2]] if m else [w] if w else [])
    return out


def _classify(words: list[str], region: str) -> tuple[str, str, str, bool] | NotTokens | None:
    """(kind, tier, scope, long context) from the words of a usage type, NotTokens, or None if not understood."""
    bad = _NOT_TOKENS.intersection(words)
    if bad:
        return NotTokens(f"not a token charge ({sorted(bad)[0]})")
    anchor = next((i for i, w in enumerate(words) if w in ("input", "output", "cache", "cached")), None)
    if anchor is None:
        return None
    near = words[max(anchor - 1, 0):anchor + 2]
    mod = _MODALITIES.intersection(near)
    if mod:
        return NotTokens(f"{sorted(mod)[0]} tokens (not text tokens)")
    head, rest = words[:anchor], words[anchor:]
    ttl = next((w for w in words if re.fullmatch(r"\d+[mh]", w)), None)
    if rest[0] == "cache" and len(rest) > 1 and rest[1] in ("read", "write"):
        kind = "cache_read" if rest[1] == "read" else {None: "cache_write_5m", "5m": "cache_write_5m",
                                                        "1h": "cache_write_1h"}.get(ttl, "")
        rest = [w for w in rest[2:] if w not in ("input", ttl)]
        if not kind:
            return NotTokens(f"cache write with a {ttl} TTL (no catalog price)")
    elif rest[0] == "cached" and rest[1:2] == ["input"]:
        kind, rest = "cache_read", rest[2:]
    else:
        kind, rest = rest[0], rest[1:]
    tier, scope, long_context, cross = "standard", "in-region", False, False
    qualifiers = [*head, *rest]  # MP camel spells some before the anchor: MillionBatchInputTokens
    i = 0
    while i < len(qualifiers):
        w, nxt = qualifiers[i], qualifiers[i + 1] if i + 1 < len(qualifiers) else ""
        if (w, nxt) in (("long", "context"), ("long", "ctx"), ("latency", "optimized"), ("cross", "region")):
            if w == "long":
                long_context = True
            elif w == "latency":
                tier = "latency-optimized"
            else:
                cross = True
            i += 2
            continue
        if w in _TIER_WORDS:
            tier = tier if w == "standard" else _TIER_WORDS[w]
        elif w == "lctx":
            long_context = True
        elif w == "global":
            scope = "global"
        elif w == "geo" or (cross and w in GEOS):
            scope = w if w in GEOS else default_geo(region)
        elif w == "million" or w in _NOISE:
            pass
        else:
            return None
        i += 1
    if cross and scope == "in-region":
        scope = default_geo(region)
    return kind, tier, scope, long_context


def parse_usage_type(usage_type: str, product_name: str | None = None) -> UsageType | NotTokens | None:
    """The parts of a Bedrock usage type: a text-token charge, NotTokens (with why), or None (not understood).

    Three grammars (docs/readers.md): first-party `USE1-Claude4Sonnet-input-tokens-cross-region-global-batch`,
    bedrock-mantle `USE1-xai.grok-4.3-mantle-cache-read-tokens-global-standard` (the model id is in the usage
    type) and Marketplace `USE1-MP:USE1_InputTokenCount_Global-Units` or `USE1-MP:USE1_input_tokens_global_standard
    -Units` (the model is `product_name`).
    """
    code, dash, rest = usage_type.partition("-")
    region = CODE_REGIONS.get(code.upper())
    if not dash or region is None or not rest:
        return None
    if rest.startswith("MP:"):
        dim = rest[3:].removesuffix("-Units")
        dim = re.sub(r"^[A-Z0-9]+_", "", dim)
        got = _classify(_words(dim), region)
        if isinstance(got, tuple) and not product_name:
            return None
        if isinstance(got, tuple):
            kind, tier, scope, lc = got
            return UsageType(region, product_name or "", kind, tier, scope, lc, "marketplace")
        return got
    if "-mantle-" in rest:
        model, _, tail = rest.partition("-mantle-")
        got = _classify(tail.split("-"), region)
        if isinstance(got, tuple):
            kind, tier, scope, lc = got
            return UsageType(region, model, kind, tier, scope, lc, "mantle")
        return got
    parts = rest.split("-")
    anchor = next((i for i, w in enumerate(parts) if i > 0 and w.lower() in ("input", "output", "cache")
                   and (w.islower() or w.isupper())), None)
    if anchor is None:
        return _classify([w.lower() for w in parts[1:]], region) if len(parts) > 1 else None
    start = anchor - 1 if parts[anchor - 1] in _MODALITIES | {"text"} and anchor > 1 else anchor
    name = "-".join(parts[:start])
    got = _classify([w.lower() for w in parts[start:]], region)
    if isinstance(got, tuple):
        kind, tier, scope, lc = got
        return UsageType(region, name, kind, tier, scope, lc)
    return got


def _norm(name: str) -> str:
    """Spelling-free key of a billing or product name: `Llama3-1-405B` and `Llama3.1-405B` -> `llama31405b`."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


class ModelIndex:
    """Billing names, product names and (mantle) model ids of a CUR, resolved to catalog models."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.exact = dict(catalog.billing_names)
        loose: dict[str, set[str]] = {}
        for key, m in catalog.bedrock_models.items():
            names = [*m.billing_names, m.name, f"{m.provider} {m.name}"]
            for n in names:
                loose.setdefault(_norm(n), set()).add(key)
        self.loose = {k: next(iter(v)) for k, v in loose.items() if len(v) == 1}

    def model(self, ut: UsageType) -> str | None:
        if ut.family == "mantle":
            try:
                return self.catalog.resolve_model(ut.billing_name).model
            except UnknownModelError:
                return None
        if ut.billing_name in self.exact:
            return self.exact[ut.billing_name]
        name = re.sub(r"\s*\(.*\)\s*$", "", ut.billing_name) if ut.family == "marketplace" else ut.billing_name
        return self.loose.get(_norm(name))
