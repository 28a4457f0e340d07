"""zoo's speed figures, side by side: ``python -m benchmarks.run`` (everything), ``benchmarks.peers`` (the runtimes a
deployment would pick instead), ``benchmarks.hub_load`` (import and Torch Hub load), ``benchmarks.train_throughput``
(training FLOP/s beside the matmul peak), ``benchmarks.train_pipeline`` (zoo's training pipeline beside the
tutorial's), ``benchmarks.plot`` (the throughput figures). Run them from the repository root. The JSON files here are
their measured outputs, one per machine class; docs/ renders its speed tables from them (``zoo docs``).

``benchmarks/investigations/``: finished studies (what bounds batch 1 and int8, the inference levers, the fast-path
options, the recipe searches, the fast-training choices, seed runs) with the files they wrote. Frozen: kept to
re-run by hand (``python -m benchmarks.investigations.NAME``), not tested, not linked from the README."""
