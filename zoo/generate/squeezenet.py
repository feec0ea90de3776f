#!/usr/bin/env python3
"""Writes the SqueezeNet zoo files from torchvision's squeezenet.py.

Transcribed from torchvision 0.29 (torchvision/models/squeezenet.py): the two `features`
lists of `SqueezeNet.__init__` (versions "1_0" and "1_1"), the `Fire` module, and the classifier
(Dropout(p=dropout), the final 1×1 convolution to num_classes, ReLU, AdaptiveAvgPool2d 1×1)
followed by torch.flatten(x, 1). Published figures are those of each builder's default weights
entry (torchvision's `Weights.meta`: metrics, `_ops`, `num_params`).

Run from anywhere: `python3 zoo/generate/squeezenet.py`. Deterministic; rewrites the files
byte-identically. Plain python3, no third-party imports.
"""

import os
from common import init_section, write_zoo_files

ZOO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

POOL = "MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)"

# SqueezeNet.__init__'s features, per version: ("conv", out, kernel, stride), ("relu",),
# ("pool",) or ("fire", inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes).
FEATURES = {
    "1_0": [
        ("conv", 96, 7, 2), ("relu",), ("pool",),
        ("fire", 96, 16, 64, 64),
        ("fire", 128, 16, 64, 64),
        ("fire", 128, 32, 128, 128),
        ("pool",),
        ("fire", 256, 32, 128, 128),
        ("fire", 256, 48, 192, 192),
        ("fire", 384, 48, 192, 192),
        ("fire", 384, 64, 256, 256),
        ("pool",),
        ("fire", 512, 64, 256, 256),
    ],
    "1_1": [
        ("conv", 64, 3, 2), ("relu",), ("pool",),
        ("fire", 64, 16, 64, 64),
        ("fire", 128, 16, 64, 64),
        ("pool",),
        ("fire", 128, 32, 128, 128),
        ("fire", 256, 32, 128, 128),
        ("pool",),
        ("fire", 256, 48, 192, 192),
        ("fire", 384, 48, 192, 192),
        ("fire", 384, 64, 256, 256),
        ("fire", 512, 64, 256, 256),
    ],
}

BUILDERS = {"squeezenet1_0": "1_0", "squeezenet1_1": "1_1"}

# The default weights entry of each builder (torchvision's WeightsEnum.DEFAULT meta):
# (weights, acc@1, acc@5, _ops (GMACs at the crop), num_params, crop_size).
WEIGHTS = {
    "squeezenet1_0": ("SqueezeNet1_0_Weights.IMAGENET1K_V1", 58.092, 80.42, 0.819, 1248424, 224),
    "squeezenet1_1": ("SqueezeNet1_1_Weights.IMAGENET1K_V1", 58.178, 80.624, 0.349, 1235496, 224),
}

PAPER = ("Iandola, Han, Moskewicz, Ashraf, Dally, Keutzer: SqueezeNet: AlexNet-level accuracy with "
         "50x fewer parameters and <0.5MB model size (2016)")

HEADER = {
    "1_0": [
        "# SqueezeNet 1.0 as torchvision builds it: torchvision.models.SqueezeNet(version=\"1_0\").",
        "# Iandola et al.: SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB",
        "# model size (2016).",
        "# A 7×7 stride-2 stem, eight Fire modules with ceil-mode 3×3 max pools after the stem, the",
        "# third and the seventh Fire, and a 1×1 convolution classifier averaged over the final map.",
    ],
    "1_1": [
        "# SqueezeNet 1.1 as torchvision builds it: torchvision.models.SqueezeNet(version=\"1_1\"),",
        "# from the official SqueezeNet repository (SqueezeNet_v1.1), after Iandola et al.: SqueezeNet:",
        "# AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size (2016).",
        "# A 3×3 stride-2 stem with 64 channels and the pools moved earlier (after the stem, the second",
        "# and the fourth Fire): 2.4× less computation than 1.0 with slightly fewer parameters.",
    ],
}

ABOUT = {
    "1_0": "SqueezeNet 1.0 (2016): eight Fire modules (1×1 squeeze, 1×1 + 3×3 expand), a convolutional classifier.",
    "1_1": "SqueezeNet 1.1 (2016): SqueezeNet with a 3×3 stem and earlier pools, 2.4× less computation.",
}

FIRE_BLOCK = """\
# torchvision squeezenet.Fire: a 1×1 squeeze, then 1×1 and 3×3 expands of the squeezed map,
# concatenated on channels: torch.cat([expand1x1_activation(expand1x1(x)),
# expand3x3_activation(expand3x3(x))], 1) with x = squeeze_activation(squeeze(x)).
block Fire(inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes) {
  squeeze              = Conv2d(inplanes, squeeze_planes, kernel_size=1)
  squeeze_activation   = ReLU(inplace=True)
  expand1x1            = Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
  expand1x1_activation = ReLU(inplace=True)
  expand3x3            = Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1) <- squeeze_activation
  expand3x3_activation = ReLU(inplace=True)
  cat                  = torch.cat(1) <- expand1x1_activation, expand3x3_activation
}
"""


def feature_line(item):
    kind = item[0]
    if kind == "conv":
        _, out, k, s = item
        return f"Conv2d(3, {out}, kernel_size={k}, stride={s})"
    if kind == "relu":
        return "ReLU(inplace=True)"
    if kind == "pool":
        return POOL
    _, inplanes, sq, e1, e3 = item
    return f"Fire({inplanes}, {sq}, {e1}, {e3})"


# SqueezeNet.__init__'s initialisation loop, transcribed.
INIT_COMMENT = [
    "Initialisation: SqueezeNet.__init__ loops over self.modules(): every Conv2d weight",
    "kaiming_uniform_() (fan_in, leaky_relu with a=0: U(±√(6 / fan_in))) except final_conv",
    "(classifier.1, `m is final_conv`), whose weight is normal_(0, 0.01); every conv bias 0.",
]
INIT_RULES = [
    ("Conv2d.weight", "kaiming_uniform()"),
    ("Conv2d.bias", "zeros"),
    ('"classifier.1".weight', "normal(mean=0.0, std=0.01)"),
]


def render(name):
    version = BUILDERS[name]
    weights, top1, top5, gflops, params, crop = WEIGHTS[name]
    out = HEADER[version] + [
        "# Generated by zoo/generate/squeezenet.py from torchvision's squeezenet.py: edit the generator, not this file.",
        f"model {name} class SqueezeNet",
        f"input 1 3 {crop} {crop}",
        "param num_classes = 1000",
        "param dropout = 0.5",
        "",
        f'meta about = "{ABOUT[version]}"',
        'meta family = "SqueezeNet"',
        f'meta source = "torchvision.models.{name} (torchvision 0.29)"',
        f'meta paper = "{PAPER}"',
        f"meta imagenet_top1 = {top1}",
        f"meta imagenet_top5 = {top5}",
        f"meta imagenet_gflops = {gflops}",
        f"meta imagenet_params = {params}",
        f'meta imagenet_source = "torchvision {weights}"',
        "",
    ] + init_section(INIT_COMMENT, INIT_RULES) + [
        FIRE_BLOCK,
        "features = Sequential {",
    ]
    items = FEATURES[version]
    w = len(str(len(items) - 1))
    for i, item in enumerate(items):
        out.append(f"  {str(i).ljust(w)} = {feature_line(item)}")
    out += [
        "}",
        "# final_conv: torchvision initialises it differently (normal, std 0.01)",
        "classifier = Sequential {",
        "  0 = Dropout(p=dropout)",
        "  1 = Conv2d(512, num_classes, kernel_size=1)",
        "  2 = ReLU(inplace=True)",
        "  3 = AdaptiveAvgPool2d((1, 1))",
        "}",
        "flatten = torch.flatten(1)",
    ]
    return "\n".join(out) + "\n"


def main():
    write_zoo_files((name, render(name)) for name in BUILDERS)


if __name__ == "__main__":
    main()
