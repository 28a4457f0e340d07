"""Where one image's time goes on the fast path, against onnxruntime (issue 22: what bounds batch 1).

    python -m benchmarks.investigations.batch1_profile [--models lenet …] [--out benchmarks/investigations/batch1_profile.json]

``torch.utils.benchmark.Timer`` (median of blocked runs, 2 threads) times, per model, on one normalised image, in
``ROUNDS`` turns (this machine's speed moves by ±20 % from one minute to the next; each figure is the median of its
turns):
  check        — the fast path's input check alone (``check_cifar_input``);
  contexts     — entering and leaving ``inference_mode`` + ``autocast`` with nothing inside;
  compiled     — the fast path's compiled model alone (frozen where the fast path freezes), inside inference mode:
                 dynamo's guards, inductor's wrapper, the kernels;
  fast         — the whole fast path (``prepare_for_cpu_inference``) as a user calls it;
  aoti         — the AOTInductor package (``levers.aoti_path``) alone, inside inference mode;
  eager        — the plain model under ``no_grad``;
  onnxruntime  — ``session.run`` on the same image, with the tensor/array conversions;
and the torch profiler's operator table of the compiled call (the kernels and what launches them).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import torch
from torch.utils.benchmark import Timer


from benchmarks import peers
from benchmarks.investigations import levers

import zoo
from zoo.models._input import check_cifar_input

ROUNDS = 5


def median_us(fn, min_run_time: float = 1.0) -> float:
    measurement = Timer("fn()", globals={"fn": fn}, num_threads=2).blocked_autorange(min_run_time=min_run_time)
    return round(measurement.median * 1e6, 1)


def profile(name: str, workdir: Path) -> dict:
    published = name in zoo.list_models(pretrained=True)
    model = zoo.get_model(name, pretrained=published).eval()
    fast = zoo.prepare_for_cpu_inference(zoo.get_model(name, pretrained=published))
    x = torch.randn(1, 3, 32, 32)
    weight = next(model.parameters())
    laid_out = x.contiguous(memory_format=torch.channels_last) if fast.channels_last else x
    for _ in range(3):
        fast(x)  # compiles
    ort = peers.onnxruntime_session(name, workdir)
    package = levers.aoti_path(zoo.get_model(name, pretrained=published), 1, workdir).model.package

    def aoti_call():
        with torch.inference_mode():
            return package(x)

    def compiled_call():  # as FastCPUInference.forward calls it at batch 1 (fp32), less the check and the layout
        with torch.inference_mode(), fast.compile_context():
            return fast.model(laid_out)

    def contexts():
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=False):
            pass

    def eager():
        with torch.no_grad():
            return model(x)

    runners = {"check": lambda: check_cifar_input(x, name, like=weight), "contexts": contexts,
               "compiled": compiled_call, "aoti": aoti_call, "fast": lambda: fast(x), "eager": eager,
               "onnxruntime": lambda: ort(x)}
    turns: dict[str, list[float]] = {label: [] for label in runners}
    for _ in range(ROUNDS):
        for label, run in runners.items():
            turns[label].append(median_us(run, min_run_time=0.3))
    times = {label: round(statistics.median(values), 1) for label, values in turns.items()}
    with torch.profiler.profile() as profiler:
        for _ in range(100):
            compiled_call()
    table = profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=12)
    return {"us": times, "us_turns": turns, "profile": table}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=zoo.list_models(pretrained=True), choices=zoo.list_models())
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(2)
    results = {"machine_class": zoo.machine_class().to_dict(), "torch": torch.__version__, "models": {}}
    print(zoo.machine_class().summary())
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models:
            results["models"][name] = profile(name, Path(workdir))
            print(f"{name}: " + ", ".join(f"{k} {v:,.1f} us" for k, v in results["models"][name]["us"].items()))
            print(results["models"][name]["profile"])
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
