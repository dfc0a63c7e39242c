"""Camera coverage, white spots and placement of new cameras (issue 5)."""
