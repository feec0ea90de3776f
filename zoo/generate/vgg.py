#!/usr/bin/env python3
"""Writes the VGG zoo files from torchvision's vgg.py.

Transcribed from torchvision 0.29 (torchvision/models/vgg.py): the `cfgs` table, `make_layers`
(Conv2d 3×3 padding 1 [+ BatchNorm2d] + ReLU per number, MaxPool2d 2/2 per "M") and the `VGG`
head (AdaptiveAvgPool2d 7×7, flatten, three Linear layers with ReLU and Dropout(p=dropout)).
Published figures are those of each builder's default weights entry (torchvision's
`Weights.meta`: metrics, `_ops`, `num_params`).

Run from anywhere: `python3 zoo/generate/vgg.py`. Deterministic; rewrites the files
byte-identically. Plain python3, no third-party imports.
"""

import os
from common import init_section, write_zoo_files

ZOO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# torchvision vgg.cfgs
CFGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}

# name: (cfg, batch_norm) as the builders call _vgg(cfg, batch_norm, weights, progress)
BUILDERS = {
    "vgg11": ("A", False),
    "vgg11_bn": ("A", True),
    "vgg13": ("B", False),
    "vgg13_bn": ("B", True),
    "vgg16": ("D", False),
    "vgg16_bn": ("D", True),
    "vgg19": ("E", False),
    "vgg19_bn": ("E", True),
}

# The default weights entry of each builder (torchvision's WeightsEnum.DEFAULT meta):
# (weights, acc@1, acc@5, _ops (GMACs at the crop), num_params, crop_size).
WEIGHTS = {
    "vgg11": ("VGG11_Weights.IMAGENET1K_V1", 69.02, 88.628, 7.609, 132863336, 224),
    "vgg11_bn": ("VGG11_BN_Weights.IMAGENET1K_V1", 70.37, 89.81, 7.609, 132868840, 224),
    "vgg13": ("VGG13_Weights.IMAGENET1K_V1", 69.928, 89.246, 11.308, 133047848, 224),
    "vgg13_bn": ("VGG13_BN_Weights.IMAGENET1K_V1", 71.586, 90.374, 11.308, 133053736, 224),
    "vgg16": ("VGG16_Weights.IMAGENET1K_V1", 71.592, 90.382, 15.47, 138357544, 224),
    "vgg16_bn": ("VGG16_BN_Weights.IMAGENET1K_V1", 73.36, 91.516, 15.47, 138365992, 224),
    "vgg19": ("VGG19_Weights.IMAGENET1K_V1", 72.376, 90.876, 19.632, 143667240, 224),
    "vgg19_bn": ("VGG19_BN_Weights.IMAGENET1K_V1", 74.218, 91.842, 19.632, 143678248, 224),
}

PAPER = "Simonyan, Zisserman: Very Deep Convolutional Networks for Large-Scale Image Recognition (2015)"

# vgg16.zoo was written by hand before the generator; its provenance lines are kept as written.
KEPT_META = {
    "vgg16": {
        "about": "VGG16 (2014): thirteen 3×3 convolutions in five stages, three linear layers.",
        "source": "torchvision.models.VGG, vgg16() (torchvision 0.29)",
    },
}

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"]


def make_layers(cfg, batch_norm):
    """torchvision vgg.make_layers: the children of `features`, in order."""
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append("MaxPool2d(kernel_size=2, stride=2)")
        else:
            layers.append(f"Conv2d({in_channels}, {v}, kernel_size=3, padding=1)")
            if batch_norm:
                layers.append(f"BatchNorm2d({v})")
            layers.append("ReLU(inplace=True)")
            in_channels = v
    return layers


# VGG.__init__'s initialisation loop (init_weights=True), transcribed.
INIT_COMMENT = [
    "Initialisation: VGG.__init__ (init_weights=True) loops over self.modules(): Conv2d weight",
    "kaiming_normal_(mode=\"fan_out\", nonlinearity=\"relu\"), bias 0; BatchNorm2d weight 1, bias 0;",
    "Linear weight normal_(0, 0.01), bias 0.",
]
INIT_RULES = [
    ("Conv2d.weight", 'kaiming_normal(mode="fan_out", nonlinearity="relu")'),
    ("Conv2d.bias", "zeros"),
    ("BatchNorm2d.weight", "ones"),
    ("BatchNorm2d.bias", "zeros"),
    ("Linear.weight", "normal(0, 0.01)"),
    ("Linear.bias", "zeros"),
]


def render(name):
    cfg, bn = BUILDERS[name]
    weights, top1, top5, gflops, params, crop = WEIGHTS[name]
    convs = sum(1 for v in CFGS[cfg] if v != "M")
    depth = convs + 3
    title = f"VGG{depth}" + (" with batch norm" if bn else "")
    kept = KEPT_META.get(name, {})
    about = kept.get("about", f"VGG{depth}{'-BN' if bn else ''} (2014): {WORDS[convs]} 3×3 convolutions"
                     + (" with batch norm" if bn else "") + " in five stages, three linear layers.")
    source = kept.get("source", f"torchvision.models.{name} (torchvision 0.29)")
    cfg_text = "[" + ", ".join(repr(v) for v in CFGS[cfg]) + "]"
    out = [
        f"# {title} (configuration \"{cfg}\") as torchvision builds it:",
        f"#   torchvision.models.VGG(make_layers(cfgs[\"{cfg}\"], batch_norm={bn})).",
        f"# {PAPER}.",
        f"# cfgs[\"{cfg}\"] = {cfg_text}",
        "# Each number is a 3×3 convolution" + (" + BatchNorm2d" if bn else "")
        + " + ReLU, each 'M' a 2×2 max pool; the adaptive 7×7",
        "# average pool is torchvision's addition (identity at 224×224).",
        "# Generated by zoo/generate/vgg.py from torchvision's vgg.py: edit the generator, not this file.",
        f"model {name} class VGG",
        f"input 1 3 {crop} {crop}",
        "param num_classes = 1000",
        "param dropout = 0.5",
        "",
        f'meta about = "{about}"',
        'meta family = "VGG"',
        f'meta source = "{source}"',
        f'meta paper = "{PAPER}"',
        f"meta imagenet_top1 = {top1}",
        f"meta imagenet_top5 = {top5}",
        f"meta imagenet_gflops = {gflops}",
        f"meta imagenet_params = {params}",
        f'meta imagenet_source = "torchvision {weights}"',
        "",
    ] + init_section(INIT_COMMENT, INIT_RULES) + [
        "features = Sequential {",
    ]
    layers = make_layers(CFGS[cfg], bn)
    w = len(str(len(layers) - 1))
    for i, layer in enumerate(layers):
        out.append(f"  {str(i).ljust(w)} = {layer}")
    out += [
        "}",
        "avgpool = AdaptiveAvgPool2d((7, 7))",
        "flatten = torch.flatten(1)",
        "classifier = Sequential {",
        "  0 = Linear(512 * 7 * 7, 4096)",
        "  1 = ReLU(inplace=True)",
        "  2 = Dropout(p=dropout)",
        "  3 = Linear(4096, 4096)",
        "  4 = ReLU(inplace=True)",
        "  5 = Dropout(p=dropout)",
        "  6 = Linear(4096, num_classes)",
        "}",
    ]
    return "\n".join(out) + "\n"


def main():
    write_zoo_files((name, render(name)) for name in BUILDERS)


if __name__ == "__main__":
    main()
