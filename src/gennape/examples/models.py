"""Small, self-contained PyTorch networks (no torchvision) that exercise the graph converters.

Five small CIFAR-size networks cover the op styles the converters must handle (residual adds,
depthwise convs with squeeze-excite, multi-branch concat, DARTS cells, attention); two are the real
ImageNet networks whose cost is well known: ResNet-50 (4.1 G multiply-adds, 25,557,032 params) and
MobileNetV2 (0.30 G multiply-adds, 3,504,872 params). All are trainable and fx-traceable. The
vision transformer lives in :mod:`.transformer` and is re-exported here.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import SpecError
from .transformer import Attention, TransformerBlock, ViTTiny  # noqa: F401  (re-exported)


def conv_bn(c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1, dilation: int = 1,
            act: type[nn.Module] | None = nn.ReLU) -> nn.Sequential:
    """Conv(k, stride, "same" padding, no bias) -> BatchNorm -> optional activation."""
    layers = [nn.Conv2d(c_in, c_out, k, stride, dilation * (k // 2), dilation=dilation, groups=groups,
                        bias=False), nn.BatchNorm2d(c_out)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


# ------------------------------------------------------------------------ ResNets
class BasicBlock(nn.Module):
    """Two 3x3 convs with a residual add; a 1x1 projection shortcut when the shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(conv_bn(c_in, c_out, 3, stride), conv_bn(c_out, c_out, 3, act=None))
        self.shortcut = (conv_bn(c_in, c_out, 1, stride, act=None) if stride != 1 or c_in != c_out
                         else nn.Identity())

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


class Bottleneck(nn.Module):
    """ResNet-50 bottleneck (torchvision v1.5: the stride sits on the 3x3 conv)."""
    expansion = 4

    def __init__(self, c_in: int, width: int, stride: int = 1):
        super().__init__()
        c_out = width * self.expansion
        self.conv1, self.bn1 = nn.Conv2d(c_in, width, 1, bias=False), nn.BatchNorm2d(width)
        self.conv2, self.bn2 = nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width)
        self.conv3, self.bn3 = nn.Conv2d(width, c_out, 1, bias=False), nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
                           if stride != 1 or c_in != c_out else None)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNetSmall(nn.Module):
    """CIFAR ResNet: 3x3 stem, three stages of two BasicBlocks (16/32/64 channels)."""

    def __init__(self, num_classes: int = 10, widths: tuple[int, ...] = (16, 32, 64), blocks: int = 2):
        super().__init__()
        self.stem = conv_bn(3, widths[0], 3)
        layers, c = [], widths[0]
        for i, w in enumerate(widths):
            for j in range(blocks):
                layers.append(BasicBlock(c, w, 2 if i > 0 and j == 0 else 1))
                c = w
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.pool(self.layers(self.stem(x)))
        return self.fc(torch.flatten(x, 1))


class ResNet50(nn.Module):
    """ResNet-50 for 224x224 ImageNet, layer for layer as torchvision's ``resnet50``."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        c = 64
        stages = []
        for width, n, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            blocks = []
            for j in range(n):
                blocks.append(Bottleneck(c, width, stride if j == 0 else 1))
                c = width * Bottleneck.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ------------------------------------------------------------------------ MobileNets
def make_divisible(v: float, divisor: int = 8) -> int:
    """Round ``v`` to the nearest multiple of ``divisor`` without going more than 10% below it."""
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


class SqueezeExcite(nn.Module):
    """Channel gate: global average -> 1x1 conv (bias) -> ReLU -> 1x1 conv (bias) -> h-sigmoid -> scale."""

    def __init__(self, channels: int, squeezed: int):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, squeezed, 1)
        self.relu = nn.ReLU()
        self.expand = nn.Conv2d(squeezed, channels, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x):
        return x * self.gate(self.expand(self.relu(self.reduce(self.pool(x)))))


class InvertedResidual(nn.Module):
    """MobileNetV2/V3 block: 1x1 expand -> depthwise k x k -> [SE] -> 1x1 project, residual when shapes match."""

    def __init__(self, c_in: int, c_mid: int, c_out: int, k: int, stride: int, act: type[nn.Module],
                 se: bool = False):
        super().__init__()
        layers = [] if c_mid == c_in else [conv_bn(c_in, c_mid, 1, act=act)]
        layers.append(conv_bn(c_mid, c_mid, k, stride, groups=c_mid, act=act))
        if se:
            layers.append(SqueezeExcite(c_mid, make_divisible(c_mid // 4)))
        layers.append(conv_bn(c_mid, c_out, 1, act=None))
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


class MobileNetV3SmallLike(nn.Module):
    """A small MobileNetV3: h-swish stem, inverted residuals with SE and h-swish, a two-layer head."""

    #: (kernel, expanded, out, SE, activation, stride) as in MobileNetV3-Small, shortened.
    BLOCKS = ((3, 16, 16, True, nn.ReLU, 2), (3, 72, 24, False, nn.ReLU, 2), (3, 88, 24, False, nn.ReLU, 1),
              (5, 96, 40, True, nn.Hardswish, 2), (5, 240, 40, True, nn.Hardswish, 1))

    def __init__(self, num_classes: int = 10):
        super().__init__()
        layers, c = [conv_bn(3, 16, 3, 2, act=nn.Hardswish)], 16
        for k, mid, out, se, act, stride in self.BLOCKS:
            layers.append(InvertedResidual(c, mid, out, k, stride, act, se))
            c = out
        layers.append(conv_bn(c, 288, 1, act=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(288, 512), nn.Hardswish(), nn.Dropout(0.2),
                                        nn.Linear(512, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


class MobileNetV2(nn.Module):
    """MobileNetV2 (width 1.0) for 224x224 ImageNet, layer for layer as torchvision's ``mobilenet_v2``."""

    #: (expansion t, channels c, repeats n, first stride s)
    SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1))

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        layers, c = [conv_bn(3, 32, 3, 2, act=nn.ReLU6)], 32
        for t, out, n, s in self.SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(c, c * t, out, 3, s if i == 0 else 1, nn.ReLU6))
                c = out
        layers.append(conv_bn(c, 1280, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


# ------------------------------------------------------------------------ Inception
class InceptionBlock(nn.Module):
    """Four branches concatenated on channels: 1x1; 1x1 -> 3x3; 1x1 -> 3x3 -> 3x3 (a factorised
    5x5); 3x3 max pool -> 1x1."""

    def __init__(self, c_in: int, c1: int, c3: int, c5: int, c_pool: int):
        super().__init__()
        self.b1 = conv_bn(c_in, c1, 1)
        self.b3 = nn.Sequential(conv_bn(c_in, c3 // 2, 1), conv_bn(c3 // 2, c3, 3))
        self.b5 = nn.Sequential(conv_bn(c_in, c5 // 2, 1), conv_bn(c5 // 2, c5, 3), conv_bn(c5, c5, 3))
        self.bp = nn.Sequential(nn.MaxPool2d(3, 1, 1), conv_bn(c_in, c_pool, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], dim=1)


class InceptionLike(nn.Module):
    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.stem = conv_bn(3, 32, 3)
        self.block1 = InceptionBlock(32, 16, 32, 8, 8)       # -> 64 channels
        self.down = nn.MaxPool2d(3, 2, 1)
        self.block2 = InceptionBlock(64, 32, 48, 24, 24)     # -> 128 channels
        self.block3 = InceptionBlock(128, 48, 64, 32, 32)    # -> 176 channels
        self.fc = nn.Linear(176, num_classes)

    def forward(self, x):
        x = self.block3(self.block2(self.down(self.block1(self.stem(x)))))
        return self.fc(x.mean((2, 3)))


# ------------------------------------------------------------------------ DARTS
class SepConv(nn.Module):
    """DARTS separable conv: (ReLU -> depthwise k x k -> pointwise 1x1 -> BN) twice, the first strided."""

    def __init__(self, c: int, k: int, stride: int):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(), nn.Conv2d(c, c, k, stride, k // 2, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(), nn.Conv2d(c, c, k, 1, k // 2, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False),
            nn.BatchNorm2d(c))

    def forward(self, x):
        return self.op(x)


class DilConv(nn.Module):
    """DARTS dilated separable conv: ReLU -> depthwise k x k, dilation 2 -> pointwise 1x1 -> BN."""

    def __init__(self, c: int, k: int, stride: int):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, k, stride, k - 1, dilation=2, groups=c, bias=False),
                                nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return self.op(x)


class FactorizedReduce(nn.Module):
    """Halve the resolution: two strided 1x1 convs on offset grids, concatenated, then BN."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.conv2 = nn.Conv2d(c_in, c_out - c_out // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        x = self.relu(x)
        return self.bn(torch.cat([self.conv1(x), self.conv2(x[:, :, 1:, 1:])], dim=1))


def darts_op(name: str, c: int, stride: int) -> nn.Module:
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c)
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride, 1, count_include_pad=False)
    if name.startswith("sep_conv_"):
        return SepConv(c, int(name[-1]), stride)
    if name.startswith("dil_conv_"):
        return DilConv(c, int(name[-1]), stride)
    raise SpecError(f"unknown DARTS op {name!r}")


class DartsCell(nn.Module):
    """A DARTS cell: two preprocessed inputs, intermediate nodes each summing two ops, output the
    channel concat of the intermediate nodes."""

    def __init__(self, genotype: list[tuple[str, int]], c_pp: int, c_p: int, c: int, reduction: bool,
                 reduction_prev: bool):
        super().__init__()
        self.pre0 = FactorizedReduce(c_pp, c) if reduction_prev else conv_bn_relu_first(c_pp, c)
        self.pre1 = conv_bn_relu_first(c_p, c)
        self.ops = nn.ModuleList(darts_op(name, c, 2 if reduction and j < 2 else 1) for name, j in genotype)
        self.inputs = [j for _, j in genotype]

    def forward(self, s0, s1):
        states = [self.pre0(s0), self.pre1(s1)]
        for i in range(0, len(self.ops), 2):
            states.append(self.ops[i](states[self.inputs[i]]) + self.ops[i + 1](states[self.inputs[i + 1]]))
        return torch.cat(states[2:], dim=1)


def conv_bn_relu_first(c_in: int, c_out: int) -> nn.Sequential:
    """DARTS' ReLUConvBN 1x1 preprocessing."""
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))


#: DARTS-V2 genotype (op, input state) pairs: two per intermediate node, four nodes.
DARTS_NORMAL = [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
                ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)]
DARTS_REDUCE = [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
                ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("avg_pool_3x3", 1)]


class DartsLike(nn.Module):
    """A three-cell DARTS network: normal, reduction, normal; 16 channels per cell node."""

    def __init__(self, num_classes: int = 10, c: int = 16):
        super().__init__()
        self.stem = conv_bn(3, 3 * c, 3, act=None)
        c_pp, c_p, cells, reduction_prev = 3 * c, 3 * c, [], False
        for reduction in (False, True, False):
            c_cell = 2 * c if reduction else c
            c = c_cell
            cells.append(DartsCell(DARTS_REDUCE if reduction else DARTS_NORMAL, c_pp, c_p, c_cell, reduction,
                                   reduction_prev))
            c_pp, c_p, reduction_prev = c_p, 4 * c_cell, reduction
        self.cells = nn.ModuleList(cells)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes)

    def forward(self, x):
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(torch.flatten(self.pool(s1), 1))


# ------------------------------------------------------------------------ registry
#: name -> (factory, input shape (C, H, W) without the batch)
EXAMPLES: dict[str, tuple[Callable[[], nn.Module], tuple[int, int, int]]] = {
    "resnet_small": (ResNetSmall, (3, 32, 32)),
    "mobilenet_v3_small_like": (MobileNetV3SmallLike, (3, 64, 64)),
    "inception_like": (InceptionLike, (3, 32, 32)),
    "darts_like": (DartsLike, (3, 32, 32)),
    "vit_tiny": (ViTTiny, (3, 32, 32)),
    "resnet50": (ResNet50, (3, 224, 224)),
    "mobilenet_v2": (MobileNetV2, (3, 224, 224)),
}


def example(name: str) -> tuple[nn.Module, tuple[int, int, int]]:
    """A freshly initialised example network and its input shape (C, H, W)."""
    if name not in EXAMPLES:
        raise SpecError(f"no example model {name!r}; choose from {sorted(EXAMPLES)}")
    factory, shape = EXAMPLES[name]
    return factory(), shape
