"""Push the dashboards to a Grafana through its HTTP API (grafana-client).

For a Grafana that does not provision the hub's dashboards from files (a shared or hosted
Grafana). Idempotent: the folder is found by title (or created with a stable uid), and every
dashboard is saved under its stable uid with ``overwrite``, so pushing twice changes nothing
but Grafana's version counter. A dashboard that Grafana provisions from files is never
overwritten: pushing it is refused, because Grafana would reject the save anyway and the
files are the source of truth there (edit the code, run ``partnerhub dashboards build``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dashboards.model import JSON

log = logging.getLogger(__name__)


class PushError(RuntimeError):
    """The push could not be done; the message says why in one line."""


@dataclass(frozen=True)
class PushResult:
    folder_uid: str
    folder_created: bool
    dashboards: tuple[str, ...]


def folder_uid(title: str) -> str:
    """A stable folder uid from its title: lower-case letters and digits only
    (``Partner Hub`` -> ``partnerhub``, the uid the file provisioning uses)."""
    uid = re.sub(r"[^a-z0-9]", "", title.lower())[:40]
    if not uid:
        raise PushError(f"folder title {title!r} gives no usable uid")
    return uid


def connect(url: str, token: str | None, *, timeout: float = 10.0) -> Any:
    """A grafana-client API for ``url``; a token is sent as a bearer token, else the URL's
    ``user:password@`` (if any) is used for basic authentication."""
    from grafana_client.api import GrafanaApi

    return GrafanaApi.from_url(url, credential=token, timeout=timeout)


def _status(error: Exception) -> int | None:
    code = getattr(error, "status_code", None)
    return code if isinstance(code, int) else None


def _call(what: str, call: Callable[[], Any]) -> Any:
    """Run one API call, turning grafana-client's errors into a one-line PushError."""
    from grafana_client.client import GrafanaException

    try:
        return call()
    except GrafanaException as error:
        raise PushError(f"Grafana refused to {what}: {error.message}") from error
    except OSError as error:
        raise PushError(f"cannot reach Grafana to {what}: {error}") from error


def ensure_folder(api: Any, title: str) -> tuple[str, bool]:
    """The uid of the folder titled ``title`` (or with its stable uid), created if missing;
    and whether it was created."""
    uid = folder_uid(title)
    folders = _call("list folders", api.folder.get_all_folders)
    for folder in folders:
        if folder.get("title") == title or folder.get("uid") == uid:
            return str(folder["uid"]), False
    _call(f"create folder {title!r}", lambda: api.folder.create_folder(title, uid=uid))
    log.info("created Grafana folder %r (uid %s)", title, uid)
    return uid, True


def _existing(api: Any, uid: str) -> JSON | None:
    from grafana_client.client import GrafanaException

    try:
        found: JSON = api.dashboard.get_dashboard(uid)
        return found
    except GrafanaException as error:
        if _status(error) == 404:
            return None
        raise PushError(f"Grafana refused to read dashboard {uid}: {error.message}") from error
    except OSError as error:
        raise PushError(f"cannot reach Grafana to read dashboard {uid}: {error}") from error


def _saver(api: Any, body: JSON) -> Callable[[], Any]:
    return lambda: api.dashboard.update_dashboard(body)


def push(
    api: Any,
    dashboards: Sequence[JSON],
    folder_title: str,
    *,
    progress: Callable[[str], None] | None = None,
) -> PushResult:
    """Save ``dashboards`` (Grafana JSON models with uids) into the folder ``folder_title``."""
    for model in dashboards:  # refuse before saving anything
        existing = _existing(api, str(model["uid"]))
        if existing is not None and existing.get("meta", {}).get("provisioned"):
            raise PushError(
                f"dashboard {model['uid']} is provisioned from files on that Grafana; "
                "update dashboards/json/ there instead of pushing"
            )
    folder, created = ensure_folder(api, folder_title)
    pushed: list[str] = []
    for model in dashboards:
        uid = str(model["uid"])
        body = {
            "dashboard": {**model, "id": None},
            "folderUid": folder,
            "message": "partnerhub dashboards push",
            "overwrite": True,
        }
        _call(f"save dashboard {uid}", _saver(api, body))
        log.info("pushed dashboard %s to folder %s", uid, folder)
        pushed.append(uid)
        if progress is not None:
            progress(uid)
    return PushResult(folder_uid=folder, folder_created=created, dashboards=tuple(pushed))
