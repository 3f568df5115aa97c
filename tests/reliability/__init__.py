"""Reliability suite (issue 8): malformed input, NaN-free outputs, invariances and fuzzing, with counts."""
