"""zoo's tests (a package, so that tests/support is importable as tests.support by the tests and the benchmarks)."""
