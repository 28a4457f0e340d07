"""All of zoo's speed figures, side by side, in one run on this machine.

    python -m benchmarks.run [--quick] [--inference-only] [--out results.json] [--models lenet cifar_quick vgg16_cifar10]

Per model, inference at batch 256 (images/s) and batch 1 (ms) for
  reference — the tutorial class (lenet, cifar_quick) or a plain torchvision VGG-16-BN with the same head,
              with the same weights, run as the tutorials do (fp32, NCHW, no_grad);
  zoo       — the model ``pretrained=True`` returns, run the same way;
  fast      — ``zoo.prepare_for_cpu_inference`` (inference_mode, torch.compile, and bf16 autocast and
              channels_last where they pay on this machine), with its top-1 on all 10,000 test images;
  int8      — ``zoo.quantized_model`` (PT2E static int8, compiled), with its top-1;
and the peers a user would deploy with instead (benchmarks/peers.py; pip install '.[peers]'), each with its top-1:
  openvino_f32, openvino_bf16 — ``ov.convert_model`` of the same model, compiled per batch size with that
              inference precision (bf16 only where the CPU has it natively);
  openvino_int8 — NNCF post-training int8 on zoo's 512 calibration images;
  onnxruntime — the ``zoo export`` ONNX file in onnxruntime's CPU provider (same threads);
and ``best_zoo_over_best_peer`` at each batch size (> 1: zoo's fastest path beats the fastest peer). A contestant
whose package is missing is left out with the reason;
training images/s of zoo's pipeline against the tutorial's (benchmarks/train_pipeline.py), in the precision
zoo.train uses here; import and
``pretrained=True`` load times from a loopback Hub (benchmarks/hub_load.py); and VGG-16 training FLOP/s
as a fraction of this CPU's measured bf16 matmul peak. Medians (min, max) after warm-up; the contestants
take turns so that a change in machine load hits all of them alike: in inference, per turn two untimed calls (the
previous runtime's spinning threads go idle, see ``timed``) and three timed ones; in training, one pass each.
Models without published weights are timed with random weights and get no top-1.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch


from benchmarks import hub_load, peers, train_pipeline
from tests.support.tutorial_models import TutorialLeNet, TutorialQuick

import zoo
from zoo.data import load_cifar10
from zoo.int8 import calibration_images
from zoo.metrics import score_runtime
from zoo.manifest import published_records
from zoo.models import build_model


def timed(fns: dict[str, Callable], x: torch.Tensor, repeat: int, warmup: int = 3, settle: int = 2,
          block: int = 3) -> dict[str, list[float]]:
    """Seconds per call of each function on ``x``: ``repeat`` turns, so that all see the same machine load; in
    each turn every function makes ``settle`` untimed calls, then ``block`` timed ones.

    The untimed calls let the previous contestant's threads go idle: runtimes keep their worker threads spinning
    after a call (onnxruntime by default, OpenMP for a while), and with turns of single calls across runtimes the
    spinning of one slowed the next 1.5-3x (lenet on this 2-core machine: plain 17.5 -> 29.6 ms at batch 256, the
    fast path 0.18 -> 0.58 ms at batch 1) — the 2x disagreement between the results files of issue 22."""
    for fn in fns.values():
        for _ in range(warmup):
            fn(x)
    times: dict[str, list[float]] = {label: [] for label in fns}
    for _ in range(repeat):
        for label, fn in fns.items():
            for _ in range(settle):
                fn(x)
            for _ in range(block):
                start = time.perf_counter()
                fn(x)
                times[label].append(time.perf_counter() - start)
    return times


def warm_up_compiler() -> None:
    """Compile and run a throwaway model: in one A/B run the first model compiled in a process ran ~20 % slower
    than identical ones compiled after it, so no contestant should be the first."""
    throwaway = zoo.prepare_for_cpu_inference(build_model("lenet").eval())
    for batch in (256, 1):
        throwaway(torch.randn(batch, 3, 32, 32))


def summary(values: list[float], digits: int = 2) -> dict[str, float]:
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits)}


def torchvision_vgg16_bn() -> torch.nn.Module:
    from torchvision.models import vgg16_bn

    model = vgg16_bn(num_classes=10)
    model.avgpool = torch.nn.Identity()  # the 1×1×512 map goes straight to the head
    model.classifier = build_model("vgg16_cifar10").classifier
    return model


# The classes the zoo's models grew out of (same parameter names): a model without one has no "reference" contestant.
REFERENCES: dict[str, Callable[[], torch.nn.Module]] = {
    "lenet": TutorialLeNet, "cifar_quick": TutorialQuick, "vgg16_cifar10": torchvision_vgg16_bn}


def reference_model(name: str, state_dict: dict) -> torch.nn.Module | None:
    if name not in REFERENCES:
        return None
    model = REFERENCES[name]()
    model.load_state_dict(state_dict)
    return model.eval()


def plain(model):
    def run(x):
        with torch.no_grad():
            return model(x)
    return run


def int8_contestant(name: str) -> tuple[dict[str, Callable], dict[str, str]]:
    """The int8 model as a contestant, or why it is missing."""
    from zoo.errors import ZooError

    try:
        return {"int8": zoo.quantized_model(name)}, {}
    except ZooError as error:
        return {}, {"int8": str(error)}


ZOO_PATHS = ("zoo", "fast", "int8")  # what zoo gives a user; the peers are benchmarks/peers.py's


def best(result: dict, labels) -> dict:
    """The fastest of ``labels`` at batch 256 (images/s) and at batch 1 (ms), each with its figure."""
    present = [label for label in labels if label in result]
    fastest256 = max(present, key=lambda label: result[label]["batch256_img_s"])
    fastest1 = min(present, key=lambda label: result[label]["batch1_ms"])
    return {"batch256": fastest256, "batch256_img_s": result[fastest256]["batch256_img_s"],
            "batch1": fastest1, "batch1_ms": result[fastest1]["batch1_ms"]}


def inference(name: str, repeat: int, test_split, calibration: torch.Tensor | None) -> dict:
    import tempfile

    published = name in published_records()
    model = zoo.get_model(name, pretrained=published).eval()
    fast = zoo.prepare_for_cpu_inference(zoo.get_model(name, pretrained=published))
    reference = reference_model(name, model.state_dict())
    contestants = {**({"reference": plain(reference)} if reference else {}), "zoo": plain(model), "fast": fast}
    with tempfile.TemporaryDirectory() as workdir:
        deployed, missing = int8_contestant(name) if published else ({}, {})
        contestants.update(deployed)
        builders, peers_missing = peers.peer_builders(name, model, calibration, Path(workdir)) \
            if calibration is not None else ({}, {label: "no CIFAR-10 calibration images" for label in peers.PEERS})
        missing.update(peers_missing)
        # The peers are compiled per batch size (static shapes, as deployed); zoo's paths take any shape.
        batch256 = timed({**contestants, **{label: build(256) for label, build in builders.items()}},
                         torch.randn(256, 3, 32, 32), repeat)
        batch1 = timed({**contestants, **{label: build(1) for label, build in builders.items()}},
                       torch.randn(1, 3, 32, 32), repeat * 5)
        result: dict = {"missing": missing}
        for label in batch256:
            img_s = [256 / t for t in batch256[label]]
            ms = [t * 1000 for t in batch1[label]]
            result[label] = {"batch256_img_s": summary(img_s, 1)["median"], "batch1_ms": summary(ms, 3)["median"],
                             "batch256_img_s_range": summary(img_s, 1), "batch1_ms_range": summary(ms, 3)}
        result["fast"]["top1"] = None
        if published and test_split is not None:
            for label in ["fast", *deployed]:
                result[label]["top1"] = score_runtime(contestants[label], test_split, batch_size=500).top1
            for label, build in builders.items():  # 10,000 = 20 × 500: one static shape scores every image
                result[label]["top1"] = score_runtime(build(500), test_split, batch_size=500).top1
            result["fast"]["published_top1"] = published_records()[name].top1
    baseline = "reference" if reference else "zoo"  # the plain zoo model, for models with no tutorial class
    for label in [c for c in contestants if c != baseline]:
        result[f"{label}_over_{baseline}"] = round(result[label]["batch256_img_s"] /
                                                   result[baseline]["batch256_img_s"], 2)
    if "int8" in result:
        result["int8_over_fast"] = round(result["int8"]["batch256_img_s"] / result["fast"]["batch256_img_s"], 2)
    if builders:
        zoo_best, peer_best = best(result, ZOO_PATHS), best(result, peers.PEERS)
        result["best_zoo"], result["best_peer"] = zoo_best, peer_best
        # > 1: zoo is faster. At batch 1 the figure is time, so the ratio is peer time over zoo time.
        result["best_zoo_over_best_peer"] = {
            "batch256": round(zoo_best["batch256_img_s"] / peer_best["batch256_img_s"], 2),
            "batch1": round(peer_best["batch1_ms"] / zoo_best["batch1_ms"], 2)}
    return result


def matmul_peak_flops(dtype: torch.dtype, size: int, repeat: int) -> float:
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    return statistics.median(2 * size ** 3 / t for t in timed({"matmul": lambda _: a @ b}, a, repeat)["matmul"])


def train_flops_per_image(name: str) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    model = build_model(name)
    x = torch.randn(8, 3, 32, 32)
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    return counter.get_total_flops() / len(x)


HEAVY_TRAIN_FLOP_PER_IMAGE = 5e8  # VGG-16 (0.9 GFLOP), ResNet-56: fewer turns, no training pipelines in --quick


def train_images(flop_per_image: float) -> int:
    """Images per training-pipeline pass: about 0.7 TFLOP of work, in thousands, 2,048 to 20,000 (lenet 20,000,
    cifar_quick 10,000, VGG-16 2,048)."""
    return max(2_048, min(20_000, int(round(7e11 / flop_per_image, -3))))


def peak_fraction(results: dict) -> float:
    """VGG-16 training FLOP/s over the matmul figure of the precision it trained in (bf16, or fp32 where bf16 is
    emulated). Can pass 1: the "peak" is MKL's matmul, which oneDNN's convolutions beat on some CPUs."""
    vgg_train = results["models"].get("vgg16_cifar10", {}).get("train")
    if not vgg_train:
        return float("nan")
    peak = results["peak"][f"{vgg_train['precision']}_gflop_s"] * 1e9
    return vgg_train["zoo_img_s"] * results["vgg16_train_flop_per_image"] / peak


def print_deployment_table(results: dict) -> None:
    """zoo's paths beside the peers: images/s at batch 256, ms at batch 1, top-1, and best zoo / best peer."""
    labels = [*ZOO_PATHS, *peers.PEERS]
    print(f"\n{'model':<18} " + " ".join(f"{label:>14}" for label in labels) + f" {'best zoo/peer':>14}")
    for name, r in results["models"].items():
        i = r["inference"]
        rows = {"img/s @256": lambda c: f"{c['batch256_img_s']:,.0f}", "ms @1": lambda c: f"{c['batch1_ms']:.3f}",
                "top-1": lambda c: f"{c['top1']:.4f}" if c.get("top1") is not None else "-"}
        ratio = i.get("best_zoo_over_best_peer", {})
        ratios = {"img/s @256": ratio.get("batch256"), "ms @1": ratio.get("batch1"), "top-1": None}
        for row, cell in rows.items():
            cells = " ".join(f"{cell(i[label]) if label in i else '-':>14}" for label in labels)
            print(f"{name + ' ' + row:<18} {cells} {'' if ratios[row] is None else f'{ratios[row]:.2f}x':>14}")
        for label, why in i.get("missing", {}).items():
            print(f"  {label}: not measured ({why})")


def print_table(results: dict) -> None:
    print(f"\n{'model':<14} {'ref img/s':>10} {'zoo img/s':>10} {'fast img/s':>11} {'fast/ref':>9} {'fast top-1':>11} "
          f"{'ref ms@1':>9} {'fast ms@1':>10} {'train tut':>10} {'train zoo':>10}")
    for name, r in results["models"].items():
        i, t = r["inference"], r.get("train", {})
        top1 = f"{i['fast']['top1']:.4f}" if i["fast"]["top1"] is not None else "-"
        ref = i.get("reference", {"batch256_img_s": float("nan"), "batch1_ms": float("nan")})  # no tutorial class: nan
        print(f"{name:<14} {ref['batch256_img_s']:>10,.0f} {i['zoo']['batch256_img_s']:>10,.0f} "
              f"{i['fast']['batch256_img_s']:>11,.0f} {i.get('fast_over_reference', float('nan')):>8.2f}x {top1:>11} "
              f"{ref['batch1_ms']:>9.3f} {i['fast']['batch1_ms']:>10.3f} "
              f"{t.get('tutorial_img_s', 0):>10,.0f} {t.get('zoo_img_s', 0):>10,.0f}")
    print_deployment_table(results)
    if "hub" not in results:
        return
    print("\ntraining passes split by a stopwatch: data path / model step, images/s")
    for name, r in results["models"].items():
        if t := r.get("train"):
            print(f"{name:<14} tutorial {t['tutorial_data_img_s']:>8,.0f} / {t['tutorial_step_img_s']:>7,.0f}   "
                  f"zoo {t['zoo_data_img_s']:>8,.0f} / {t['zoo_step_img_s']:>7,.0f}   speed-up {t['speedup']:.2f}x "
                  f"(at most {t['speedup_bound_free_data']:.2f}x with a free data path)")
    hub = results["hub"]
    print(f"\nimport torch {hub['import_torch_s']:.3f} s, import hubconf {hub['import_hubconf_s']:.3f} s, "
          f"pretrained load from the archive's weights/ {hub.get('archive_s', float('nan')):.3f} s, downloaded cold "
          f"{hub['cold_s']:.3f} s / warm {hub['warm_s']:.3f} s")
    precision = results["models"].get("vgg16_cifar10", {}).get("train", {}).get("precision", "bf16")
    print(f"VGG-16 training ({precision}): {results['vgg16_train_peak_fraction']:.1%} of the measured {precision} matmul peak "
          f"(bf16 {results['peak']['bf16_gflop_s']:.1f} GFLOP/s, fp32 {results['peak']['fp32_gflop_s']:.0f} GFLOP/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and images: under a minute")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--models", nargs="+", default=zoo.list_models(), choices=zoo.list_models())
    parser.add_argument("--data-dir", help="CIFAR-10 root (default: $ZOO_DATA_DIR or the per-user cache)")
    parser.add_argument("--inference-only", action="store_true",
                        help="inference contestants only: no training pipelines, matmul peak or hub load")
    args = parser.parse_args()
    torch.set_num_threads(2)
    warm_up_compiler()
    repeat = 3 if args.quick else 20
    try:
        train_split, test_split = load_cifar10(args.data_dir), load_cifar10(args.data_dir, train=False)
        calibration = calibration_images(args.data_dir)
    except Exception as error:  # noqa: BLE001 — benchmarks still run without data, minus accuracy and training
        print(f"no CIFAR-10 ({error}): skipping top-1, training figures and the peers", file=sys.stderr)
        train_split = test_split = calibration = None
    results: dict = {"machine": {"torch": torch.__version__, "threads": torch.get_num_threads(),
                                 "quick": args.quick, "peers": peers.versions()},
               "machine_class": zoo.machine_class().to_dict(), "models": {}}
    print(f"machine class: {zoo.machine_class().summary()}", file=sys.stderr, flush=True)
    for name in args.models:
        print(f"{name}: inference…", file=sys.stderr, flush=True)
        flops = train_flops_per_image(name)
        heavy = flops > HEAVY_TRAIN_FLOP_PER_IMAGE
        # The small models run a batch in milliseconds: more turns make their medians steadier at little cost.
        inference_repeat = repeat if args.quick else (repeat // 2 if heavy else repeat)
        entry = {"inference": inference(name, inference_repeat, test_split, calibration)}
        if train_split is not None and not args.inference_only and (not args.quick or not heavy):
            print(f"{name}: training pipelines…", file=sys.stderr, flush=True)
            count = train_images(flops) // (4 if args.quick else 1)
            entry["train"] = train_pipeline.measure(name, train_split.subset(count), 1 if args.quick else 3)
            torch.set_num_threads(2)
        results["models"][name] = entry
    if args.inference_only:
        return finish(results, args.out)
    machine_figures(results, repeat, args.quick)
    finish(results, args.out)


def machine_figures(results: dict, repeat: int, quick: bool) -> None:
    """The matmul peaks, VGG-16 training's share of them, and the hub load times, into ``results``."""
    size = 1024 if quick else 2048
    # Emulated bf16 (no native bf16 here) took 59 s per 2048² matmul on an AVX2-only CPU, so 20 turns would take over
    # an hour and a half; an eighth of the work in one turn shows how far behind fp32 it is (nothing here trains in it).
    bf16_size, bf16_repeat = (size, repeat) if zoo.machine_class().native_bf16 else (size // 2, 1)
    results["peak"] = {"fp32_gflop_s": matmul_peak_flops(torch.float32, size, repeat) / 1e9,
                       "bf16_gflop_s": matmul_peak_flops(torch.bfloat16, bf16_size, bf16_repeat) / 1e9,
                       "matmul_size": size, "bf16_matmul_size": bf16_size, "bf16_turns": bf16_repeat}
    results["vgg16_train_flop_per_image"] = train_flops_per_image("vgg16_cifar10")
    results["vgg16_train_peak_fraction"] = peak_fraction(results)
    print("hub load…", file=sys.stderr, flush=True)
    results["hub"] = hub_load.measure("lenet", 1 if quick else 5)


def finish(results: dict, out: Path | None) -> None:
    print_table(results)
    if out:
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
