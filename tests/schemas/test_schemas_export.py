"""``partnerhub schemas export``: the committed JSON Schema files are what the models say."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from schemas import export
from schemas.vocabulary import Kind

COMMITTED = Path(__file__).resolve().parents[2] / "schemas" / "json"
FILES = {
    "envelope.schema.json",
    "bulk.schema.json",
    *(f"{kind.value}.schema.json" for kind in Kind),
}


def partnerhub(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real console script (falling back to its entry point beside this Python)."""
    script = Path(sys.executable).with_name("partnerhub")
    command = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from partnerhub.cli import main; main()"]
    )
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "80"}
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


@pytest.fixture
def copy_of_committed(tmp_path: Path) -> Path:
    out = tmp_path / "json"
    shutil.copytree(COMMITTED, out)
    return out


def test_check_passes_on_the_committed_files() -> None:
    run = partnerhub("schemas", "export", "--check")
    assert run.returncode == 0, run.stderr
    assert "matches" in run.stdout


def test_check_names_the_stale_file_in_one_line(copy_of_committed: Path) -> None:
    stale = copy_of_committed / "sgbv.schema.json"
    schema = json.loads(stale.read_text(encoding="utf-8"))
    schema["properties"]["payload"]["title"] = "Edited by hand"
    stale.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    run = partnerhub("schemas", "export", "--check", "--out", str(copy_of_committed))

    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error:")
    assert "sgbv.schema.json" in lines[0]
    assert [name for name in FILES - {"sgbv.schema.json"} if name in lines[0]] == []
    assert "Traceback" not in run.stderr


def test_a_missing_file_is_stale(copy_of_committed: Path) -> None:
    (copy_of_committed / "hiv_training.schema.json").unlink()
    assert export.stale_files(copy_of_committed) == ["hiv_training.schema.json"]


def test_export_writes_six_valid_draft_2020_12_schemas(tmp_path: Path) -> None:
    out = tmp_path / "exported"
    run = partnerhub("schemas", "export", "--out", str(out))
    assert run.returncode == 0, run.stderr

    written = {path.name for path in out.iterdir()}
    assert written == FILES
    ids = set()
    for name in sorted(written):
        schema = json.loads((out / name).read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        ids.add(schema["$id"])
        assert (out / name).read_bytes() == (COMMITTED / name).read_bytes(), name
    assert len(ids) == len(FILES)
    assert export.stale_files(out) == []


def test_generate_is_deterministic() -> None:
    assert export.generate() == export.generate()
    assert set(export.generate()) == FILES
