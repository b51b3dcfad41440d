"""``partnerhub template`` and ``publish``: from a blank template to events on the broker.

Broker tests read the topic back with a plain kafka-python consumer. "Nothing was sent" is shown
by publishing a valid file afterwards and finding its event first on the partition.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner, Result

from broker.settings import KafkaSettings
from broker.topics import sync_topics
from partnerhub.cli import app
from partnerhub.cli.common import CliError
from producers.refs import KEY_ENV, beneficiary_ref
from schemas.topics import topic_for
from schemas.vocabulary import Kind
from tests.support import PARTNERHUB, consume, events_in

KEY_HEX = "5ec2e7" * 10 + "beef"
#: A bootstrap nothing listens on: commands that must not reach a broker never notice it.
NO_BROKER = "127.0.0.1:9"


def invoke(bootstrap: str, *args: str, **env: str) -> Result:
    runner = CliRunner()
    return runner.invoke(
        app, list(args), env={"PARTNERHUB_KAFKA__BOOTSTRAP": bootstrap, KEY_ENV: "", **env}
    )


def template(tmp_path: Path, kind: Kind, fmt: str = "csv") -> Path:
    out = tmp_path / f"{kind.value}.{fmt}"
    result = invoke(NO_BROKER, "template", "--kind", kind.value, "--format", fmt, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stdout
    return out


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def filled(tmp_path: Path, name: str, count: int) -> Path:
    """An assistance sheet of ``count`` distinct valid rows (the template's example, varied)."""
    example = csv_rows(template(tmp_path, Kind.ASSISTANCE))[1]
    rows = [{**example, "event_id": "", "quantity": str(n + 1)} for n in range(count)]
    return write_rows(tmp_path / name, rows)


# --- without a broker --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_fill_and_dry_run(tmp_path: Path, fmt: str) -> None:
    path = template(tmp_path, Kind.SGBV, fmt)
    if fmt == "csv":
        rows = csv_rows(path)
        new = {"event_id": "", "incident_type": "", "activity": "referral", "services": "legal"}
        rows.append({**rows[1], **new})
        write_rows(path, rows)
    else:
        workbook = load_workbook(path)
        sheet = workbook["events"]
        sheet.append([cell.value for cell in sheet[3]])
        header = [cell.value for cell in sheet[1]]
        sheet.cell(row=4, column=header.index("female_18_59") + 1, value=3)
        sheet.cell(row=4, column=header.index("event_id") + 1).value = None
        workbook.save(path)
    result = invoke(NO_BROKER, "publish", "--partner", "wcc_almaty", "--dry-run", str(path))
    assert result.exit_code == 0, result.output
    assert f"{path}:3: the template's example row, skipped (never published)" in result.stdout
    assert "1 event valid (1 sgbv); nothing sent" in result.stdout


def test_write_ids_writes_a_copy_beside_the_sheet(tmp_path: Path) -> None:
    path = filled(tmp_path, "march.csv", 3)
    result = invoke(
        NO_BROKER, "publish", "--partner", "kzlegal", "--dry-run", "--write-ids", str(path)
    )
    assert result.exit_code == 0, result.output
    copy = tmp_path / "march.with-ids.csv"
    assert f"wrote {copy} (3 event ids filled in)" in result.stdout
    ids = [row["event_id"] for row in csv_rows(copy)]
    assert len(set(ids)) == 3
    assert all(len(event_id) == 36 for event_id in ids)


def test_registration_ids_need_the_refs_key(tmp_path: Path) -> None:
    rows = csv_rows(filled(tmp_path, "a.csv", 1))
    path = write_rows(tmp_path / "ids.csv", [{**rows[0], "registration_ids": "KZ-06-1"}])
    result = invoke(NO_BROKER, "publish", "--partner", "kzlegal", "--dry-run", str(path))
    assert result.exit_code == 1
    assert f"{path}:2: registration_ids: refs_key_missing:" in result.stderr


# --- with a broker -----------------------------------------------------------------------------


@pytest.mark.kafka
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_sheet_with_errors_sends_nothing(kafka_bootstrap: str, tmp_path: Path, fmt: str) -> None:
    sync_topics(KafkaSettings(bootstrap=kafka_bootstrap, partitions=2))
    good = filled(tmp_path, "good.csv", 2)
    rows = csv_rows(good)
    broken = [rows[0], {**rows[1], "unit": "litre", "male_0_4": "-1"}]
    path = write_rows(tmp_path / "bad.csv", broken)
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        workbook.active.append(list(broken[0]))
        for row in broken:
            workbook.active.append(list(row.values()))
        path = tmp_path / "bad.xlsx"
        workbook.save(path)
    result = invoke(kafka_bootstrap, "publish", "--partner", "kzlegal", str(path))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert (
        lines[0] == f"{path}:3: male_0_4: out_of_range: Input should be greater than or equal to 0"
    )
    assert lines[1].startswith(f"{path}:3: unit: invalid_value: Input should be 'KZT', 'USD'")
    assert lines[2:] == ["2 problems in 1 row: nothing was sent"]
    published = invoke(kafka_bootstrap, "publish", "--partner", "kzlegal", str(good))
    assert published.exit_code == 0, published.output
    records = consume(kafka_bootstrap, topic_for("kzlegal", Kind.ASSISTANCE), 1)
    by_partition: dict[int, list[int]] = {}
    for r in records:
        by_partition.setdefault(r.partition, []).append(r.offset)
    # The good file's two events came first (in one bulk message): offsets start at 0.
    assert all(sorted(o) == list(range(len(o))) for o in by_partition.values()), by_partition
    assert sorted(e["payload"]["quantity"] for _, e in events_in(records)) == [1, 2]


@pytest.mark.kafka
def test_publishing_a_sheet_twice_gives_the_same_event_ids(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    sync_topics(KafkaSettings(bootstrap=kafka_bootstrap, partitions=2))
    path = filled(tmp_path, "march.csv", 5)
    first = invoke(kafka_bootstrap, "publish", "--partner", "kzlegal", str(path))
    assert first.exit_code == 0, first.output
    assert "5 events published" in first.stdout
    assert "partners.kzlegal.assistance.v1" in first.stdout
    second = invoke(kafka_bootstrap, "publish", "--partner", "kzlegal", str(path))
    assert second.exit_code == 0, second.output
    records = consume(kafka_bootstrap, topic_for("kzlegal", Kind.ASSISTANCE), 2)
    assert len(records) == 2  # each publish sent the five rows as one bulk message
    partitions: dict[str, set[int]] = {}
    for r, event in events_in(records):
        partitions.setdefault(event["event_id"], set()).add(r.partition)
    for r in records:  # keyed by (the first) event
        assert r.key == events_in([r])[0][1]["event_id"].encode()
    assert len(partitions) == 5  # the same five ids both times ...
    assert all(len(p) == 1 for p in partitions.values())  # ... each time in the same partition


@pytest.mark.kafka
def test_raw_registration_ids_never_leave(kafka_bootstrap: str, tmp_path: Path) -> None:
    sync_topics(KafkaSettings(bootstrap=kafka_bootstrap, partitions=2))
    rows = csv_rows(filled(tmp_path, "a.csv", 1))
    path = write_rows(tmp_path / "ids.csv", [{**rows[0], "registration_ids": "kz-06-7; KZ-06-8"}])
    result = invoke(
        kafka_bootstrap, "publish", "--partner", "kzlegal", str(path), **{KEY_ENV: KEY_HEX}
    )
    assert result.exit_code == 0, result.output
    (record,) = consume(kafka_bootstrap, topic_for("kzlegal", Kind.ASSISTANCE), 1)
    key = bytes.fromhex(KEY_HEX)
    assert json.loads(record.value)["beneficiary_refs"] == [
        beneficiary_ref("KZ-06-7", key),
        beneficiary_ref("KZ-06-8", key),
    ]
    assert b"06-7" not in record.value.upper()
    assert b"registration" not in record.value


# --- errors as one line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--partner", "nobody", "{sheet}"],
            "error: --partner nobody: not in the partner registry",
        ),
        (
            ["--partner", "kzlegal", "--refs-key-file", "{sheet}", "{sheet}"],
            "error: {sheet}: the refs key is not hexadecimal",
        ),
    ],
)
def test_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    sheet = filled(tmp_path, "a.csv", 1)
    names = {"sheet": str(sheet)}
    result = subprocess.run(
        [*PARTNERHUB, "publish", *(a.format(**names) for a in args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PARTNERHUB_KAFKA__BOOTSTRAP": NO_BROKER, "COLUMNS": "200"},
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [message.format(**names)]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    result = invoke(NO_BROKER, "publish", "--partner", "kzlegal", str(missing))
    assert isinstance(result.exception, CliError)
    assert str(result.exception) == f"{missing}: no such file"
