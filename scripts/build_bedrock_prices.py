#!/usr/bin/env python3
"""Build the catalog's `bedrock_prices.csv` and `bedrock_models.csv` from litellm's MIT-licensed price map.

Usage: python scripts/build_bedrock_prices.py PATH [--out DIR] [--checked YYYY-MM-DD] [--litellm-version V]

PATH is a litellm wheel (`litellm-<version>-*.whl`) or the extracted
`litellm/model_prices_and_context_window_backup.json`. The litellm version is read from the wheel's
name (or its dist-info), or given with `--litellm-version` for a bare JSON file.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

MAP_PATH = "litellm/model_prices_and_context_window_backup.json"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "inferplan" / "catalog" / "data"

PROVIDERS = {"bedrock", "bedrock_converse"}
# Cross-region inference profile prefixes that the catalog's BedrockPrice.scope accepts.
PROFILE_SCOPES = ("global", "us", "eu", "apac", "jp", "au", "ca", "us-gov")
REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
# First segment of a base Bedrock model id: the model provider.
KNOWN_PROVIDERS = {
    "ai21",
    "amazon",
    "anthropic",
    "cohere",
    "deepseek",
    "google",
    "meta",
    "minimax",
    "mistral",
    "moonshot",
    "moonshotai",
    "nvidia",
    "openai",
    "qwen",
    "twelvelabs",
    "writer",
    "xai",
    "zai",
}
PROVIDER_NAMES = {"moonshotai": "moonshot"}
TIER_SUFFIX = {"standard": "", "batch": "_batches", "flex": "_flex", "priority": "_priority"}
LC_THRESHOLDS = (100_000, 200_000, 272_000)  # long-context fields `*_above_<n>k_tokens`; lowest one wins

PRICE_FIELDS = (
    "model",
    "scope",
    "region",
    "tier",
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "cache_read_usd_per_mtok",
    "cache_write_5m_usd_per_mtok",
    "cache_write_1h_usd_per_mtok",
    "lc_threshold_tokens",
    "lc_input_usd_per_mtok",
    "lc_output_usd_per_mtok",
    "lc_cache_read_usd_per_mtok",
    "lc_cache_write_5m_usd_per_mtok",
    "lc_cache_write_1h_usd_per_mtok",
    "source",
    "checked",
)
MODEL_FIELDS = (
    "model",
    "provider",
    "name",
    "aliases",
    "billing_names",
    "cache_min_tokens",
    "cache_max_checkpoints",
    "cache_ttls_s",
    "context_window_tokens",
    "open_weights",
    "billing_unit",
    "source",
    "checked",
)

# Minimum tokens per cache checkpoint where litellm gives none (REFERENCE.md section 2 / AWS docs).
CACHE_MIN_FALLBACK = (
    (re.compile(r"claude-3-7-sonnet"), 1024, "REFERENCE.md section 2 (AWS Bedrock prompt caching docs)"),
    (re.compile(r"^amazon\.nova"), 1000, "REFERENCE.md section 2 (AWS Bedrock prompt caching docs)"),
    (
        re.compile(r"^anthropic\.claude"),
        1024,
        "assumed: Anthropic's documented minimum for Sonnet/Opus-class models "
        "(not in litellm or REFERENCE.md)",
    ),
)

# Open-weights twins: Bedrock base model id -> model_specs key.
OPEN_WEIGHTS = {
    "meta.llama3-1-8b-instruct-v1:0": "llama-3.1-8b",
    "meta.llama3-1-70b-instruct-v1:0": "llama-3.1-70b",
    "meta.llama3-1-405b-instruct-v1:0": "llama-3.1-405b",
    "meta.llama3-2-1b-instruct-v1:0": "llama-3.2-1b",
    "meta.llama3-2-3b-instruct-v1:0": "llama-3.2-3b",
    "meta.llama3-3-70b-instruct-v1:0": "llama-3.3-70b",
    "mistral.mistral-7b-instruct-v0:2": "mistral-7b-v0.2",
    "mistral.mixtral-8x7b-instruct-v0:1": "mixtral-8x7b",
    "openai.gpt-oss-20b-1:0": "gpt-oss-20b",
    "openai.gpt-oss-120b-1:0": "gpt-oss-120b",
    "qwen.qwen3-32b-v1:0": "qwen3-32b",
}

BILLING_NOTE = "billing_names: best mapping to AWS CUR usage types as in REFERENCE.md"


@dataclass
class Entry:
    """One litellm key resolved to (base model, scope, region)."""

    key: str
    base: str
    scope: str
    region: str
    data: dict[str, Any]
    priority: int  # lower wins when two keys resolve to the same (base, scope, region)


@dataclass
class ModelInfo:
    """What bedrock_models.csv needs about one base model, gathered over its keys."""

    base: str
    keys: list[str] = field(default_factory=list)
    rows: int = 0
    cache: bool = False
    one_hour: bool = False
    min_tokens: int | None = None
    context: int | None = None


def read_map(path: Path, version: str | None) -> tuple[dict[str, Any], str]:
    """Load the price map from a wheel or a JSON file; return it with litellm's version."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as whl:
            data = json.loads(whl.read(MAP_PATH))
            if version is None:
                m = re.match(r"litellm-([^-]+)-", path.name)
                version = m.group(1) if m else None
            if version is None:
                for name in whl.namelist():
                    if name.endswith(".dist-info/METADATA"):
                        for line in whl.read(name).decode().splitlines():
                            if line.startswith("Version:"):
                                version = line.split(":", 1)[1].strip()
        return data, version or "unknown"
    data = json.loads(path.read_text())
    if version is None:
        for meta in path.resolve().parent.parent.glob("litellm-*.dist-info/METADATA"):
            for line in meta.read_text().splitlines():
                if line.startswith("Version:"):
                    version = line.split(":", 1)[1].strip()
        for whl in path.resolve().parent.parent.glob("litellm-*.whl"):
            version = version or whl.name.split("-")[1]
    return data, version or "unknown"


def resolve_key(key: str) -> tuple[str, str, str, int] | None:
    """Map a litellm key to (base model id, scope, region, priority), or None to skip it."""
    k, region, priority = key, "*", 0
    if k.startswith("bedrock/"):
        parts = k.split("/")
        if len(parts) == 3 and REGION_RE.match(parts[1]):
            region, k = parts[1], parts[2]
        elif len(parts) == 2:  # e.g. bedrock/us.anthropic...: same as the unprefixed key, which wins
            k, priority = parts[1], 1
        else:  # commitments, bedrock/invoke/, bedrock/claude_platform/, bedrock/*/
            return None
    if "@" in k:  # Vertex-style alias of another key
        return None
    scope = "in-region"
    head = k.split(".", 1)[0]
    if head in PROFILE_SCOPES and "." in k:
        if region != "*":
            return None
        scope, k = head, k.split(".", 1)[1]
    if k.split(".", 1)[0] not in KNOWN_PROVIDERS:
        return None  # no provider segment (duplicate short keys) or an unknown profile prefix such as `in.`
    return k, scope, region, priority


def per_mtok(value: Any) -> float | None:
    """Per-token cost -> per-million-token price, rounded to 10 significant digits."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(f"{value * 1e6:.10g}")


def fmt(value: Any) -> str:
    """CSV cell text: empty for None, `|`-joined lists, compact floats."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def is_nova(base: str) -> bool:
    """Amazon Nova text models: prompt caching with no write premium."""
    return base.startswith("amazon.nova")


PRICE_VALUE_FIELDS = (
    "input_usd_per_mtok", "output_usd_per_mtok", "cache_read_usd_per_mtok", "cache_write_5m_usd_per_mtok",
    "cache_write_1h_usd_per_mtok", "lc_threshold_tokens", "lc_input_usd_per_mtok", "lc_output_usd_per_mtok",
    "lc_cache_read_usd_per_mtok", "lc_cache_write_5m_usd_per_mtok", "lc_cache_write_1h_usd_per_mtok",
)
# In-region endpoints of these regions cost what the matching geographic profile costs.
GEO_REGIONS = {"eu": ("eu-west-1", "eu-central-1", "eu-west-2", "eu-west-3", "eu-north-1", "eu-south-1")}
PREMIUM_NOTE = ("; in-region priced as the {geo}. geographic profile: for models offered on global. "
                "AWS bills in-region and geographic endpoints alike, about 10% above global, while "
                "litellm's unprefixed key carries the global price (REFERENCE.md section 1)")


def regional_premium(prices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reprice in-region rows of models whose global. price is below their geographic price.

    litellm prices the plain model id at the global. rate; AWS charges a direct in-region call the
    geographic (us./eu.) rate. The `*` in-region row takes the us. row; EU regions get the eu. row.
    """
    index = {(r["model"], r["scope"], r["region"], r["tier"]): r for r in prices}
    out = list(prices)
    for (model, scope, region, tier), g in list(index.items()):
        if scope != "global" or region != "*":
            continue
        us = index.get((model, "us", "*", tier))
        if us is None or not us["input_usd_per_mtok"] > g["input_usd_per_mtok"]:
            continue
        plain = index.get((model, "in-region", "*", tier))
        if plain is not None and plain["input_usd_per_mtok"] == g["input_usd_per_mtok"]:
            plain.update({f: us.get(f) for f in PRICE_VALUE_FIELDS})
            plain["source"] += PREMIUM_NOTE.format(geo="us")
        for geo, regions in GEO_REGIONS.items():
            src = index.get((model, geo, "*", tier))
            if src is None:
                continue
            for reg in regions:
                if (model, "in-region", reg, tier) in index:
                    continue
                row = {**src, "scope": "in-region", "region": reg,
                       "source": src["source"] + PREMIUM_NOTE.format(geo=geo)}
                index[(model, "in-region", reg, tier)] = row
                out.append(row)
    return sorted(out, key=lambda r: (r["model"], r["scope"], r["region"], r["tier"]))


def price_rows(entry: Entry, source: str) -> list[dict[str, Any]]:
    """The tier rows of one resolved key."""
    d = entry.data
    rows = []
    for tier, sfx in TIER_SUFFIX.items():
        inp = per_mtok(d.get(f"input_cost_per_token{sfx}"))
        out = per_mtok(d.get(f"output_cost_per_token{sfx}"))
        if inp is None or out is None:
            continue
        row: dict[str, Any] = {
            "model": entry.base,
            "scope": entry.scope,
            "region": entry.region,
            "tier": tier,
            "input_usd_per_mtok": inp,
            "output_usd_per_mtok": out,
            "cache_read_usd_per_mtok": per_mtok(d.get(f"cache_read_input_token_cost{sfx}")),
            "cache_write_5m_usd_per_mtok": per_mtok(d.get(f"cache_creation_input_token_cost{sfx}")),
            "cache_write_1h_usd_per_mtok": per_mtok(d.get(f"cache_creation_input_token_cost_above_1hr{sfx}")),
        }
        note = ""
        if (
            is_nova(entry.base)
            and row["cache_read_usd_per_mtok"] is not None
            and row["cache_write_5m_usd_per_mtok"] is None
        ):
            row["cache_write_5m_usd_per_mtok"] = inp
            note = "; cache_write_5m: no write premium: write = input rate, AWS Bedrock pricing page"
        for t in LC_THRESHOLDS:
            tag = f"above_{t // 1000}k_tokens"
            lc_in = per_mtok(d.get(f"input_cost_per_token_{tag}{sfx}"))
            lc_out = per_mtok(d.get(f"output_cost_per_token_{tag}{sfx}"))
            if lc_in is None or lc_out is None:
                continue
            row.update(
                {
                    "lc_threshold_tokens": t,
                    "lc_input_usd_per_mtok": lc_in,
                    "lc_output_usd_per_mtok": lc_out,
                    "lc_cache_read_usd_per_mtok": per_mtok(d.get(f"cache_read_input_token_cost_{tag}{sfx}")),
                    "lc_cache_write_5m_usd_per_mtok": per_mtok(
                        d.get(f"cache_creation_input_token_cost_{tag}{sfx}")
                    ),
                    "lc_cache_write_1h_usd_per_mtok": per_mtok(
                        d.get(f"cache_creation_input_token_cost_above_1hr_{tag}{sfx}")
                    ),
                }
            )
            break
        row["source"] = source + note
        rows.append(row)
    return rows


def _ver(text: str) -> str:
    """`4-5` -> `4.5`."""
    return text.replace("-", ".")


def describe(base: str) -> tuple[str, str, list[str], list[str]]:
    """(provider, human name, aliases, billing names) of a base model id; best-effort naming."""
    provider_seg, rest = base.split(".", 1)
    provider = PROVIDER_NAMES.get(provider_seg, provider_seg)
    stem = re.sub(r"(-v\d+(:\d+)?|-\d+:\d+|:\d+)$", "", rest)
    if provider == "anthropic":
        return (provider, *_claude(stem, rest))
    if provider == "amazon":
        m = re.match(r"nova-(2-)?([a-z]+)(-preview)?", stem)
        if m:
            gen, tier, preview = m.group(1), m.group(2), m.group(3)
            if gen:
                name = f"Nova 2 {tier.title()}" + (" (preview)" if preview else "")
                return (
                    provider,
                    name,
                    [f"nova-2-{tier}", f"nova-2.0-{tier}", f"nova2-{tier}"],
                    [f"Nova2.0{tier.title()}"],
                )
            return provider, f"Nova {tier.title()}", [f"nova-{tier}"], [f"Nova{tier.title()}"]
        words = [w.title() for w in stem.split("-")]
        return provider, " ".join(words), [stem], ["".join(words)]
    if provider == "meta":
        m = re.match(r"llama(\d)(?:-(\d))?-(?:(maverick|scout)-)?(\d+)b", stem)
        if m:
            major, minor, kind, size = m.groups()
            ver = f"{major}.{minor}" if minor else major
            if kind:
                name = f"Llama {ver} {kind.title()} {size}B"
                return (
                    provider,
                    name,
                    [f"llama-{ver}-{kind}", f"llama{ver}-{kind}"],
                    [f"Llama{ver}{kind.title()}{size}B"],
                )
            name = f"Llama {ver} {size}B" + (" Chat" if "chat" in stem else " Instruct")
            aliases = [f"llama-{ver}-{size}b", f"llama{ver}-{size}b"]
            if minor:
                aliases.append(f"llama{major}-{minor}-{size}b")
            return provider, name, aliases, [f"Llama{ver}-{size}B"]
    if provider == "mistral":
        m = re.match(r"mistral-7b-instruct-v0:(\d)", rest)
        if m:
            return (
                provider,
                f"Mistral 7B Instruct v0.{m.group(1)}",
                ["mistral-7b", "mistral-7b-instruct"],
                ["Mistral7BInstruct"],
            )
        if stem.startswith("mixtral-8x7b"):
            return (
                provider,
                "Mixtral 8x7B Instruct",
                ["mixtral-8x7b", "mixtral-8x7b-instruct"],
                ["Mixtral8x7BInstruct"],
            )
    if provider == "openai":
        m = re.match(r"gpt-oss-(safeguard-)?(\d+)b", stem)
        if m:
            sg, size = m.groups()
            label = f"gpt-oss-{sg or ''}{size}b"
            return provider, label, [label], [f"gpt-oss-{sg or ''}{size}b".replace("-", "").upper()]
    if provider == "deepseek":
        known = {
            "r1": ("DeepSeek-R1", "deepseek-r1"),
            "v3": ("DeepSeek-V3.1", "deepseek-v3.1"),
            "v3.2": ("DeepSeek-V3.2", "deepseek-v3.2"),
        }
        if stem in known:
            name, alias = known[stem]
            return provider, name, [alias], [name.replace("-", "")]
    if provider == "cohere":
        name = "Command Light" if "light" in stem else "Command"
        return provider, name, ["command-light" if "light" in stem else "command"], [name.replace(" ", "")]
    # generic: the id without provider and version suffix
    stem = re.sub(r"-instruct$", "", stem)
    name = re.sub(r"(\d)-(\d)(?=-|$)", r"\1.\2", stem) if provider == "ai21" else stem
    name = " ".join(_word(w) for w in name.split("-"))
    return provider, name, [stem], [name.replace(" ", "")]


WORDS = {
    "gpt": "GPT",
    "glm": "GLM",
    "minimax": "MiniMax",
    "qwen3": "Qwen3",
    "vl": "VL",
    "it": "IT",
    "j2": "J2",
}


def _word(w: str) -> str:
    """Title-case one word of a model id: `27b` -> `27B`, `k2` -> `K2`, `gpt` -> `GPT`."""
    if w in WORDS:
        return WORDS[w]
    if re.fullmatch(r"a?\d+(\.\d+)?b", w):
        return w.upper()
    return w[:1].upper() + w[1:]


def _claude(stem: str, rest: str) -> tuple[str, list[str], list[str]]:
    """Name, aliases and billing names of an Anthropic Claude id."""
    legacy = {
        "claude-instant": ("Claude Instant", ["claude-instant"], ["ClaudeInstant"]),
        "claude": ("Claude v1", ["claude-v1"], ["ClaudeV1"]),
    }
    if rest == "claude-v2:1":
        return "Claude v2.1", ["claude-v2.1", "claude-2.1"], ["ClaudeV2.1"]
    if stem in legacy:
        return legacy[stem]
    s = re.sub(r"-\d{8}$", "", stem.removeprefix("claude-"))
    suffix = "-v2" if rest.endswith("-v2:0") else ""
    m = re.match(r"^(\d)(?:-(\d))?-([a-z]+)$", s)  # claude-3-5-haiku style
    if m:
        major, minor, fam = m.groups()
        ver = f"{major}.{minor}" if minor else major
    else:
        fam, _, v = s.partition("-")
        ver = _ver(v)
    dash = ver.replace(".", "-")
    aliases = [f"claude-{fam}-{ver}{suffix}", f"claude-{fam}-{dash}{suffix}", f"{fam}-{ver}{suffix}"]
    if m:
        aliases += [f"claude-{ver}-{fam}{suffix}", f"claude-{dash}-{fam}{suffix}"]
    name = f"Claude {fam.title()} {ver}" + (" v2" if suffix else "")
    if m:
        name = f"Claude {ver} {fam.title()}" + (" v2" if suffix else "")
    billing = (
        f"Claude{ver}{fam.title()}{'V2' if suffix else ''}"
        if ver[:1].isdigit()
        else f"Claude{fam.title()}{ver.title()}"
    )
    return name, list(dict.fromkeys(aliases)), [billing]


def cache_min(base: str, info: ModelInfo) -> tuple[int | None, str]:
    """Minimum tokens per cache checkpoint and where it came from."""
    if not info.cache:
        return None, ""
    if info.min_tokens is not None:
        return info.min_tokens, "cache_min_tokens: litellm prompt_cache_min_tokens"
    for pattern, value, why in CACHE_MIN_FALLBACK:
        if pattern.search(base):
            return value, f"cache_min_tokens: {why}"
    return None, ""


Rows = list[dict[str, Any]]


def build(data: dict[str, Any], version: str, checked: str) -> tuple[Rows, Rows]:
    """Resolve keys and produce (price rows, model rows)."""
    chosen: dict[tuple[str, str, str], Entry] = {}
    skipped: list[str] = []
    for key, val in data.items():
        if not isinstance(val, dict) or val.get("litellm_provider") not in PROVIDERS:
            continue
        if val.get("mode") != "chat" or val.get("input_cost_per_token") is None:
            continue
        resolved = resolve_key(key)
        if resolved is None:
            skipped.append(key)
            continue
        base, scope, region, prio = resolved
        ident = (base, scope, region)
        if ident not in chosen or prio < chosen[ident].priority:
            chosen[ident] = Entry(key, base, scope, region, val, prio)

    prices: list[dict[str, Any]] = []
    infos: dict[str, ModelInfo] = {}
    for ident in sorted(chosen):
        e = chosen[ident]
        upstream = e.data.get("source")
        source = f"litellm {version} model_prices_and_context_window_backup.json key {e.key}"
        if upstream:
            source += f"; upstream {upstream}"
        rows = price_rows(e, source)
        if not rows:
            continue
        for r in rows:
            r["checked"] = checked
        prices.extend(rows)
        info = infos.setdefault(e.base, ModelInfo(e.base))
        info.keys.append(e.key)
        info.rows += len(rows)
        info.cache |= any(r["cache_read_usd_per_mtok"] is not None for r in rows)
        info.one_hour |= any(r["cache_write_1h_usd_per_mtok"] is not None for r in rows)
        if info.min_tokens is None and isinstance(e.data.get("prompt_cache_min_tokens"), int):
            info.min_tokens = e.data["prompt_cache_min_tokens"]
        plain = e.scope == "in-region" and e.region == "*"
        if isinstance(e.data.get("max_input_tokens"), int) and (info.context is None or plain):
            info.context = e.data["max_input_tokens"]

    prices = regional_premium(prices)
    described = {b: describe(b) for b in infos}
    owner = _alias_owners(described, infos)
    models = []
    for base in sorted(infos):
        info = infos[base]
        provider, name, aliases, billing = described[base]
        aliases = [a for a in aliases if owner.get(("alias", a)) == base and a != base]
        billing = [b for b in billing if owner.get(("billing", b)) == base]
        min_tokens, min_note = cache_min(base, info)
        ttls = ([300, 3600] if info.one_hour else [300]) if info.cache else []
        notes = [
            f"litellm {version} model_prices_and_context_window_backup.json keys "
            + ", ".join(sorted(info.keys)[:4])
            + (" ..." if len(info.keys) > 4 else ""),
            "context_window_tokens: max_input_tokens",
            BILLING_NOTE,
        ]
        if min_note:
            notes.append(min_note)
        models.append(
            {
                "model": base,
                "provider": provider,
                "name": name,
                "aliases": aliases,
                "billing_names": billing,
                "cache_min_tokens": min_tokens,
                "cache_max_checkpoints": 4,
                "cache_ttls_s": ttls,
                "context_window_tokens": info.context,
                "open_weights": OPEN_WEIGHTS.get(base),
                "billing_unit": "token",
                "source": "; ".join(notes),
                "checked": checked,
            }
        )
    print(
        f"skipped {len(skipped)} keys (commitment, invoke, claude_platform, @-alias, unknown prefix)",
        file=sys.stderr,
    )
    return prices, models


def _alias_owners(
    described: dict[str, tuple[str, str, list[str], list[str]]], infos: dict[str, ModelInfo]
) -> dict[tuple[str, str], str]:
    """Give each alias and billing name to one model: most price rows first, then the later key."""
    owner: dict[tuple[str, str], str] = {}
    order = sorted(described, key=lambda b: (infos[b].rows, b), reverse=True)
    for base in order:
        _, _, aliases, billing = described[base]
        for kind, names in (("alias", aliases), ("billing", billing)):
            for n in names:
                if (kind, n) in owner:
                    print(
                        f"{kind} {n!r} of {base} already taken by {owner[(kind, n)]}; dropped",
                        file=sys.stderr,
                    )
                else:
                    owner[(kind, n)] = base
    return owner


def write_csv(path: Path, fields: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Write rows with the given header; None -> empty cell."""
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(fields)
        for r in rows:
            w.writerow([fmt(r.get(f)) for f in fields])


SPOT_CHECKS: tuple[tuple[str, str, str, str, dict[str, float]], ...] = (
    # (label, model, scope, tier, REFERENCE.md section 2 figures)
    (
        "Sonnet 4.5 global",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "global",
        "standard",
        {"input": 3, "output": 15, "cache_read": 0.30, "cache_write_5m": 3.75, "cache_write_1h": 6.00},
    ),
    (
        "Sonnet 4.5 global batch",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "global",
        "batch",
        {"input": 1.50, "output": 7.50},
    ),
    (
        "Sonnet 4.5 us. (+10%)",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "us",
        "standard",
        {"input": 3.3, "output": 16.5, "cache_read": 0.33, "cache_write_5m": 4.125, "cache_write_1h": 6.6},
    ),
    (
        "Sonnet 4.5 in-region (+10%)",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "in-region",
        "standard",
        {"input": 3.3, "output": 16.5},
    ),
    (
        "Haiku 4.5 global",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "global",
        "standard",
        {"input": 1, "output": 5, "cache_read": 0.10, "cache_write_5m": 1.25, "cache_write_1h": 2.00},
    ),
    (
        "Haiku 4.5 global batch",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "global",
        "batch",
        {"input": 0.50, "output": 2.50},
    ),
    (
        "Claude 3.5 Haiku",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "in-region",
        "standard",
        {"input": 0.80, "output": 4, "cache_read": 0.08, "cache_write_5m": 1.00},
    ),
    (
        "Opus 4.1",
        "anthropic.claude-opus-4-1-20250805-v1:0",
        "in-region",
        "standard",
        {"input": 15, "output": 75, "cache_read": 1.50, "cache_write_5m": 18.75},
    ),
    (
        "Nova Pro",
        "amazon.nova-pro-v1:0",
        "in-region",
        "standard",
        {"input": 0.80, "output": 3.20, "cache_read": 0.20, "cache_write_5m": 0.80},
    ),
    ("Nova Pro batch", "amazon.nova-pro-v1:0", "in-region", "batch", {"input": 0.40, "output": 1.60}),
    (
        "Nova Micro",
        "amazon.nova-micro-v1:0",
        "in-region",
        "standard",
        {"input": 0.035, "output": 0.14, "cache_read": 0.00875},
    ),
    (
        "Nova Premier",
        "amazon.nova-premier-v1:0",
        "in-region",
        "standard",
        {"input": 2.50, "output": 12.50, "cache_read": 0.625},
    ),
    (
        "Llama 3.3 70B",
        "meta.llama3-3-70b-instruct-v1:0",
        "in-region",
        "standard",
        {"input": 0.72, "output": 0.72},
    ),
    (
        "Llama 3.3 70B batch",
        "meta.llama3-3-70b-instruct-v1:0",
        "in-region",
        "batch",
        {"input": 0.36, "output": 0.36},
    ),
    (
        "Llama 4 Maverick",
        "meta.llama4-maverick-17b-instruct-v1:0",
        "in-region",
        "standard",
        {"input": 0.24, "output": 0.97},
    ),
    ("gpt-oss-120b", "openai.gpt-oss-120b-1:0", "in-region", "standard", {"input": 0.15, "output": 0.60}),
)


def spot_check(prices: list[dict[str, Any]]) -> int:
    """Print generated prices next to REFERENCE.md section 2; return the number of mismatches."""
    index = {(r["model"], r["scope"], r["region"], r["tier"]): r for r in prices}
    bad = 0
    print(f"{'check':28} {'field':15} {'reference':>10} {'generated':>10}")
    for label, model, scope, tier, expect in SPOT_CHECKS:
        row = index.get((model, scope, "*", tier))
        for kind, ref in expect.items():
            got = row.get(f"{kind}_usd_per_mtok") if row else None
            ok = got is not None and abs(got - ref) <= 1e-9 * max(1.0, ref)
            bad += not ok
            flag = "" if ok else "<-- DIFFERS"
            print(f"{label:28} {kind:15} {ref:>10g} {fmt(got) or 'MISSING':>10} {flag}")
    return bad


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path, help="litellm wheel or extracted model_prices JSON")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="catalog data directory")
    ap.add_argument("--checked", default=date.today().isoformat(), help="date stamped in `checked`")
    ap.add_argument("--litellm-version", default=None, help="litellm version, for a bare JSON file")
    args = ap.parse_args(argv)
    data, version = read_map(args.path, args.litellm_version)
    prices, models = build(data, version, args.checked)
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "bedrock_prices.csv", PRICE_FIELDS, prices)
    write_csv(args.out / "bedrock_models.csv", MODEL_FIELDS, models)
    per_scope: dict[str, int] = defaultdict(int)
    for r in prices:
        per_scope[r["scope"]] += 1
    print(f"litellm {version}: {len(prices)} price rows, {len(models)} models; by scope {dict(per_scope)}")
    bad = spot_check(prices)
    print(f"{bad} spot-check differences against REFERENCE.md section 2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
