"""Observations extracted from completed responses, one per answered question."""
