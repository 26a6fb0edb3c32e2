"""The web process never imports torch (rule 4): the model lives in the scoring worker."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
from api.app import create_app
from cli.main import app as cli_app
from scheduler.registry import build_scheduler
create_app()
heavy = sorted(m for m in ("torch", "transformers", "peft") if m in sys.modules)
print(",".join(heavy))
"""


def test_building_the_app_and_scheduler_imports_no_model_library(tmp_path):
    env = {"SOCIALCRM_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == ""
