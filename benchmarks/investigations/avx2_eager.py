"""Eager fp32 inference of published models (batch 256 img/s, batch 1 ms; medians), as run for the AVX2 estimate of
docs/development.md (issue 38): once natively and once with the AVX2 class's kernels on the same machine.

    python benchmarks/investigations/avx2_eager.py lenet cifar_quick resnet20_cifar10 vgg16_cifar10
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/investigations/avx2_eager.py ...

Its figures (AMD Zen 5 class, 2026-12-07) are in avx2_kernels.json. Frozen: not tested, not linked from the README.
"""
import json, statistics, sys, time
import torch, zoo
torch.set_num_threads(2)
out = {}
for name in sys.argv[1:]:
    model = zoo.get_model(name, pretrained=True).eval()
    row = {}
    for batch, repeats in ((256, 7), (1, 50)):
        x = torch.randn(batch, 3, 32, 32)
        times = []
        with torch.no_grad():
            for _ in range(3): model(x)
            for _ in range(repeats):
                t = time.perf_counter(); model(x); times.append(time.perf_counter() - t)
        med = statistics.median(times)
        row["batch256_img_s" if batch == 256 else "batch1_ms"] = round(256 / med, 1) if batch == 256 else round(med * 1e3, 3)
    out[name] = row
print(json.dumps({"capability": torch.backends.cpu.get_cpu_capability(), **out}))
