"""Evaluate a router and a cascade on per-request outcomes (which model answered correctly).

A router (TF-IDF of the request text + logistic regression, trained on one split) scores how likely the
small model is right; sending the top-scored share to the small model traces a cost-quality curve on the
held-out split. Context lines: always-large, random routing (expected accuracy and cost are linear in the
share sent to the large model), and the perfect router (sends to the large model only the questions the
small one gets wrong and the large one gets right, cheapest first). A cascade sends every request to the
small model and escalates what a validator flags; the validator is simulated with a stated recall (share
of wrong small answers it flags) and false-positive rate (share of right ones it flags).

Tokens are estimated from text: ceil(characters / 4) input tokens per request (the usual English
average for Claude/GPT tokenizers), and a stated number of output tokens (default 5: an answer letter).
Prompt text is used for features in memory only; it is never printed or stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..catalog import Catalog
from ..errors import InputError
from ..pricing import request_costs
from ._build import canonical_table

CHARS_PER_TOKEN = 4.0


@dataclass
class Outcomes:
    prompts: list[str]
    small: np.ndarray  # bool: the small model was right
    large: np.ndarray
    files: list[str]


def _bool_col(values: Any, path: Path, name: str) -> np.ndarray:
    import pandas as pd

    s = pd.Series(values)
    if s.dtype == bool:
        return s.to_numpy()
    mapped = s.astype(str).str.strip().str.lower().map(
        {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False})
    bad = mapped.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise InputError(f"{path}: line {row}: column {name!r} is {s.iloc[row - 2]!r}, not a boolean; use "
                         "true/false")
    return mapped.astype(bool).to_numpy()


def load_outcomes(paths: Sequence[str | Path], small_col: str, large_col: str) -> Outcomes:
    """Read outcome CSVs (folders: their *.csv files): a `prompt` column and one boolean column per model."""
    import pandas as pd

    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(p.glob("*.csv"))
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    if not files:
        raise InputError("no outcome CSV files found")
    prompts: list[str] = []
    small, large = [], []
    for f in files:
        try:
            df = pd.read_csv(f, dtype={"prompt": str}, keep_default_na=False)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the user's file
            raise InputError(f"{f}: cannot read as CSV ({exc})") from None
        missing = [c for c in ("prompt", small_col, large_col) if c not in df.columns]
        if missing:
            raise InputError(f"{f}: missing column(s) {missing}; it has {list(df.columns)}. Name the outcome "
                             "columns with --small-col and --large-col")
        prompts += df["prompt"].astype(str).tolist()
        small.append(_bool_col(df[small_col], f, small_col))
        large.append(_bool_col(df[large_col], f, large_col))
    return Outcomes(prompts, np.concatenate(small), np.concatenate(large), [str(f) for f in files])


def estimate_tokens(prompts: Sequence[str]) -> np.ndarray:
    lens = np.fromiter((len(p) for p in prompts), np.int64, len(prompts))
    return np.maximum(1, np.ceil(lens / CHARS_PER_TOKEN)).astype(np.int64)


def per_request_usd(catalog: Catalog, model: str, region: str, tin: np.ndarray, tout: int) -> tuple[np.ndarray, dict]:
    """USD of each request on `model` (on demand), by the one rate card: long prompts at long-context rates."""
    r = catalog.resolve_model(model)
    p = catalog.price(r.model, r.scope, region, "standard")
    t = canonical_table(tin.size, model=r.model, scope=r.scope, region=region, input_tokens=tin, output_tokens=tout)
    usd = request_costs(t, catalog).total
    return usd, {"model": r.model, "scope": r.scope, "region": region, "input_usd_per_mtok": p.input_usd_per_mtok,
                 "output_usd_per_mtok": p.output_usd_per_mtok}


def train_router(train_text: Sequence[str], y: np.ndarray, seed: int) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=200_000, sublinear_tf=True),
        LogisticRegression(C=2.0, solver="liblinear", max_iter=2000, random_state=seed))
    model.fit(list(train_text), y.astype(int))
    return model


def evaluate(out: Outcomes, catalog: Catalog, small_model: str, large_model: str, *, target: float = 0.95,
             seed: int = 0, test_fraction: float = 0.5, region: str = "us-east-1", output_tokens: int = 5,
             validator_recall: float = 0.9, validator_fpr: float = 0.1, curve_points: int = 21) -> dict[str, Any]:
    n = len(out.prompts)
    if n < 10:
        raise InputError(f"only {n} outcome rows: too few to train and test a router")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_test = int(round(n * test_fraction))
    test, train = perm[:n_test], perm[n_test:]
    tin = estimate_tokens(out.prompts)
    c_small, small_price = per_request_usd(catalog, small_model, region, tin, output_tokens)
    c_large, large_price = per_request_usd(catalog, large_model, region, tin, output_tokens)
    router = train_router([out.prompts[i] for i in train], out.small[train], seed)
    score = router.predict_proba([out.prompts[i] for i in test])[:, 1]
    s, lg, cs, cl = out.small[test], out.large[test], c_small[test], c_large[test]
    m = test.size
    per_k = 1000.0 / m
    acc_s, acc_l = float(s.mean()), float(lg.mean())
    goal = target * acc_l
    # router curve: the k highest-scored requests go to the small model
    o = np.argsort(-score, kind="stable")
    ks = np.arange(m + 1)
    acc_k = (np.concatenate([[0], np.cumsum(s[o])]) + np.concatenate([np.cumsum(lg[o][::-1])[::-1], [0]])) / m
    cost_k = (np.concatenate([[0.0], np.cumsum(cs[o])]) + np.concatenate([np.cumsum(cl[o][::-1])[::-1], [0.0]]))
    ok = acc_k >= goal - 1e-12
    k_best = int(ks[ok][np.argmin(cost_k[ok])]) if ok.any() else 0
    # random router: expected values, linear in the share f sent to the large model
    f_rand = float(np.clip((goal - acc_s) / (acc_l - acc_s), 0, 1)) if acc_l > acc_s else (0.0 if acc_s >= goal
                                                                                            else 1.0)
    rand_cost = (1 - f_rand) * cs.sum() + f_rand * cl.sum()
    rand_acc = (1 - f_rand) * acc_s + f_rand * acc_l
    # perfect router: all to small, then the cheapest small-wrong & large-right questions to the large model
    need_large = ~s & lg
    extra = np.sort((cl - cs)[need_large])
    n_need = max(0, int(np.ceil((goal - acc_s) * m - 1e-9)))
    perfect_feasible = n_need <= extra.size
    n_move = min(n_need, extra.size)
    perf_cost = cs.sum() + extra[:n_move].sum()
    perf_acc = acc_s + n_move / m
    # cascade with a simulated validator
    flag = np.where(s, rng.random(m) < validator_fpr, rng.random(m) < validator_recall)
    casc_acc = float(np.where(flag, lg, s).mean())
    casc_cost = float(cs.sum() + cl[flag].sum())
    idx = np.unique(np.linspace(0, m, curve_points).round().astype(int))
    curve = [{"share_small": round(float(k / m), 6), "accuracy": round(float(acc_k[k]), 6),
              "usd_per_1k": round(float(cost_k[k] * per_k), 6),
              "random_accuracy": round(float(acc_s * k / m + acc_l * (1 - k / m)), 6),
              "random_usd_per_1k": round(float((cs.sum() * k / m + cl.sum() * (1 - k / m)) * per_k), 6)}
             for k in idx]
    return {
        "requests": n, "train": int(train.size), "test": int(m), "seed": seed, "files": len(out.files),
        "small": small_price, "large": large_price,
        "tokens": {"input_per_request_mean": round(float(tin[test].mean()), 3), "output_per_request": output_tokens,
                   "chars_per_token": CHARS_PER_TOKEN},
        "target": target, "target_accuracy": round(goal, 6),
        "small_accuracy": round(acc_s, 6), "large_accuracy": round(acc_l, 6),
        "always_small_usd": round(float(cs.sum() * per_k), 6),
        "always_large_usd": round(float(cl.sum() * per_k), 6), "always_large_accuracy": round(acc_l, 6),
        "random_usd_at_target": round(float(rand_cost * per_k), 6), "random_accuracy_at_target": round(rand_acc, 6),
        "random_share_small_at_target": round(1 - f_rand, 6),
        "router_usd_at_target": round(float(cost_k[k_best] * per_k), 6),
        "router_accuracy_at_target": round(float(acc_k[k_best]), 6),
        "router_share_small_at_target": round(k_best / m, 6), "router_meets_target": bool(ok[k_best]),
        "perfect_usd_at_target": round(float(perf_cost * per_k), 6),
        "perfect_accuracy_at_target": round(float(perf_acc), 6),
        "perfect_share_small_at_target": round(1 - n_move / m, 6), "perfect_meets_target": perfect_feasible,
        "perfect_max_accuracy": round(float((s | lg).mean()), 6),
        "cascade": {"validator_recall": validator_recall, "validator_fpr": validator_fpr,
                    "validator": "simulated: flags a wrong small answer with probability recall, a right one "
                                 "with probability fpr",
                    "escalation_rate": round(float(flag.mean()), 6), "accuracy": round(casc_acc, 6),
                    "usd_per_1k": round(casc_cost * per_k, 6), "meets_target": bool(casc_acc >= goal - 1e-12)},
        "usd_unit": "per 1,000 requests", "curve": curve,
    }
