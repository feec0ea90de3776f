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
