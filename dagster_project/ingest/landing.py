"""Reading landing files exactly as publishers ship them: CSV, zipped CSV, or a workbook.

A checksum is taken of the extracted CSV bytes, not of the zip, so the same
data re-zipped (or shipped unzipped) is recognised as the same data. Workbooks
(`.xlsx`, as NHS England publishes KH03, and `.xlsm`, as it publishes the Friends and Family
Test, read as data: macros never run; `.ods`, as the CQC publishes survey results) are
passed through whole for their
feed to open; asked for text, they are refused like any other binary file.

A plain file on disk is never read whole unless a parser asks for all of it:
its checksum, encoding and rows are streamed, so a national incident file of
millions of lines costs a buffer, not the file, in memory. A zip is judged from
its directory before anything is unpacked (encrypted members, how far it would
unpack) and its members are unpacked one at a time through a guard that stops
at the limits, so a zip bomb costs a buffer too.

Landing takes files, never links: a symbolic link is refused, not followed,
since what it points at can change under a run or lie outside landing.
"""

from __future__ import annotations

import codecs
import csv as csvlib
import datetime as dt
import difflib
import hashlib
import io
import os
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from dagster_project.home import DEFAULT_ZIP_MAX_MB, DEFAULT_ZIP_MAX_RATIO, Home, resolve_home

# `.xlsm`: a workbook with macros (NHS England's FFT files), read as data; the macros are
# never run (openpyxl does not run them, and they are not even loaded). `.ods`: an
# OpenDocument spreadsheet (the CQC's survey results), a zip of XML like the others.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods")
DATA_SUFFIXES = (".csv", ".zip", *WORKBOOK_SUFFIXES)
_CHUNK = 1 << 20
_ENCRYPTED = 0x1  # general purpose flag bit 0 of a zip entry


class LandingFileError(Exception):
    """A landing file that cannot be read at all; the message names the file."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


@dataclass(frozen=True)
class ZipLimits:
    """How far one zip may unpack: its CSVs' bytes together, and bytes out per byte in."""

    max_bytes: int = DEFAULT_ZIP_MAX_MB << 20
    max_ratio: int = DEFAULT_ZIP_MAX_RATIO

    @classmethod
    def of(cls, home: Home) -> ZipLimits:
        return cls(home.zip_max_mb << 20, home.zip_max_ratio)


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
        return self.path.suffix.lower() in WORKBOOK_SUFFIXES and self.member is None

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


def iter_landing_csvs(folder: Path, limits: ZipLimits | None = None) -> Iterator[LandingCsv]:
    """Every CSV under `folder`, in a stable order; `__MACOSX/` entries are ignored."""
    for path in landing_paths(folder):
        yield from csvs_in(path, limits)


def _hidden(path: Path) -> bool:
    return path.name.startswith(".") or "__MACOSX" in path.parts


def landing_paths(folder: Path) -> list[Path]:
    """The delivered files under `folder`, in a stable order, hidden and `__MACOSX/` ones aside.

    Symbolic links are listed, not followed, so that `csvs_in` refuses them by name; a folder
    that is itself a link is listed as one.
    """
    if folder.is_symlink():
        return [folder]
    if not folder.exists():
        return []
    return sorted(
        p for p in folder.rglob("*") if (p.is_symlink() or p.is_file()) and not _hidden(p)
    )


def csvs_in(path: Path, limits: ZipLimits | None = None) -> Iterator[LandingCsv]:
    """The data in one delivered file: itself, or each CSV in a zip (within `limits`, by
    default the environment's: $QA_ZIP_MAX_MB, $QA_ZIP_MAX_RATIO)."""
    if path.is_symlink():
        raise LandingFileError(
            path.name,
            f"is a symbolic link (to {os.readlink(path)}); links in landing are never "
            "followed: put the file itself there",
        )
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield LandingCsv(path, None)
    elif suffix in WORKBOOK_SUFFIXES:  # a zip of XML: judged by the same limits before opening
        _check_workbook(path, limits or ZipLimits.of(resolve_home()))
        yield LandingCsv(path, None)
    elif suffix == ".zip":
        yield from _zip_members(path, limits or ZipLimits.of(resolve_home()))
    else:
        raise LandingFileError(path.name, "is not a .csv, .zip, .xlsx, .xlsm or .ods file")


def _zip_members(path: Path, limits: ZipLimits) -> Iterator[LandingCsv]:
    """Each CSV in a zip, unpacked one at a time once the zip's directory has passed.

    The directory states each member's sizes and whether it is encrypted, so a zip bomb or a
    password-protected member is refused before a byte is unpacked. The bytes are counted
    again as they come out, in case the directory understates them.
    """
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise LandingFileError(path.name, f"is not a readable zip ({exc})") from exc
    except (EOFError, OSError, zlib.error, zipfile.LargeZipFile) as exc:
        raise LandingFileError(path.name, f"is truncated or damaged ({exc})") from exc
    with archive:
        members = sorted(
            (
                i
                for i in archive.infolist()
                if not i.is_dir()
                and not i.filename.startswith("__MACOSX/")
                and not Path(i.filename).name.startswith("._")
                and i.filename.lower().endswith(".csv")
            ),
            key=lambda i: i.filename,
        )
        if not members:
            raise LandingFileError(path.name, "holds no CSV file")
        _check_total(path, members, limits)
        unpacked = 0
        for info in members:
            payload = _unpack(archive, path, info, limits, limits.max_bytes - unpacked)
            unpacked += len(payload)
            yield LandingCsv(path, info.filename, payload)


def _check_workbook(path: Path, limits: ZipLimits) -> None:
    """Refuse a workbook that would unpack past the limits; one that is no zip at all is
    left for its parser, which says what it is."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error):
        return
    _check_total(path, members, limits)


def _check_total(path: Path, members: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Each member's flags and ratio, then the size of them all, from the zip's directory."""
    for info in members:
        _check_member(path, info, limits)
    declared = sum(i.file_size for i in members)
    if declared > limits.max_bytes:
        raise LandingFileError(
            path.name,
            f"would unpack to {declared:,} bytes, more than the {limits.max_bytes >> 20:,} MB "
            "a zip may ($QA_ZIP_MAX_MB): refused unopened",
        )


def _check_member(path: Path, info: zipfile.ZipInfo, limits: ZipLimits) -> None:
    if info.flag_bits & _ENCRYPTED:
        raise LandingFileError(
            path.name,
            f"member {info.filename} is encrypted (password-protected): the pipeline reads no "
            "passwords, so ask the sender for the file without one",
        )
    if info.file_size > limits.max_ratio * max(info.compress_size, 1):
        raise LandingFileError(
            path.name,
            f"member {info.filename} would unpack "
            f"{info.file_size / max(info.compress_size, 1):,.0f} times its packed "
            f"size ({info.file_size:,} bytes), more than the {limits.max_ratio} times a zip "
            "member may ($QA_ZIP_MAX_RATIO): refused unopened as a likely zip bomb",
        )


def _unpack(
    archive: zipfile.ZipFile, path: Path, info: zipfile.ZipInfo, limits: ZipLimits, budget: int
) -> bytes:
    """The member's bytes, read in chunks and stopped at the size and ratio limits."""
    most = min(budget, limits.max_ratio * max(info.compress_size, 1))
    out = io.BytesIO()
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                if out.tell() + len(chunk) > most:
                    raise LandingFileError(
                        path.name,
                        f"member {info.filename} unpacks to more than the zip's directory "
                        "says and past the limits "
                        "($QA_ZIP_MAX_MB, $QA_ZIP_MAX_RATIO): refused as a likely zip bomb",
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise LandingFileError(
            path.name, f"member {info.filename} is damaged and cannot be unpacked ({exc})"
        ) from exc
    return out.getvalue()


# --------------------------------------------------------------------------- outside the feeds


@dataclass(frozen=True)
class Ignored:
    """A path in landing no feed reads, and why."""

    path: Path
    source: str  # relative to landing, as a person would look for it
    note: str


def ignored_in(landing: Path, folders: Iterable[str]) -> list[Ignored]:
    """Files at the top of landing or in a folder that is not one of `folders` (the feeds'
    and any other stage's), which no run reads: listed so that a misplaced delivery is seen,
    not silently left out. Links among them are listed too, and not followed."""
    known = set(folders)
    if not landing.is_dir():
        return []
    found: list[Ignored] = []
    for entry in sorted(landing.iterdir()):
        if _hidden(entry) or entry.name in known:
            continue  # a feed's folder that is a link is its feed's to refuse, by name
        if entry.is_symlink() or entry.is_file():
            where = "at the top of landing, not in a feed's folder"
            found.append(Ignored(entry, entry.name, _why(entry, where)))
            continue
        guess = difflib.get_close_matches(entry.name, sorted(known), n=1)
        where = f"in {entry.name}/, which is not a feed's folder" + (
            f" (did you mean {guess[0]}/?)" if guess else ""
        )
        for path in sorted(entry.rglob("*")):
            if (path.is_symlink() or path.is_file()) and not _hidden(path):
                found.append(Ignored(path, str(path.relative_to(landing)), _why(path, where)))
    return found


def _why(path: Path, where: str) -> str:
    return where + ("; a symbolic link, not followed" if path.is_symlink() else "")


def link_or_file_sha256(path: Path) -> str:
    """A file's checksum, or for a link the checksum of where it points (never followed)."""
    if path.is_symlink():
        return hashlib.sha256(os.readlink(path).encode()).hexdigest()
    return LandingCsv(path, None).sha256


# --------------------------------------------------------------------------- what files say

# Labels publishers put above the data: KH03's `Published:` and `Revised:`, UKHSA's archive
# tables' `Publication date:`.
_PUBLISHED = {"published", "publication date", "date published", "date of publication",
              "release date", "issued", "issue date", "date of issue"}  # fmt: skip
_REVISED = {"revised", "revision date", "date revised", "last revised", "updated",
            "last updated", "date updated", "amended", "corrected"}  # fmt: skip
_YES = {"yes", "y", "true"}
_STATED_ROWS = 40
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}")
# A CSV line's first cell (quoted or not) and the rest, whatever the separator.
_LABELLED = re.compile(r'^\s*"?([^;,\t"]+)"?\s*[;,\t](.+)$')


@dataclass(frozen=True)
class Stated:
    """What a file says about its own issue: the latest publication or revision date above
    its data (None if it states none), and whether it calls itself revised."""

    date: dt.date | None = None
    revised: bool = False


def stated_issue(csv: LandingCsv) -> Stated:
    """The publication or revision date and revision mark in a file's first rows, if any."""
    dates: list[dt.date] = []
    revised = False
    for label, value in _labelled_rows(csv):
        kind = label.strip().rstrip(":").strip().lower()
        if kind not in _PUBLISHED and kind not in _REVISED:
            continue
        when = _as_date(value)
        if when is not None:
            dates.append(when)
        if kind in _REVISED and (when is not None or str(value).strip().lower() in _YES):
            revised = True
    return Stated(max(dates) if dates else None, revised)


def _labelled_rows(csv: LandingCsv) -> Iterator[tuple[str, object]]:
    """(first cell, next non-blank cell) of each of the file's first rows."""
    if csv.is_workbook:
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(csv.data), read_only=True, data_only=True)
        except Exception:  # any failure to open is the parser's to report, by name
            return
        try:
            for row in book.worksheets[0].iter_rows(max_row=_STATED_ROWS, values_only=True):
                cells = [c for c in row if c is not None and str(c).strip()]
                if len(cells) >= 2 and isinstance(cells[0], str):
                    yield cells[0], cells[1]
        finally:
            book.close()
        return
    with csv.open_binary() as handle:
        head = handle.read(64 * 1024)
    text = head.decode("utf-8-sig", errors="replace")  # labels and dates are ASCII
    for line in text.splitlines()[:_STATED_ROWS]:
        match = _LABELLED.match(line)
        if match:
            yield match.group(1), match.group(2).strip().strip(";,\t \"'")


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if _ISO.match(text):
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            return None
    from dateutil import parser

    try:
        return parser.parse(text, dayfirst=True).date()
    except (ValueError, OverflowError):
        return None
