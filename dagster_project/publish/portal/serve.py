"""Serving the static site on this machine, for a provider or engineer to browse it.

Only the site folder is served (the standard library's handler refuses paths that
climb out of it), on the loopback address only, so nothing else in the home
folder, such as record-level data in the warehouse, can be fetched through it.

Within the site, only pages and downloads are served. A folder without an
`index.html` gets 404 rather than a listing, so the site's layout is what its
links show and no more; and hidden files (a name starting with a dot, or
anything under such a folder) get 404 too: the publisher keeps its own
bookkeeping there, such as the checksum each PDF was printed from, and an
editor or copy tool may leave its own.
"""

from __future__ import annotations

import functools
import os
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
INDEX = "index.html"


class _SiteHandler(SimpleHTTPRequestHandler):
    """The standard handler, without folder listings, hidden files or a request log."""

    def send_head(self) -> BinaryIO | None:  # GET and HEAD both come here
        path = Path(self.translate_path(self.path))
        hidden = any(part.startswith(".") for part in path.relative_to(self.directory).parts)
        if hidden or (path.is_dir() and not (path / INDEX).is_file()):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        return super().send_head()

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        """Never a listing, should send_head ever reach here."""
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def make_server(site: Path, port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
    """A server for `site` on 127.0.0.1 (port 0 picks a free one); call serve_forever()."""
    folder = Path(site)
    if not (folder / INDEX).is_file():
        raise FileNotFoundError(f"no site to serve at {folder}: run the pipeline first")
    handler = functools.partial(_SiteHandler, directory=str(folder.resolve()))
    return ThreadingHTTPServer((HOST, port), handler)
