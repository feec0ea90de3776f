"""torchinfo.summary on the seven registry models, in one process with torch already imported.

Prints one JSON line: {"seconds": median wall time for all seven, "runs": N, "torchinfo": version}.
Skips cleanly (prints a note, exits 0, no JSON) when torch, torchvision or torchinfo is missing.
Used by the analyze-vs-torchinfo benchmark (Benchmarks/Sources/convlens-bench/AnalysisBench.swift).
"""
import json
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
    import torchinfo
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"note: skipping torchinfo timing ({e})")
    sys.exit(0)


class LeNet5(nn.Module):
    """The seed's LeNet-5 (see ../shared/reference/README.md)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class ConvNet(nn.Module):
    """The seed's ConvNet for MNIST."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv_1 = nn.Conv2d(1, 8, 3, 1, 1)
        self.pool_1 = nn.MaxPool2d(2, 2)
        self.conv_2 = nn.Conv2d(8, 16, 3, 1, 1)
        self.pool_2 = nn.MaxPool2d(2, 2)
        self.linear_1 = nn.Linear(784, num_classes)

    def forward(self, x):
        x = self.pool_1(F.relu(self.conv_1(x)))
        x = self.pool_2(F.relu(self.conv_2(x)))
        return self.linear_1(torch.flatten(x, 1))


def models():
    tv = torchvision.models
    return [
        (LeNet5(), (1, 1, 32, 32)),
        (ConvNet(), (1, 1, 28, 28)),
        (tv.alexnet(), (1, 3, 224, 224)),
        (tv.vgg16(), (1, 3, 224, 224)),
        (tv.googlenet(aux_logits=True, init_weights=False), (1, 3, 224, 224)),
        (tv.inception_v3(aux_logits=True, init_weights=False), (1, 3, 299, 299)),
        (tv.resnet18(), (1, 3, 224, 224)),
    ]


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    torch.set_grad_enabled(False)
    built = models()
    for m, _ in built:
        m.eval()
    for m, shape in built:  # warm-up: first-call costs are not torchinfo's
        torchinfo.summary(m, input_size=shape, depth=3, verbose=0)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for m, shape in built:
            torchinfo.summary(m, input_size=shape, depth=3, verbose=0)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"seconds": statistics.median(times), "runs": runs, "torchinfo": torchinfo.__version__}))


if __name__ == "__main__":
    main()
