"""The README stays true: every setting is documented and the two commands are there."""

from __future__ import annotations

import json
import re
from pathlib import Path

from collectors.registry import validate_config
from core.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table():
    for name in Settings.model_fields:
        assert f"`SOCIALCRM_{name.upper()}`" in README, name


def test_the_two_commands_are_documented():
    assert "make run" in README and "make test" in README


def test_source_examples_in_the_readme_are_valid_configs():
    examples = re.findall(r"--platform (\w+) .*?--config '([^']+)'", README)
    assert len(examples) >= 5
    for platform, config in examples:
        validate_config(platform, json.loads(config))
