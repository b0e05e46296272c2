"""One scenario reader for every section: the same clear error whichever command reads a bad file."""

from __future__ import annotations

import pytest

from inferplan.economics.tco import load_tco
from inferplan.errors import ConfigError
from inferplan.levers.options import load_options
from inferplan.scenario import read, section
from inferplan.serving.spec import load_scenario


@pytest.mark.parametrize("text, message", [
    ("a: [", "not valid YAML"),
    ("- 1\n- 2\n", "expected a mapping at the top level"),
])
def test_bad_file_same_error_for_every_section(tmp_path, text, message):
    p = tmp_path / "s.yaml"
    p.write_text(text)
    for load in (read, load_options, load_scenario, load_tco):
        with pytest.raises(ConfigError, match=message) as info:
            load(p)
        assert str(p) in str(info.value)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(ConfigError, match="cannot read scenario file .*nope.yaml"):
        read(tmp_path / "nope.yaml")


def test_section_must_be_a_mapping(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("compare: [1, 2]\nlevers: {batch: {}}\n")
    with pytest.raises(ConfigError, match="`compare:` must be a mapping"):
        load_scenario(p)
    assert section(p, "levers") == {"batch": {}}
    assert section(p, "economics") == {}
    assert read(None) == {} and read({"levers": {}}) == {"levers": {}}


@pytest.mark.parametrize("key, hint", [("levrs", "levers"), ("economix", "economics"), ("comapre", "compare")])
def test_misspelled_section_is_refused_with_the_closest(tmp_path, key, hint):
    """A misspelled section would run the command with its defaults, as if the file said nothing."""
    p = tmp_path / "s.yaml"
    p.write_text(f"{key}:\n  batch: {{}}\n")
    for load in (read, load_options, load_scenario, load_tco):
        with pytest.raises(ConfigError, match=f"unknown top-level key `{key}:` \\(did you mean `{hint}:`") as info:
            load(p)
        assert str(p) in str(info.value)
    with pytest.raises(ConfigError, match="unknown top-level key `zzz:`; the sections are traffic, levers"):
        read({"zzz": 1})


def test_synth_refuses_a_misspelled_section_beside_traffic(tmp_path):
    from inferplan.synth import load_traffic

    p = tmp_path / "s.yaml"
    p.write_text("traffic:\n  call_types: {a: {requests_per_day: 10, model: m}}\nlevrs: {}\n")
    with pytest.raises(ConfigError, match="`levrs:` \\(did you mean `levers:`"):
        load_traffic(p)


def test_a_bad_value_names_its_flag_or_its_key_in_the_file(tmp_path):
    """`--growth -200` was an internal error deep in the fleet; now refused up front, naming where it came from."""
    from inferplan.commands._serving_inputs import make_compare_spec

    with pytest.raises(ConfigError, match=r"^invalid compare options: --growth -200.0: Input should be greater "
                                          "than -100"):
        make_compare_spec(None, growth_pct_per_month=-200.0)
    p = tmp_path / "s.yaml"
    p.write_text("compare:\n  growth_pct_per_month: -150\n  window_s: 0\neconomics:\n  fte: -1\n"
                 "uncertainty:\n  growth_pct_per_month: [-120, 5]\n")
    with pytest.raises(ConfigError, match=f"^{p}: invalid compare options: compare.growth_pct_per_month: .*; "
                                          "compare.window_s: "):
        make_compare_spec(p)
    with pytest.raises(ConfigError, match=r"--window 0: Input should be greater than 0"):
        make_compare_spec(None, window_s=0)
    with pytest.raises(ConfigError, match=f"^{p}: invalid economics options: economics.fte: "):
        load_tco(p)
    with pytest.raises(ConfigError, match=r"^invalid economics options: --eng-fte -2.0: "):
        load_tco(None, eng_fte=-2.0, cli=True)
    with pytest.raises(ConfigError, match=r"^invalid economics options: economics.fte: "):
        load_tco(None, eng_fte=-2.0)  # the Python API's eng_fte
    from inferplan.planner import _settings

    with pytest.raises(ConfigError, match=f"^{p}: invalid uncertainty options: uncertainty.growth_pct_per_month: "
                                          ".*growth must be above -100% a month"):
        _settings(read(p), p)


def test_breakeven_growth_below_minus_100_is_a_clear_error_through_the_cli(tmp_path):
    from typer.testing import CliRunner

    from inferplan.cli import app
    from inferplan.commands import load_all

    load_all()
    f = tmp_path / "demand.csv"
    f.write_text("ts,model,requests,input_tokens,output_tokens\n")
    res = CliRunner().invoke(app, ["breakeven", str(f), "--growth", "-200"])
    assert res.exit_code != 0
    assert "invalid compare options: --growth -200.0" in res.output and "internal error" not in res.output


def test_an_unknown_small_model_names_its_rule(tmp_path):
    import numpy as np

    from inferplan.levers import evaluate
    from inferplan.levers._build import canonical_table
    from tests.test_levers_caching import tiny_catalog

    t = canonical_table(2, model="claude", ts=np.array([0, 1]) * 1_000_000, call_type="chat", input_tokens=10)
    p = tmp_path / "s.yaml"
    p.write_text("levers:\n  routing:\n    rules: [{call_type: chat, small_model: claude}, "
                 "{call_type: chat, small_model: claud-tiny}]\n")
    from inferplan.errors import UnknownModelError

    with pytest.raises(UnknownModelError,
                       match=f"^{p}: levers.routing.rules.1.small_model: unknown model id 'claud-tiny'"):
        evaluate(t, tiny_catalog(), "routing", p)


def test_anchor_blocks_are_left_alone_and_a_section_must_be_a_mapping(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("x-defaults: &d {ttl: 300}\n_common: 1\nlevers:\n  caching: *d\n")
    assert load_options(p).caching.ttl == 300
    p.write_text("economics: [1, 2]\n")
    with pytest.raises(ConfigError, match="`economics:` must be a mapping"):
        load_tco(p)


def test_python_api_errors_name_the_key_not_a_flag():
    from inferplan.serving.spec import make_spec

    with pytest.raises(ConfigError, match=r"^invalid compare options: compare.growth_pct_per_month: "):
        make_spec({}, None, growth_pct_per_month=-200.0)


def test_empty_files_in_a_folder_are_counted_apart(tmp_path, catalog):
    from inferplan.readers import read_workload

    (tmp_path / "a.csv").write_text("ts,model,input_tokens,output_tokens\n2026-01-05T00:00:00Z,"
                                    "amazon.nova-pro-v1:0,10,1\n")
    (tmp_path / "b.jsonl").write_text("")
    (tmp_path / "README").write_text("hello\n")
    wl = read_workload([tmp_path], catalog, "auto")
    assert "left out 1 empty file(s): b.jsonl" in wl.notes
    assert "left out 1 file(s) in no known format: README" in wl.notes
