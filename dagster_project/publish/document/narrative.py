"""The text only a provider can write, read from `landing/narratives/*.md`.

A narrative file is Markdown with a small front matter block (`key: value` lines
between `---` fences) naming the provider and the financial year, then sections
under fixed `##` headings. It is an input like any other: a file that cannot be
read as one (unknown heading, missing key, fewer than three priorities, two files
for the same provider and year) raises `NarrativeError` naming the file, the line
and the problem, rather than publishing a document with text silently missing.

Lines starting with `>` are guidance (the template's prompts) and are ignored, so
a template left unfilled reads as absent text and keeps the document a draft.
Text is kept as paragraphs and bullet lists of plain text; the templates escape
it, so nothing in a narrative file can add markup or script to a page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

NARRATIVE_FOLDER = "narratives"
SUFFIX = ".md"

CHIEF_EXECUTIVE = "Chief executive's statement"
PRIORITIES = "Priorities for improvement"
COMMENTARY = "Indicator commentary"
COMMISSIONERS = "Statement from commissioners"
HEALTHWATCH = "Statement from Healthwatch"
SCRUTINY = "Statement from the overview and scrutiny committee"
DIRECTORS = "Statement of directors' responsibilities"
EXTERNAL_ASSURANCE = "External assurance report"

# Sections every final document needs, in document order; the directors' statement is
# required of foundation trusts only (seed quality_account_requirements), and the external
# assurance report is printed where the provider supplies one.
REQUIRED = (CHIEF_EXECUTIVE, PRIORITIES, COMMISSIONERS, HEALTHWATCH, SCRUTINY)
SECTIONS = (*REQUIRED[:2], COMMENTARY, *REQUIRED[2:], DIRECTORS, EXTERNAL_ASSURANCE)
MIN_PRIORITIES = 3

PROGRESS = "Progress since last year:"
MONITORING = "How progress will be monitored:"
REASONS = "Reasons:"
ACTIONS = "Actions:"

_FRONT_KEYS = ("provider_code", "financial_year")
_CODE = re.compile(r"[A-Z0-9]{3,5}")
_YEAR = re.compile(r"(\d{4})-(\d{2})")


class NarrativeError(ValueError):
    """A narrative file that cannot be used; the message names the file and the problem."""

    def __init__(self, path: Path, problem: str, line: int | None = None) -> None:
        where = f"{path.name}, line {line}" if line else path.name
        super().__init__(f"narrative file {where}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class Block:
    """A paragraph (`items` of one string) or a bullet list (`is_list`)."""

    items: tuple[str, ...]
    is_list: bool = False


Text = tuple[Block, ...]


@dataclass(frozen=True)
class Priority:
    title: str
    description: Text
    progress: Text
    monitoring: Text


@dataclass(frozen=True)
class Commentary:
    """The provider's words after the statutory sentences for one indicator."""

    reasons: Text
    actions: Text


@dataclass(frozen=True)
class Narrative:
    path: Path
    provider_code: str
    financial_year: str
    sections: dict[str, Text] = field(default_factory=dict)
    priorities: tuple[Priority, ...] = ()
    commentary: dict[str, Commentary] = field(default_factory=dict)

    def text(self, section: str) -> Text:
        return self.sections.get(section, ())

    @property
    def missing(self) -> list[str]:
        """Required sections with no text yet: any of them keeps the document a draft."""
        return [
            name
            for name in REQUIRED
            if not (self.priorities if name == PRIORITIES else self.sections.get(name))
        ]


def _blocks(lines: Iterable[str]) -> Text:
    """Paragraphs split on blank lines; `- ` or `* ` lines make a bullet list."""
    blocks: list[Block] = []
    paragraph: list[str] = []
    bullets: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block((" ".join(paragraph),)))
            paragraph.clear()
        if bullets:
            blocks.append(Block(tuple(bullets), is_list=True))
            bullets.clear()

    for raw in lines:
        line = raw.strip()
        if line.startswith(">"):
            continue
        if not line:
            flush()
        elif line[:2] in ("- ", "* "):
            if paragraph:
                flush()
            bullets.append(line[2:].strip())
        elif bullets and raw[:1].isspace():
            bullets[-1] += " " + line
        else:
            if bullets:
                flush()
            paragraph.append(line)
    flush()
    return tuple(blocks)


def _labelled(path: Path, lines: list[tuple[int, str]], labels: tuple[str, ...]) -> dict:
    """Split a subsection's lines at paragraphs opening with one of `labels`."""
    parts: dict[str, list[str]] = {"": []}
    current = ""
    for number, line in lines:
        stripped = line.strip()
        label = next((lab for lab in labels if stripped.startswith(lab)), None)
        if label is not None:
            if parts.get(label):
                raise NarrativeError(path, f"'{label}' given twice", number)
            current = label
            parts[label] = [stripped[len(label) :].strip()]
        else:
            parts.setdefault(current, []).append(line)
    return {k: _blocks(v) for k, v in parts.items()}


def _front_matter(path: Path, lines: list[str]) -> tuple[dict[str, str], int]:
    if not lines or lines[0].strip() != "---":
        raise NarrativeError(path, "must start with a front matter block opened by '---'", 1)
    values: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        stripped = line.strip()
        if stripped == "---":
            break
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition(":")
        if not sep:
            raise NarrativeError(path, f"front matter line is not 'key: value': {stripped}", number)
        values[key.strip()] = value.strip().strip("\"'")
    else:
        raise NarrativeError(path, "front matter block is not closed by '---'")
    for key in _FRONT_KEYS:
        if not values.get(key):
            raise NarrativeError(path, f"front matter has no '{key}'")
    if not _CODE.fullmatch(values["provider_code"]):
        raise NarrativeError(path, f"provider_code {values['provider_code']!r} is not an ODS code")
    year = _YEAR.fullmatch(values["financial_year"])
    if not year or (int(year.group(1)) + 1) % 100 != int(year.group(2)):
        raise NarrativeError(
            path, f"financial_year {values['financial_year']!r} is not like 2024-25"
        )
    return values, number


def _split_sections(path: Path, lines: list[str], first: int) -> dict[str, list[tuple[int, str]]]:
    sections: dict[str, list[tuple[int, str]]] = {}
    current: str | None = None
    for number, line in enumerate(lines[first:], start=first + 1):
        if line.startswith("## "):
            heading = line[3:].strip()
            if heading not in SECTIONS:
                known = "; ".join(SECTIONS)
                raise NarrativeError(path, f"unknown section '{heading}' (known: {known})", number)
            if heading in sections:
                raise NarrativeError(path, f"section '{heading}' appears twice", number)
            current = heading
            sections[current] = []
        elif line.startswith("# "):
            raise NarrativeError(path, "use '## ' for section headings, not '# '", number)
        elif current is None:
            if line.strip() and not line.lstrip().startswith(">"):
                raise NarrativeError(path, "text before the first '## ' section heading", number)
        else:
            sections[current].append((number, line))
    return sections


def _subsections(
    path: Path, lines: list[tuple[int, str]]
) -> list[tuple[int, str, list[tuple[int, str]]]]:
    out: list[tuple[int, str, list[tuple[int, str]]]] = []
    for number, line in lines:
        if line.startswith("### "):
            out.append((number, line[4:].strip(), []))
        elif out:
            out[-1][2].append((number, line))
        elif line.strip() and not line.lstrip().startswith(">"):
            raise NarrativeError(path, "text before the first '### ' heading", number)
    return out


def _priorities(path: Path, lines: list[tuple[int, str]]) -> tuple[Priority, ...]:
    found = []
    for number, title, body in _subsections(path, lines):
        parts = _labelled(path, body, (PROGRESS, MONITORING))
        if not any(parts.values()):
            continue  # an unfilled template priority
        for label in (PROGRESS, MONITORING):
            if not parts.get(label):
                raise NarrativeError(path, f"priority '{title}' has no '{label}' paragraph", number)
        found.append(Priority(title, parts[""], parts[PROGRESS], parts[MONITORING]))
    if found and len(found) < MIN_PRIORITIES:
        raise NarrativeError(
            path, f"{len(found)} priorities given; a Quality Account needs at least "
            f"{MIN_PRIORITIES}"
        )  # fmt: skip
    return tuple(found)


def _commentary(path: Path, lines: list[tuple[int, str]]) -> dict[str, Commentary]:
    found: dict[str, Commentary] = {}
    for number, code, body in _subsections(path, lines):
        if code in found:
            raise NarrativeError(path, f"commentary for '{code}' appears twice", number)
        parts = _labelled(path, body, (REASONS, ACTIONS))
        if parts.get(""):
            raise NarrativeError(
                path, f"commentary for '{code}' must be under '{REASONS}' and '{ACTIONS}'", number
            )
        if parts.get(REASONS) or parts.get(ACTIONS):
            found[code] = Commentary(parts.get(REASONS, ()), parts.get(ACTIONS, ()))
    return found


def parse_narrative(path: Path) -> Narrative:
    """Read and check one narrative file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise NarrativeError(path, f"not UTF-8 text ({exc.reason})") from exc
    return parse_narrative_text(path, text)


def parse_narrative_text(path: Path, text: str) -> Narrative:
    """Check a narrative's text; `path` names it in errors."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    front, end = _front_matter(path, lines)
    sections = _split_sections(path, lines, end)
    plain = {
        name: _blocks(line for _, line in body)
        for name, body in sections.items()
        if name not in (PRIORITIES, COMMENTARY)
    }
    return Narrative(
        path=path,
        provider_code=front["provider_code"],
        financial_year=front["financial_year"],
        sections={k: v for k, v in plain.items() if v},
        priorities=_priorities(path, sections.get(PRIORITIES, [])),
        commentary=_commentary(path, sections.get(COMMENTARY, [])),
    )


_NAMED = re.compile(r"([A-Z0-9]{3,5})-(\d{4}-\d{2})\.md", re.IGNORECASE)


@dataclass
class NarrativeSet:
    """Every usable narrative, and the problems of the files that could not be used: by
    (provider, year) where the file says (or its name says) whose it is, else `unplaced`."""

    found: dict[tuple[str, str], Narrative] = field(default_factory=dict)
    problems: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    unplaced: list[str] = field(default_factory=list)


def _owner(path: Path) -> tuple[str, str] | None:
    """Whose a file is, from its front matter if that much reads, else from its name."""
    try:
        lines = path.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")
        front, _ = _front_matter(path, lines)
        return front["provider_code"], front["financial_year"]
    except (NarrativeError, UnicodeDecodeError, OSError):
        named = _NAMED.fullmatch(path.name)
        return (named.group(1).upper(), named.group(2)) if named else None


def read_narratives(folder: Path | None) -> NarrativeSet:
    """Like `load_narratives`, but a file that cannot be used is a problem of its own
    provider's document, never of the others': one bad file must not stop the site."""
    out = NarrativeSet()
    if folder is None or not folder.is_dir():
        return out
    files: dict[tuple[str, str], list[Path]] = {}
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            if path.suffix.lower() != SUFFIX:
                raise NarrativeError(path, f"narrative files must be Markdown ({SUFFIX})")
            narrative = parse_narrative(path)
        except NarrativeError as exc:
            owner = _owner(path) if path.suffix.lower() == SUFFIX else None
            if owner is None:
                out.unplaced.append(str(exc))
            else:
                out.problems.setdefault(owner, []).append(str(exc))
            continue
        key = (narrative.provider_code, narrative.financial_year)
        files.setdefault(key, []).append(path)
        out.found.setdefault(key, narrative)
    for key, paths in files.items():
        if len(paths) > 1:
            del out.found[key]
            names = ", ".join(p.name for p in paths)
            out.problems.setdefault(key, []).append(
                f"narrative files {names}: {key[0]} {key[1]} has more than one narrative "
                "file, so none is used; keep one"
            )
    return out


def load_narratives(folder: Path) -> dict[tuple[str, str], Narrative]:
    """Every narrative in `folder` by (provider code, financial year); none if no folder."""
    found: dict[tuple[str, str], Narrative] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.suffix.lower() != SUFFIX:
            raise NarrativeError(path, f"narrative files must be Markdown ({SUFFIX})")
        narrative = parse_narrative(path)
        key = (narrative.provider_code, narrative.financial_year)
        if key in found:
            raise NarrativeError(
                path, f"{key[0]} {key[1]} already has a narrative file, {found[key].path.name}"
            )
        found[key] = narrative
    return found


def template(
    provider_code: str,
    provider_name: str,
    year: str,
    indicators: Iterable[tuple[str, str]] = (),
    suggestions: Iterable[str] = (),
) -> str:
    """A narrative file to fill in: every section with guidance, nothing yet counted as text.

    `indicators` are (code, name) pairs of the core indicators the document will show;
    `suggestions` are priorities the data suggests, offered as guidance only.
    """
    guide = [
        "---",
        f"provider_code: {provider_code}",
        f"financial_year: {year}",
        "---",
        "",
        f"> Narrative for the Quality Account {year} of {provider_name}.",
        "> Lines starting with '>' are guidance and are ignored. Write plain paragraphs;",
        "> separate them with a blank line, and start list items with '- '. A section",
        "> left empty keeps the document a draft with a box saying the text is awaited.",
        "",
        f"## {CHIEF_EXECUTIVE}",
        "",
        "> The chief executive's statement on the quality of services, signed off by the board.",
        "",
        f"## {PRIORITIES}",
        "",
        f"> At least {MIN_PRIORITIES} priorities, each under its own '### ' heading, each with a",
        f"> paragraph starting '{PROGRESS}' and one starting '{MONITORING}'.",
    ]
    guide += [f"> Suggested by the data: {s}" for s in suggestions]
    for number in range(1, MIN_PRIORITIES + 1):
        guide += ["", f"### Priority {number}", "", f"> {PROGRESS} ...", f"> {MONITORING} ..."]
    guide += [
        "",
        f"## {COMMENTARY}",
        "",
        "> For each indicator, why the provider considers the data is as described, and the",
        "> actions it has taken or intends to take to improve.",
    ]
    for code, name in indicators:
        guide += ["", f"### {code}", "", f"> {name}", f"> {REASONS} ...", f"> {ACTIONS} ..."]
    for section, prompt in (
        (COMMISSIONERS, "The lead commissioner's statement, as received."),
        (HEALTHWATCH, "Local Healthwatch's statement, as received."),
        (SCRUTINY, "The overview and scrutiny committee's statement, as received."),
        (DIRECTORS, "The statement of directors' responsibilities (a foundation trust's)."),
        (EXTERNAL_ASSURANCE, "Where it applies: the external auditor's limited assurance report."),
    ):
        guide += ["", f"## {section}", "", f"> {prompt}"]
    return "\n".join(guide) + "\n"


__all__ = [
    "Narrative",
    "NarrativeError",
    "NarrativeSet",
    "read_narratives",
    "load_narratives",
    "parse_narrative",
    "parse_narrative_text",
    "template",
]
