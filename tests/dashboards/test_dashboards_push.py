"""``partnerhub dashboards push`` through grafana-client: against a local HTTP server that
answers and records the Grafana API calls, and against a real Grafana when ``GRAFANA_URL``
is set (a Grafana without the hub's file provisioning; ``GRAFANA_TOKEN`` or
``user:password@`` in the URL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dashboards.catalog import dashboards
from dashboards.push import PushError, connect, folder_uid, push
from partnerhub.settings import HubSettings

pytestmark = pytest.mark.grafana

SETTINGS = HubSettings(_env_file=None)  # type: ignore[call-arg]
MODELS = [d.to_json("partnerhub-clickhouse") for d in dashboards(SETTINGS.dashboard_context())]
UIDS = [m["uid"] for m in MODELS]
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class FakeGrafana:
    """What a Grafana holds, and every API call it was sent."""

    folders: list[dict[str, Any]] = field(default_factory=list)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    #: Answer dashboard saves with 403, as for a token without the Editor role.
    read_only: bool = False


def _handler(state: FakeGrafana) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            state.calls.append((self.command, self.path, body))
            state.auth.append(self.headers.get("Authorization"))
            return body

        def do_GET(self) -> None:
            self._record()
            if self.path.split("?")[0] == "/api/folders":
                self._reply(200, state.folders)
            elif self.path.startswith("/api/dashboards/uid/"):
                uid = self.path.removeprefix("/api/dashboards/uid/")
                if uid in state.dashboards:
                    self._reply(200, state.dashboards[uid])
                else:
                    self._reply(404, {"message": "Dashboard not found"})
            else:
                self._reply(404, {"message": "Not found"})

        def do_POST(self) -> None:
            body = self._record()
            if self.path == "/api/folders":
                folder = {"id": len(state.folders) + 1, "uid": body["uid"], "title": body["title"]}
                state.folders.append(folder)
                self._reply(200, folder)
            elif self.path == "/api/dashboards/db" and state.read_only:
                self._reply(403, {"message": "Permission denied"})
            elif self.path == "/api/dashboards/db":
                model = body["dashboard"]
                old = state.dashboards.get(model["uid"])
                if old and not body.get("overwrite"):
                    self._reply(412, {"message": "version-mismatch"})
                    return
                version = (old["dashboard"]["version"] + 1) if old else 1
                state.dashboards[model["uid"]] = {
                    "dashboard": {**model, "version": version},
                    "meta": {"folderUid": body["folderUid"], "provisioned": False},
                }
                self._reply(200, {"status": "success", "uid": model["uid"], "version": version})
            else:
                self._reply(404, {"message": "Not found"})

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@pytest.fixture
def grafana() -> Iterator[tuple[str, FakeGrafana]]:
    state = FakeGrafana()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_push_creates_the_folder_and_saves_every_dashboard(
    grafana: tuple[str, FakeGrafana],
) -> None:
    url, state = grafana
    result = push(connect(url, "secret-token"), MODELS, "Partner Hub")
    assert result.folder_uid == "partnerhub"
    assert result.folder_created
    assert result.dashboards == tuple(UIDS)
    assert state.folders == [{"id": 1, "uid": "partnerhub", "title": "Partner Hub"}]
    saves = [body for method, path, body in state.calls if path == "/api/dashboards/db"]
    assert [s["dashboard"]["uid"] for s in saves] == UIDS
    assert all(s["overwrite"] is True and s["folderUid"] == "partnerhub" for s in saves)
    assert all(s["dashboard"]["id"] is None for s in saves)
    assert set(state.auth) == {"Bearer secret-token"}


def test_pushing_again_finds_the_folder_and_overwrites_in_place(
    grafana: tuple[str, FakeGrafana],
) -> None:
    url, state = grafana
    api = connect(url, "t")
    push(api, MODELS, "Partner Hub")
    state.calls.clear()
    again = push(api, MODELS, "Partner Hub")
    assert not again.folder_created
    assert [c for c in state.calls if c[0] == "POST" and c[1] == "/api/folders"] == []
    assert sorted(state.dashboards) == sorted(UIDS)
    assert {d["dashboard"]["version"] for d in state.dashboards.values()} == {2}


def test_an_existing_folder_is_found_by_title(grafana: tuple[str, FakeGrafana]) -> None:
    url, state = grafana
    state.folders.append({"id": 7, "uid": "abc123", "title": "Coordination"})
    result = push(connect(url, "t"), MODELS[:1], "Coordination")
    assert (result.folder_uid, result.folder_created) == ("abc123", False)


def test_a_provisioned_dashboard_is_never_overwritten(grafana: tuple[str, FakeGrafana]) -> None:
    url, state = grafana
    state.dashboards[UIDS[-1]] = {"dashboard": MODELS[-1], "meta": {"provisioned": True}}
    with pytest.raises(PushError, match=f"dashboard {UIDS[-1]} is provisioned from files"):
        push(connect(url, "t"), MODELS, "Partner Hub")
    # Refused before anything was saved or created.
    assert [c for c in state.calls if c[0] == "POST"] == []


def test_grafana_errors_become_one_line(grafana: tuple[str, FakeGrafana]) -> None:
    url, state = grafana
    state.read_only = True
    with pytest.raises(PushError) as refused:
        push(connect(url, "t"), MODELS[:1], "Partner Hub")
    assert str(refused.value) == (
        "Grafana refused to save dashboard partnerhub-overview: Client Error 403: Permission denied"
    )


def test_unreachable_grafana_is_one_line() -> None:
    with pytest.raises(
        PushError, match=r"^cannot reach Grafana to read dashboard partnerhub-overview: "
    ):
        push(connect("http://127.0.0.1:9", "t", timeout=2), MODELS[:1], "Partner Hub")


def test_folder_uids_are_stable() -> None:
    assert folder_uid("Partner Hub") == "partnerhub"
    assert folder_uid("Partner Hub") == folder_uid("partner hub!")
    with pytest.raises(PushError):
        folder_uid("—")


def test_the_cli_pushes_with_the_token_and_folder_from_the_settings(
    grafana: tuple[str, FakeGrafana],
) -> None:
    url, state = grafana
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PARTNERHUB_GRAFANA__TOKEN": "from-settings",
        "PARTNERHUB_GRAFANA__FOLDER": "Hub Test",
        "PARTNERHUB_GRAFANA__DATASOURCE_UID": "other-clickhouse",
        "PARTNERHUB_GRAFANA__SGBV_DATASOURCE_UID": "other-sgbv",
    }
    result = subprocess.run(
        [sys.executable, "-m", "partnerhub", "dashboards", "push", "--url", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert f"pushed {len(UIDS)} dashboards to folder hubtest (created)" in result.stdout
    assert set(state.auth) == {"Bearer from-settings"}
    # Two data sources: the SGBV dashboard on its own, every other one on the main one.
    saved = state.dashboards["partnerhub-sgbv"]["dashboard"]
    assert saved["panels"][1]["datasource"]["uid"] == "other-sgbv"
    overview = state.dashboards["partnerhub-overview"]["dashboard"]
    assert overview["panels"][1]["datasource"]["uid"] == "other-clickhouse"


def test_the_cli_says_when_no_url_is_known() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "partnerhub", "dashboards", "push"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip() == "error: no Grafana URL: pass --url or set PARTNERHUB_GRAFANA__URL"
    )


@pytest.mark.skipif(
    not os.environ.get("GRAFANA_URL"),
    reason="no real Grafana: set GRAFANA_URL (and GRAFANA_TOKEN) to push to one",
)
def test_push_to_a_real_grafana() -> None:
    api = connect(os.environ["GRAFANA_URL"], os.environ.get("GRAFANA_TOKEN"))
    folder = "Partner Hub push test"
    first = push(api, MODELS, folder)
    second = push(api, MODELS, folder)
    assert first.folder_uid == second.folder_uid
    assert not second.folder_created
    for uid in UIDS:
        saved = api.dashboard.get_dashboard(uid)
        assert saved["meta"]["folderUid"] == first.folder_uid
        assert saved["dashboard"]["title"] == next(m["title"] for m in MODELS if m["uid"] == uid)
