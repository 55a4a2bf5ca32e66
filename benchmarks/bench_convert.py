"""Conversion speed: ResNet-50 and MobileNetV2 to computation graphs, from PyTorch (``from_torch``)
and from a pre-exported ONNX file (``from_onnx``; the export is not timed).

Cold time is the first conversion in a fresh Python process (imports excluded), measured in a
subprocess; warm time is the median of 5 further conversions in this process. Target: warm < 0.5 s.

    python benchmarks/bench_convert.py [--models resnet50 mobilenet_v2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

from gennape.examples.models import example
from gennape.graph import from_onnx
from gennape.graph import from_torch

#: Run in a fresh interpreter: import, then time one conversion. argv: route, model, onnx path.
_COLD = """
import sys, time
from gennape.examples.models import example
from gennape.graph import from_onnx
from gennape.graph import from_torch
route, name, path = sys.argv[1:]
model, shape = example(name)
model.eval()
start = time.perf_counter()
from_torch(model, shape) if route == "from_torch" else from_onnx(path)
print(time.perf_counter() - start)
"""


def export(model: torch.nn.Module, shape: tuple[int, ...], path: Path) -> None:
    """The reference export: TorchScript exporter, BatchNorm kept, opset 17."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, torch.randn(1, *shape), path, dynamo=False, do_constant_folding=False,
                          training=torch.onnx.TrainingMode.PRESERVE, opset_version=17)


def cold_seconds(route: str, name: str, path: Path) -> float:
    result = subprocess.run([sys.executable, "-c", _COLD, route, name, str(path)], capture_output=True,
                            text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def warm_seconds(convert, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        convert()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["resnet50", "mobilenet_v2"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{'model':<14}{'route':<12}{'nodes':>7}{'edges':>7}{'GMACs':>8}{'Mparams':>9}"
          f"{'cold s':>9}{'warm s':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            model, shape = example(name)
            model.eval()
            path = Path(tmp) / f"{name}.onnx"
            export(model, shape, path)
            routes = {"from_torch": lambda: from_torch(model, shape), "from_onnx": lambda: from_onnx(path)}
            graphs = []
            for route, convert in routes.items():
                cold = cold_seconds(route, name, path)
                graphs.append(graph := convert())
                warm = warm_seconds(convert, args.repeats)
                flag = "" if warm < 0.5 else "  (over the 0.5 s target)"
                print(f"{name:<14}{route:<12}{graph.num_nodes:>7}{graph.num_edges:>7}{graph.flops / 1e9:>8.3f}"
                      f"{graph.params / 1e6:>9.3f}{cold:>9.3f}{warm:>9.3f}{flag}")
            print(f"{name:<14}both routes give the same graph: {graphs[0] == graphs[1]}")


if __name__ == "__main__":
    main()
