"""``magento-zoho-sync errors | head`` and ``runs | head``: a reader that stops early is not an error.

Real processes and real pipes: the tool's own stdout is closed under it, as a shell pipeline does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from magento_zoho_sync.state import FailureRecord, StateStore

RUNS = 500
FAILURES = 500


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state with many runs (each failed, with its reason) and many failures: more than a pipe holds."""
    path = tmp_path_factory.mktemp("listing") / "state.sqlite"
    store = StateStore.open(path)
    with store.lock():
        for n in range(RUNS):
            run_id = store.start_run("full")
            error = f"Zoho CRM could not be reached ({n}); check ZOHO_API_URL"
            store.finish_run(run_id, status="failed", summary={"counts": {"read": n, "failed": 1}, "error": error})
        failures = [
            FailureRecord(n, f"customer{n}@example.com", "INVALID_EMAIL", "the email address is not valid")
            for n in range(1, FAILURES + 1)
        ]
        store.commit(run_id=RUNS, failures=failures)
    store.close()
    return path


def run(*args: str, stdout: int) -> subprocess.CompletedProcess[bytes]:
    """The real command, in its own process, writing into ``stdout``."""
    return subprocess.run(  # noqa: S603 - our own interpreter and package
        [sys.executable, "-m", "magento_zoho_sync", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        timeout=60,
        check=False,
    )


def closed_pipe() -> int:
    """The write end of a pipe whose reader is gone (`... | true`, a reader gone before the tool writes)."""
    read, write = os.pipe()
    os.close(read)
    return write


LISTINGS = [
    ("errors",),
    ("errors", "--json"),
    ("runs", "--limit", str(RUNS)),  # a table, then one line per failed run: several writes
    ("runs", "--json", "--limit", str(RUNS)),
]


@pytest.mark.parametrize("args", LISTINGS, ids=" ".join)
def test_a_reader_gone_before_the_first_line_ends_the_listing_quietly(state: Path, args: tuple[str, ...]) -> None:
    write = closed_pipe()
    try:
        done = run(*args, "--state", str(state), stdout=write)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr.decode()) == (0, "")


@pytest.mark.parametrize("args", [LISTINGS[0], LISTINGS[2]], ids=" ".join)
def test_head_reads_the_first_lines_and_the_listing_exits_0(state: Path, args: tuple[str, ...]) -> None:
    tool = subprocess.Popen(  # noqa: S603 - our own interpreter and package
        [sys.executable, "-m", "magento_zoho_sync", *args, "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert tool.stdout is not None and tool.stderr is not None
    head_program = shutil.which("head")
    assert head_program is not None
    head = subprocess.run(  # noqa: S603 - coreutils' head
        [head_program, "-n", "3"], stdin=tool.stdout, capture_output=True, timeout=60, check=True
    )
    tool.stdout.close()  # only head holds the pipe now: when it exits, the tool's stdout is closed
    stderr = tool.stderr.read().decode()
    assert (tool.wait(timeout=60), stderr) == (0, "")
    assert len(head.stdout.splitlines()) == 3


def test_other_errors_still_say_what_to_fix_and_exit_2(state: Path, tmp_path: Path) -> None:
    write = closed_pipe()
    try:
        missing = run("errors", "--state", str(tmp_path / "nowhere.sqlite"), stdout=write)
        no_run = run("errors", "--run", "99999", "--state", str(state), stdout=write)
    finally:
        os.close(write)
    assert missing.returncode == 2 and "No state file at" in missing.stderr.decode()
    assert no_run.returncode == 2 and "Run 99999 is not in the state file" in no_run.stderr.decode()
