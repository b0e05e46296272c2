#!/usr/bin/env python3
"""Build the catalog's `bedrock_prices.csv` and `bedrock_models.csv` from litellm's MIT-licensed price map.

Rows litellm lacks (Claude 3 Haiku/Sonnet outside GovCloud, Command R/R+, Nova Reel/Sonic, batch rows AWS
publishes) come from SUPPLEMENT_* and DERIVED_BATCH below, each citing its AWS source; derived rows say so.

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

PROVIDERS = {"bedrock", "bedrock_converse", "bedrock_mantle"}
# litellm modes priced per token here; the others are recognised with a non-token `billing_unit`.
TOKEN_MODES = {"chat", "responses", "embedding"}
UNIT_MODES = {"image_generation": "image", "image_edit": "image", "realtime": "speech"}
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
    "stability",
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
    if k.startswith("bedrock_mantle/"):  # the bedrock-mantle endpoint: lowest priority, same model ids
        k, priority = "bedrock/" + k.split("/", 1)[1], 2
    if k.startswith("bedrock/"):
        parts = k.split("/")
        if len(parts) == 3 and REGION_RE.match(parts[1]):
            region, k = parts[1], parts[2]
        elif len(parts) == 2:  # e.g. bedrock/us.anthropic...: same as the unprefixed key, which wins
            k, priority = parts[1], max(priority, 1)
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


def non_token_unit(val: dict[str, Any]) -> str | None:
    """`image`, `second` or `speech` for a litellm entry billed by something other than text tokens."""
    mode = val.get("mode")
    if mode in UNIT_MODES:
        return UNIT_MODES[mode]
    per_token = val.get("input_cost_per_token")
    if mode in TOKEN_MODES and not per_token and val.get("input_cost_per_video_per_second") is not None:
        return "second"  # video models: TwelveLabs Marengo (embedding), Pegasus (chat, per second of video)
    return None


# bedrock-mantle model ids whose bedrock-runtime id does not follow by rule.
MANTLE_IDS = {"deepseek.v3.1": "deepseek.v3-v1:0"}


def _stem(model: str) -> str:
    """A model id without version, date and `-instruct`: the key mantle and runtime ids share."""
    return re.sub(r"(-\d{8})?(-v\d+(:\d+)?|-\d+:\d+)?$", "", model).removesuffix("-instruct")


def _mantle_aliases(chosen: dict[tuple[str, str, str], Entry]) -> dict[str, str]:
    """Mantle-only base ids that name a bedrock-runtime model: id -> runtime base (kept as an alias)."""
    by_base: dict[str, list[Entry]] = defaultdict(list)
    for e in chosen.values():
        by_base[e.base].append(e)
    runtime = {b for b, es in by_base.items() if any(e.priority < 2 for e in es)}
    stems = defaultdict(list)
    for b in runtime:
        stems[_stem(b)].append(b)
    out = {}
    for b in by_base:
        if b in runtime:
            continue
        target = MANTLE_IDS.get(b) or (stems[_stem(b)][0] if len(stems[_stem(b)]) == 1 else None)
        if target in runtime:
            out[b] = target
    return out


Rows = list[dict[str, Any]]


def build(data: dict[str, Any], version: str, checked: str) -> tuple[Rows, Rows]:
    """Resolve keys and produce (price rows, model rows)."""
    chosen: dict[tuple[str, str, str], Entry] = {}
    skipped: list[str] = []
    units: dict[str, tuple[str, list[str]]] = {}  # base -> (billing unit, litellm keys) of non-token models
    for key, val in data.items():
        if not isinstance(val, dict) or val.get("litellm_provider") not in PROVIDERS:
            continue
        unit = non_token_unit(val)
        resolved = resolve_key(key) if unit or val.get("mode") in TOKEN_MODES else None
        if unit and resolved:
            units.setdefault(resolved[0], (unit, []))[1].append(key)
            continue
        if val.get("mode") not in TOKEN_MODES or val.get("input_cost_per_token") is None:
            continue
        if resolved is None:
            skipped.append(key)
            continue
        base, scope, region, prio = resolved
        ident = (base, scope, region)
        if ident not in chosen or prio < chosen[ident].priority:
            chosen[ident] = Entry(key, base, scope, region, val, prio)
    mantle_aliases = _mantle_aliases(chosen)
    chosen = {i: e for i, e in chosen.items() if e.base not in mantle_aliases}

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

    prices = geo_in_region(supplement(regional_premium(prices)))
    unit_of: dict[str, str] = {}
    extra_notes: dict[str, list[str]] = defaultdict(list)
    for base, (unit, keys) in units.items():
        if base in infos:
            continue
        infos[base] = ModelInfo(base, keys=keys)
        unit_of[base] = unit
        per = {"image": "image", "second": "second of video"}.get(unit, "speech token")
        extra_notes[base].append(f"billing_unit: {unit} (litellm mode {data[keys[0]].get('mode')}, priced per "
                                 f"{per}; not token-priced here)")
    for base, spec in SUPPLEMENT_MODELS.items():
        info = infos.setdefault(base, ModelInfo(base))
        info.context = info.context or spec.get("context")
        unit_of[base] = spec.get("unit", "token")
        extra_notes[base].append(spec["source"])
    added: dict[str, set[str]] = defaultdict(set)
    for r in prices:
        if r["model"] not in infos:
            raise SystemExit(f"price row for {r['model']} has no model")
        if r["source"].startswith(("AWS", "derived")) and r["model"] not in SUPPLEMENT_MODELS:
            added[r["model"]].add(f"{r['scope']}/{r['tier']}")
    for base, keys in added.items():
        extra_notes[base].append(f"price rows not from litellm ({', '.join(sorted(keys))}): see each row's source")
    for base in infos:
        infos[base].rows = max(infos[base].rows, sum(1 for r in prices if r["model"] == base))
    described = {b: _described(b) for b in infos}
    owner = _alias_owners(described, infos)
    models = []
    for base in sorted(infos):
        info = infos[base]
        provider, name, aliases, billing = described[base]
        aliases = [a for a in aliases if owner.get(("alias", a)) == base and a != base]
        billing = [b for b in billing if owner.get(("billing", b)) == base]
        min_tokens, min_note = cache_min(base, info)
        ttls = ([300, 3600] if info.one_hour else [300]) if info.cache else []
        aliases += [m for m, t in sorted(mantle_aliases.items()) if t == base and m not in aliases]
        notes = [
            f"litellm {version} model_prices_and_context_window_backup.json keys "
            + ", ".join(sorted(info.keys)[:4])
            + (" ..." if len(info.keys) > 4 else ""),
            "context_window_tokens: max_input_tokens",
            BILLING_NOTE,
        ] if info.keys else []
        notes += list(dict.fromkeys(extra_notes.get(base, [])))
        if any(t == base for t in mantle_aliases.values()):
            notes.append("aliases: bedrock-mantle model ids of the same model (litellm bedrock_mantle keys)")
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
                "billing_unit": unit_of.get(base, "token"),
                "source": "; ".join(notes),
                "checked": SUPPLEMENT_CHECKED if extra_notes.get(base) else checked,
            }
        )
    print(
        f"skipped {len(skipped)} keys (commitment, invoke, claude_platform, @-alias, unknown prefix)",
        file=sys.stderr,
    )
    return prices, models


AWS_PRICING = "AWS Bedrock pricing page (https://aws.amazon.com/bedrock/pricing/)"
SUPPLEMENT_CHECKED = "2026-12-02"  # when the rows below (not from litellm) were checked
BATCH_NOTE = ("derived: batch = 50% of the standard row's input and output ({src}: batch inference is 50% of "
              "on-demand; REFERENCE.md section 2); no batch cache prices published")
GEO_NOTE = ("derived: cross-region profile priced as the source region ({src}: no additional charge for "
            "cross-region inference, the price is the source region's)")
# Models litellm's map lacks (or has only in GovCloud) that 2026 Bedrock users call. Each price row names its
# source; prices are USD per million tokens.
SUPPLEMENT_MODELS: dict[str, dict[str, Any]] = {
    "anthropic.claude-3-haiku-20240307-v1:0": {"context": 200000, "source": AWS_PRICING},
    "anthropic.claude-3-sonnet-20240229-v1:0": {"context": 200000, "source": AWS_PRICING},
    "cohere.command-r-v1:0": {"name": "Command R", "aliases": ["command-r"], "billing": ["CommandR"],
                              "context": 128000, "source": AWS_PRICING},
    "cohere.command-r-plus-v1:0": {"name": "Command R+", "aliases": ["command-r-plus", "command-r+"],
                                   "billing": ["CommandRPlus", "CommandR+"], "context": 128000,
                                   "source": AWS_PRICING},
    "amazon.nova-reel-v1:0": {"name": "Nova Reel", "aliases": ["nova-reel"], "unit": "second",
                              "source": f"{AWS_PRICING}: Nova Reel is billed per second of video generated"},
    "amazon.nova-reel-v1:1": {"name": "Nova Reel 1.1", "aliases": ["nova-reel-1.1"], "unit": "second",
                              "source": f"{AWS_PRICING}: Nova Reel is billed per second of video generated"},
    "amazon.nova-sonic-v1:0": {"name": "Nova Sonic", "aliases": ["nova-sonic"], "billing": ["NovaSonic"],
                               "unit": "speech",
                               "source": f"{AWS_PRICING}: Nova Sonic bills speech and text tokens at separate "
                                         "rates; billing name from grafana/cloudcost-exporter bedrock_test.go"},
    "luma.ray-v2:0": {"name": "Luma Ray2", "aliases": ["luma-ray-2", "ray-v2"], "unit": "second",
                      "source": f"{AWS_PRICING}: Luma Ray2 is billed per second of video generated"},
}
_C3H = "anthropic.claude-3-haiku-20240307-v1:0"
_C3S = "anthropic.claude-3-sonnet-20240229-v1:0"
_PL = ("AWS Price List AmazonBedrock {region} usagetype {ut} ${usd}/1K tokens (as quoted in public code; "
       "find_string \"{ut}\") and " + AWS_PRICING)
SUPPLEMENT_PRICES: list[dict[str, Any]] = [
    {"model": _C3H, "tier": "standard", "input": 0.25, "output": 1.25,
     "source": _PL.format(region="us-east-1", ut="USE1-Claude3Haiku-input-tokens", usd="0.00025")
     + ": $0.00025 input / $0.00125 output per 1K tokens"},
    {"model": _C3S, "tier": "standard", "input": 3.0, "output": 15.0,
     "source": _PL.format(region="us-west-2", ut="USW2-Claude3Sonnet-input-tokens", usd="0.003")
     + ": $0.003 input / $0.015 output per 1K tokens"},
    {"model": "cohere.command-r-v1:0", "tier": "standard", "input": 0.5, "output": 1.5,
     "source": f"{AWS_PRICING}: Command R $0.0005 input / $0.0015 output per 1K tokens"},
    {"model": "cohere.command-r-plus-v1:0", "tier": "standard", "input": 3.0, "output": 15.0,
     "source": f"{AWS_PRICING}: Command R+ $0.003 input / $0.015 output per 1K tokens"},
]
# Cross-region profiles of the supplement models (us., eu., apac. exist for Claude 3 Haiku and Sonnet).
SUPPLEMENT_GEOS = {_C3H: ("us", "eu", "apac"), _C3S: ("us", "eu", "apac")}
# Models with published batch pricing whose batch rows litellm lacks: derived at 50%.
DERIVED_BATCH = (_C3H, _C3S, "anthropic.claude-sonnet-4-6", "anthropic.claude-opus-4-5-20251101-v1:0",
                 "anthropic.claude-opus-4-6-v1", "meta.llama3-1-405b-instruct-v1:0")


def supplement(prices: Rows, checked: str = SUPPLEMENT_CHECKED) -> Rows:
    """Add SUPPLEMENT_PRICES (with their geographic profiles) and the derived batch rows."""
    out = list(prices)
    for sp in SUPPLEMENT_PRICES:
        row = {"model": sp["model"], "scope": "in-region", "region": "*", "tier": sp["tier"],
               "input_usd_per_mtok": sp["input"], "output_usd_per_mtok": sp["output"], "source": sp["source"],
               "checked": checked}
        out.append(row)
        for geo in SUPPLEMENT_GEOS.get(sp["model"], ()):
            out.append({**row, "scope": geo, "source": GEO_NOTE.format(src=AWS_PRICING) + "; " + sp["source"]})
    index = {(r["model"], r["scope"], r["region"], r["tier"]): r for r in out}
    for (model, scope, region, tier), r in list(index.items()):
        if model not in DERIVED_BATCH or tier != "standard" or (model, scope, region, "batch") in index:
            continue
        if region.startswith("us-gov"):
            continue
        b = {"model": model, "scope": scope, "region": region, "tier": "batch",
             "input_usd_per_mtok": _half(r["input_usd_per_mtok"]),
             "output_usd_per_mtok": _half(r["output_usd_per_mtok"]),
             "lc_threshold_tokens": r.get("lc_threshold_tokens"),
             "lc_input_usd_per_mtok": _half(r.get("lc_input_usd_per_mtok")),
             "lc_output_usd_per_mtok": _half(r.get("lc_output_usd_per_mtok")),
             "source": BATCH_NOTE.format(src=AWS_PRICING) + "; standard row: " + r["source"], "checked": checked}
        index[(model, scope, region, "batch")] = b
        out.append(b)
    # long-context batch: a batch row without long-context prices, where its standard row has them
    for (model, scope, region, tier), r in list(index.items()):
        std = index.get((model, scope, region, "standard"))
        if tier != "batch" or r.get("lc_threshold_tokens") or not std or not std.get("lc_threshold_tokens"):
            continue
        ratio = r["input_usd_per_mtok"] / std["input_usd_per_mtok"] if std["input_usd_per_mtok"] else None
        if ratio is None or abs(ratio - 0.5) > 1e-9:
            continue
        r["lc_threshold_tokens"] = std["lc_threshold_tokens"]
        r["lc_input_usd_per_mtok"] = _half(std.get("lc_input_usd_per_mtok"))
        r["lc_output_usd_per_mtok"] = _half(std.get("lc_output_usd_per_mtok"))
        r["source"] += ("; lc_*: derived, 50% of the standard row's long-context prices (batch is 50% of "
                        "on-demand, " + AWS_PRICING + ")")
        r["checked"] = checked
    return sorted(out, key=lambda r: (r["model"], r["scope"], r["region"], r["tier"]))


def _half(v: float | None) -> float | None:
    return None if v is None else float(f"{v / 2:.10g}")


def geo_in_region(prices: Rows) -> Rows:
    """Nova 2 models without a global. key: litellm's unprefixed key carries the global price (the us. price
    is 1.1x it), while AWS bills an in-region call the geographic price (Price List: USE1-Nova2.0Lite-input-
    tokens $0.33 vs -cross-region-global $0.30). Reprice those in-region `*` rows as the us. row."""
    index = {(r["model"], r["scope"], r["region"], r["tier"]): r for r in prices}
    for (model, scope, region, tier), r in index.items():
        if not model.startswith("amazon.nova-2-") or scope != "in-region" or region != "*":
            continue
        us = index.get((model, "us", "*", tier))
        if (model, "global", "*", tier) in index or us is None:
            continue
        if abs(us["input_usd_per_mtok"] - 1.1 * r["input_usd_per_mtok"]) > 1e-9 * max(1.0, us["input_usd_per_mtok"]):
            continue
        r.update({f: us.get(f) for f in PRICE_VALUE_FIELDS})
        r["source"] += PREMIUM_NOTE.format(geo="us") + " (derived: litellm lists no global. key for this model)"
        r["checked"] = SUPPLEMENT_CHECKED
    return prices


# Names the id rule gets wrong (embeddings, Sonic 2.5). Billing names: `TitanEmbeddingV2-Text` is attested (a
# public test of CUR usage-type parsing: `EU-TitanEmbeddingV2-Text-input-tokens`); the Cohere ones are the
# Marketplace product names ("Cohere Embed 4 Model (Amazon Bedrock Edition)"), matched letters-and-digits only.
NAMES: dict[str, dict[str, Any]] = {
    "amazon.titan-embed-text-v1": {"name": "Titan Text Embeddings", "aliases": ["titan-embed-text-v1"],
                                   "billing": ["TitanEmbedding-Text"]},
    "amazon.titan-embed-text-v2:0": {"name": "Titan Text Embeddings V2", "aliases": ["titan-embed-text-v2"],
                                     "billing": ["TitanEmbeddingV2-Text"]},
    "amazon.titan-embed-g1-text-02": {"name": "Titan Text Embeddings G1 02", "aliases": ["titan-embed-g1-text-02"],
                                      "billing": []},
    "amazon.titan-embed-image-v1": {"name": "Titan Multimodal Embeddings G1", "aliases": ["titan-embed-image-v1"],
                                    "billing": ["TitanEmbeddingMultimodal"]},
    "amazon.nova-2-multimodal-embeddings-v1:0": {"name": "Nova 2 Multimodal Embeddings",
                                                 "aliases": ["nova-2-multimodal-embeddings"],
                                                 "billing": ["Nova2.0MultimodalEmbeddings"]},
    "amazon.nova-2-5-sonic": {"name": "Nova 2.5 Sonic", "aliases": ["nova-2.5-sonic"], "billing": ["Nova2.5Sonic"]},
    "cohere.embed-english-v3": {"name": "Cohere Embed English v3", "aliases": ["embed-english-v3"],
                                "billing": ["Cohere Embed Model 3 - English"]},
    "cohere.embed-multilingual-v3": {"name": "Cohere Embed Multilingual v3", "aliases": ["embed-multilingual-v3"],
                                     "billing": ["Cohere Embed Model 3 - Multilingual"]},
    "cohere.embed-v4:0": {"name": "Cohere Embed v4", "aliases": ["embed-v4"], "billing": ["Cohere Embed 4 Model"]},
}

# Billing names seen in AWS usage types that the id rule does not produce (grafana/cloudcost-exporter
# bedrock_test.go: `USE1-MistralSmall-input-tokens-batch`; Price List fixtures in public code:
# `USW2-Claude2.1-input-tokens`).
EXTRA_BILLING = {"mistral.mistral-small-2402-v1:0": ["MistralSmall"], "anthropic.claude-v2:1": ["Claude2.1"]}


def _described(base: str) -> tuple[str, str, list[str], list[str]]:
    """describe(), with the names SUPPLEMENT_MODELS and NAMES give."""
    provider, name, aliases, billing = describe(base)
    spec = SUPPLEMENT_MODELS.get(base) or NAMES.get(base, {})
    billing = [*spec.get("billing", billing), *EXTRA_BILLING.get(base, [])]
    return (provider, spec.get("name", name), spec.get("aliases", aliases), billing)


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
