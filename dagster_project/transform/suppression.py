"""Disclosure control for Friends and Family Test counts: primary and secondary suppression.

NHS England publishes FFT counts with small numbers hidden: a count of 1 to 4 is suppressed
(primary suppression), and further cells are suppressed (secondary suppression) wherever a
hidden count could otherwise be worked out from the totals published beside it.
The warehouse keeps the exact counts; this module decides what may be shown. It is pure
(pandas and numpy, no I/O) so a dbt Python model can call it.

The table
---------
One setting (inpatient, A&E, ...) in one financial year is an additive table, provider x month x
answer, published with every marginal: answers summed to the total responses, months summed to
the year, providers summed to their region, and every combination of those. Each dimension is a
`Dimension`; `add_totals` builds the base cells plus every marginal cell. A summed dimension
takes its `total_label` ("ALL"). A dimension summed within groups keeps its group column beside
it, so for providers within regions the row with ``provider_code == "ALL"`` and
``region_code == "Y56"`` is region Y56's total (and, with ``grand_total=True``, the row with both
"ALL" is the sum of the regions). Labels are returned as text. A cell absent from the input
(a provider that sent nothing that month) is absent from the table, not a zero.

A *line* is a published total and the cells it is the sum of: fix every dimension but one and
vary that one over its members (the providers of one region, the months, the answers), plus
the total. Every cell lies on a line along each dimension, as a member or as its total (a
region's total, when England's is published too, as both), so a base cell is protected against
each total beside it and a marginal against both its members and the totals it is part of.

Method
------
1. Primary: every cell, base or marginal, with a count of 1 to 4. Zero is never primary.
2. Secondary, line by line, to a fixed point: while some line holds exactly one suppressed
   cell, suppress one more cell of that line: the smallest positive count, a member before the
   line's own total, ties broken by the dimension labels. A zero is taken only when no positive
   cell is left, because a zero an outsider can guess (a service not offered) protects nothing.
   Lines are visited in a fixed order, so the result never depends on row order or hash seeds.
3. Audit of all the totals at once. Every line is an equation (its members add up to its
   total); with the published cells filled in, the equations that still hold a suppressed cell
   form a linear system in the suppressed cells. A suppressed cell is *pinned* when some
   combination of those equations, added and subtracted, leaves that cell alone: then its count
   follows from published figures even though no single line gives it away (e.g. two blocks of
   suppressed cells joined by one cell). A cell is pinned exactly when every solution of the
   system's homogeneous part (its null space) is zero in that cell's position, which the audit
   tests with linear algebra (see `_Audit`), on each group of suppressed cells linked through
   shared lines, since separate groups share no equation. While a group holds a pinned cell,
   one more cell is suppressed: on the lines through the group's pinned cells, the cell that
   leaves fewest lines newly holding one suppressed cell (each would cost step 2 another
   cell), then as step 2 prefers (positive, a member before a total, smallest count, labels).
   Step 2 and the audit are run again, until no cell is pinned. Suppressing a cell only adds an
   unknown, so it never pins a cell that was free, and each round suppresses one more: this
   ends.
4. Minimality: each secondary cell (from step 2 or 3), largest count first (ties by labels), is
   released if every line through it would still hold 0 or at least 2 suppressed cells without
   it and the audit would still find no pinned cell. Publishing a cell adds one known value, so
   the audit is updated in a single step rather than solved again.

Guarantee
---------
No suppressed cell can be worked out exactly from the published figures by any combination of
additions and subtractions of published totals: not by one subtraction, not by a chain of them,
and not by solving all the published totals together as simultaneous equations. (In
particular every line holds 0 or at least 2 suppressed cells, so no published total has exactly
one unknown term.) Every secondary cell is necessary, one at a time: step 4 kept it only because
releasing it would have let some suppressed cell be worked out, and later releases only give an
outsider more to work with, so releasing it alone from the final table would still do so. (Two
secondary cells may sometimes be released together; finding the fewest cells overall is a much
harder problem, not attempted.)

Limits
------
- Bounds are not closed. The audit treats the totals as equations only, but an outsider also
  knows that counts are whole and never negative, and so can bound a suppressed cell: if a
  published total of 3 has two hidden terms, each lies between 0 and 3. That is a weaker,
  interval disclosure, and it is not checked: an interval can be narrow, and in rare cases
  exact (hidden zeros on a line whose published total is 0 must all be 0). Closing it needs
  linear programming with protection intervals, as tau-ARGUS does.
- The outsider is assumed to know only this table: someone who knows some suppressed counts
  from elsewhere (their own provider's figures), or who sets it beside tables published
  separately (another `by` group, a revised release), is not covered.
- The audit decides in floating point, with fixed tolerances. Its equations have coefficients
  0 and +-1, and the quantities it compares with zero were, in every table tried, either
  rounding noise (below 1e-15) or large (above 1e-5); the tolerances sit between, and moving
  them by orders of magnitude either way changed no result. The result does not depend on
  rounding, row order or hash seeds. (The tests check it against an exact solver.)
- Cost: a few tenths of a second for a national table of 250 providers x 12 months x 6
  answers, even with England's total linking every suppressed cell into one group (about 7,600
  of them), against about a tenth for step 2 alone. The audit solves each provider's cells
  (months x answers) on its own, then the equations linking providers (one per month and
  answer); its cost grows with the cube of months x answers and linearly with providers, so a
  table with many more months (weeks, days) would be much slower.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

COUNT = "count"
PRIMARY = "primary"
SECONDARY = "secondary"
PRIMARY_RANGE = (1, 4)  # counts never shown; zero is
REASONS = {
    PRIMARY: "count between 1 and 4",
    SECONDARY: "protects a suppressed cell in the same total",
}
FFT_ANSWERS = ("very_good", "good", "neither", "poor", "very_poor", "dont_know")


@dataclass(frozen=True)
class Dimension:
    """One dimension of the table and the total it is published summed to.

    `column` names the members (e.g. ``"answer"``); their sum is labelled `total_label`.
    With `group_column` (e.g. ``"region_code"`` for providers) members are summed within each
    group instead, the group's total taking `total_label` in `column`; `grand_total` also
    publishes the sum of the groups, labelled `total_label` in both columns.
    """

    column: str
    total_label: str = "ALL"
    group_column: str | None = None
    grand_total: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        """The output columns this dimension fills: the group's first when there is one."""
        return (self.column,) if self.group_column is None else (self.group_column, self.column)


FFT_DIMENSIONS = (
    Dimension("provider_code", group_column="region_code"),
    Dimension("month"),
    Dimension("answer"),
)


@dataclass(frozen=True)
class _Axis:
    """A dimension's positions (members first, sorted, then totals) and its sums."""

    labels: tuple[np.ndarray, ...]  # one array per output column, indexed by position
    sums: tuple[tuple[np.ndarray, int], ...]  # (member positions, their total's position)


def add_totals(
    base: pd.DataFrame,
    dimensions: Sequence[Dimension] = FFT_DIMENSIONS,
    *,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """The base cells plus every marginal cell: the full table as published, exact counts.

    Columns: `by`, each dimension's columns, ``count``. Separate `by` groups (setting, year) are
    separate tables.
    """
    return _per_group(base, dimensions, by, protect=False)


def suppress(
    base: pd.DataFrame,
    dimensions: Sequence[Dimension] = FFT_DIMENSIONS,
    *,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """The full table with primary and secondary suppression applied (see the module notes).

    `base` has one row per base cell: the dimension columns and a non-negative integer
    ``count``. Returns every base and marginal cell with columns: `by`, each dimension's
    columns, ``count`` (exact, for the warehouse), ``published_count`` (Int64, NA where
    suppressed), ``suppressed`` (bool) and ``suppression`` ("primary", "secondary" or missing).
    Each `by` group (e.g. setting and financial year) is protected as a table of its own.
    """
    return _per_group(base, dimensions, by, protect=True)


def suppression_log(table: pd.DataFrame) -> pd.DataFrame:
    """One row per suppressed cell of a `suppress` table, saying which kind and why.

    Keeps the table's label columns (everything but the counts and flags), then
    ``suppression`` and ``reason``; exact counts stay out so the log can travel with the table.
    """
    drop = {COUNT, "published_count", "suppressed"}
    log = table.loc[table["suppressed"], [c for c in table.columns if c not in drop]]
    log = log.reset_index(drop=True)
    log["reason"] = pd.array(log["suppression"].map(REASONS), dtype="str")
    return log


def _per_group(
    base: pd.DataFrame, dimensions: Sequence[Dimension], by: Sequence[str], *, protect: bool
) -> pd.DataFrame:
    dimensions, by = tuple(dimensions), list(by)
    _check(base, dimensions, by)
    if base.empty:
        labels = [c for d in dimensions for c in d.columns]
        flags = ["published_count", "suppressed", "suppression"] if protect else []
        return pd.DataFrame(columns=by + labels + [COUNT] + flags)
    if not by:
        return _one_table(base, dimensions, protect)
    frames = []
    for key, group in base.groupby(by, sort=True, dropna=False):
        table = _one_table(group, dimensions, protect)
        for column, value in reversed(list(zip(by, key, strict=True))):
            table.insert(0, column, value)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def _check(base: pd.DataFrame, dimensions: tuple[Dimension, ...], by: list[str]) -> None:
    """Refuse input whose published totals would be ambiguous or wrong."""
    if not dimensions:
        raise ValueError("at least one dimension is needed")
    labels = [c for d in dimensions for c in d.columns]
    if len(set(labels + by)) != len(labels + by) or COUNT in labels + by:
        raise ValueError(f"dimension and by columns must be distinct and not {COUNT!r}")
    missing = [c for c in labels + by + [COUNT] if c not in base.columns]
    if missing:
        raise ValueError(f"base cells lack columns {missing}")
    for d in dimensions:
        if d.grand_total and d.group_column is None:
            raise ValueError(f"{d.column}: grand_total needs a group_column")
        for column in d.columns:
            if base[column].isna().any():
                raise ValueError(f"{column} has missing labels")
            if (base[column].astype(str) == d.total_label).any():
                raise ValueError(f"{column} uses the total label {d.total_label!r} for a member")
    count = base[COUNT]
    if pd.api.types.is_bool_dtype(count) or not pd.api.types.is_numeric_dtype(count):
        raise ValueError(f"{COUNT} must be numeric")
    values = count.to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(values).any() or (values < 0).any() or (values != np.floor(values)).any():
        raise ValueError(f"{COUNT} must be whole numbers, 0 or more, none missing")
    cells = base[by + labels].astype(str)
    if cells.duplicated().any():
        first = cells[cells.duplicated()].iloc[0].to_dict()
        raise ValueError(f"more than one row for the cell {first}")
    for d in dimensions:
        if d.group_column is not None:
            groups = base[by + list(d.columns)].astype(str).drop_duplicates()
            if groups.duplicated(by + [d.column]).any():
                raise ValueError(f"some {d.column} is in more than one {d.group_column}")


def _one_table(
    base: pd.DataFrame, dimensions: tuple[Dimension, ...], protect: bool
) -> pd.DataFrame:
    axes, positions = zip(*(_axis(base, d) for d in dimensions), strict=True)
    shape = tuple(len(axis.labels[0]) for axis in axes)
    counts = np.zeros(shape, dtype=np.int64)
    present = np.zeros(shape, dtype=bool)
    counts[positions] = base[COUNT].to_numpy(dtype=np.int64)
    present[positions] = True
    for d, axis in enumerate(axes):
        for members, total in axis.sums:
            at = (slice(None),) * d + (total,)
            counts[at] = counts.take(members, axis=d).sum(axis=d)
            present[at] = present.take(members, axis=d).any(axis=d)

    # Rows are the cells present, in position order: members sorted by label, then totals.
    flat = np.flatnonzero(present.ravel())
    where = np.unravel_index(flat, shape)
    table = pd.DataFrame(
        {
            column: labels[where[d]]
            for d, axis in enumerate(axes)
            for column, labels in zip(dimensions[d].columns, axis.labels, strict=True)
        }
    )
    count = counts.ravel()[flat]
    table[COUNT] = count
    if not protect:
        return table
    row_of = np.full(present.size, -1, dtype=np.int64)
    row_of[flat] = np.arange(flat.size)
    cells, starts, along = _lines(axes, shape, row_of)
    # The audit works block by block along the dimension with the most positions (providers).
    split = int(np.argmax(shape))
    primary, secondary = _protect(count, cells, starts, where[split], along == split)
    suppressed = primary | secondary
    table["published_count"] = pd.arrays.IntegerArray(count.copy(), suppressed.copy())
    table["suppressed"] = suppressed
    kind = np.where(primary, PRIMARY, np.where(secondary, SECONDARY, None))
    table["suppression"] = pd.array(kind, dtype="str")
    return table


def _axis(base: pd.DataFrame, dim: Dimension) -> tuple[_Axis, np.ndarray]:
    """A dimension's positions and sums, and each base row's position on it."""
    members = base[dim.column].astype(str).to_numpy(dtype=object)
    if dim.group_column is None:
        labels = np.unique(members)
        axis = _Axis(
            labels=(np.append(labels, dim.total_label).astype(object),),
            sums=((np.arange(labels.size), labels.size),),
        )
        return axis, np.searchsorted(labels, members)

    groups_of_rows = base[dim.group_column].astype(str).to_numpy(dtype=object)
    pairs = pd.DataFrame({"g": groups_of_rows, "m": members}).drop_duplicates()
    pairs = pairs.sort_values(["g", "m"]).reset_index(drop=True)
    groups = np.unique(pairs["g"].to_numpy(dtype=object))
    n, total = len(pairs), dim.total_label
    group_labels = [*pairs["g"], *groups]
    member_labels = [*pairs["m"], *[total] * groups.size]
    sums = [
        (np.flatnonzero(pairs["g"].to_numpy(dtype=object) == g), n + i)
        for i, g in enumerate(groups)
    ]
    if dim.grand_total:
        group_labels.append(total)
        member_labels.append(total)
        sums.append((np.arange(n, n + groups.size), n + groups.size))
    axis = _Axis(
        labels=(np.array(group_labels, dtype=object), np.array(member_labels, dtype=object)),
        sums=tuple(sums),
    )
    return axis, pd.Index(pairs["m"]).get_indexer(members)


def _lines(
    axes: Sequence[_Axis], shape: tuple[int, ...], row_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every line as table rows, members then total: flat `cells` cut at `starts`, and the
    dimension each line runs along.

    Cells absent from the table are left out of their lines; a line whose total is absent has
    no members present and is not a line.
    """
    rows = row_of.reshape(shape)
    cells, lengths, along = [], [], []
    for d, axis in enumerate(axes):
        for members, total in axis.sums:
            block = rows.take(np.append(members, total), axis=d)
            block = np.moveaxis(block, d, -1).reshape(-1, members.size + 1)
            block = block[block[:, -1] >= 0]
            present = block >= 0
            cells.append(block[present])
            lengths.append(present.sum(axis=1))
            along.append(np.full(block.shape[0], d))
    lengths = np.concatenate(lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    return np.concatenate(cells), starts, np.concatenate(along)


def _protect(
    count: np.ndarray,
    cells: np.ndarray,
    starts: np.ndarray,
    block: np.ndarray,
    coupling: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Primary and secondary flags per table row, for lines given as `cells` cut at `starts`.

    For the audit, `block` gives each row's position along one dimension and `coupling` marks
    the lines along that dimension, the only lines whose cells lie in more than one block.
    """
    lines = _Lines(count, cells, starts, block, coupling)
    primary = (count >= PRIMARY_RANGE[0]) & (count <= PRIMARY_RANGE[1])
    suppressed = primary.copy()
    n_hidden = np.add.reduceat(suppressed[cells].astype(np.int64), starts[:-1])
    lines.close(suppressed, n_hidden, np.flatnonzero(n_hidden == 1).tolist())

    # Step 3, group by group; a group whose cells have not changed is not solved again.
    audits: dict[bytes, _Audit] = {}
    while True:
        groups, extra = [], []
        for members, equations in lines.groups(suppressed):
            key = members.tobytes()
            if key not in audits:
                audits[key] = _Audit(members, *equations)
            groups.append(audits[key])
            pinned = members[audits[key].freedom < _PINNED]
            if pinned.size:
                extra.append(lines.protector(pinned, members, suppressed, n_hidden))
        if not extra:
            break
        exposed: list[int] = []
        for row in extra:
            if not suppressed[row]:
                lines.hide(row, suppressed, n_hidden, exposed)
        lines.close(suppressed, n_hidden, exposed)

    # Step 4.
    audit_of = {row: audit for audit in groups for row in audit.members.tolist()}
    secondary = suppressed & ~primary
    candidates = np.flatnonzero(secondary)
    for row in candidates[np.lexsort((candidates, -count[candidates]))].tolist():
        through = lines.through(row)
        left = n_hidden[through] - 1
        if np.all((left == 0) | (left >= 2)) and audit_of[row].release(row):
            secondary[row] = False
            n_hidden[through] = left
    return primary, secondary


class _Lines:
    """The lines of one table, with the bookkeeping the line rule and the audit share."""

    def __init__(
        self,
        count: np.ndarray,
        cells: np.ndarray,
        starts: np.ndarray,
        block: np.ndarray,
        coupling: np.ndarray,
    ) -> None:
        self.cells, self.starts, self.block, self.coupling = cells, starts, block, coupling
        n_rows, n_lines = count.size, starts.size - 1
        self.line_of_entry = np.repeat(np.arange(n_lines), np.diff(starts))
        self.is_total = np.zeros(cells.size, dtype=bool)
        self.is_total[starts[1:] - 1] = True
        # The lines through each row: line ids grouped by row.
        self._through = self.line_of_entry[np.argsort(cells, kind="stable")]
        self._through_starts = np.concatenate(
            [[0], np.cumsum(np.bincount(cells, minlength=n_rows))]
        )
        # Preference for a secondary cell within a line, lowest first: positive before zero, a
        # member before the line's total, smaller count, then row order (the labels' order).
        order_in_table = np.empty(n_rows, dtype=np.int64)
        order_in_table[np.lexsort((np.arange(n_rows), count))] = np.arange(n_rows)
        zero_or_total = (count[cells] == 0) * 2 + self.is_total
        self.preference = zero_or_total * n_rows + order_in_table[cells]

    def through(self, row: int) -> np.ndarray:
        """The lines through `row`."""
        return self._through[self._through_starts[row] : self._through_starts[row + 1]]

    def hide(
        self, row: int, suppressed: np.ndarray, n_hidden: np.ndarray, exposed: list[int]
    ) -> None:
        """Suppress `row`, queueing the lines it leaves with exactly one suppressed cell."""
        suppressed[row] = True
        for line in self.through(row).tolist():
            n_hidden[line] += 1
            if n_hidden[line] == 1:
                heapq.heappush(exposed, line)

    def close(self, suppressed: np.ndarray, n_hidden: np.ndarray, exposed: list[int]) -> None:
        """Step 2: until no line holds exactly one suppressed cell, lowest line first."""
        heapq.heapify(exposed)
        while exposed:
            line = heapq.heappop(exposed)
            if n_hidden[line] == 1:
                self.hide(self.best([line], suppressed), suppressed, n_hidden, exposed)

    def best(self, lines: Sequence[int], suppressed: np.ndarray) -> int:
        """The preferred unsuppressed cell on `lines`, or -1 if they are wholly suppressed."""
        entries = self._open_entries(lines, suppressed)
        if not entries.size:
            return -1
        return int(self.cells[entries[np.argmin(self.preference[entries])]])

    def _open_entries(self, lines: Sequence[int], suppressed: np.ndarray) -> np.ndarray:
        """The entries of `lines` whose cells are not suppressed."""
        entries = np.concatenate([np.arange(self.starts[k], self.starts[k + 1]) for k in lines])
        return entries[~suppressed[self.cells[entries]]]

    def protector(
        self,
        pinned: np.ndarray,
        members: np.ndarray,
        suppressed: np.ndarray,
        n_hidden: np.ndarray,
    ) -> int:
        """The cell to suppress for a group with `pinned` cells: on the lines through those
        cells (else on any line of the group), one that opens the fewest lines, i.e. lies on
        fewest lines without a suppressed cell (each would need step 2 to suppress another cell
        of it), then as step 2 prefers."""
        for rows in (pinned, members):
            through = np.unique(np.concatenate([self.through(row) for row in rows.tolist()]))
            entries = self._open_entries(through.tolist(), suppressed)
            if entries.size:
                opens = [(n_hidden[self.through(row)] == 0).sum() for row in self.cells[entries]]
                key = np.array(opens) * (4 * suppressed.size) + self.preference[entries]
                return int(self.cells[entries[np.argmin(key)]])
        # Unreachable: when every line of a group is wholly suppressed, its equations have no
        # published term, and a table with every count positive satisfies them.
        raise RuntimeError("a suppressed cell is pinned with nothing left to suppress")

    def groups(self, suppressed: np.ndarray):
        """Each group of suppressed cells linked through shared lines: its rows (ascending)
        and its equations, for `_Audit`."""
        hidden = suppressed[self.cells]
        if not hidden.any():
            return
        cells, line = self.cells[hidden], self.line_of_entry[hidden]
        sign = np.where(self.is_total[hidden], -1.0, 1.0)
        # Connected components by label propagation: each row's label ends as the smallest row
        # of its group.
        label = np.arange(suppressed.size)
        lowest = np.empty(self.starts.size - 1, dtype=np.int64)
        while True:
            lowest[line] = suppressed.size
            np.minimum.at(lowest, line, label[cells])
            new = label.copy()
            np.minimum.at(new, cells, lowest[line])
            while not np.array_equal(new, new[new]):
                new = new[new]
            if np.array_equal(new, label):
                break
            label = new
        order = np.lexsort((cells, line, label[cells]))
        cells, line, sign = cells[order], line[order], sign[order]
        cuts = np.flatnonzero(np.diff(label[cells])) + 1
        for at in np.split(np.arange(cells.size), cuts):
            members, columns = np.unique(cells[at], return_inverse=True)
            equations, rows = np.unique(line[at], return_inverse=True)
            yield members, (self.block[members], rows, columns, sign[at], self.coupling[equations])


# The audit's tolerances, fixed. The equations' coefficients are 0 and +-1. In the random and
# national tables tried, singular values and Gram-Schmidt remainders were below 1e-14 or above
# 0.09 (the cut-off is _RANK), and a cell's freedom (at most 1) below 1e-15 when pinned and
# above 8e-5 when not, before or after releases (the cut-off is _PINNED).
_RANK = 1e-5
_PINNED = 1e-8
# Matrix products are written with einsum, which runs in one thread: the products here are
# small, and multi-threaded BLAS on shared, busy CPUs can make them a hundred times slower.


def _null_space(matrix: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the null space of a small `matrix`, as columns."""
    if not matrix.shape[0]:
        return np.eye(matrix.shape[1])
    _, singular, vt = np.linalg.svd(matrix)
    return vt[(singular > _RANK).sum() :].T


class _Audit:
    """Which suppressed cells of one group follow from the published totals (step 3).

    The group's equations, published terms moved to the right, read ``A x = b`` in its
    suppressed cells x. Cell j follows from them exactly when the unit vector e_j is a
    combination of the rows of A; its *freedom*, the squared distance from e_j to the row space
    (equally, the squared length of row j of an orthonormal basis of the null space of A), is
    then zero, and otherwise it is positive.

    The null space is found in two stages. The equations along every dimension but one stay
    within a block (one provider's cells): each block's null space Z_b comes from the singular
    value decomposition of its own small matrix, and every solution is x = Z y, with Z
    block-diagonal with orthonormal columns. The coupling equations (providers summed to their
    region) then ask for M y = 0, M = A_coupling Z. With V an orthonormal basis of the row
    space of M (Gram-Schmidt, twice over), the freedom of cell j is |z_j|^2 - |V z_j|^2, z_j
    being row j of Z.
    """

    def __init__(
        self,
        members: np.ndarray,
        block: np.ndarray,
        rows: np.ndarray,
        columns: np.ndarray,
        signs: np.ndarray,
        coupling: np.ndarray,
    ) -> None:
        self.members = members
        outer = coupling[rows]
        coupling_row = np.cumsum(coupling) - 1  # each coupling equation's row of M
        inner = np.flatnonzero(~outer)
        inner = inner[np.argsort(block[columns[inner]], kind="stable")]
        order = np.argsort(block, kind="stable")
        cuts = np.flatnonzero(np.diff(block[order])) + 1
        inner_cuts = np.searchsorted(block[columns[inner]], block[order[cuts]])

        # Blocks in order of position: (the group's cells in it, Z_b, Z_b's columns of Z).
        self.blocks: list[tuple[np.ndarray, np.ndarray, slice]] = []
        self.block_of = np.empty(members.size, dtype=np.int64)
        width = 0
        for cells, at in zip(np.split(order, cuts), np.split(inner, inner_cuts), strict=True):
            equations, local_rows = np.unique(rows[at], return_inverse=True)
            local = np.zeros((equations.size, cells.size))
            local[local_rows, np.searchsorted(cells, columns[at])] = signs[at]
            basis = _null_space(local)
            self.block_of[cells] = len(self.blocks)
            self.blocks.append((cells, basis, slice(width, width + basis.shape[1])))
            width += basis.shape[1]
        # M, block by block; a coupling equation holds at most one cell of each block.
        m = np.zeros((int(coupling.sum()), width))
        outer = np.flatnonzero(outer)
        outer = outer[np.argsort(self.block_of[columns[outer]], kind="stable")]
        outer_cuts = np.searchsorted(self.block_of[columns[outer]], np.arange(1, len(self.blocks)))
        for (cells, basis, span), at in zip(self.blocks, np.split(outer, outer_cuts), strict=True):
            z = basis[np.searchsorted(cells, columns[at])]
            m[coupling_row[rows[at]], span] += signs[at][:, None] * z

        self.space = np.zeros((m.shape[0] + 16, width))  # V's rows, the first `rank` of them
        self.rank = 0
        for row in m:
            outside = self._outside(row)
            length2 = float(outside @ outside)
            if length2 > _RANK**2:
                self._grow(outside / np.sqrt(length2))
        self.freedom = np.zeros(members.size)
        for cells, basis, span in self.blocks:
            inside = np.einsum("ik,rk->ir", basis, self.space[: self.rank, span])
            self.freedom[cells] = np.einsum("ik,ik->i", basis, basis) - np.einsum(
                "ir,ir->i", inside, inside
            )
        self.hidden = np.ones(members.size, dtype=bool)

    def _outside(self, vector: np.ndarray) -> np.ndarray:
        """The part of `vector` outside V's span (projected out twice, against rounding)."""
        space = self.space[: self.rank]
        for _ in range(2):
            vector = vector - np.einsum("rk,r->k", space, np.einsum("rk,k->r", space, vector))
        return vector

    def _grow(self, unit: np.ndarray) -> None:
        if self.rank == self.space.shape[0]:
            self.space = np.vstack([self.space, np.zeros_like(self.space)])
        self.space[self.rank] = unit
        self.rank += 1

    def release(self, row: int) -> bool:
        """Publish `row` if no other suppressed cell of the group would then be pinned.

        Publishing cell k adds the equation x_k = count, so V's span gains the unit vector u
        along the part of z_k outside it, and the freedom of every cell j drops by (z_j . u)^2.
        """
        k = int(np.searchsorted(self.members, row))
        cells, basis, span = self.blocks[self.block_of[k]]
        z = np.zeros(self.space.shape[1])
        z[span] = basis[np.searchsorted(cells, k)]
        outside = self._outside(z)
        length2 = float(outside @ outside)
        if length2 < _PINNED:
            return False
        freedom = self.freedom.copy()
        for cells, basis, span in self.blocks:
            freedom[cells] -= np.einsum("ik,k->i", basis, outside[span]) ** 2 / length2
        freedom[k] = 0.0
        self.hidden[k] = False
        if np.any(freedom[self.hidden] < _PINNED):
            self.hidden[k] = True
            return False
        self._grow(outside / np.sqrt(length2))
        self.freedom = freedom
        return True
