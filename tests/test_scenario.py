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
