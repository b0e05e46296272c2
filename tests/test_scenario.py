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
    assert read(None) == {} and read({"x": 1}) == {"x": 1}
