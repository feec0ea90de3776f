#!/usr/bin/env python3
"""Writes zoo/efficientnet_b0.zoo … efficientnet_b7.zoo and efficientnet_v2_s/m/l.zoo.

Transcribed from torchvision 0.29's torchvision/models/efficientnet.py, with
torchvision/ops/misc.py (Conv2dNormActivation, SqueezeExcitation), torchvision/ops/stochastic_depth.py
and models/_utils.py (_make_divisible):
- _efficientnet_conf: the B-series MBConvConfig table scaled by (width_mult, depth_mult)
  (channels _make_divisible(c * width_mult, 8), layers ceil(n * depth_mult)) and the V2 tables of
  FusedMBConvConfig / MBConvConfig with last_channel 1280;
- the builders' dropout and norm_layer (BatchNorm2d for B0-B4, eps=0.001 momentum=0.01 for B5-B7,
  eps=1e-03 for V2);
- EfficientNet.__init__: stem Conv2dNormActivation(3, c0, 3, stride 2, SiLU), one Sequential per
  config with the first block taking (input, stride) and the rest (out, 1), each block's
  stochastic depth p = stochastic_depth_prob * float(stage_block_id) / total_stage_blocks, the last
  1x1 conv (4 * channels, or last_channel), AdaptiveAvgPool2d(1), flatten, Dropout + Linear;
- MBConv (expand 1x1 when expanded != input, depthwise, SqueezeExcitation with max(1, input // 4)
  squeeze channels and SiLU, linear project) and FusedMBConv (fused kxk expand + 1x1 project, or
  one kxk conv when expand ratio 1); both apply stochastic_depth and add the input only when
  use_res_connect (stride 1 and input == out).
Plain python3, deterministic: `python3 zoo/generate/efficientnet.py` rewrites the files byte for byte.
"""
import math
import os
from common import _make_divisible, conv_norm_activation, init_section, write_zoo_files

ZOO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# Published figures of the default weights (torchvision EfficientNet_*_Weights.IMAGENET1K_V1 meta):
# acc@1, acc@5, _ops (GMACs at the crop size), num_params, eval crop_size.
PUBLISHED = {
    "efficientnet_b0": ("EfficientNet_B0_Weights.IMAGENET1K_V1", 77.692, 93.532, 0.386, 5288548, 224),
    "efficientnet_b1": ("EfficientNet_B1_Weights.IMAGENET1K_V1", 78.642, 94.186, 0.687, 7794184, 240),
    "efficientnet_b2": ("EfficientNet_B2_Weights.IMAGENET1K_V1", 80.608, 95.310, 1.088, 9109994, 288),
    "efficientnet_b3": ("EfficientNet_B3_Weights.IMAGENET1K_V1", 82.008, 96.054, 1.827, 12233232, 300),
    "efficientnet_b4": ("EfficientNet_B4_Weights.IMAGENET1K_V1", 83.384, 96.594, 4.394, 19341616, 380),
    "efficientnet_b5": ("EfficientNet_B5_Weights.IMAGENET1K_V1", 83.444, 96.628, 10.266, 30389784, 456),
    "efficientnet_b6": ("EfficientNet_B6_Weights.IMAGENET1K_V1", 84.008, 96.916, 19.068, 43040704, 528),
    "efficientnet_b7": ("EfficientNet_B7_Weights.IMAGENET1K_V1", 84.122, 96.908, 37.746, 66347960, 600),
    "efficientnet_v2_s": ("EfficientNet_V2_S_Weights.IMAGENET1K_V1", 84.228, 96.878, 8.366, 21458488, 384),
    "efficientnet_v2_m": ("EfficientNet_V2_M_Weights.IMAGENET1K_V1", 85.112, 97.156, 24.582, 54139356, 480),
    "efficientnet_v2_l": ("EfficientNet_V2_L_Weights.IMAGENET1K_V1", 85.808, 97.788, 56.080, 118515272, 480),
}

PAPER_V1 = "Tan, Le: EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks (ICML 2019)"
PAPER_V2 = "Tan, Le: EfficientNetV2: Smaller Models and Faster Training (ICML 2021)"

# The norm layers the builders pass, as BatchNorm2d arguments after num_features.
NORM_DEFAULT = ""                              # nn.BatchNorm2d (B0-B4)
NORM_B5 = ", eps=0.001, momentum=0.01"         # partial(nn.BatchNorm2d, eps=0.001, momentum=0.01) (B5-B7)
NORM_V2 = ", eps=1e-03"                        # partial(nn.BatchNorm2d, eps=1e-03) (V2)

# builder -> (width_mult, depth_mult, dropout, norm), as efficientnet_bN() calls _efficientnet_conf / _efficientnet.
B_SERIES = {
    "efficientnet_b0": (1.0, 1.0, 0.2, NORM_DEFAULT),
    "efficientnet_b1": (1.0, 1.1, 0.2, NORM_DEFAULT),
    "efficientnet_b2": (1.1, 1.2, 0.3, NORM_DEFAULT),
    "efficientnet_b3": (1.2, 1.4, 0.3, NORM_DEFAULT),
    "efficientnet_b4": (1.4, 1.8, 0.4, NORM_DEFAULT),
    "efficientnet_b5": (1.6, 2.2, 0.4, NORM_B5),
    "efficientnet_b6": (1.8, 2.6, 0.5, NORM_B5),
    "efficientnet_b7": (2.0, 3.1, 0.5, NORM_B5),
}

# builder -> (dropout, norm) for the V2 builders.
V2_SERIES = {
    "efficientnet_v2_s": (0.2, NORM_V2),
    "efficientnet_v2_m": (0.3, NORM_V2),
    "efficientnet_v2_l": (0.4, NORM_V2),
}


def adjust_channels(channels, width_mult):
    # _MBConvConfig.adjust_channels
    return _make_divisible(channels * width_mult, 8)


def adjust_depth(num_layers, depth_mult):
    # MBConvConfig.adjust_depth
    return int(math.ceil(num_layers * depth_mult))


def mbconv_config(expand_ratio, kernel, stride, input_channels, out_channels, num_layers, width_mult=1.0, depth_mult=1.0):
    return dict(block="MBConv", expand_ratio=expand_ratio, kernel=kernel, stride=stride,
                input_channels=adjust_channels(input_channels, width_mult),
                out_channels=adjust_channels(out_channels, width_mult),
                num_layers=adjust_depth(num_layers, depth_mult),
                table=(expand_ratio, kernel, stride, input_channels, out_channels, num_layers))


def fused_mbconv_config(expand_ratio, kernel, stride, input_channels, out_channels, num_layers):
    return dict(block="FusedMBConv", expand_ratio=expand_ratio, kernel=kernel, stride=stride,
                input_channels=input_channels, out_channels=out_channels, num_layers=num_layers,
                table=(expand_ratio, kernel, stride, input_channels, out_channels, num_layers))


def efficientnet_conf(arch, width_mult=None, depth_mult=None):
    # _efficientnet_conf
    if arch.startswith("efficientnet_b"):
        def bneck_conf(*args):
            return mbconv_config(*args, width_mult=width_mult, depth_mult=depth_mult)
        inverted_residual_setting = [
            bneck_conf(1, 3, 1, 32, 16, 1),
            bneck_conf(6, 3, 2, 16, 24, 2),
            bneck_conf(6, 5, 2, 24, 40, 2),
            bneck_conf(6, 3, 2, 40, 80, 3),
            bneck_conf(6, 5, 1, 80, 112, 3),
            bneck_conf(6, 5, 2, 112, 192, 4),
            bneck_conf(6, 3, 1, 192, 320, 1),
        ]
        last_channel = None
    elif arch.startswith("efficientnet_v2_s"):
        inverted_residual_setting = [
            fused_mbconv_config(1, 3, 1, 24, 24, 2),
            fused_mbconv_config(4, 3, 2, 24, 48, 4),
            fused_mbconv_config(4, 3, 2, 48, 64, 4),
            mbconv_config(4, 3, 2, 64, 128, 6),
            mbconv_config(6, 3, 1, 128, 160, 9),
            mbconv_config(6, 3, 2, 160, 256, 15),
        ]
        last_channel = 1280
    elif arch.startswith("efficientnet_v2_m"):
        inverted_residual_setting = [
            fused_mbconv_config(1, 3, 1, 24, 24, 3),
            fused_mbconv_config(4, 3, 2, 24, 48, 5),
            fused_mbconv_config(4, 3, 2, 48, 80, 5),
            mbconv_config(4, 3, 2, 80, 160, 7),
            mbconv_config(6, 3, 1, 160, 176, 14),
            mbconv_config(6, 3, 2, 176, 304, 18),
            mbconv_config(6, 3, 1, 304, 512, 5),
        ]
        last_channel = 1280
    elif arch.startswith("efficientnet_v2_l"):
        inverted_residual_setting = [
            fused_mbconv_config(1, 3, 1, 32, 32, 4),
            fused_mbconv_config(4, 3, 2, 32, 64, 7),
            fused_mbconv_config(4, 3, 2, 64, 96, 7),
            mbconv_config(4, 3, 2, 96, 192, 10),
            mbconv_config(6, 3, 1, 192, 224, 19),
            mbconv_config(6, 3, 2, 224, 384, 25),
            mbconv_config(6, 3, 1, 384, 640, 7),
        ]
        last_channel = 1280
    else:
        raise ValueError(arch)
    return inverted_residual_setting, last_channel


# ---------------------------------------------------------------------------------------------
# Blocks

SQUEEZE_EXCITATION = """\
# torchvision.ops.misc.SqueezeExcitation(input_channels, squeeze_channels, activation=partial(nn.SiLU,
# inplace=True)) (scale_activation nn.Sigmoid): registers avgpool, fc1, fc2, activation,
# scale_activation; _scale runs avgpool, fc1, activation, fc2, scale_activation, and forward returns
# scale * input.
block SqueezeExcitation(input_channels, squeeze_channels) {
  avgpool = AdaptiveAvgPool2d(1)
  fc1 = Conv2d(input_channels, squeeze_channels, 1)
  module fc2 = Conv2d(squeeze_channels, input_channels, 1)
  activation = SiLU(inplace=True)
  module scale_activation = Sigmoid()
  fc2
  scale_activation
  mul = mul <- scale_activation, $in
}
"""


def block_name(kind):
    block, expand, res = kind
    return "%s%s%s" % (block, "" if expand else "NoExpand", "Res" if res else "")


def block_text(kind):
    block, expand, res = kind
    lines = []
    if block == "MBConv":
        lines.append("# torchvision.models.efficientnet.MBConv, %s, %s."
                     % ("expand 1x1 (expanded != input)" if expand else "no expand (expand ratio 1)",
                        "use_res_connect: stochastic_depth(result) + input" if res else "no shortcut (stochastic_depth registered, not called)"))
    else:
        lines.append("# torchvision.models.efficientnet.FusedMBConv, %s, %s."
                     % ("fused kxk expand + 1x1 project" if expand else "one kxk conv (expand ratio 1)",
                        "use_res_connect: stochastic_depth(result) + input" if res else "no shortcut (stochastic_depth registered, not called)"))
    lines.append("block %s(input_channels, expanded_channels, out_channels, kernel, stride, stochastic_depth_prob) class %s {"
                 % (block_name(kind), block))
    lines.append("  block = Sequential {")
    k = 0
    if block == "MBConv":
        if expand:
            lines.append("    %d = ConvBNSiLU(input_channels, expanded_channels, kernel_size=1)    # expand" % k)
            k += 1
        lines.append("    %d = ConvBNSiLU(expanded_channels, expanded_channels, kernel_size=kernel, stride=stride, groups=expanded_channels)    # depthwise" % k)
        lines.append("    %d = SqueezeExcitation(expanded_channels, input_channels // 4)    # max(1, input_channels // 4)" % (k + 1))
        lines.append("    %d = ConvBN(expanded_channels, out_channels, kernel_size=1)    # project" % (k + 2))
    else:
        if expand:
            lines.append("    0 = ConvBNSiLU(input_channels, expanded_channels, kernel_size=kernel, stride=stride)    # fused expand")
            lines.append("    1 = ConvBN(expanded_channels, out_channels, kernel_size=1)    # project")
        else:
            lines.append("    0 = ConvBNSiLU(input_channels, out_channels, kernel_size=kernel, stride=stride)")
    lines.append("  }")
    if res:
        lines.append("  stochastic_depth = StochasticDepth(p=stochastic_depth_prob, mode='row')")
        lines.append("  add = add <- stochastic_depth, $in")
    else:
        lines.append("  module stochastic_depth = StochasticDepth(p=stochastic_depth_prob, mode='row')")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Files

def header(out, name, family, about, paper, dropout):
    weights, acc1, acc5, gflops, num_params, crop = PUBLISHED[name]
    out.append("model %s class EfficientNet" % name)
    out.append("input 1 3 %d %d" % (crop, crop))
    out.append("param num_classes = 1000")
    out.append("param dropout = %r" % dropout)
    out.append("param stochastic_depth_prob = 0.2")
    out.append("")
    out.append('meta about = "%s"' % about)
    out.append('meta family = "%s"' % family)
    out.append('meta source = "torchvision.models.%s (torchvision 0.29)"' % name)
    out.append('meta paper = "%s"' % paper)
    out.append("meta imagenet_top1 = %.3f" % acc1)
    out.append("meta imagenet_top5 = %.3f" % acc5)
    out.append("meta imagenet_gflops = %.3f" % gflops)
    out.append("meta imagenet_params = %d" % num_params)
    out.append('meta imagenet_source = "torchvision %s"' % weights)
    out.append("")
    out += init_section([
        "Initialisation: EfficientNet.__init__ loops over self.modules(): Conv2d weight",
        "kaiming_normal_(mode=\"fan_out\"), bias 0; BatchNorm2d and GroupNorm weight 1, bias 0; Linear weight",
        "uniform_(-init_range, init_range) with init_range = 1.0 / math.sqrt(m.out_features) (a Linear",
        "weight's fan_out is its out_features), bias 0.",
    ], [
        ("Conv2d.weight", 'kaiming_normal(mode="fan_out")'),
        ("Conv2d.bias", "zeros"),
        ("BatchNorm2d.weight", "ones"),
        ("BatchNorm2d.bias", "zeros"),
        ("GroupNorm.weight", "ones"),
        ("GroupNorm.bias", "zeros"),
        ("Linear.weight", "uniform(-1.0 / sqrt(fan_out), 1.0 / sqrt(fan_out))"),
        ("Linear.bias", "zeros"),
    ])


def zoo_file(name):
    if name in B_SERIES:
        width_mult, depth_mult, dropout, norm = B_SERIES[name]
        setting, last_channel = efficientnet_conf(name, width_mult, depth_mult)
        family, paper = "EfficientNet", PAPER_V1
        title = "EfficientNet-" + name[len("efficientnet_"):].upper()
    else:
        dropout, norm = V2_SERIES[name]
        setting, last_channel = efficientnet_conf(name)
        family, paper = "EfficientNet V2", PAPER_V2
        title = "EfficientNetV2-" + name[len("efficientnet_v2_"):].upper()
    crop = PUBLISHED[name][5]
    stochastic_depth_prob = 0.2

    total_stage_blocks = sum(cnf["num_layers"] for cnf in setting)
    kinds = []
    features = []
    firstconv_output_channels = setting[0]["input_channels"]
    features.append("  0 = ConvBNSiLU(3, %d, kernel_size=3, stride=2)" % firstconv_output_channels)
    stage_block_id = 0
    for s, cnf in enumerate(setting):
        features.append("  # %s %s%s -> %d block%s"
                        % ("MBConvConfig" if cnf["block"] == "MBConv" else "FusedMBConvConfig", cnf["table"],
                           " x width %r, depth %r" % (width_mult, depth_mult) if name in B_SERIES else "",
                           cnf["num_layers"], "s" if cnf["num_layers"] > 1 else ""))
        features.append("  %d = Sequential {" % (s + 1))
        for i in range(cnf["num_layers"]):
            input_channels = cnf["input_channels"] if i == 0 else cnf["out_channels"]
            stride = cnf["stride"] if i == 0 else 1
            out_channels = cnf["out_channels"]
            expanded_channels = adjust_channels(input_channels, cnf["expand_ratio"])
            expand = expanded_channels != input_channels
            res = stride == 1 and input_channels == out_channels
            if cnf["block"] == "MBConv":
                # the squeeze channels written as input_channels // 4 in the block
                assert max(1, input_channels // 4) == input_channels // 4
            kind = (cnf["block"], expand, res)
            if kind not in kinds:
                kinds.append(kind)
            sd = "stochastic_depth_prob * %d / %d" % (stage_block_id, total_stage_blocks)
            features.append("    %d = %s(%d, %d, %d, kernel=%d, stride=%d, stochastic_depth_prob=%s)"
                            % (i, block_name(kind), input_channels, expanded_channels, out_channels,
                               cnf["kernel"], stride, sd))
            stage_block_id += 1
        features.append("  }")
    lastconv_input_channels = setting[-1]["out_channels"]
    if last_channel is None:
        lastconv = "4 * %d" % lastconv_input_channels
    else:
        lastconv = "%d" % last_channel
    features.append("  %d = ConvBNSiLU(%d, %s, kernel_size=1)" % (len(setting) + 1, lastconv_input_channels, lastconv))

    out = []
    out.append("# Generated by zoo/generate/efficientnet.py from torchvision 0.29's efficientnet.py; edit the generator, not this file.")
    if name in B_SERIES:
        out.append("# %s as torchvision builds it: the B0 table (MBConvConfig) scaled by width_mult %r and" % (title, width_mult))
        out.append("# depth_mult %r (channels _make_divisible(c * width, 8), layers ceil(n * depth)), dropout %r," % (depth_mult, dropout))
        out.append("# %s. Tan, Le, \"EfficientNet: Rethinking Model Scaling for Convolutional Neural" % (
            "BatchNorm2d(eps=0.001, momentum=0.01)" if norm == NORM_B5 else "BatchNorm2d defaults"))
        out.append("# Networks\" (ICML 2019). Every MBConv has squeeze-and-excitation and SiLU; the last 1x1 conv is 4x wider.")
    else:
        out.append("# %s as torchvision builds it: _efficientnet_conf(\"%s\") (FusedMBConv stages, then MBConv)," % (title, name))
        out.append("# last_channel 1280, dropout %r, BatchNorm2d(eps=1e-03). Tan, Le, \"EfficientNetV2: Smaller Models" % dropout)
        out.append("# and Faster Training\" (ICML 2021).")
    out.append("# Block p values: stochastic_depth_prob * stage_block_id / %d (the total number of blocks), as" % total_stage_blocks)
    out.append("# torchvision computes them. Block names: NoExpand when expanded == input, Res when use_res_connect")
    out.append("# (stride 1 and input == out): only then are stochastic_depth and the residual add called.")

    n_mb = sum(c["num_layers"] for c in setting if c["block"] == "MBConv")
    n_fused = total_stage_blocks - n_mb
    if name in B_SERIES:
        about = ("%s (2019): %d MBConv blocks with squeeze-excitation and SiLU in 7 stages, width x%r, depth x%r, %dx%d."
                 % (title, total_stage_blocks, width_mult, depth_mult, crop, crop))
    else:
        about = ("%s (2021): %d Fused-MBConv then %d MBConv blocks with squeeze-excitation and SiLU, %dx%d."
                 % (title, n_fused, n_mb, crop, crop))
    header(out, name, family, about, paper, dropout)

    out.append(conv_norm_activation("ConvBNSiLU", norm, "SiLU(inplace=True)", "activation_layer=nn.SiLU"))
    out.append(conv_norm_activation("ConvBN", norm, None, "activation_layer=None"))
    if any(k[0] == "MBConv" for k in kinds):
        out.append(SQUEEZE_EXCITATION)
    order = sorted(kinds, key=lambda k: (k[0] == "MBConv", k[1], k[2]))
    for kind in order:
        out.append(block_text(kind))

    body = ["features = Sequential {"] + features + ["}"]
    body.append("avgpool = AdaptiveAvgPool2d(1)")
    body.append("flatten = torch.flatten(1)")
    body.append("classifier = Sequential {")
    body.append("  0 = Dropout(p=dropout, inplace=True)")
    body.append("  1 = Linear(%s, num_classes)" % lastconv)
    body.append("}")
    out.append("\n".join(body))
    return "\n".join(out) + "\n"


def main():
    write_zoo_files((name, zoo_file(name)) for name in list(B_SERIES) + list(V2_SERIES))


if __name__ == "__main__":
    main()
