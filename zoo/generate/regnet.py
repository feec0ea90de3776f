#!/usr/bin/env python3
"""Write the RegNet zoo files (zoo/regnet_x_*.zoo, zoo/regnet_y_*.zoo).

Transcribed from torchvision 0.29's torchvision/models/regnet.py: the builders' BlockParams
(depth, w_0, w_a, w_m, group_width, se_ratio), BlockParams.from_init_params (quantised linear
widths in log space, stage split, group-width compatibility through _make_divisible) and the
module structure of RegNet / SimpleStemIN / AnyStage / ResBottleneckBlock / BottleneckTransform /
torchvision.ops.misc.SqueezeExcitation.

torchvision computes the block widths with float32 torch tensors; this script rounds every
intermediate value to float32 the same way (struct packing) and also checks that no value
sits close enough to a rounding boundary for float32/float64 differences to matter.

Plain python3, no third-party imports. Rerunnable: `python3 zoo/generate/regnet.py` rewrites the
files byte-identically.
"""

import math
import os
import struct
from common import _make_divisible, init_section, write_zoo_files

ZOO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

# --------------------------------------------------------------------------------------------
# torchvision's builders (regnet.py), in torchvision's order, with the default weights entry's
# published figures (torchvision_weights.json builders.NAME[0]: the first weights entry).
# --------------------------------------------------------------------------------------------
BUILDERS = [
    # name, from_init_params kwargs, published (weights, acc1, acc5, gflops, params, crop)
    ("regnet_y_400mf", dict(depth=16, w_0=48, w_a=27.89, w_m=2.09, group_width=8, se_ratio=0.25),
     ("RegNet_Y_400MF_Weights.IMAGENET1K_V1", 74.046, 91.716, 0.402, 4344144, 224)),
    ("regnet_y_800mf", dict(depth=14, w_0=56, w_a=38.84, w_m=2.4, group_width=16, se_ratio=0.25),
     ("RegNet_Y_800MF_Weights.IMAGENET1K_V1", 76.42, 93.136, 0.834, 6432512, 224)),
    ("regnet_y_1_6gf", dict(depth=27, w_0=48, w_a=20.71, w_m=2.65, group_width=24, se_ratio=0.25),
     ("RegNet_Y_1_6GF_Weights.IMAGENET1K_V1", 77.95, 93.966, 1.612, 11202430, 224)),
    ("regnet_y_3_2gf", dict(depth=21, w_0=80, w_a=42.63, w_m=2.66, group_width=24, se_ratio=0.25),
     ("RegNet_Y_3_2GF_Weights.IMAGENET1K_V1", 78.948, 94.576, 3.176, 19436338, 224)),
    ("regnet_y_8gf", dict(depth=17, w_0=192, w_a=76.82, w_m=2.19, group_width=56, se_ratio=0.25),
     ("RegNet_Y_8GF_Weights.IMAGENET1K_V1", 80.032, 95.048, 8.473, 39381472, 224)),
    ("regnet_y_16gf", dict(depth=18, w_0=200, w_a=106.23, w_m=2.48, group_width=112, se_ratio=0.25),
     ("RegNet_Y_16GF_Weights.IMAGENET1K_V1", 80.424, 95.24, 15.912, 83590140, 224)),
    ("regnet_y_32gf", dict(depth=20, w_0=232, w_a=115.89, w_m=2.53, group_width=232, se_ratio=0.25),
     ("RegNet_Y_32GF_Weights.IMAGENET1K_V1", 80.878, 95.34, 32.28, 145046770, 224)),
    ("regnet_y_128gf", dict(depth=27, w_0=456, w_a=160.83, w_m=2.52, group_width=264, se_ratio=0.25),
     ("RegNet_Y_128GF_Weights.IMAGENET1K_SWAG_E2E_V1", 88.228, 98.682, 374.57, 644812894, 384)),
    ("regnet_x_400mf", dict(depth=22, w_0=24, w_a=24.48, w_m=2.54, group_width=16),
     ("RegNet_X_400MF_Weights.IMAGENET1K_V1", 72.834, 90.95, 0.414, 5495976, 224)),
    ("regnet_x_800mf", dict(depth=16, w_0=56, w_a=35.73, w_m=2.28, group_width=16),
     ("RegNet_X_800MF_Weights.IMAGENET1K_V1", 75.212, 92.348, 0.8, 7259656, 224)),
    ("regnet_x_1_6gf", dict(depth=18, w_0=80, w_a=34.01, w_m=2.25, group_width=24),
     ("RegNet_X_1_6GF_Weights.IMAGENET1K_V1", 77.04, 93.44, 1.603, 9190136, 224)),
    ("regnet_x_3_2gf", dict(depth=25, w_0=88, w_a=26.31, w_m=2.25, group_width=48),
     ("RegNet_X_3_2GF_Weights.IMAGENET1K_V1", 78.364, 93.992, 3.177, 15296552, 224)),
    ("regnet_x_8gf", dict(depth=23, w_0=80, w_a=49.56, w_m=2.88, group_width=120),
     ("RegNet_X_8GF_Weights.IMAGENET1K_V1", 79.344, 94.686, 7.995, 39572648, 224)),
    ("regnet_x_16gf", dict(depth=22, w_0=216, w_a=55.59, w_m=2.1, group_width=128),
     ("RegNet_X_16GF_Weights.IMAGENET1K_V1", 80.058, 94.944, 15.941, 54278536, 224)),
    ("regnet_x_32gf", dict(depth=23, w_0=320, w_a=69.86, w_m=2.0, group_width=168),
     ("RegNet_X_32GF_Weights.IMAGENET1K_V1", 80.622, 95.248, 31.736, 107811560, 224)),
]

STEM_WIDTH = 32  # RegNet(stem_width=32)


# --------------------------------------------------------------------------------------------
# float32 arithmetic as torch does it (default dtype float32)
# --------------------------------------------------------------------------------------------
def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


MIN_MARGIN = 1e-3  # distance from a .5 rounding boundary below which we refuse to guess


def _check_margin(x32, x64, what):
    """x32 is torch's float32 value, x64 the same formula in float64. Near a .5 boundary the
    two must agree exactly (then the arithmetic was exact, e.g. 80 * 2.25 / 8 = 22.5, and
    round-half-to-even decides as torch.round does); otherwise we refuse to guess."""
    frac = x32 - math.floor(x32)
    if abs(frac - 0.5) < MIN_MARGIN and x32 != x64:
        raise SystemExit(f"{what} = {x32!r} (float64 {x64!r}) is too close to a rounding boundary")
    if round(x32) != round(x64):
        raise SystemExit(f"{what}: float32 {x32!r} and float64 {x64!r} round differently")


def from_init_params(depth, w_0, w_a, w_m, group_width, bottleneck_multiplier=1.0, se_ratio=None):
    """BlockParams.from_init_params, element by element in float32."""
    QUANT = 8
    STRIDE = 2

    if w_a < 0 or w_0 <= 0 or w_m <= 1 or w_0 % 8 != 0:
        raise ValueError("Invalid RegNet settings")
    # widths_cont = torch.arange(depth) * w_a + w_0
    widths_cont = [f32(f32(f32(float(i)) * f32(w_a)) + f32(w_0)) for i in range(depth)]
    # block_capacity = torch.round(torch.log(widths_cont / w_0) / math.log(w_m))
    log_w_m = f32(math.log(w_m))
    block_capacity = []
    for w in widths_cont:
        x = f32(f32(math.log(f32(w / f32(w_0)))) / log_w_m)
        _check_margin(x, math.log(w / w_0) / math.log(w_m), "block capacity")
        block_capacity.append(float(round(x)))  # round half to even, as torch.round
    # block_widths = (torch.round(torch.divide(w_0 * torch.pow(w_m, block_capacity), QUANT)) * QUANT).int().tolist()
    block_widths = []
    for k in block_capacity:
        x = f32(f32(f32(w_0) * f32(f32(w_m) ** k)) / QUANT)
        _check_margin(x, w_0 * w_m ** k / QUANT, "block width / QUANT")
        block_widths.append(int(f32(round(x) * QUANT)))
    num_stages = len(set(block_widths))

    # Convert to per stage parameters
    split_helper = zip(
        block_widths + [0],
        [0] + block_widths,
        block_widths + [0],
        [0] + block_widths,
    )
    splits = [w != wp or r != rp for w, wp, r, rp in split_helper]

    stage_widths = [w for w, t in zip(block_widths, splits[:-1]) if t]
    split_ids = [d for d, t in enumerate(splits) if t]
    stage_depths = [b - a for a, b in zip(split_ids, split_ids[1:])]  # torch.diff

    strides = [STRIDE] * num_stages
    bottleneck_multipliers = [bottleneck_multiplier] * num_stages
    group_widths = [group_width] * num_stages

    # Adjust the compatibility of stage widths and group widths
    stage_widths, group_widths = _adjust_widths_groups_compatibilty(
        stage_widths, bottleneck_multipliers, group_widths
    )
    return stage_widths, strides, stage_depths, group_widths, bottleneck_multipliers, se_ratio


def _adjust_widths_groups_compatibilty(stage_widths, bottleneck_ratios, group_widths):
    # Compute all widths for the current settings
    widths = [int(w * b) for w, b in zip(stage_widths, bottleneck_ratios)]
    group_widths_min = [min(g, w_bot) for g, w_bot in zip(group_widths, widths)]

    # Compute the adjusted widths so that stage and group widths fit
    ws_bot = [_make_divisible(w_bot, g) for w_bot, g in zip(widths, group_widths_min)]
    stage_widths = [int(w_bot / b) for w_bot, b in zip(ws_bot, bottleneck_ratios)]
    return stage_widths, group_widths_min


# --------------------------------------------------------------------------------------------
# zoo text
# --------------------------------------------------------------------------------------------
def title(name):
    # regnet_y_1_6gf -> RegNetY-1.6GF
    _, xy, *rest = name.split("_")
    size = ".".join(rest).upper()
    return f"RegNet{xy.upper()}-{size}"


BLOCKS_COMMON = """\
# torchvision.ops.misc.Conv2dNormActivation(in, out, kernel_size, stride, groups=…,
# norm_layer=BatchNorm2d(eps=1e-05, momentum=0.1), activation_layer=ReLU): padding is
# (kernel_size - 1) // 2 * dilation, bias = (norm_layer is None) = False.
block Conv2dNormActivation(in_channels, out_channels, kernel_size, stride=1, groups=1) {
  0 = Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=(kernel_size - 1) // 2, groups=groups, bias=False)
  1 = BatchNorm2d(out_channels, eps=1e-05, momentum=0.1)
  2 = ReLU(inplace=True)
}

# The same Conv2dNormActivation with activation_layer=None (regnet's proj and f.c).
block Conv2dNorm(in_channels, out_channels, kernel_size, stride=1) class Conv2dNormActivation {
  0 = Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=(kernel_size - 1) // 2, bias=False)
  1 = BatchNorm2d(out_channels, eps=1e-05, momentum=0.1)
}

# regnet.SimpleStemIN(width_in, width_out): Conv2dNormActivation(kernel_size=3, stride=2) with ReLU.
block SimpleStemIN(width_in, width_out) {
  0 = Conv2d(width_in, width_out, 3, stride=2, padding=(3 - 1) // 2, bias=False)
  1 = BatchNorm2d(width_out, eps=1e-05, momentum=0.1)
  2 = ReLU(inplace=True)
}
"""

BLOCKS_Y = """
# torchvision.ops.misc.SqueezeExcitation(input_channels, squeeze_channels, activation=ReLU):
# registers avgpool, fc1, fc2, activation, scale_activation; forward runs avgpool, fc1,
# activation, fc2, scale_activation and returns scale * input.
block SqueezeExcitation(input_channels, squeeze_channels) {
  avgpool = AdaptiveAvgPool2d(1)
  fc1 = Conv2d(input_channels, squeeze_channels, 1)
  module fc2 = Conv2d(squeeze_channels, input_channels, 1)
  activation = ReLU()
  fc2
  scale_activation = Sigmoid()
  scale = mul <- scale_activation, $in
}

# regnet.BottleneckTransform (an nn.Sequential of a, b, se, c): 1x1, grouped 3x3 [stride], SE, 1x1.
# bottleneck_multiplier is 1.0, so w_b = int(round(width_out * 1.0)) = width_out and
# g = w_b // group_width; width_se_out = int(round(se_ratio * width_in)) is passed in.
block BottleneckTransform(width_in, width_out, stride, group_width, width_se_out) {
  a  = Conv2dNormActivation(width_in, width_out, 1)
  b  = Conv2dNormActivation(width_out, width_out, 3, stride=stride, groups=width_out // group_width)
  se = SqueezeExcitation(width_out, width_se_out)
  c  = Conv2dNorm(width_out, width_out, 1)
}

# regnet.ResBottleneckBlock where width_in != width_out or stride != 1 (first block of a stage):
# x = proj(x) + f(x), then activation.
block ResBottleneckBlockProj(width_in, width_out, stride, group_width, width_se_out) class ResBottleneckBlock {
  proj = Conv2dNorm(width_in, width_out, 1, stride=stride) <- $in
  f    = BottleneckTransform(width_in, width_out, stride, group_width, width_se_out) <- $in
  add  = add <- proj, f
  activation = ReLU(inplace=True)
}

# regnet.ResBottleneckBlock without projection (proj is None): x = x + f(x), then activation.
block ResBottleneckBlock(width, group_width, width_se_out) {
  f    = BottleneckTransform(width, width, 1, group_width, width_se_out)
  add  = add <- $in, f
  activation = ReLU(inplace=True)
}
"""

BLOCKS_X = """
# regnet.BottleneckTransform (an nn.Sequential of a, b, c; se_ratio is None): 1x1, grouped 3x3
# [stride], 1x1. bottleneck_multiplier is 1.0, so w_b = int(round(width_out * 1.0)) = width_out
# and g = w_b // group_width.
block BottleneckTransform(width_in, width_out, stride, group_width) {
  a = Conv2dNormActivation(width_in, width_out, 1)
  b = Conv2dNormActivation(width_out, width_out, 3, stride=stride, groups=width_out // group_width)
  c = Conv2dNorm(width_out, width_out, 1)
}

# regnet.ResBottleneckBlock where width_in != width_out or stride != 1 (first block of a stage):
# x = proj(x) + f(x), then activation.
block ResBottleneckBlockProj(width_in, width_out, stride, group_width) class ResBottleneckBlock {
  proj = Conv2dNorm(width_in, width_out, 1, stride=stride) <- $in
  f    = BottleneckTransform(width_in, width_out, stride, group_width) <- $in
  add  = add <- proj, f
  activation = ReLU(inplace=True)
}

# regnet.ResBottleneckBlock without projection (proj is None): x = x + f(x), then activation.
block ResBottleneckBlock(width, group_width) {
  f   = BottleneckTransform(width, width, 1, group_width)
  add = add <- $in, f
  activation = ReLU(inplace=True)
}
"""


def fmt_kwargs(kw):
    return ", ".join(f"{k}={v!r}" for k, v in kw.items())


def render(name, kwargs, published):
    weights, acc1, acc5, gflops, nparams, crop = published
    widths, strides, depths, group_widths, bms, se_ratio = from_init_params(**kwargs)
    is_y = se_ratio is not None
    t = title(name)
    out = []
    w = out.append
    w(f"# {t} as torchvision builds it: torchvision.models.{name}() = RegNet(BlockParams.from_init_params(")
    w(f"#   {fmt_kwargs(kwargs)})).")
    w("# Radosavovic, Kosaraju, Girshick, He, Dollár, \"Designing Network Design Spaces\" (CVPR 2020).")
    w("# Generated by zoo/generate/regnet.py from torchvision's configuration: edit the generator, not this file.")
    w("# from_init_params gives, per stage (width, depth, group width, bottleneck multiplier):")
    for i, (wo, d, g, b) in enumerate(zip(widths, depths, group_widths, bms)):
        w(f"#   block{i + 1}: width {wo}, depth {d}, group width {g}, bottleneck multiplier {b}")
    if is_y:
        w(f"# Every block has squeeze-excitation with int(round({se_ratio} * width_in)) channels.")
    w(f"model {name} class RegNet")
    w(f"input 1 3 {crop} {crop}")
    w("param num_classes = 1000")
    w("")
    kind = "Y" if is_y else "X"
    about_se = " with squeeze-excitation" if is_y else ""
    w(f"meta about = \"{t} (2020): {sum(depths)} residual bottleneck blocks{about_se} in {len(depths)} stages, widths from the RegNet{kind} design space.\"")
    w(f"meta family = \"RegNet {kind}\"")
    w(f"meta source = \"torchvision.models.{name} (torchvision 0.29)\"")
    w("meta paper = \"Radosavovic, Kosaraju, Girshick, He, Dollár: Designing Network Design Spaces (2020)\"")
    w(f"meta imagenet_top1 = {acc1!r}")
    w(f"meta imagenet_top5 = {acc5!r}")
    w(f"meta imagenet_gflops = {gflops!r}")
    w(f"meta imagenet_params = {nparams}")
    w(f"meta imagenet_source = \"torchvision {weights}\"")
    w("")
    out += init_section([
        "Initialisation: RegNet.__init__ (\"ResNet-style\") loops over self.modules(): Conv2d weight",
        "normal_(0, sqrt(2.0 / fan_out)) with fan_out = kernel_size[0] * kernel_size[1] * out_channels,",
        "torch's fan_out of the weight. Conv biases are left alone (\"no bias due to BN\"; RegNetY's",
        "squeeze-excitation convs do have one, and it keeps torch's default). BatchNorm2d weight 1, bias 0;",
        "Linear weight normal_(0, 0.01), bias 0. torchvision's RegNet has no zero_init_last_gamma",
        "(pycls's option): every block's last batch norm starts at weight 1 like the others.",
    ], [
        ("Conv2d.weight", "normal(mean=0.0, std=sqrt(2.0 / fan_out))"),
        ("BatchNorm2d.weight", "ones"),
        ("BatchNorm2d.bias", "zeros"),
        ("Linear.weight", "normal(mean=0.0, std=0.01)"),
        ("Linear.bias", "zeros"),
    ])
    text = "\n".join(out) + "\n" + BLOCKS_COMMON + (BLOCKS_Y if is_y else BLOCKS_X) + "\n"

    body = []
    b_ = body.append
    b_(f"stem = SimpleStemIN(3, {STEM_WIDTH})")
    b_("trunk_output = Sequential {")
    current = STEM_WIDTH
    for i, (width_out, stride, depth, group_width, bm) in enumerate(
        zip(widths, strides, depths, group_widths, bms)
    ):
        stage_index = i + 1
        b_(f"  block{stage_index} = Sequential class AnyStage {{")
        for j in range(depth):
            width_in = current if j == 0 else width_out
            s = stride if j == 0 else 1
            w_b = int(round(width_out * bm))
            if w_b != width_out:
                raise SystemExit(f"{name}: bottleneck_multiplier {bm} != 1.0 is not templated")
            args = [width_in, width_out, s, group_width]
            if is_y:
                args.append(int(round(se_ratio * width_in)))
            should_proj = (width_in != width_out) or (s != 1)
            if should_proj:
                call = f"ResBottleneckBlockProj({', '.join(map(str, args))})"
            else:
                call = f"ResBottleneckBlock({', '.join(map(str, [width_out] + args[3:]))})"
            b_(f"    \"block{stage_index}-{j}\" = {call}")
        b_("  }")
        current = width_out
    b_("}")
    b_("avgpool = AdaptiveAvgPool2d((1, 1))")
    b_("flatten = torch.flatten(1)")
    b_(f"fc = Linear({current}, num_classes)")
    return text + "\n".join(body) + "\n"


def main():
    write_zoo_files((name, render(name, kwargs, published)) for name, kwargs, published in BUILDERS)


if __name__ == "__main__":
    main()
