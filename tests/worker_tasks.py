"""Tasks that only the worker tests enqueue: each notes, in a file named by the environment, that it ran and where.

A worker process started by tests/test_worker.py imports this module by its path in the task's row.
"""

import os
import time

from django.tasks import task


def _note(line: str) -> None:
    # One short write with O_APPEND: lines from several processes never mix.
    with open(os.environ["GENSIDIG_TEST_NOTES"], "a") as notes:
        notes.write(line + "\n")


@task()
def note(number: int) -> int:
    """Note the job's number and the worker's process id, taking a moment, as real work does."""
    _note(f"{number} {os.getpid()}")
    time.sleep(0.05)
    return number


@task()
def slow(seconds: float) -> str:
    """Note the start, work for a while, note the end."""
    _note(f"started {os.getpid()}")
    time.sleep(seconds)
    _note(f"finished {os.getpid()}")
    return "done"
