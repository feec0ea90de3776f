"""Pieces the zoo generators share: torchvision's _make_divisible and writing the files.

Plain python3, no third-party imports; each generator imports this from its own folder.
"""
import os

# zoo/, or $CONVLENS_ZOO_OUT (the test that checks the committed files are the generators' output).
ZOO = os.environ.get("CONVLENS_ZOO_OUT") or os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def _make_divisible(v, divisor, min_value=None):
    # torchvision.models._utils._make_divisible
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    # Make sure that round down does not go down by more than 10%.
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def write_zoo_files(files):
    """Writes (name, text) pairs as zoo/NAME.zoo, UTF-8 with LF line ends: rerunning a generator
    rewrites its files byte for byte."""
    for name, text in files:
        with open(os.path.join(ZOO, name + ".zoo"), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)


def conv_norm_activation(name, norm, activation, what):
    """A torchvision.ops.misc.Conv2dNormActivation (an nn.Sequential subclass) with default
    padding (kernel_size - 1) // 2 * dilation and bias=False (there is a norm layer)."""
    lines = [
        "# torchvision.ops.misc.Conv2dNormActivation with %s: Conv2d without bias" % what,
        "# (padding (kernel_size - 1) // 2 * dilation), the norm layer%s." % (", the activation" if activation else ", no activation"),
        "block %s(in_channels, out_channels, kernel_size=3, stride=1, groups=1, dilation=1) class Conv2dNormActivation {" % name,
        "  0 = Conv2d(in_channels, out_channels, kernel_size=kernel_size, stride=stride, padding=(kernel_size - 1) // 2 * dilation, dilation=dilation, groups=groups, bias=False)",
        "  1 = BatchNorm2d(out_channels%s)" % norm,
    ]
    if activation:
        lines.append("  2 = %s" % activation)
    lines.append("}")
    return "\n".join(lines) + "\n"


def init_section(comment, rules):
    """The `init` lines transcribing a constructor's initialisation loop: `comment` (the loop as
    torchvision writes it, one string per line) and (target, function) pairs, aligned on '='.
    Returns lines ending with a blank one."""
    lines = ["# " + c if c else "#" for c in comment]
    width = max((len(t) for t, _ in rules), default=0)
    lines += ["init %s = %s" % (t.ljust(width), f) for t, f in rules]
    return lines + [""]
