"""The README stays true: every setting is documented and the two commands are there."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table():
    for name in Settings.model_fields:
        assert f"`SOCIALCRM_{name.upper()}`" in README, name


def test_the_two_commands_are_documented():
    assert "make run" in README and "make test" in README
