"""Monthly roll-ups against a real embedded warehouse holding a simulation as the worker
writes it: totals against the simulator's ground truth, versions, late corrections, the
schedule, reconciliation, and what every output (CSV, XLSX, HXL, HTML) may show."""

from __future__ import annotations

import csv
import functools
import html
import io
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import hxl
import openpyxl
import pytest

from partnerhub.settings import HubSettings
from producers.simulator import Simulation, SimulationSpec, simulate
from rollups.compute import RollupError, compute_rollup
from rollups.model import COUNTS, KEY
from rollups.produce import RollupRun, run_rollup
from rollups.render_csv import COLUMNS, exact_csv
from rollups.report import SGBV_KEY
from rollups.schedule import run_due_rollups
from rollups.store import version_rows, versions
from rollups.tables import ROW_COLUMNS
from rollups.tables import TABLES as ROLLUP_TABLES
from schemas.labels import label
from schemas.refdata import targets
from schemas.vocabulary import CELLS, Kind
from streams.settings import WorkerSettings
from tests.support import ingest_messages, load_simulation
from warehouse.client import EmbeddedWarehouse, Warehouse
from warehouse.facts import columnar
from warehouse.migrate import migrate
from warehouse.tables import AGGREGATE_COLUMNS

pytestmark = pytest.mark.clickhouse

SPEC = SimulationSpec(
    start="2006-03",
    end="2006-04",
    events=1500,
    seed=11,
    duplicates=0.02,
    corrections=0.03,
    retractions=0.02,
    invalid=0.03,
    late=0.03,
)
#: After both simulated months ended (the simulation is ingested on 1 May 2006).
CLOSED = datetime(2006, 5, 10, tzinfo=UTC)
#: When late corrections arrive.
LATE = datetime(2006, 5, 20, 12, tzinfo=UTC)
#: A threshold above the default, so that small SGBV numbers are common in these months.
THRESHOLD = 8


@functools.cache
def simulation() -> Simulation:
    return simulate(SPEC)


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    """A warehouse of the test's own, holding the simulation."""
    warehouse = load_simulation(tmp_path / "chdb", simulation())
    try:
        yield warehouse
    finally:
        warehouse.close()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse folder holding the simulation, closed (chdb: one open folder at a time)."""
    folder = tmp_path_factory.mktemp("shared") / "chdb"
    load_simulation(folder, simulation()).close()
    return folder


@pytest.fixture
def shared(loaded: Path) -> Iterator[Warehouse]:
    """The module's simulation warehouse, for tests that change no facts or aggregates (they
    may store the same version 1 again: saving is idempotent)."""
    with EmbeddedWarehouse(loaded) as warehouse:
        yield warehouse


@pytest.fixture
def hub(tmp_path: Path) -> HubSettings:
    return HubSettings(
        data_dir=tmp_path / "hub",
        sgbv_threshold=THRESHOLD,
        worker=WorkerSettings(rollup_after_days=5),
        # One hub, one secret: the version id is keyed with it (a new secret, a new version).
        hub_secret="test-hub-secret",
    )


def clock(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def run(wh: Warehouse, hub: HubSettings, month: str, at: datetime, out: Path | None) -> RollupRun:
    return run_rollup(wh, hub.rollups(), month, clock=clock(at), created_by="test", out_dir=out)


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def small(text: str) -> bool:
    """Whether a shown value is a number from 1 to THRESHOLD - 1 (``x``, ``≥n``, text: no)."""
    number = text.replace(",", "")
    return bool(re.fullmatch(r"\d+(\.\d+)?", number)) and 0 < Decimal(number) < THRESHOLD


# --- the numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("month", ["2006-03", "2006-04"])
def test_rollup_csv_equals_the_simulators_truth(shared: Warehouse, month: str) -> None:
    sim = simulation()
    rollup = compute_rollup(
        shared, month, registry=sim.spec.partners, targets=targets(), now=CLOSED
    )
    sums: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0] * (1 + len(CELLS)))
    for line in csv_rows(exact_csv(month, rollup.rows)):  # the exact CSV, before suppression
        group = sums[(line["month"], line["partner_id"], line["kind"], line["region"],
                      line["population_type"])]  # fmt: skip
        for i, name in enumerate(("events", *CELLS)):
            group[i] += int(line[name])
    truth = {
        (t["month"], t["partner_id"], t["kind"], t["region"], t["population_type"]): [
            t["events"],
            *(t[c] for c in CELLS),
        ]
        for t in sim.truth.totals
        if t["month"] == month
    }
    assert dict(sums) == truth
    assert rollup.reconciliation.ok, rollup.reconciliation.differences[:3]
    assert any(0 < c < THRESHOLD for r in rollup.rows if r.kind == "sgbv" for c in r.cells)


def test_the_scorecard_agrees_with_the_simulation(shared: Warehouse) -> None:
    sim = simulation()
    rollup = compute_rollup(
        shared, "2006-03", registry=sim.spec.partners, targets=targets(), now=CLOSED
    )
    card = {p.partner_id: p for p in rollup.scorecard.partners}
    events: dict[str, int] = defaultdict(int)
    for t in sim.truth.totals:
        if t["month"] == "2006-03":
            events[t["partner_id"]] += t["events"]
    assert {p: q.events for p, q in card.items() if q.events} == dict(events)
    # Dead letters about March: the raw JSON's occurred_on (all were received on 1 May).
    rejected: dict[str, int] = defaultdict(int)
    for index in sim.rejections:
        message = sim.messages[index]
        try:
            day = str(json.loads(message.value).get("occurred_on", ""))
        except (ValueError, AttributeError):
            continue
        # SGBV topics' dead letters are an SGBV count: the scorecard leaves them out.
        if day.startswith("2006-03-") and len(day) == 10 and ".sgbv." not in message.topic:
            rejected[message.topic.split(".")[1]] += 1
    assert {p: q.rejected for p, q in card.items() if q.rejected} == dict(rejected)
    for code, quality in card.items():
        if not quality.events:
            continue
        assert quality.timeliness is not None
        if code in sim.truth.habitually_late:  # they report 14-42 days after the month
            assert quality.timeliness < 0.2, code
        else:  # 1-7 days after, but for late-fault events
            assert quality.timeliness > 0.8, code
        assert quality.completeness == 1.0, code
    sgbv = next(k for k in rollup.scorecard.kinds if k.kind == "sgbv")
    assert sgbv.reported == tuple(sorted(p for p in events if "sgbv" in card[p].mandated))


def test_year_to_date_progress_adds_up_the_months(shared: Warehouse) -> None:
    sim = simulation()

    def progress(month: str) -> dict[tuple[str, str, str | None], tuple[int, int]]:
        rollup = compute_rollup(
            shared, month, registry=sim.spec.partners, targets=targets(), now=CLOSED
        )
        return {
            (p.target.kind.value, p.target.indicator, p.target.region): (p.month, p.year_to_date)
            for p in rollup.progress
        }

    march, april = progress("2006-03"), progress("2006-04")
    feb = progress("2006-02")
    for key, (month, ytd) in april.items():
        assert ytd == month + march[key][1], key
        assert feb[key] == (0, 0), key
    assert any(month for month, _ in march.values())


def test_a_month_not_yet_ended_is_refused(shared: Warehouse, hub: HubSettings) -> None:
    with pytest.raises(RollupError, match="2006-05 has not ended"):
        run(shared, hub, "2006-05", CLOSED, None)


# --- versions ------------------------------------------------------------------------------


def test_same_month_twice_gives_identical_csv_and_no_new_version(
    wh: Warehouse, hub: HubSettings, tmp_path: Path
) -> None:
    first = run(wh, hub, "2006-03", CLOSED, tmp_path / "a")
    second = run(wh, hub, "2006-03", CLOSED + timedelta(days=3), tmp_path / "b")
    assert first.created
    assert not second.created
    assert second.version == first.version
    assert first.version.version == 1
    assert first.files["csv"].read_bytes() == second.files["csv"].read_bytes()
    assert first.files["hxl"].read_bytes() == second.files["hxl"].read_bytes()
    assert [v.version for v in versions(wh, "2006-03")] == [1]
    assert first.version.changes["previous"] is None
    assert first.version.changes["added"] == []  # version 1 is the month as first rolled up
    assert version_rows(wh, first.version) == list(first.rollup.rows)


def march_event(kind: str) -> tuple[str, dict[str, Any]]:
    """A valid March event of ``kind`` with one revision only (topic, body)."""
    sim = simulation()
    seen: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for index, message in enumerate(sim.messages):
        if index not in sim.rejections:
            body = json.loads(message.value)
            seen[(body["partner_id"], body["event_id"])].append((message.topic, body))
    for _, found in sorted(seen.items()):
        revisions = {body["revision"] for _, body in found}
        topic, body = found[0]
        if (
            revisions == {1}
            and body["kind"] == kind
            and body["status"] == "active"
            and body["occurred_on"].startswith("2006-03")
        ):
            return topic, body
    raise AssertionError(f"no single-revision March {kind} event in the simulation")


def revision_2(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**body, "revision": 2, "reported_at": "2006-05-20T16:00:00+06:00", **changes}


def key_of(body: dict[str, Any]) -> tuple[str, ...]:
    payload = body["payload"]
    indicator = payload.get("category") or (
        f"{payload['activity']}.{payload['incident_type']}"
        if "incident_type" in payload
        else payload["activity"]
    )
    return (body["partner_id"], body["region"], body["kind"], body["population_type"],
            body.get("origin", ""), indicator)  # fmt: skip


def test_a_late_correction_makes_version_2_with_the_change_recorded(
    wh: Warehouse, hub: HubSettings, tmp_path: Path
) -> None:
    v1 = run(wh, hub, "2006-03", CLOSED, tmp_path / "v1")
    topic, body = march_event("assistance")
    corrected = revision_2(body)
    corrected["beneficiaries"] = json.loads(json.dumps(body["beneficiaries"]))
    corrected["beneficiaries"]["female"]["18-59"] += 3
    sgbv_topic, sgbv = march_event("sgbv")
    retracted = revision_2(sgbv, status="retracted")
    messages = [
        (topic, json.dumps(corrected).encode()),
        (sgbv_topic, json.dumps(retracted).encode()),
    ]
    ingest_messages(wh, messages, simulation().spec.partners, now=LATE, ref_key=b"test-hub-secret")

    v2 = run(wh, hub, "2006-03", LATE + timedelta(hours=1), tmp_path / "v2")
    assert v2.created
    assert v2.version.version == 2
    assert v2.version.facts_through == LATE
    assert v2.version.created_at == LATE + timedelta(hours=1)
    changes = v2.version.changes
    assert changes["previous"] == 1
    assert changes["previous_facts_through"] == v1.version.facts_through.isoformat()  # type: ignore[union-attr]
    by_key = {tuple(c["key"][k] for k in KEY): c["fields"] for c in changes["changed"]}
    removed = {tuple(r["key"][k] for k in KEY) for r in changes["removed"]}
    old = next(r for r in v1.rollup.rows if r.key == key_of(body))
    assert by_key[key_of(body)]["female_18_59"] == [old.cells[3], old.cells[3] + 3]
    assert key_of(sgbv) in by_key or key_of(sgbv) in removed
    assert len(by_key) + len(removed) + len(changes["added"]) == 2
    # Version 1 stays as it was; the outputs say what changed, without SGBV numbers.
    assert version_rows(wh, v1.version) == list(v1.rollup.rows)
    shown = {c.key: c for c in v2.report.changes}
    assert shown[key_of(body)].fields["female_18_59"] == (old.cells[3], old.cells[3] + 3)
    # SGBV changes are one line for the kind: no exact key, no number, no count of keys.
    assert key_of(sgbv) not in shown
    assert shown[SGBV_KEY].fields == {"figures": None}
    page = v2.files["html"].read_text()
    assert "Changes since version 1" in page
    assert f"female_18_59: {old.cells[3]} → {old.cells[3] + 3}" in html.unescape(page)
    assert v2.files["csv"].name == "rollup-2006-03-v2.csv"
    # and running again changes nothing
    assert not run(wh, hub, "2006-03", LATE + timedelta(hours=2), None).created


def test_rows_of_a_run_that_died_before_its_version_row_are_never_read(
    wh: Warehouse, hub: HubSettings
) -> None:
    v1 = run(wh, hub, "2006-03", CLOSED, None)
    orphan = {name: 0 for name in ROW_COLUMNS}
    orphan.update(month=date(2006, 3, 1), version=2, checksum="dead", partner_id="ghost",
                  region="KZ-75", kind="assistance", population_type="refugee", origin="RUS",
                  indicator="cash", units=[], events=99)  # fmt: skip
    for name in ("quantity", "value_usd", "hours"):
        orphan[name] = Decimal(0)
    wh.insert("rollup_rows", columnar("rollup_rows", ROW_COLUMNS, [orphan]))
    topic, body = march_event("income_generation")
    ingest_messages(wh, [(topic, json.dumps(revision_2(body, status="retracted")).encode())],
                    simulation().spec.partners, now=LATE, ref_key=b"test-hub-secret")  # fmt: skip
    v2 = run(wh, hub, "2006-03", LATE, None)
    assert v2.version.version == 2
    stored = version_rows(wh, v2.version)
    assert stored == list(v2.rollup.rows)
    assert all(r.partner_id != "ghost" for r in stored)
    assert len(stored) <= len(v1.rollup.rows)


# --- the schedule --------------------------------------------------------------------------


def test_the_schedule_makes_first_versions_when_due_and_new_ones_after_corrections(
    wh: Warehouse, hub: HubSettings, tmp_path: Path
) -> None:
    out = tmp_path / "out"

    def due(at: datetime) -> list[tuple[str, int, bool]]:
        runs = run_due_rollups(wh, hub.rollups(), clock(at), out_dir=out)
        return [(r.version.month, r.version.version, r.created) for r in runs]

    assert due(datetime(2006, 4, 5, 23, tzinfo=UTC)) == []  # March is due on 6 April
    assert due(datetime(2006, 5, 3, tzinfo=UTC)) == [("2006-03", 1, True)]
    assert sorted(p.name for p in (out / "2006-03").iterdir()) == [
        "rollup-2006-03-v1-hxl.csv",
        "rollup-2006-03-v1.csv",
        "rollup-2006-03-v1.html",
        "rollup-2006-03-v1.sha256",
        "rollup-2006-03-v1.xlsx",
    ]
    assert due(datetime(2006, 5, 4, tzinfo=UTC)) == []
    assert due(datetime(2006, 5, 6, tzinfo=UTC)) == [("2006-04", 1, True)]
    topic, body = march_event("durable_solutions")
    ingest_messages(wh, [(topic, json.dumps(revision_2(body, status="retracted")).encode())],
                    simulation().spec.partners, now=LATE, ref_key=b"test-hub-secret")  # fmt: skip
    assert due(LATE + timedelta(hours=1)) == [("2006-03", 2, True)]
    assert (out / "2006-03" / "rollup-2006-03-v2.csv").exists()
    assert due(LATE + timedelta(hours=2)) == []


def test_nothing_is_due_without_facts(tmp_path: Path, hub: HubSettings) -> None:
    with EmbeddedWarehouse(tmp_path / "empty") as empty:
        migrate(empty)
        assert run_due_rollups(empty, hub.rollups(), clock(CLOSED), out_dir=tmp_path / "out") == []


# --- reconciliation ------------------------------------------------------------------------


def test_tampered_aggregates_are_reported_not_hidden(
    wh: Warehouse, hub: HubSettings, tmp_path: Path
) -> None:
    rows = wh.query(
        "SELECT * FROM daily_aggregates FINAL WHERE day >= '2006-03-01' AND day < '2006-04-01'"
        " AND kind = 'assistance' AND events > 0 ORDER BY day, partner_id, region, indicator"
        " LIMIT 1"
    )
    newer = rows[0]["updated_at"] + timedelta(seconds=1)  # the newest version of a key wins
    tampered = {**rows[0], "events": rows[0]["events"] + 5, "updated_at": newer}
    wh.insert("daily_aggregates", columnar("daily_aggregates", AGGREGATE_COLUMNS, [tampered]))
    result = run(wh, hub, "2006-03", CLOSED, tmp_path / "out")
    key = tuple(str(rows[0][k]) for k in KEY)
    differences = {d.key: d.fields for d in result.report.differences}
    assert list(differences) == [key]
    facts_events = next(r.events for r in result.rollup.rows if r.key == key)
    assert differences[key] == {"events": (facts_events, facts_events + 5)}
    assert result.version.differing_keys == 1
    assert result.version.reconciliation["differences"][0]["fields"]["events"] == [
        facts_events,
        facts_events + 5,
    ]
    page = html.unescape(result.files["html"].read_text())
    assert "differ from the facts for 1 of" in page
    book = openpyxl.load_workbook(result.files["xlsx"], read_only=True)
    summary = [[c for c in r if c is not None] for r in book["Summary"].iter_rows(values_only=True)]
    book.close()
    assert [
        "Reconciliation with the streaming aggregates",
        f"1 of {result.report.reconciled_keys} keys differ",
    ] in summary


# --- the outputs ---------------------------------------------------------------------------


@pytest.fixture
def outputs(shared: Warehouse, hub: HubSettings, tmp_path: Path) -> RollupRun:
    result = run(shared, hub, "2006-03", CLOSED, tmp_path / "out")
    assert result.report.publication.withheld > 0  # the month has small SGBV numbers
    return result


def test_the_csv_shows_no_small_sgbv_number_and_other_kinds_exactly(outputs: RollupRun) -> None:
    raw = outputs.files["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads the file as UTF-8
    published = csv_rows(raw.decode("utf-8-sig"))
    exact = csv_rows(exact_csv("2006-03", outputs.rollup.rows))
    assert [list(r) for r in published[:1]] == [list(COLUMNS)]
    # Other kinds: exactly the exact rows. SGBV: the engine's grain, never the exact keys.
    assert [r for r in published if r["kind"] != "sgbv"] == [
        r for r in exact if r["kind"] != "sgbv"
    ]
    sgbv = [r for r in published if r["kind"] == "sgbv"]
    assert sgbv
    assert all(r["partner_id"] == "" and r["origin"] == "" for r in sgbv)
    true_total = sum(int(r["persons"]) for r in exact if r["kind"] == "sgbv")
    (total,) = [
        r for r in sgbv if not r["region"] and not r["indicator"] and not r["population_type"]
    ]
    assert total["persons"] in ("x", str(true_total))
    withheld = 0
    for shown in sgbv:
        assert not any(small(shown[n]) for n in COUNTS), shown
        withheld += sum(shown[n] == "x" for n in COUNTS)
    assert withheld == outputs.report.publication.withheld > 0


def test_the_xlsx_opens_and_its_cells_equal_the_csv(outputs: RollupRun) -> None:
    published = csv_rows(outputs.files["csv"].read_text(encoding="utf-8-sig"))
    book = openpyxl.load_workbook(outputs.files["xlsx"], read_only=True)
    try:
        kinds = [kind.value for kind in Kind]
        assert book.sheetnames == ["Summary", *kinds, "protection training", "RSD pipeline"]
        lines = []
        for kind in kinds:
            sheet = list(book[kind].iter_rows(values_only=True))
            # the CSV's columns, each code with its name beside it
            assert [c for c in sheet[0] if not str(c).endswith("_name")] == list(COLUMNS)
            codes = [i for i, c in enumerate(sheet[0]) if not str(c).endswith("_name")]
            for row in sheet[1:]:
                values = [row[i] for i in codes]
                lines.append(
                    dict(
                        zip(
                            COLUMNS,
                            (as_csv(c, v) for c, v in zip(COLUMNS, values, strict=True)),
                            strict=True,
                        )
                    )
                )
        summary = {r[0]: r for r in book["Summary"].iter_rows(values_only=True) if r and r[0]}
    finally:
        book.close()
    assert sorted(lines, key=lambda r: [r[k] for k in KEY]) == published
    sgbv = summary["sgbv"]
    assert not any(isinstance(v, int | float) and 0 < v < THRESHOLD for v in sgbv[1:])


def as_csv(column: str, value: Any) -> str:
    """An XLSX cell as the CSV writes it."""
    if value is None:
        return ""
    if column in ("quantity", "value_usd", "hours"):
        return f"{Decimal(str(value)):.2f}"
    return str(value)


def test_the_hxl_file_parses_with_libhxl_and_carries_the_numbers(outputs: RollupRun) -> None:
    published = csv_rows(outputs.files["csv"].read_text(encoding="utf-8-sig"))
    options = hxl.InputOptions(allow_local=True)
    with hxl.data(str(outputs.files["hxl"]), options) as dataset:
        rows = list(dataset)
        tags = [column.display_tag for column in dataset.columns]
    assert tags[:4] == ["#date", "#org+code", "#org+name", "#adm1+code"]
    assert "#reached+f+adults+age18_59" in tags
    assert "#reached+m+elderly+age60plus" in tags
    assert len(rows) == len(published)
    for row, line in zip(rows, published, strict=True):
        # libhxl reads an empty cell (an SGBV line's "all") as None
        assert (row.get("#org+code") or "") == line["partner_id"]
        assert (row.get("#adm1+code") or "") == line["region"]
        assert row.get("#sector+code") == line["kind"]
        shown = row.get("#reached+f+adults+age18_59") or ""  # libhxl reads an empty cell as None
        assert shown == ("" if line["female_18_59"] == "x" else line["female_18_59"])
        if line["kind"] == "sgbv":
            numbers = [
                v
                for v, col in zip(row.values, tags, strict=True)
                if "+num" in col or col.startswith("#reached")
            ]
            assert not any(small(v or "") for v in numbers), row.values
            assert set((row.get("#meta+suppressed") or "").split()) == {
                n for n in COUNTS if line[n] == "x"
            }
    with hxl.data(str(outputs.files["hxl"]), options) as dataset:
        report = hxl.validate(dataset)  # the HXL core schema: numbers where numbers belong
    assert report["stats"]["error"] == 0


def html_cells(page: str) -> list[list[str]]:
    """The text of every table row's cells."""
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        out.append([html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return out


def test_the_html_is_self_contained_and_shows_no_small_sgbv_number(outputs: RollupRun) -> None:
    page = outputs.files["html"].read_text()
    assert page.startswith("<!doctype html>")
    assert not re.search(r"""(src|href)\s*=|url\(\s*['"]?http|@import|<script|<link""", page)
    for title in ("Activity by kind", "Coverage by region", "Sex and age",
                  "Progress against targets", "Partner data quality", "Reconciliation",
                  "Version 1"):  # fmt: skip
        assert f"<h2>{title}</h2>" in page
    assert page.count("<svg") >= 4
    wcc = {p.partner_id for p in outputs.report.partners if "sgbv" in p.mandated}
    checked = 0
    for cells in html_cells(page):
        if cells and cells[0] == label("sgbv"):  # activity by kind, progress against targets
            numbers = [c for c in cells[1:] if re.fullmatch(r"≥?[\d,]+(\.\d+)?", c)]
            assert not any(small(n.lstrip("≥")) for n in numbers), cells
            checked += 1
        if cells and any(f"({code})" in cells[0] for code in wcc):  # scorecard: events
            assert not small(cells[4]), cells
            checked += 1
    assert checked >= 2 + len(wcc)
    tooltips = re.findall(rf"<title>{re.escape(label('sgbv'))}: ([^<]+)</title>", page)
    assert tooltips
    assert not any(small(t) for t in tooltips)


def test_the_rollup_tables_have_the_listed_columns(shared: Warehouse) -> None:
    rows = shared.query(
        "SELECT table, name FROM system.columns WHERE database = currentDatabase()"
        " AND table IN {tables:Array(String)} ORDER BY table, position",
        {"tables": list(ROLLUP_TABLES)},
    )
    for table, columns in ROLLUP_TABLES.items():
        assert [r["name"] for r in rows if r["table"] == table] == list(columns), table
