"""int8 top-1 of published models (zoo.quantized_model) on the 10,000 test images: run with the AVX2 class's kernels
(``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2``) it gives the AVX2 machine's own figures of
benchmarks/results-avx2.json, which is what makes that emulation a stand-in for the class (docs/development.md).

    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/investigations/avx2_int8.py lenet cifar_quick resnet20_cifar10

Its figures (AMD Zen 5 class, 2026-12-07) are in avx2_kernels.json. Frozen: not tested, not linked from the README.
"""
import json, sys, torch, zoo
from zoo.data import load_cifar10
from zoo.metrics import score_runtime
test = load_cifar10(None, train=False)  # $ZOO_DATA_DIR or the per-user cache
out = {"capability": torch.backends.cpu.get_cpu_capability()}
for name in sys.argv[1:]:
    out[name] = score_runtime(zoo.quantized_model(name), test).top1
print(json.dumps(out))
