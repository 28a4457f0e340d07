"""The levers on zoo's CPU inference path, measured side by side per model and batch size (issue 22).

    python -m benchmarks.investigations.levers [--models lenet …] [--out benchmarks/investigations/levers.json] [--quick]

Each contestant is the fast path (``zoo.prepare_for_cpu_inference``: its input check, layout, autocast and
inference mode) around a different compiled model, so that only the lever differs:
  fast          — the fast path as it ships (benchmarks/investigations/levers*.json were measured when it shipped
                  ``cpp_wrapper``, unfrozen, for every model; it now freezes the wide-convolution models, no
                  ``cpp_wrapper``: the "frozen" row for those, "unfrozen" for lenet);
  unfrozen      — plain ``torch.compile``, no option;
  frozen        — inductor ``freezing``: weights become constants, folded and pre-packed for oneDNN (set while
                  dynamo traces: as a ``torch.compile`` option it freezes nothing);
  frozen_cpp    — freezing and inductor ``cpp_wrapper`` (the compiled graph called from C++, not from generated
                  Python);
  autotune      — max-autotune (as ``mode="max-autotune"``) with freezing (inductor's C++ GEMM templates, tuned per shape);
  aoti          — an AOTInductor package (``torch.export`` at this batch size, ``aoti_compile_and_package`` with
                  freezing, ``aoti_load_package``): no dynamo guards, no Python wrapper per call;
and at batch 1 each of these again on one thread (``_1t``). Batch 256 in images/s, batch 1 in ms: medians of
contestants taking turns (``run.timed``); top-1 on all 10,000 test images for each lever at batch 500, since a
lever that changes the kernels may change the numbers. The first call at each batch size is timed apart
(``first_call_s``: compiling, plus building the package for AOTInductor), with inductor's on-disk cache in a fresh
folder and its graph cache off: about what a user waits for once per process on a first run (kernels whose source
an earlier contestant compiled still come from the cache, so later contestants can wait less).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch
import torch._inductor.config


from benchmarks.run import summary, timed, warm_up_compiler

import zoo
from zoo.data import load_cifar10
from zoo.fast import FastCPUInference
from zoo.manifest import published_records
from zoo.metrics import score_runtime

# Freezing is the fast path's own switch (FastCPUInference.freezing: inductor's config patched while dynamo traces);
# as a torch.compile option it reaches inductor alone and freezes nothing (what this file measured before).
LEVERS: dict[str, dict] = {
    "fast": {},  # the fast path as it ships (zoo/fast.py's choice for the model)
    "unfrozen": {"freezing": False, "options": {}},
    "frozen": {"freezing": True, "options": {}},
    "frozen_cpp": {"freezing": True, "options": {"cpp_wrapper": True}},
    # mode="max-autotune" is these options (torch.compile takes a mode or options, not both) plus freezing
    "autotune": {"freezing": True, "options": {"max_autotune": True, "coordinate_descent_tuning": True}},
}


def fast_path(model: torch.nn.Module, freezing: bool = False, options: dict | None = None) -> FastCPUInference:
    """The fast path, its model compiled by ``torch.compile(options=options)`` with or without ``freezing``
    (``options=None``: the fast path as it ships)."""
    if options is None:
        return zoo.prepare_for_cpu_inference(model)
    fast = zoo.prepare_for_cpu_inference(model, compile=False, freezing=freezing)
    # freezing among the options as well: dynamo reuses another instance's graph compiled with the same options
    fast.model = torch.compile(fast.model, options={**options, "freezing": freezing})
    return fast


class Package(torch.nn.Module):
    """An AOTInductor package in the fast path's ``model`` slot (which takes modules)."""

    def __init__(self, package) -> None:
        super().__init__()
        self.package = package

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.package(x)


def aoti_path(model: torch.nn.Module, batch: int, workdir: Path) -> FastCPUInference:
    """The fast path around an AOTInductor package of ``model`` compiled for ``batch`` images (its own autocast
    and layout captured by the export)."""
    fast = zoo.prepare_for_cpu_inference(model, compile=False)
    example = torch.randn(batch, 3, 32, 32)
    if fast.channels_last:
        example = example.contiguous(memory_format=torch.channels_last)
    bf16 = fast.bf16 and batch >= fast.bf16_min_batch
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        exported = torch.export.export(fast.model, (example,))
    package = torch._inductor.aoti_compile_and_package(
        exported, package_path=str(workdir / f"b{batch}.pt2"), inductor_configs={"freezing": True})
    fast.model = Package(torch._inductor.aoti_load_package(package))
    fast.bf16 = False  # the autocast is in the package now
    return fast


def one_thread(run: Callable) -> Callable:
    def call(x):
        torch.set_num_threads(1)
        try:
            return run(x)
        finally:
            torch.set_num_threads(2)
    return call


def measure(name: str, repeat: int, test_split, workdir: Path, with_aoti: bool = True) -> dict:
    published = name in published_records()
    build = lambda: zoo.get_model(name, pretrained=published).eval()  # noqa: E731 — a fresh model per lever
    contestants = {label: fast_path(build(), **kwargs) for label, kwargs in LEVERS.items()}
    batch_runs: dict[int, dict[str, Callable]] = {256: dict(contestants), 1: dict(contestants)}
    missing: dict[str, str] = {}
    build_s: dict[str, float] = {}
    if with_aoti:
        for batch in batch_runs:
            try:
                start = time.perf_counter()
                batch_runs[batch]["aoti"] = aoti_path(build(), batch, workdir)
                build_s[f"aoti@{batch}"] = time.perf_counter() - start
            except Exception as error:  # noqa: BLE001 — a lever that does not build is a finding, not a crash
                missing["aoti"] = f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
    batch_runs[1].update({f"{label}_1t": one_thread(run) for label, run in list(batch_runs[1].items())})
    print(f"{name}: timing {', '.join(batch_runs[1])}", file=sys.stderr, flush=True)
    first_call_s = {}  # compiling happens at the first call of each shape (AOTInductor's: before, when it is built)
    for batch, runs in batch_runs.items():
        x = torch.randn(batch, 3, 32, 32)
        for label, run in runs.items():
            if label.endswith("_1t"):
                continue
            start = time.perf_counter()
            run(x)
            first_call_s[f"{label}@{batch}"] = round(time.perf_counter() - start + build_s.get(f"{label}@{batch}", 0), 1)
    batch256 = timed(batch_runs[256], torch.randn(256, 3, 32, 32), repeat)
    batch1 = timed(batch_runs[1], torch.randn(1, 3, 32, 32), repeat * 5)
    result: dict = {"missing": missing, "batch256_img_s": {}, "batch1_ms": {}, "top1": {}, "first_call_s": first_call_s}
    for label, times in batch256.items():
        result["batch256_img_s"][label] = summary([256 / t for t in times], 1)
    for label, times in batch1.items():
        result["batch1_ms"][label] = summary([t * 1000 for t in times], 3)
    if published and test_split is not None:
        for label, run in contestants.items():
            result["top1"][label] = score_runtime(run, test_split, batch_size=500).top1
        if "aoti" in batch_runs[256]:  # compiled for 256 images: score 9,984 of them, then the rest at batch 1
            result["top1"]["aoti"] = None  # static shape; its kernels are the frozen ones, scored above
        result["published_top1"] = published_records()[name].top1
    fastest = {"batch256": max(result["batch256_img_s"], key=lambda k: result["batch256_img_s"][k]["median"]),
               "batch1": min(result["batch1_ms"], key=lambda k: result["batch1_ms"][k]["median"])}
    result["fastest"] = fastest
    result["fastest_over_fast"] = {
        "batch256": round(result["batch256_img_s"][fastest["batch256"]]["median"]
                          / result["batch256_img_s"]["fast"]["median"], 2),
        "batch1": round(result["batch1_ms"]["fast"]["median"] / result["batch1_ms"][fastest["batch1"]]["median"], 2)}
    return result


def print_table(results: dict) -> None:
    for name, r in results["models"].items():
        print(f"\n{name} (fastest: @256 {r['fastest']['batch256']}, @1 {r['fastest']['batch1']}; "
              f"over fast {r['fastest_over_fast']['batch256']:.2f}x / {r['fastest_over_fast']['batch1']:.2f}x)")
        for label in r["batch1_ms"]:
            img_s = r["batch256_img_s"].get(label, {}).get("median")
            top1 = r["top1"].get(label)
            print(f"  {label:<16} {'' if img_s is None else f'{img_s:>10,.0f} img/s @256':>22} "
                  f"{r['batch1_ms'][label]['median']:>8.3f} ms @1  {'' if top1 is None else f'top-1 {top1:.4f}'}")
        for label, why in r["missing"].items():
            print(f"  {label}: not measured ({why})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=zoo.list_models(), choices=zoo.list_models())
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true", help="fewer turns, no top-1")
    parser.add_argument("--no-aoti", action="store_true")
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    torch.set_num_threads(2)
    cache = tempfile.TemporaryDirectory()
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache.name  # no compiled kernel from an earlier run
    torch._inductor.config.fx_graph_cache = False  # each contestant compiles its graph
    warm_up_compiler()
    test_split = None if args.quick else load_cifar10(args.data_dir, train=False)
    results: dict = {"machine": {"torch": torch.__version__, "threads": 2, "quick": args.quick},
                     "machine_class": zoo.machine_class().to_dict(), "models": {}}
    print(f"machine class: {zoo.machine_class().summary()}", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models:
            heavy = name in ("vgg16_cifar10", "resnet56_cifar10")
            repeat = 3 if args.quick else (10 if heavy else 40)
            results["models"][name] = measure(name, repeat, test_split, Path(workdir), not args.no_aoti)
    print_table(results)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
