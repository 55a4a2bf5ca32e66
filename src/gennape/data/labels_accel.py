"""Accel-NASBench: 5,138 EfficientNet-B0-space networks with ImageNet-1k val top-1 (percent) after the
benchmark's cheaper training proxy (single seed; 13 architectures were trained twice and appear twice).

``extra``: ``params`` (a count; the file gives millions to 6 decimals), ``flops`` (the file's thop count
at 224 px, see ``flops_unit``), ``val_top5``, ``train_time_s``, and each hardware measurement of
``platform_perf`` as ``<metric>_<platform>`` (e.g. ``throughput_a100``: images/s; ``latency_zcu102``: ms).
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

from ..errors import SpecError
from ..families.accel_nasbench import AccelSpec
from .base import DataError, Record, register_loader, require_file

SOURCE = "afzalxo/Accel-NASBench, anb_dataset/anb_dataset_jsons.tar.gz, commit 4260357"
#: the benchmark's MACs are thop's count, which is not multiply-adds alone
FLOPS_UNIT = ("thop MACs at 224 px: conv and linear multiply-adds + 4 per BatchNorm output element + "
              "(H*W + 1) per output of each global average pool")
_MEMBER = re.compile(r"(?:\./)?anb_dataset_jsons/result_(\d+)\.json")


def _record(result: dict) -> Record:
    info, metrics = result["model_info"], result["metrics"]
    extra = {"params": round(info["params"] * 1e6), "flops": round(info["macs"] * 1e6), "flops_unit": FLOPS_UNIT,
             "val_top5": metrics["val_top5"], "train_time_s": metrics["train_time"]}
    for key, perf in result.get("platform_perf", {}).items():
        extra[key] = next(v for k, v in perf.items() if k.endswith("_mean"))
    return Record(AccelSpec.from_architecture(result["architecture"]), float(metrics["val_top1"]), extra)


@register_loader("accel_nasbench", family="accel_nasbench")
def load_accel_nasbench(root: Path) -> list[Record]:
    path = require_file(root, "raw/accel_nasbench/anb_dataset_jsons.tar.gz", SOURCE)
    records: dict[int, Record] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                m = _MEMBER.fullmatch(member.name)
                if not (m and member.isfile()):
                    continue
                try:
                    records[int(m[1])] = _record(json.load(tar.extractfile(member)))
                except (KeyError, ValueError, TypeError, StopIteration, SpecError) as e:
                    raise DataError(f"{path}: {member.name} is malformed ({type(e).__name__}: {e})") from None
    except (tarfile.TarError, OSError, EOFError) as e:
        raise DataError(f"{path} is not a readable tar.gz ({e}); expected the archive from {SOURCE}") from None
    if not records:
        raise DataError(f"{path} holds no anb_dataset_jsons/result_<i>.json files (from {SOURCE})")
    return [records[i] for i in sorted(records)]
