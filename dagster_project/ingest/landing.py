"""Reading landing files exactly as publishers ship them: CSV, zipped CSV, or a workbook.

A checksum is taken of the extracted CSV bytes, not of the zip, so the same
data re-zipped (or shipped unzipped) is recognised as the same data. Workbooks
(`.xlsx`, as NHS England publishes KH03) are passed through whole for their
feed to open; asked for text, they are refused like any other binary file.

A plain file on disk is never read whole unless a parser asks for all of it:
its checksum, encoding and rows are streamed, so a national incident file of
millions of lines costs a buffer, not the file, in memory.
"""

from __future__ import annotations

import codecs
import csv as csvlib
import hashlib
import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

import pandas as pd

DATA_SUFFIXES = (".csv", ".zip", ".xlsx")
_CHUNK = 1 << 20


class LandingFileError(Exception):
    """A landing file that cannot be read at all; the message names the file."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


@dataclass(frozen=True)
class LandingCsv:
    """One delivery: a plain CSV, one CSV member of a zip, or a workbook.

    `payload` holds the bytes of a zip member; a plain file leaves it empty and
    is read from `path` only as far as each use needs.
    """

    path: Path
    member: str | None
    payload: bytes | None = None

    @property
    def source(self) -> str:
        """How a person would name it: `pack.zip!file.csv` for a zip member."""
        return f"{self.path.name}!{self.member}" if self.member else self.path.name

    @property
    def csv_name(self) -> str:
        return Path(self.member).name if self.member else self.path.name

    @property
    def data(self) -> bytes:
        """Every byte of the file, for parsers of small files (workbooks, PROMs packs)."""
        return self.payload if self.payload is not None else self.path.read_bytes()

    def open_binary(self) -> BinaryIO:
        return io.BytesIO(self.payload) if self.payload is not None else self.path.open("rb")

    def _chunks(self) -> Iterator[bytes]:
        with self.open_binary() as handle:
            while chunk := handle.read(_CHUNK):
                yield chunk

    @cached_property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        for chunk in self._chunks():
            digest.update(chunk)
        return digest.hexdigest()

    def _refuse_binary(self, head: bytes) -> None:
        if b"\x00" in head[:4096]:
            raise LandingFileError(self.source, "is not a text file (it contains NUL bytes)")

    @cached_property
    def encoding(self) -> str:
        """UTF-8 (with or without byte-order mark) if every byte decodes so, else Windows-1252."""
        head = next(self._chunks(), b"")
        self._refuse_binary(head)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for chunk in self._chunks():
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
        return "utf-8-sig"

    def text(self) -> str:
        """Decoded text: UTF-8 (with or without byte-order mark), else Windows-1252."""
        try:
            return self.data.decode(self.encoding, errors="strict")
        except UnicodeDecodeError as exc:
            raise LandingFileError(
                self.source, "is not a text file in UTF-8 or Windows-1252"
            ) from exc

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line the row starts on, cells) for every CSV row, streamed; blank lines come as
        no cells. The reader counts to a row's last line, which for a quoted cell running
        over several lines is not the line a person finds the row on."""
        with self.open_binary() as raw:
            handle = io.TextIOWrapper(raw, encoding=self.encoding, errors="strict", newline="")
            reader = csvlib.reader(handle)
            start = 1
            try:
                for cells in reader:
                    yield start, cells
                    start = reader.line_num + 1
            except UnicodeDecodeError as exc:
                raise LandingFileError(
                    self.source, "is not a text file in UTF-8 or Windows-1252"
                ) from exc
            except csvlib.Error as exc:
                raise LandingFileError(
                    self.source, f"is not a readable CSV (line {reader.line_num}: {exc})"
                ) from exc

    @property
    def is_workbook(self) -> bool:
        return self.path.suffix.lower() == ".xlsx" and self.member is None

    def header(self) -> list[str]:
        with self.open_binary() as handle:
            head = handle.read(64 * 1024)
        self._refuse_binary(head)
        first = head.split(b"\n", 1)[0].rstrip(b"\r")
        try:
            text = first.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = first.decode("cp1252", errors="replace")
        return [cell.strip().strip('"').strip() for cell in text.split(",")]

    def read_frame(self, header: bool = True) -> pd.DataFrame:
        """Every cell as text, blanks as missing, with the file's own line numbers.

        Blank lines are kept while reading and dropped afterwards so that
        `row_number` is the line a person sees when opening the file (header = 1).
        Without a header, columns are numbered from 0 and rows may vary in length.
        """
        text = self.text()
        options: dict = {}
        if not header:
            widest = max((line.count(",") for line in text.splitlines()), default=0) + 1
            options = {"header": None, "names": list(range(widest))}
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                **options,
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise LandingFileError(self.source, f"is not a readable CSV ({exc})") from exc
        if header:
            frame.columns = [str(c).strip() for c in frame.columns]
        frame = frame.replace({"": None})
        frame.insert(0, "row_number", frame.index.to_numpy() + (2 if header else 1))
        blank = frame[frame.columns[1:]].isna().all(axis=1)
        return frame.loc[~blank].reset_index(drop=True)


STAMP_COLUMNS = ["source_file", "sha256", "load_id", "row_number", "file_kind"]


def stamp(frame: pd.DataFrame, source: str, sha256: str, kind: str) -> pd.DataFrame:
    """Mark every parsed row with where it came from: file, checksum, load and kind.

    `frame` starts with `row_number`; the stamp columns go around it so every
    parsed table begins source_file, sha256, load_id, row_number, file_kind.
    """
    frame.insert(0, "source_file", source)
    frame.insert(1, "sha256", sha256)
    frame.insert(2, "load_id", sha256[:16])
    frame.insert(4, "file_kind", kind)
    return frame


def iter_landing_csvs(folder: Path) -> Iterator[LandingCsv]:
    """Every CSV under `folder`, in a stable order; `__MACOSX/` entries are ignored."""
    for path in landing_paths(folder):
        yield from csvs_in(path)


def landing_paths(folder: Path) -> list[Path]:
    """The delivered files under `folder`, in a stable order, hidden and `__MACOSX/` ones aside."""
    if not folder.exists():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".") and "__MACOSX" not in p.parts
    )


def csvs_in(path: Path) -> Iterator[LandingCsv]:
    """The data in one delivered file: itself, or each CSV in a zip."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".xlsx"):
        yield LandingCsv(path, None)
    elif suffix == ".zip":
        yield from _zip_members(path)
    else:
        raise LandingFileError(path.name, "is not a .csv, .zip or .xlsx file")


def _zip_members(path: Path) -> Iterator[LandingCsv]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(
                n
                for n in archive.namelist()
                if not n.endswith("/")
                and not n.startswith("__MACOSX/")
                and not Path(n).name.startswith("._")
            )
            csvs = [n for n in names if n.lower().endswith(".csv")]
            if not csvs:
                raise LandingFileError(path.name, "holds no CSV file")
            members = [(n, archive.read(n)) for n in csvs]
    except zipfile.BadZipFile as exc:
        raise LandingFileError(path.name, f"is not a readable zip ({exc})") from exc
    except (EOFError, OSError, zlib.error, zipfile.LargeZipFile) as exc:
        raise LandingFileError(path.name, f"is truncated or damaged ({exc})") from exc
    for name, data in members:
        yield LandingCsv(path, name, data)
