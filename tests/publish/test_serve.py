"""`qa serve` serves pages and downloads, and nothing a browser was not meant to find: no
folder listings and no hidden files, each a plain 404, while a folder's index.html is
still its page.

The real server runs on a free port in a thread, asked over HTTP as a browser asks.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dagster_project.publish.portal.serve import make_server


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve") / "site"
    files = {
        "index.html": "<h1>Quality Accounts by provider</h1>",
        "RAA/index.html": "<h1>Alpha NHS Trust</h1>",
        "RAA/2024-25/quality-account.html": "<h1>Quality Account 2024-25</h1>",
        "RAA/2024-25/data/core-shmi.csv": "Reporting period,SHMI\n2024-25,1.01\n",
        "RAA/2024-25/.quality-account.pdf.sha256": "0" * 64,
        ".git/config": "[core]\n",
        ".env": "SECRET=1\n",
        "RAA/.drafts/notes.html": "<p>not for publication</p>",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def base(site: Path) -> Iterator[str]:
    server = make_server(site, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _get(url: str, method: str = "GET") -> tuple[int, str]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def test_pages_downloads_and_folder_index_pages_are_served(base):
    assert _get(f"{base}/") == (200, "<h1>Quality Accounts by provider</h1>")
    assert _get(f"{base}/RAA/") == (200, "<h1>Alpha NHS Trust</h1>")
    assert _get(f"{base}/RAA") == (200, "<h1>Alpha NHS Trust</h1>")  # redirected to RAA/
    assert _get(f"{base}/RAA/2024-25/quality-account.html")[0] == 200
    status, text = _get(f"{base}/RAA/2024-25/data/core-shmi.csv")
    assert (status, text.splitlines()[0]) == (200, "Reporting period,SHMI")


@pytest.mark.parametrize(
    "path", ["/RAA/2024-25/", "/RAA/2024-25", "/RAA/2024-25/data/", "/RAA/2024-25/data"]
)
def test_a_folder_without_index_html_is_not_listed(base, path):
    status, text = _get(base + path)
    assert status == 404
    assert "core-shmi.csv" not in text and "quality-account.html" not in text


@pytest.mark.parametrize(
    "path",
    [
        "/.env",
        "/.git/config",
        "/.git/",
        "/RAA/2024-25/.quality-account.pdf.sha256",
        "/RAA/.drafts/notes.html",
        "/RAA/%2edrafts/notes.html",
        "/RAA/2024-25/../.drafts/notes.html",
    ],
)
def test_hidden_files_and_folders_are_not_served(base, path):
    for method in ("GET", "HEAD"):
        status, text = _get(base + path, method)
        assert status == 404, (method, path)
        assert "SECRET" not in text and "not for publication" not in text and "0000" not in text
