"""Jobs for the worker processes of :mod:`twin.analyses.workers` in tests: a spawned worker
imports the module of what it runs, so these live apart from the test modules (which import
the whole app, ~8 s of CPU per worker)."""

from __future__ import annotations

import os
import time

import numpy as np


def warm() -> None:
    """A worker's set-up: unpickling it imports this module (numpy) before the worker's
    memory is capped, as the app's own set-up imports the analyses."""


def spin(limits: dict[str, float], seconds: float) -> int:
    """Run ``seconds`` without ever checking a budget; return the process id."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return os.getpid()


def hog(limits: dict[str, float], nbytes: int) -> int:
    """Write to ``nbytes`` of fresh memory; return the process id."""
    block = np.ones(nbytes // 8)
    return os.getpid() + int(block[-1]) - 1
