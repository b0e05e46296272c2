"""Economics: engineering TCO, break-even solved against the algebra, the Monte Carlo's reproducibility."""

from __future__ import annotations

import math

import numpy as np
import pytest

from inferplan.economics import OptionCost, TcoOptions, UncertaintyOptions, engineering, load_tco, simulate, solve
from inferplan.economics.tco import annuity_factor, engineering_terms
from inferplan.errors import ConfigError


def test_engineering_defaults_and_overrides():
    tco = TcoOptions()
    ec2 = engineering("ec2", "g5.xlarge", tco)
    # 0.3 x $260K / 12 + $500 x 52 / 12 + 10 weeks of $260K/52 spread over 24 months at 10%
    one_time = 10 * 260_000 / 52
    expected = 0.3 * 260_000 / 12 + 500 * 52 / 12 + one_time * (0.1 / 12) / (1 - (1 + 0.1 / 12) ** -24)
    assert ec2["monthly_usd"] == pytest.approx(expected, abs=0.01)
    assert ec2["one_time_usd"] == pytest.approx(one_time)
    # Neuron porting is added on Inferentia/Trainium only
    assert engineering_terms("ec2", "inf2.48xlarge", tco)["one_time_weeks"] == 14
    assert engineering_terms("sagemaker-realtime", "ml.inf2.xlarge", tco)["one_time_weeks"] == 8
    assert engineering("bedrock", None, tco)["monthly_usd"] == 0
    # --eng-fte applies to every self-hosted and SageMaker option, never to Bedrock; per-kind keys win
    over = load_tco({"economics": {"kinds": {"sagemaker-realtime": {"fte": 0.05}}}}, eng_fte=0.5,
                    eng_usd_per_year=120_000)
    assert engineering_terms("ec2", None, over)["fte"] == 0.5
    assert engineering_terms("sagemaker-realtime", None, over)["fte"] == 0.05
    assert engineering_terms("bedrock", None, over)["fte"] == 0
    assert over.usd_per_year == 120_000


def test_bad_economics_keys_are_errors():
    with pytest.raises(ConfigError, match="economics.usd_per_yr"):
        load_tco({"economics": {"usd_per_yr": 1}})
    with pytest.raises(ConfigError, match="unknown option kind"):
        load_tco({"economics": {"kinds": {"ec3": {"fte": 1}}}})


def test_annuity_factor():
    assert float(annuity_factor(0.0, 24)) == pytest.approx(1 / 24)
    # $100K over 12 months at 12%/year: the textbook payment of $8,884.88
    assert 100_000 * float(annuity_factor(0.12, 12)) == pytest.approx(8884.88, abs=0.01)


# Closed form: constant demand of R requests/s, one replica sustains C requests/s at P $/hour, a stated
# engineering cost E a month, Bedrock B $/month today. At scale s the option costs ceil(sR/C) P 730 + E.
R, C, P, E, B = 10.0, 3.0, 2.0, 6_000.0, 10_000.0


def closed_form(s: float) -> list[OptionCost]:
    k = max(1, math.ceil(s * R / C - 1e-9))
    return [OptionCost("ec2 test", "ec2", k * P * 730, E, instance="g5.xlarge"),
            OptionCost("never", "sagemaker-realtime", k * P * 730 * 10, E, instance="ml.g5.xlarge")]


def algebra() -> tuple[float, float]:
    """The first volume where the option is no dearer than Bedrock, and the volume above which it stays so.

    With k replicas (s in ((k-1) C/R, k C/R]) the option costs k P 730 + E, so it is cheaper from
    s = (k P 730 + E) / B within that segment. It stays cheaper once every later jump, to k' + 1 replicas at
    s = k' C/R, is also below Bedrock: (k' + 1) P 730 + E <= B k' C / R, true for all k' >= k0."""
    first = None
    for k in range(1, 10_000):
        s = max((k * P * 730 + E) / B, (k - 1) * C / R)
        if s <= k * C / R:
            first = s
            break
    k0 = math.ceil((P * 730 + E) / (B * C / R - P * 730))
    seg = next(k for k in range(1, 10_000) if (k * P * 730 + E) / B <= k * C / R and k >= k0)
    sustained = max((seg * P * 730 + E) / B, (seg - 1) * C / R)
    assert first is not None
    return first, sustained


def test_breakeven_matches_the_algebra_to_one_replica():
    bk = solve(closed_form, B, 1e9)
    res = {r["option"]: r for r in bk.results}
    first, sustained = algebra()
    one_replica = C / R  # a replica's worth of volume, in scale units
    got = res["ec2 test"]["scale"]
    assert first - 1e-9 <= got <= sustained * 1.005
    assert abs(got - sustained) <= one_replica
    assert res["ec2 test"]["monthly_bedrock_usd"] == pytest.approx(B * res["ec2 test"]["scale"], rel=1e-6)
    assert res["ec2 test"]["tokens_per_month"] == pytest.approx(1e9 * res["ec2 test"]["scale"], rel=1e-6)
    never = res["never"]
    assert never["scale"] is None and "every scale searched" in never["reason"]
    assert [set(row) for row in bk.curve][0] == {"scale", "bedrock_usd", "ec2 test", "never"}


def test_breakeven_with_no_bedrock_spend_is_an_error():
    with pytest.raises(ConfigError, match="no break-even"):
        solve(closed_form, 0.0, 0.0)


def _bk():
    return solve(closed_form, B, 1e9)


def test_monte_carlo_reproducible_from_its_seed(catalog):
    bk = _bk()
    errs = {"ec2 test": (np.array([-0.1, 0.05, 0.2]), "test"), "never": (np.zeros(0), "none")}
    a = simulate(bk, TcoOptions(), catalog, UncertaintyOptions(seed=7), errors=errs)
    b = simulate(bk, TcoOptions(), catalog, UncertaintyOptions(seed=7), errors=errs)
    c = simulate(bk, TcoOptions(), catalog, UncertaintyOptions(seed=8), errors=errs)
    strip = lambda r: [{k: v for k, v in o.items()} for o in r["options"]]  # noqa: E731
    assert strip(a) == strip(b)
    assert strip(a) != strip(c)
    ec2 = a["options"][0]
    p = ec2["breakeven_monthly_bedrock_usd"]
    assert p["p10"] <= p["p50"] <= p["p90"]
    assert a["options"][1]["never_in_range_share"] == 1.0 and a["options"][1]["p_beats_bedrock"] == 0


def test_p_beats_today_is_at_todays_volume_and_the_horizon_one_with_growth(catalog):
    """With nothing uncertain but a stated 10%/month growth: today (volume 1) the option's $11K engineering
    makes it dearer than Bedrock's $10K, while at the horizon's average volume (3.69x) it is cheaper. The
    probability called "today" must say 0 there (it was read at the grown volume), the horizon one 1."""
    fixed = UncertaintyOptions(volume_sigma=0, growth_pct_per_month=(10, 10), fte_factor=(1, 1),
                               usd_per_year=(260_000, 260_000), setup_factor=(1, 1), discount_rate=(0.1, 0.1),
                               draws=500)
    errs = {"ec2 test": (np.zeros(0), "none"), "never": (np.zeros(0), "none")}
    r = simulate(_bk(), TcoOptions(), catalog, fixed, errors=errs)
    ec2 = r["options"][0]
    eng = engineering("ec2", "g5.xlarge", TcoOptions())["monthly_usd"]
    grown = float(np.mean(1.1 ** np.arange(24)))
    assert 4 * P * 730 + eng > B  # today: dearer (oracle: the closed form at scale 1)
    assert math.ceil(grown * R / C) * P * 730 + eng < B * grown  # over the horizon: cheaper
    assert ec2["p_beats_bedrock"] == 0.0
    assert ec2["p_beats_bedrock_horizon"] == 1.0


def test_monte_carlo_converges_as_draws_grow(catalog):
    bk = _bk()
    errs = {"ec2 test": (np.array([-0.1, 0.05, 0.2]), "test"), "never": (np.zeros(0), "none")}

    def p50(draws: int, seed: int) -> float:
        r = simulate(bk, TcoOptions(), catalog, UncertaintyOptions(draws=draws, seed=seed), errors=errs)
        return r["options"][0]["breakeven_monthly_bedrock_usd"]["p50"]

    ref = p50(100_000, 99)
    miss = {n: np.mean([abs(p50(n, s) - ref) for s in range(8)]) for n in (400, 6_400)}
    assert miss[6_400] < miss[400] / 2  # about 1/sqrt(16) = 1/4 in theory
    assert miss[6_400] / ref < 0.01


def test_monte_carlo_defaults_to_10k_draws(catalog):
    """Its speed (10,000 draws under 2 s) is measured by bench/montecarlo.py, not timed here."""
    r = simulate(_bk(), TcoOptions(), catalog)
    assert r["draws"] == 10_000 and r["seed"] == 0
    assert r["seconds"] >= 0


def test_uncertainty_options_checked():
    with pytest.raises(ValueError, match="low must be <= high"):
        UncertaintyOptions(discount_rate=(0.2, 0.1))
    with pytest.raises(ValueError):
        UncertaintyOptions(bogus=1)


def test_a_hybrid_with_no_replica_is_not_a_self_hosted_option():
    """A hybrid whose base is 0 and never scales is Bedrock alone: it was costed as Bedrock plus a self-hosted
    fleet's engineering (and at Bedrock's own cost it would tie Bedrock at every scale)."""
    from types import SimpleNamespace

    from inferplan.economics.options import option_costs
    from inferplan.serving.result import OptionResult

    def hybrid(k: int) -> OptionResult:
        return OptionResult(f"Hybrid: {k} x m on g5.xlarge (on-demand) + Bedrock overflow", "hybrid", 900.0,
                            replicas={"min": k, "mean": k, "max": k}, details={"instance": "g5.xlarge"})

    zero, two = option_costs(SimpleNamespace(options=[hybrid(0), hybrid(2)]), TcoOptions())
    assert zero.name == two.name == "Hybrid: k x m on g5.xlarge (on-demand) + Bedrock overflow"
    assert not zero.feasible and zero.infra_usd == math.inf and "base of 0 replicas" in zero.reason
    assert two.feasible and two.infra_usd == 900.0 and two.engineering_usd > 0
