"""The landing sensor: a file that is new by its contents starts a run for what it feeds.

Files are told apart by checksum, never by name or time: a file copied in again
with the same bytes starts nothing, and a re-issue under the old name starts a
run. The first time a checksum is seen it is written in the arrival register,
which is how a later delivery for the same period supersedes an earlier one.

The cursor keeps the checksums a run has been asked for, and each file's size
and modification time so an unchanged file is not read again every tick. A
checksum counts as handled only once the tick that asked for its run is
committed, so a tick that fails asks again (the run key stops a second run).
All new files of one tick go in one run: dbt and the publication have a single
writer each, so runs for two feeds must not race each other.

A feed's one new file is numbered as the sensor first sees it. Several new files of
one feed seen at once are left for the run to number: it reads them, and can tell
an original from its correction by what they say (ingest/run.py), where the sensor
could only go by their names. Links are never followed: a link is a delivery under
the checksum of where it points, and the run it starts refuses it by name.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator

import dagster as dg

from dagster_project.feeds.catalogue import FEEDS
from dagster_project.home import Home
from dagster_project.ingest import arrivals
from dagster_project.ingest.landing import (
    LandingFileError,
    ZipLimits,
    csvs_in,
    landing_paths,
    link_or_file_sha256,
)
from dagster_project.resources import HomeResource

SENSOR_NAME = "landing_sensor"
INTERVAL_SECONDS = 60


def scan(home: Home, known: dict[str, list]) -> Iterator[tuple[arrivals.Delivery, str, list]]:
    """Every delivery in landing, with its file's path and the stat/checksum cache entry.

    A file that cannot be opened (a damaged zip, a zip bomb, a link) is still a delivery,
    under the checksum of its bytes (a link's, of where it points): the run it starts fails
    naming it, which is what its sender needs.
    """
    limits = ZipLimits.of(home)
    for feed in FEEDS:
        folder = home.landing / feed
        for path in landing_paths(folder):
            relative = str(path.relative_to(home.landing))
            stat = path.lstat()
            cached = known.get(relative)
            if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
                members = cached[2]
            else:
                try:
                    members = [[csv.source, csv.sha256] for csv in csvs_in(path, limits)]
                except LandingFileError:
                    members = [[path.name, link_or_file_sha256(path)]]
            entry = [stat.st_size, stat.st_mtime_ns, members]
            for source, sha256 in members:
                yield arrivals.Delivery(feed, source, sha256), relative, entry


def _downstream_of(context: dg.SensorEvaluationContext, feeds: set[str]) -> list[dg.AssetKey]:
    graph = context.repository_def.asset_graph
    selection = dg.AssetSelection.assets(*(dg.AssetKey(["ingest", f]) for f in sorted(feeds)))
    return sorted(selection.downstream().resolve(graph), key=lambda k: k.to_user_string())


def build_landing_sensor(job: dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    """The sensor on the `home` resource's landing, launching subsets of `job` (the whole
    pipeline); it starts stopped, for a data engineer to switch on once landing is fed."""

    @dg.sensor(
        name=SENSOR_NAME,
        job=job,
        minimum_interval_seconds=INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Watches the landing folder. A file whose contents are new (by checksum) "
        "starts one run of its feed's ingest and everything downstream; the same bytes again "
        "start nothing. A later delivery for the same feed and period supersedes the earlier.",
    )
    def landing_sensor(context: dg.SensorEvaluationContext, home: HomeResource):
        return _evaluate(context, home.home())

    return landing_sensor


def _evaluate(context: dg.SensorEvaluationContext, home: Home):
    state = json.loads(context.cursor) if context.cursor else {}
    handled = set(state.get("handled", []))
    known: dict[str, list] = state.get("files", {})
    files: dict[str, list] = {}
    deliveries: list[arrivals.Delivery] = []
    for delivery, relative, entry in scan(home, known):
        files[relative] = entry
        deliveries.append(delivery)
    register = arrivals.read_register(home)
    unnumbered = {(d.feed, d.sha256) for d in deliveries if d.sha256 not in register}
    several = {feed for feed, n in Counter(feed for feed, _ in unnumbered).items() if n > 1}
    arrivals.record(home, [d for d in deliveries if d.feed not in several])
    fresh = sorted({d.sha256: d for d in deliveries if d.sha256 not in handled}.values(),
                   key=lambda d: (d.feed, d.source))  # fmt: skip
    handled.update(d.sha256 for d in deliveries)
    context.update_cursor(json.dumps({"handled": sorted(handled), "files": files}))
    if not fresh:
        return dg.SkipReason(f"No new file contents in landing ({len(files)} files, all seen).")
    feeds = {d.feed for d in fresh}
    run_key = hashlib.sha256("".join(sorted(d.sha256 for d in fresh)).encode()).hexdigest()[:20]
    return dg.RunRequest(
        run_key=f"landing-{run_key}",
        asset_selection=_downstream_of(context, feeds),
        tags={
            "qa/trigger": "landing",
            "qa/feeds": ",".join(sorted(feeds)),
            "qa/files": ", ".join(d.source for d in fresh)[:1000],
        },
    )
