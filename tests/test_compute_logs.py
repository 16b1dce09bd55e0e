"""A step's printed output goes to its run's files and stays where it was printed, with no
process left to mirror it: a `tail` left behind after `qa` exits holds a piped stdout
open, and whatever reads the pipe (a scheduler, CI) waits for ever."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from dagster_project.home import resolve_home
    from dagster_project.runner import _instance

    home = resolve_home(sys.argv[1]).ensure()
    with _instance(home) as instance:
        manager = instance.compute_log_manager
        with manager.capture_logs(["run", "step"]):
            print("printed by a step", flush=True)
            children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text()
        written = Path(manager.get_captured_local_path(["run", "step"], "out")).read_text()
    print(json.dumps({"children": children.split(), "written": written,
                      "manager": type(manager).__name__}))
    """
)


def test_step_output_is_written_to_its_file_with_no_process_mirroring_it(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path / "home")],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["written"] == "printed by a step\n"
    assert seen["children"] == [], "no tail or watcher process started"
    assert "printed by a step" in done.stdout.splitlines(), "and still where it was printed"
    assert (tmp_path / "home" / "dagster" / "storage").is_dir(), "Dagster's own folder"
