#!/usr/bin/env python3
"""Writes the ResNet / ResNeXt / Wide ResNet zoo files from torchvision's resnet.py.

Transcribed from torchvision 0.29 (torchvision/models/resnet.py): the builders' block type and
layer counts, `ResNet._make_layer` (a `downsample` projection when the stride is not 1 or the
channel count changes) and `Bottleneck`'s width rule `int(planes * (base_width / 64.0)) * groups`.
Published figures are those of each builder's default weights entry (torchvision's
`Weights.meta`: metrics, `_ops`, `num_params`).

Run from anywhere: `python3 zoo/generate/resnet.py`. Deterministic; rewrites the files
byte-identically. Plain python3, no third-party imports.
"""

import os
from common import init_section, write_zoo_files

ZOO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

BASIC, BOTTLENECK = "BasicBlock", "Bottleneck"
EXPANSION = {BASIC: 1, BOTTLENECK: 4}  # BasicBlock.expansion, Bottleneck.expansion

PAPERS = {
    "ResNet": "He, Zhang, Ren, Sun: Deep Residual Learning for Image Recognition (2016)",
    "ResNeXt": "Xie, Girshick, Dollár, Tu, He: Aggregated Residual Transformations for Deep Neural Networks (2017)",
    "Wide ResNet": "Zagoruyko, Komodakis: Wide Residual Networks (2016)",
}

# name: (block, layers, groups, width_per_group, family, title, year) as the builders call
# _resnet(block, layers, weights, progress, groups=..., width_per_group=...).
BUILDERS = {
    "resnet18": (BASIC, [2, 2, 2, 2], 1, 64, "ResNet", "ResNet-18", 2015),
    "resnet34": (BASIC, [3, 4, 6, 3], 1, 64, "ResNet", "ResNet-34", 2015),
    "resnet50": (BOTTLENECK, [3, 4, 6, 3], 1, 64, "ResNet", "ResNet-50", 2015),
    "resnet101": (BOTTLENECK, [3, 4, 23, 3], 1, 64, "ResNet", "ResNet-101", 2015),
    "resnet152": (BOTTLENECK, [3, 8, 36, 3], 1, 64, "ResNet", "ResNet-152", 2015),
    "resnext50_32x4d": (BOTTLENECK, [3, 4, 6, 3], 32, 4, "ResNeXt", "ResNeXt-50 32×4d", 2016),
    "resnext101_32x8d": (BOTTLENECK, [3, 4, 23, 3], 32, 8, "ResNeXt", "ResNeXt-101 32×8d", 2016),
    "resnext101_64x4d": (BOTTLENECK, [3, 4, 23, 3], 64, 4, "ResNeXt", "ResNeXt-101 64×4d", 2016),
    "wide_resnet50_2": (BOTTLENECK, [3, 4, 6, 3], 1, 64 * 2, "Wide ResNet", "Wide ResNet-50-2", 2016),
    "wide_resnet101_2": (BOTTLENECK, [3, 4, 23, 3], 1, 64 * 2, "Wide ResNet", "Wide ResNet-101-2", 2016),
}

# The default weights entry of each builder (torchvision's WeightsEnum.DEFAULT meta):
# (weights, acc@1, acc@5, _ops (GMACs at the crop), num_params, crop_size).
WEIGHTS = {
    "resnet18": ("ResNet18_Weights.IMAGENET1K_V1", 69.758, 89.078, 1.814, 11689512, 224),
    "resnet34": ("ResNet34_Weights.IMAGENET1K_V1", 73.314, 91.42, 3.664, 21797672, 224),
    "resnet50": ("ResNet50_Weights.IMAGENET1K_V1", 76.13, 92.862, 4.089, 25557032, 224),
    "resnet101": ("ResNet101_Weights.IMAGENET1K_V1", 77.374, 93.546, 7.801, 44549160, 224),
    "resnet152": ("ResNet152_Weights.IMAGENET1K_V1", 78.312, 94.046, 11.514, 60192808, 224),
    "resnext50_32x4d": ("ResNeXt50_32X4D_Weights.IMAGENET1K_V1", 77.618, 93.698, 4.23, 25028904, 224),
    "resnext101_32x8d": ("ResNeXt101_32X8D_Weights.IMAGENET1K_V1", 79.312, 94.526, 16.414, 88791336, 224),
    "resnext101_64x4d": ("ResNeXt101_64X4D_Weights.IMAGENET1K_V1", 83.246, 96.454, 15.46, 83455272, 224),
    "wide_resnet50_2": ("Wide_ResNet50_2_Weights.IMAGENET1K_V1", 78.468, 94.086, 11.398, 68883240, 224),
    "wide_resnet101_2": ("Wide_ResNet101_2_Weights.IMAGENET1K_V1", 78.848, 94.284, 22.753, 126886696, 224),
}

# resnet18.zoo was written by hand before the generator; its provenance lines are kept as written.
KEPT_META = {
    "resnet18": {
        "about": "ResNet-18 (2015): eight residual BasicBlocks in four stages, global average pool.",
        "source": "torchvision.models.ResNet, resnet18() (torchvision 0.29)",
    },
}

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen", "twenty"]


def word(n):
    return WORDS[n] if n < len(WORDS) else str(n)


BASIC_BLOCKS = """\
# torchvision resnet.BasicBlock, stride 1 and no downsample:
# out = relu(bn2(conv2(relu(bn1(conv1(x))))) + x). The one `relu` module runs twice.
block BasicBlock(inplanes, planes) {
  conv1 = Conv2d(inplanes, planes, kernel_size=3, stride=1, padding=1, bias=False)
  bn1   = BatchNorm2d(planes)
  relu  = ReLU(inplace=True)
  conv2 = Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
  bn2   = BatchNorm2d(planes)
  add   = add <- bn2, $in
  relu  <- add                       # the same ReLU module, called a second time
}

# torchvision resnet.BasicBlock opening a stage: conv1 carries the stride, and `downsample`
# (conv1x1 + BatchNorm2d from ResNet._make_layer, registered after bn2) projects the shortcut.
block DownsampleBasicBlock(inplanes, planes, stride) class BasicBlock {
  conv1 = Conv2d(inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
  bn1   = BatchNorm2d(planes)
  relu  = ReLU(inplace=True)
  conv2 = Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
  bn2   = BatchNorm2d(planes)
  downsample = Sequential <- $in {
    0 = Conv2d(inplanes, planes, kernel_size=1, stride=stride, bias=False)
    1 = BatchNorm2d(planes)
  }
  add   = add <- bn2, downsample
  relu  <- add
}
"""

# Bottleneck.__init__ registers conv1, bn1, conv2, bn2, conv3, bn3, relu, downsample; forward
# runs relu after bn1, after bn2 and after the residual add. width = planes * base_width // 64
# * groups is int(planes * (base_width / 64.0)) * groups for torchvision's integer widths.
BOTTLENECK_BLOCKS = """\
# torchvision resnet.Bottleneck, stride 1 and no downsample (expansion 4):
# width = int(planes * (base_width / 64.0)) * groups, written planes * base_width // 64 * groups;
# out = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + x). `relu` is registered after
# bn3, as torchvision's __init__ creates it, and forward calls it three times.
block Bottleneck(inplanes, planes, groups, base_width) {
  conv1 = Conv2d(inplanes, planes * base_width // 64 * groups, kernel_size=1, stride=1, bias=False)
  bn1   = BatchNorm2d(planes * base_width // 64 * groups)
  relu
  conv2 = Conv2d(planes * base_width // 64 * groups, planes * base_width // 64 * groups, kernel_size=3, stride=1, padding=1, groups=groups, bias=False)
  bn2   = BatchNorm2d(planes * base_width // 64 * groups)
  relu
  conv3 = Conv2d(planes * base_width // 64 * groups, planes * 4, kernel_size=1, stride=1, bias=False)
  bn3   = BatchNorm2d(planes * 4)
  module relu = ReLU(inplace=True)
  add   = add <- bn3, $in
  relu  <- add
}

# torchvision resnet.Bottleneck opening a stage: conv2 carries the stride (ResNet v1.5), and
# `downsample` (conv1x1 + BatchNorm2d from ResNet._make_layer, registered after relu) projects
# the shortcut to planes * 4 channels (stride 1 in layer1, where only the width changes).
block DownsampleBottleneck(inplanes, planes, stride, groups, base_width) class Bottleneck {
  conv1 = Conv2d(inplanes, planes * base_width // 64 * groups, kernel_size=1, stride=1, bias=False)
  bn1   = BatchNorm2d(planes * base_width // 64 * groups)
  relu
  conv2 = Conv2d(planes * base_width // 64 * groups, planes * base_width // 64 * groups, kernel_size=3, stride=stride, padding=1, groups=groups, bias=False)
  bn2   = BatchNorm2d(planes * base_width // 64 * groups)
  relu
  conv3 = Conv2d(planes * base_width // 64 * groups, planes * 4, kernel_size=1, stride=1, bias=False)
  bn3   = BatchNorm2d(planes * 4)
  module relu = ReLU(inplace=True)
  downsample = Sequential <- $in {
    0 = Conv2d(inplanes, planes * 4, kernel_size=1, stride=stride, bias=False)
    1 = BatchNorm2d(planes * 4)
  }
  add   = add <- bn3, downsample
  relu  <- add
}
"""


def make_layers(block, layers):
    """ResNet.__init__ / _make_layer: the block calls of layer1..layer4."""
    expansion = EXPANSION[block]
    inplanes = 64
    stages = []
    for i, (planes, blocks) in enumerate(zip([64, 128, 256, 512], layers)):
        stride = 1 if i == 0 else 2
        calls = []
        has_downsample = stride != 1 or inplanes != planes * expansion
        if block == BASIC:
            if has_downsample:
                calls.append(f"DownsampleBasicBlock({inplanes}, {planes}, {stride})")
            else:
                calls.append(f"BasicBlock({inplanes}, {planes})")
        else:
            if has_downsample:
                calls.append(f"DownsampleBottleneck({inplanes}, {planes}, {stride}, groups, width_per_group)")
            else:
                calls.append(f"Bottleneck({inplanes}, {planes}, groups, width_per_group)")
        inplanes = planes * expansion
        for _ in range(1, blocks):
            if block == BASIC:
                calls.append(f"BasicBlock({inplanes}, {planes})")
            else:
                calls.append(f"Bottleneck({inplanes}, {planes}, groups, width_per_group)")
        stages.append(calls)
    return stages


def describe(name):
    block, layers, groups, width, family, title, year = BUILDERS[name]
    n = sum(layers)
    kind = "residual BasicBlocks" if block == BASIC else "Bottleneck blocks (1×1, 3×3, 1×1)"
    if family == "ResNeXt":
        kind = f"Bottleneck blocks with a {groups}-group 3×3 convolution"
    elif family == "Wide ResNet":
        kind = "Bottleneck blocks of twice ResNet's inner width"
    return f"{title} ({year}): {word(n)} {kind} in four stages, global average pool."


def header_comment(name):
    block, layers, groups, width, family, title, year = BUILDERS[name]
    call = f"torchvision.models.ResNet({block}, {layers}"
    if block == BOTTLENECK and (groups, width) != (1, 64):
        call += f",\n#   groups={groups}, width_per_group={width}"
    lines = [f"# {title} as torchvision builds it: {call})."]
    lines.append(f"# {PAPERS[family]}.")
    if family == "ResNeXt":
        lines.append(f"# Cardinality {groups}, bottleneck width {width}: each 3×3 convolution has {groups} groups of {width}")
        lines.append("# channels in layer1, twice as wide in each later stage.")
    if family == "Wide ResNet":
        lines.append(f"# torchvision's Wide ResNet is ResNet-{sum(layers) * 3 + 2} with the Bottleneck's inner width doubled")
        lines.append("# (width_per_group=128); the 1×1 expansions to planes * 4 channels are unchanged.")
    if block == BOTTLENECK:
        lines.append("# Downsampling Bottlenecks stride their 3×3 convolution (ResNet v1.5) and project the shortcut")
        lines.append("# with a strided 1×1 convolution. Each block's `relu` module runs three times.")
    else:
        lines.append("# Downsampling blocks use a strided 1×1 projection (option B). Each block's `relu` module is")
        lines.append("# called twice (after bn1 and after the residual add), as in torchvision: the name repeats.")
    lines.append("# Generated by zoo/generate/resnet.py from torchvision's resnet.py: edit the generator, not this file.")
    return "\n".join(lines)


# ResNet.__init__'s initialisation loops, transcribed.
INIT_COMMENT = [
    "Initialisation: ResNet.__init__ loops over self.modules(): Conv2d weight",
    "kaiming_normal_(mode=\"fan_out\", nonlinearity=\"relu\"); BatchNorm2d and GroupNorm weight 1, bias 0;",
    "fc keeps torch's default. With zero_init_residual=True a second loop then zeroes the weight of",
    "each residual branch's last batch norm (Bottleneck.bn3, BasicBlock.bn2): that later loop wins,",
    "as the path rule below beats the BatchNorm2d rule.",
]
INIT_RULES = [
    ("Conv2d.weight", 'kaiming_normal(mode="fan_out", nonlinearity="relu")'),
    ("BatchNorm2d.weight", "ones"),
    ("BatchNorm2d.bias", "zeros"),
    ("GroupNorm.weight", "ones"),
    ("GroupNorm.bias", "zeros"),
]
LAST_BN = {BASIC: "bn2", BOTTLENECK: "bn3"}


def render(name):
    block, layers, groups, width, family, title, year = BUILDERS[name]
    weights, top1, top5, gflops, params, crop = WEIGHTS[name]
    kept = KEPT_META.get(name, {})
    about = kept.get("about", describe(name))
    source = kept.get("source", f"torchvision.models.{name} (torchvision 0.29)")
    out = [header_comment(name)]
    out.append(f"model {name} class ResNet")
    out.append(f"input 1 3 {crop} {crop}")
    out.append("param num_classes = 1000")
    out.append("param zero_init_residual = false")
    if block == BOTTLENECK:
        out.append(f"param groups = {groups}")
        out.append(f"param width_per_group = {width}")
    out.append("")
    out.append(f'meta about = "{about}"')
    out.append(f'meta family = "{family}"')
    out.append(f'meta source = "{source}"')
    out.append(f'meta paper = "{PAPERS[family]}"')
    out.append(f"meta imagenet_top1 = {top1}")
    out.append(f"meta imagenet_top5 = {top5}")
    out.append(f"meta imagenet_gflops = {gflops}")
    out.append(f"meta imagenet_params = {params}")
    out.append(f'meta imagenet_source = "torchvision {weights}"')
    out.append("")
    out += init_section(INIT_COMMENT, INIT_RULES + [(f'"layer*.*.{LAST_BN[block]}".weight', "zeros if zero_init_residual")])
    out.append(BASIC_BLOCKS if block == BASIC else BOTTLENECK_BLOCKS)
    out.append("conv1   = Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)")
    out.append("bn1     = BatchNorm2d(64)")
    out.append("relu    = ReLU(inplace=True)")
    out.append("maxpool = MaxPool2d(kernel_size=3, stride=2, padding=1)")
    for i, calls in enumerate(make_layers(block, layers)):
        out.append(f"layer{i + 1} = Sequential {{")
        w = len(str(len(calls) - 1))
        for j, call in enumerate(calls):
            out.append(f"  {str(j).ljust(w)} = {call}")
        out.append("}")
    out.append("avgpool = AdaptiveAvgPool2d((1, 1))")
    out.append("flatten = torch.flatten(1)")
    out.append("fc      = Linear(512, num_classes)" if block == BASIC else "fc      = Linear(512 * 4, num_classes)")
    return "\n".join(out) + "\n"


def main():
    write_zoo_files((name, render(name)) for name in BUILDERS)


if __name__ == "__main__":
    main()
