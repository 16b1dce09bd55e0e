"""Serving the static site on this machine, for a provider or engineer to browse it.

Only the site folder is served (the standard library's handler refuses paths that
climb out of it), on the loopback address only, so nothing else in the home
folder, such as record-level data in the warehouse, can be fetched through it.
"""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOST = "127.0.0.1"
DEFAULT_PORT = 8000


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def make_server(site: Path, port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
    """A server for `site` on 127.0.0.1 (port 0 picks a free one); call serve_forever()."""
    folder = Path(site)
    if not (folder / "index.html").is_file():
        raise FileNotFoundError(f"no site to serve at {folder}: run the pipeline first")
    handler = functools.partial(_QuietHandler, directory=str(folder.resolve()))
    return ThreadingHTTPServer((HOST, port), handler)
