"""Disclosure control for FFT counts, checked the way an outsider would attack the publication.

The attackers here are written from the published table alone (labels and published counts, the
hidden ones unknown) and the additive structure anyone can read off it; they share nothing with
the module's own bookkeeping. One follows chains of subtractions; the other solves every
published total at once as simultaneous linear equations, by exact Gaussian elimination (so it
shares neither method nor rounding tolerance with the module's floating-point audit).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dagster_project.transform.suppression import (
    FFT_ANSWERS,
    FFT_DIMENSIONS,
    Dimension,
    add_totals,
    suppress,
    suppression_log,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
LABELS = ["region_code", "provider_code", "month", "answer"]
ALL = "ALL"


# --- building inputs ---------------------------------------------------------------------------


def provider_months(rows: dict[tuple[str, str, str], list[int]]) -> pd.DataFrame:
    """Base cells from {(region, provider, month): counts in FFT_ANSWERS order}."""
    return pd.DataFrame(
        [
            (region, provider, month, answer, count)
            for (region, provider, month), counts in rows.items()
            for answer, count in zip(FFT_ANSWERS, counts, strict=True)
        ],
        columns=[*LABELS, "count"],
    )


def random_table(
    seed: int, regions: int = 3, providers: int = 8, months: int = 4, missing: float = 0.0
) -> pd.DataFrame:
    """Many small counts and zeros: about a third 0, a third 1-4, the rest up to a few hundred."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(providers):
        for m in range(months):
            for answer in FFT_ANSWERS:
                kind = rng.integers(3)
                count = [0, rng.integers(1, 5), rng.integers(5, 300)][kind]
                rows.append((f"R{p % regions}", f"P{p:02d}", f"2024-{m + 1:02d}", answer, count))
    base = pd.DataFrame(rows, columns=[*LABELS, "count"])
    keep = rng.random(len(base)) >= missing
    return base[keep].reset_index(drop=True)


def cells(table: pd.DataFrame, **labels: str) -> pd.DataFrame:
    mask = np.ones(len(table), dtype=bool)
    for column, value in labels.items():
        mask &= (table[column] == value).to_numpy()
    return table[mask]


def hidden_base(table: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    """(provider, month, answer) -> kind, for the suppressed base cells."""
    base = table[(table.provider_code != ALL) & (table.month != ALL) & (table.answer != ALL)]
    base = base[base.suppressed]
    return {
        (r.provider_code, r.month, r.answer): r.suppression for r in base.itertuples(index=False)
    }


# --- the attacker ------------------------------------------------------------------------------


def equations(published: pd.DataFrame) -> list[tuple[int, list[int]]]:
    """Every published total and the rows it is the sum of, read off the labels alone."""
    found = []
    sums = {
        "provider_code": ["region_code", "month", "answer"],  # providers within a region
        "region_code": ["provider_code", "month", "answer"],  # regions to England, if published
        "month": ["region_code", "provider_code", "answer"],
        "answer": ["region_code", "provider_code", "month"],
    }
    for summed, fixed in sums.items():
        frame = published
        if summed == "region_code":  # only region totals add up to England
            frame = published[published.provider_code == ALL]
        rows, is_total = frame.index.to_numpy(), (frame[summed] == ALL).to_numpy()
        for at in frame.groupby(fixed, sort=False).indices.values():
            totals, members = rows[at[is_total[at]]].tolist(), rows[at[~is_total[at]]].tolist()
            if totals and members:
                assert len(totals) == 1
                found.append((totals[0], members))
    return found


def attack(published: pd.DataFrame) -> dict[int, int]:
    """Rows an outsider can recover from the labels and ``published_count`` (NA where hidden)."""
    published = published[[*LABELS, "published_count"]].reset_index(drop=True)
    value = [None if pd.isna(v) else int(v) for v in published["published_count"]]
    return solve(value, equations(published))


def solve(value: list[int | None], system: list[tuple[int, list[int]]]) -> dict[int, int]:
    """Solve any total with one unknown term, until stuck; recovered values feed later steps,
    so chains of subtractions are followed."""
    value = list(value)
    recovered: dict[int, int] = {}
    progress = True
    while progress:
        progress = False
        for total, members in system:
            unknown = [row for row in [total, *members] if value[row] is None]
            if len(unknown) != 1:
                continue
            row = unknown[0]
            known = sum(value[m] for m in members if m != row)
            value[row] = known if row == total else value[total] - known
            recovered[row] = value[row]
            progress = True
    return recovered


def linear_attack(published: pd.DataFrame) -> dict[int, int]:
    """Rows an outsider recovers by solving all the published totals together.

    Each total is an equation in the hidden rows, published terms moved to the right; a hidden
    row is recovered when the system fixes its value. Hidden rows are solved in groups linked by
    shared totals, as separate groups share nothing.
    """
    published = published[[*LABELS, "published_count"]].reset_index(drop=True)
    value = [None if pd.isna(v) else int(v) for v in published["published_count"]]
    return solve_linear(value, equations(published))


def solve_linear(value: list[int | None], system: list[tuple[int, list[int]]]) -> dict[int, int]:
    linear = []  # (hidden rows with their signs, right-hand side)
    for total, members in system:
        terms = [(total, -1), *((m, 1) for m in members)]
        unknown = [(row, sign) for row, sign in terms if value[row] is None]
        if unknown:
            known = sum(sign * value[row] for row, sign in terms if value[row] is not None)
            linear.append((unknown, -known))
    parent: dict[int, int] = {}

    def find(row: int) -> int:
        while parent.setdefault(row, row) != row:
            row = parent[row]
        return row

    for unknown, _ in linear:
        for row, _ in unknown[1:]:
            parent[find(row)] = find(unknown[0][0])
    groups: dict[int, list] = {}
    for equation in linear:
        groups.setdefault(find(equation[0][0][0]), []).append(equation)

    recovered = {}
    for group in groups.values():
        rows = sorted({row for unknown, _ in group for row, _ in unknown})
        column = {row: i for i, row in enumerate(rows)}
        a, b = np.zeros((len(group), len(rows)), dtype=np.int64), np.zeros(len(group), np.int64)
        for i, (unknown, rhs) in enumerate(group):
            for row, sign in unknown:
                a[i, column[row]] += sign
            b[i] = rhs
        recovered |= {rows[i]: v for i, v in fixed_by(a, b).items()}
    return recovered


PRIME = 2_147_483_647  # 2**31 - 1: a product of two residues fits in int64


def fixed_by(a: np.ndarray, b: np.ndarray) -> dict[int, int]:
    """The unknowns that ``a x = b`` fixes, with their values, by exact Gaussian elimination.

    Integers modulo a large prime, so no rounding and no tolerance. In reduced row echelon form
    an unknown is fixed exactly when some row has it alone: x_j = value. (Modulo a prime the
    rank can only fall, with odds of about one in two billion per minor, so an error would show
    a cell as recovered that is not, never the other way round.)
    """
    n = a.shape[1]
    rows = np.hstack([a, b[:, None]]) % PRIME
    rank = 0
    for column in range(n):
        candidates = np.flatnonzero(rows[rank:, column])
        if not candidates.size:
            continue
        pivot = rank + candidates[0]
        rows[[rank, pivot]] = rows[[pivot, rank]]
        rows[rank] = rows[rank] * pow(int(rows[rank, column]), PRIME - 2, PRIME) % PRIME
        others = np.flatnonzero(rows[:, column])
        others = others[others != rank]
        rows[others] = (rows[others] - rows[others, column][:, None] * rows[rank]) % PRIME
        rank += 1
        if rank == rows.shape[0]:
            break
    fixed = {}
    for row in rows[:rank]:
        alone = np.flatnonzero(row[:n])
        if alone.size == 1:
            value = int(row[n])
            fixed[int(alone[0])] = value if value <= PRIME // 2 else value - PRIME
    return fixed


def recovered_on_release(table: pd.DataFrame) -> dict[int, dict[int, int]]:
    """For each secondary row: what solving all totals together recovers if that row alone is
    published."""
    published = table[[*LABELS, "published_count"]].reset_index(drop=True)
    value = [None if pd.isna(v) else int(v) for v in published["published_count"]]
    system = equations(published)
    found = {}
    for row in np.flatnonzero((table.suppression == "secondary").to_numpy()).tolist():
        released = list(value)
        released[row] = int(table["count"].iloc[row])
        found[row] = solve_linear(released, system)
    return found


# --- hand-worked cases -------------------------------------------------------------------------


def test_one_small_answer_hides_the_smallest_positive_other_answer() -> None:
    base = provider_months({("R1", "P1", "2024-04"): [3, 0, 0, 10, 20, 0]})
    table = suppress(base)

    # very_good 3 is primary; the answers' total (33) would give it away, so the smallest
    # positive other answer (poor, 10) goes too, not a zero.
    assert hidden_base(table) == {
        ("P1", "2024-04", "very_good"): "primary",
        ("P1", "2024-04", "poor"): "secondary",
    }
    # With one provider and one month, the year and region cells repeat the same counts and are
    # hidden alike; the totals (33) stay published.
    hidden = table[table.suppressed]
    assert sorted(hidden["count"]) == [3] * 4 + [10] * 4
    assert set(hidden.answer) == {"very_good", "poor"}
    assert (cells(table, answer=ALL).published_count == 33).all()


def test_the_year_total_forces_a_second_month_to_be_hidden() -> None:
    base = provider_months(
        {
            ("R1", "P1", "2024-04"): [3, 10, 20, 30, 40, 50],
            ("R1", "P1", "2024-05"): [8, 25, 6, 30, 40, 50],
        }
    )
    table = suppress(base)

    # April very_good 3 is primary, and April good (10) hides it from April's total. The year's
    # very_good (11) and good (35) are published, so May's very_good (8) and good (25) go too:
    # each is smaller than its year total. May's total then has two unknowns, so May neither
    # (6) stays published.
    assert hidden_base(table) == {
        ("P1", "2024-04", "very_good"): "primary",
        ("P1", "2024-04", "good"): "secondary",
        ("P1", "2024-05", "very_good"): "secondary",
        ("P1", "2024-05", "good"): "secondary",
    }
    year = cells(table, provider_code="P1", month=ALL)
    assert year.set_index("answer").published_count.to_dict() == {
        "dont_know": 100,
        "good": 35,
        "neither": 26,
        "poor": 60,
        "very_good": 11,
        "very_poor": 80,
        ALL: 312,
    }
    assert attack(table) == {}


def test_a_region_of_two_providers_protects_against_the_region_total() -> None:
    base = provider_months(
        {
            ("R1", "P1", "2024-04"): [3, 12, 7, 20, 30, 40],
            ("R1", "P2", "2024-04"): [50, 9, 15, 6, 25, 35],
        }
    )
    table = suppress(base)

    # P1 very_good 3 is primary. The region's very_good (53) would give it away, so P2's 50
    # goes (a provider before the region total); P1's answers total would too, so P1 neither (7)
    # goes; then the region's neither (22) needs P2's 15 hidden. Every line now holds two.
    assert hidden_base(table) == {
        ("P1", "2024-04", "very_good"): "primary",
        ("P1", "2024-04", "neither"): "secondary",
        ("P2", "2024-04", "very_good"): "secondary",
        ("P2", "2024-04", "neither"): "secondary",
    }
    region = cells(table, region_code="R1", provider_code=ALL, month="2024-04")
    assert not region.suppressed.any()
    assert region.set_index("answer").loc[["very_good", "neither"], "published_count"].tolist() == [
        53,
        22,
    ]
    assert attack(table) == {}


def test_a_small_total_is_itself_primary() -> None:
    base = provider_months(
        {
            ("R1", "P1", "2024-04"): [1, 0, 0, 1, 0, 0],
            ("R1", "P2", "2024-04"): [40, 30, 20, 10, 9, 8],
        }
    )
    table = suppress(base)
    total = cells(table, provider_code="P1", month="2024-04", answer=ALL)
    assert total.suppression.tolist() == ["primary"]
    assert attack(table) == {}


def test_a_two_way_table_of_any_shape() -> None:
    # The hierarchy is generic: here a plain rows x columns table with both margins.
    base = pd.DataFrame(
        {
            "row": ["a", "a", "a", "b", "b", "b", "c", "c", "c"],
            "col": ["x", "y", "z"] * 3,
            "count": [2, 9, 30, 8, 11, 40, 20, 25, 50],
        }
    )
    table = suppress(base, [Dimension("row", total_label="all rows"), Dimension("col")])
    hidden = table[table.suppressed].set_index(["row", "col"]).suppression.to_dict()
    # (a, x) = 2 is primary; row a's smallest other is (a, y) 9 and column x's is (b, x) 8;
    # then (b, y) 11 closes the rectangle for row b and column y at once.
    assert hidden == {
        ("a", "x"): "primary",
        ("a", "y"): "secondary",
        ("b", "x"): "secondary",
        ("b", "y"): "secondary",
    }
    assert set(table.row) == {"a", "b", "c", "all rows"}


def test_two_blocks_joined_by_one_cell_are_broken_up() -> None:
    base = provider_months(
        {
            ("R1", "P1", "2024-04"): [20, 5, 20, 4, 0, 12],
            ("R1", "P2", "2024-04"): [1, 5, 9, 12, 0, 7],
            ("R1", "P3", "2024-04"): [0, 40, 5, 4, 4, 40],
        }
    )
    table = suppress(base)

    # Line by line alone gives two blocks of hidden cells: P1's and P2's very_good and good (P2
    # very_good 1 is primary), and P3's and the region's poor and very_poor (the region's poor 20
    # is secondary). P1 poor 4, primary, is on P1's line and the poor line: one line into each
    # block. Every line holds 0 or at least 2 hidden cells, yet the totals taken together give
    # P1 poor away: P1's hidden answers sum to 61 - 20 - 0 - 12 = 29, P1's very_good and good to
    # (21 - 0) + (50 - 40) - (34 - 9 - 12 - 0 - 7) = 25, so P1 poor is 4. Hiding P2 poor (12)
    # too puts P1 poor on a loop of hidden cells through the first block.
    assert hidden_base(table) == {
        ("P1", "2024-04", "very_good"): "secondary",
        ("P1", "2024-04", "good"): "secondary",
        ("P1", "2024-04", "poor"): "primary",
        ("P2", "2024-04", "very_good"): "primary",
        ("P2", "2024-04", "good"): "secondary",
        ("P2", "2024-04", "poor"): "secondary",
        ("P3", "2024-04", "poor"): "primary",
        ("P3", "2024-04", "very_poor"): "primary",
    }
    region = cells(table, provider_code=ALL, month="2024-04")
    assert region.set_index("answer").suppression.dropna().to_dict() == {
        "poor": "secondary",
        "very_poor": "primary",
    }
    assert attack(table) == {}
    assert linear_attack(table) == {}

    # Without P2 poor, chains of subtractions still find nothing, but solving the totals
    # together recovers P1 poor (and its copy in the year, the same count).
    p2_poor = (table.provider_code == "P2") & (table.answer == "poor")
    line_rule_only = table.assign(published_count=table.published_count.mask(p2_poor, 12))
    assert attack(line_rule_only) == {}
    recovered = linear_attack(line_rule_only)
    assert {tuple(table.loc[row, LABELS]) for row in recovered} == {
        ("R1", "P1", "2024-04", "poor"),
        ("R1", "P1", ALL, "poor"),
    }
    assert set(recovered.values()) == {4}


# --- the attacker against many tables ----------------------------------------------------------

NASTY = {
    "every answer small": {
        ("R1", "P1", "2024-04"): [1, 2, 1, 3, 0, 2],
        ("R1", "P2", "2024-04"): [4, 3, 2, 1, 1, 1],
        ("R1", "P3", "2024-04"): [60, 20, 10, 5, 5, 0],
    },
    "small totals and zeros": {
        ("R1", "P1", "2024-04"): [1, 0, 0, 1, 0, 0],
        ("R1", "P1", "2024-05"): [0, 0, 0, 0, 0, 0],
        ("R1", "P1", "2024-06"): [3, 0, 0, 0, 0, 0],
        ("R2", "P2", "2024-04"): [0, 0, 0, 0, 0, 4],
        ("R2", "P3", "2024-04"): [90, 9, 0, 0, 0, 0],
    },
    "one small cell among zeros": {
        ("R1", "P1", "2024-04"): [3, 0, 0, 0, 0, 0],
        ("R1", "P1", "2024-05"): [0, 0, 0, 0, 0, 0],
        ("R1", "P2", "2024-04"): [0, 0, 0, 0, 0, 0],
        ("R1", "P2", "2024-05"): [0, 0, 0, 0, 0, 7],
    },
    "a lone provider in a region": {
        ("R1", "P1", "2024-04"): [30, 5, 0, 2, 0, 0],
        ("R2", "P2", "2024-04"): [300, 50, 10, 6, 5, 9],
        ("R2", "P3", "2024-04"): [200, 40, 9, 7, 6, 8],
    },
}

# Hiding cells line by line alone left 1 to 19 cells recoverable by solving all the totals
# together in every one of these but lone-providers; the hand-made ones had none.
RANDOM = {f"seed{seed}": dict(seed=seed) for seed in range(6)} | {
    "rows-missing": dict(seed=11, missing=0.15),
    "one-region": dict(seed=12, regions=1, providers=12, months=3),
    "lone-providers": dict(seed=13, regions=4, providers=5, months=6),
}


def tables() -> list:
    """The nasty hand-made tables and the random ones (several hundred cells each)."""
    nasty = [pytest.param(provider_months(rows), id=name) for name, rows in NASTY.items()]
    return nasty + [pytest.param(random_table(**kw), id=name) for name, kw in RANDOM.items()]


@pytest.mark.parametrize("base", tables())
def test_the_attackers_recover_no_hidden_cell(base: pd.DataFrame) -> None:
    table = suppress(base)
    assert table.suppressed.any()
    assert attack(table) == {}
    assert linear_attack(table) == {}


@pytest.mark.parametrize("base", tables())
def test_every_secondary_cell_is_needed(base: pd.DataFrame) -> None:
    # Publishing any one secondary cell would let the totals, taken together, give some hidden
    # cell away (and give it correctly).
    table = suppress(base)
    for row, recovered in recovered_on_release(table).items():
        assert recovered, f"secondary cell {table.loc[row, LABELS].tolist()} was not needed"
        assert all(value == table["count"].iloc[other] for other, value in recovered.items())


@pytest.mark.parametrize("base", tables())
def test_small_counts_never_published_and_exact_counts_kept(base: pd.DataFrame) -> None:
    table = suppress(base)
    shown = table[~table.suppressed]
    assert not shown["count"].between(1, 4).any()
    assert (shown.published_count == shown["count"]).all()
    assert table.loc[table.suppressed, "published_count"].isna().all()
    assert (table.suppression == "primary").eq(table["count"].between(1, 4)).all()

    # Every total is the exact sum of its members, hidden or not.
    for total, members in equations(table):
        assert table.loc[total, "count"] == table.loc[members, "count"].sum()
    # The base cells come back exactly as given, and the exact table matches add_totals.
    merged = base.merge(table, on=LABELS, suffixes=("", "_out"), validate="one_to_one")
    assert (merged["count"] == merged["count_out"]).all()
    pd.testing.assert_frame_equal(table[[*LABELS, "count"]], add_totals(base))


def test_the_attacker_is_not_toothless() -> None:
    # With only the primary cells hidden, the attacker recovers every one of them, correctly.
    table = suppress(random_table(seed=1))
    primary = (table.suppression == "primary").to_numpy()
    primary_only = table.assign(published_count=table["count"].astype("Int64").mask(primary))
    recovered = attack(primary_only)
    assert set(recovered) == set(np.flatnonzero(primary).tolist())
    assert all(table["count"].iloc[row] == value for row, value in recovered.items())


def test_a_published_england_total_is_protected_too() -> None:
    base = random_table(seed=21, regions=3, providers=6, months=3)
    dimensions = [Dimension("provider_code", group_column="region_code", grand_total=True)]
    dimensions += list(FFT_DIMENSIONS[1:])
    table = suppress(base, dimensions)
    england = cells(table, region_code=ALL, provider_code=ALL)
    assert len(england) == 4 * 7  # 3 months and the year, 6 answers and their total
    assert attack(table) == {}
    assert linear_attack(table) == {}
    releases = recovered_on_release(table)
    assert releases and all(releases.values())


def test_the_linear_attacker_is_not_toothless() -> None:
    # With only the primary cells hidden it recovers every one, and correctly; and it recovers
    # whatever the chain attacker does.
    table = suppress(random_table(seed=4))
    primary = (table.suppression == "primary").to_numpy()
    primary_only = table.assign(published_count=table["count"].astype("Int64").mask(primary))
    recovered = linear_attack(primary_only)
    assert set(recovered) == set(np.flatnonzero(primary).tolist())
    assert all(table["count"].iloc[row] == value for row, value in recovered.items())
    assert attack(primary_only).items() <= recovered.items()


# Larger tables, on which hiding cells line by line alone left cells that solving all the totals
# together recovered (2 to 11 per table, for seeds 3, 4, 6, 7 and 8).
LARGE = [pytest.param(seed, id=f"seed{seed}") for seed in (3, 4, 5, 6, 7, 8)]


@pytest.mark.parametrize("seed", LARGE)
def test_solving_all_totals_together_recovers_nothing(seed: int) -> None:
    table = suppress(random_table(seed=seed, regions=3, providers=20, months=12))
    assert table.suppressed.sum() > 500
    assert linear_attack(table) == {}
    assert attack(table) == {}


# --- determinism, size, the log and refusals -----------------------------------------------


def test_row_order_does_not_matter() -> None:
    base = random_table(seed=5, missing=0.1)  # the audit adds a cell here
    expected = suppress(base)
    for seed in range(3):
        shuffled = base.sample(frac=1, random_state=seed).reset_index(drop=True)
        pd.testing.assert_frame_equal(suppress(shuffled), expected)


def test_hash_seed_does_not_matter() -> None:
    script = textwrap.dedent(
        """
        import hashlib, sys
        import numpy as np, pandas as pd
        from dagster_project.transform.suppression import FFT_ANSWERS, suppress
        rng = np.random.default_rng(3)  # a table on which the audit adds cells
        rows = [(f"R{p % 3}", f"P{p}", f"M{m}", a, int(rng.integers(0, 9)))
                for p in range(9) for m in range(3) for a in FFT_ANSWERS]
        base = pd.DataFrame(rows, columns=["region_code", "provider_code", "month", "answer",
                                           "count"])
        print(hashlib.sha256(suppress(base).to_csv().encode()).hexdigest())
        """
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO_ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        digests.add(done.stdout.strip())
    assert len(digests) == 1


def test_a_national_setting_year() -> None:
    rng = np.random.default_rng(0)
    shares = np.array([0.6, 0.25, 0.05, 0.04, 0.03, 0.03])
    rows = []
    for p in range(250):
        size = rng.lognormal(3, 1.5)
        for m in range(12):
            for answer, count in zip(FFT_ANSWERS, rng.poisson(size * shares), strict=True):
                rows.append((f"R{p % 7}", f"P{p:03d}", f"2024-{m + 1:02d}", answer, count))
    base = pd.DataFrame(rows, columns=[*LABELS, "count"])
    table = suppress(base)
    assert len(table) == (250 + 7) * 13 * 7
    assert attack(table) == {}
    assert linear_attack(table) == {}


def test_suppression_log_names_each_hidden_cell_and_why() -> None:
    base = random_table(seed=2).assign(setting="inpatient", financial_year="2024-25")
    table = suppress(base, by=["setting", "financial_year"])
    log = suppression_log(table)
    assert list(log.columns) == [
        "setting",
        "financial_year",
        *LABELS,
        "suppression",
        "reason",
    ]
    assert len(log) == table.suppressed.sum()
    reasons = log.groupby("suppression").reason.unique().to_dict()
    assert {k: list(v) for k, v in reasons.items()} == {
        "primary": ["count between 1 and 4"],
        "secondary": ["protects a suppressed cell in the same total"],
    }


def test_each_by_group_is_a_table_of_its_own() -> None:
    one, two = random_table(seed=8), random_table(seed=9)
    both = pd.concat([one.assign(setting="ae"), two.assign(setting="inpatient")])
    table = suppress(both, by=["setting"])
    for setting, base in (("ae", one), ("inpatient", two)):
        alone = suppress(base)
        part = table[table.setting == setting].drop(columns="setting").reset_index(drop=True)
        pd.testing.assert_frame_equal(part, alone)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda b: pd.concat([b, b.head(1)]), "more than one row"),
        (lambda b: b.assign(count=b["count"] - 1), "0 or more"),
        (lambda b: b.assign(count=b["count"] + 0.5), "whole numbers"),
        (lambda b: b.assign(answer=b.answer.replace("good", ALL)), "total label"),
        (
            lambda b: b.assign(region_code=b.region_code.mask(b.month == "2024-05", "R9")),
            "region_code",
        ),
        (lambda b: b.drop(columns="month"), "lack columns"),
    ],
)
def test_ambiguous_input_is_refused(change, message: str) -> None:
    base = provider_months(
        {("R1", "P1", "2024-04"): [0, 5, 6, 7, 8, 9], ("R1", "P1", "2024-05"): [1] * 6}
    )
    with pytest.raises(ValueError, match=message):
        suppress(change(base))
