"""Finished investigations and the figures they wrote (see ``benchmarks/__init__.py``): frozen, untested."""
