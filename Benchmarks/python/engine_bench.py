"""PyTorch counterparts of Benchmarks/Sources/convlens-bench/EngineBench.swift.

Usage: engine_bench.py NAME  (sgemm | conv | depthwise)
       engine_bench.py model-infer|model-train MODEL BATCH SIZE  (any torchvision builder)
Prints one JSON object of metrics (one measurement; the Swift harness interleaves runs and takes
medians). Exits 2 with a note on stderr when torch/torchvision are missing.
"""
import json
from peak_rss import peak_rss_mb  # this folder is on sys.path when the script runs
import sys
import time

try:
    import torch
    import torchvision
except ImportError as e:  # skip cleanly
    print(f"note: PyTorch not available ({e}); skipping", file=sys.stderr)
    sys.exit(2)

torch.set_num_threads(2)


def timed(fn, warmup=1, runs=1):
    """Seconds per call: the mean of `runs` calls after `warmup` (the Swift side's `seconds(runs:)`)."""
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    for _ in range(runs):
        fn()
    return (time.perf_counter() - t0) / runs


def sgemm():
    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    t = timed(lambda: torch.mm(a, b))
    return {"sgemm 2048³ GFLOP/s": 2 * n**3 / t / 1e9}


def conv():
    out = {}
    cases = [("resnet18 layer1.0.conv1", (8, 64, 56, 56), (64, 64, 3, 3), 1, 1),
             ("resnet18 layer4.0.conv2", (8, 512, 7, 7), (512, 512, 3, 3), 1, 1),
             ("vgg16 features.2", (2, 64, 224, 224), (64, 64, 3, 3), 1, 1),
             ("vgg16 features.12", (2, 256, 56, 56), (256, 256, 3, 3), 1, 1)]
    with torch.no_grad():
        for name, xs, ws, s, p in cases:
            x, w = torch.randn(*xs), torch.randn(*ws)
            y = torch.nn.functional.conv2d(x, w, stride=s, padding=p)
            macs = y.numel() * ws[1] * ws[2] * ws[3]
            t = timed(lambda: torch.nn.functional.conv2d(x, w, stride=s, padding=p))
            out[f"{name} GFLOP/s"] = 2 * macs / t / 1e9
    return out


def model_infer(name, batch, size):
    m = getattr(torchvision.models, name)().eval()
    x = torch.randn(batch, 3, size, size)
    with torch.no_grad():
        t = timed(lambda: m(x), warmup=2, runs=3)
    return {"images/s": batch / t}


def model_train(name, batch, size):
    m = getattr(torchvision.models, name)(num_classes=10).train()
    x = torch.randn(batch, 3, size, size)
    y = torch.randint(0, 10, (batch,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        m.zero_grad(set_to_none=False)
        out = m(x)
        loss_fn(out if torch.is_tensor(out) else out[0], y).backward()

    step()
    t = timed(step, warmup=1, runs=3)
    # Memory autograd keeps for backward: the unique storages of all saved tensors (activations),
    # excluding parameters — the counterpart of our "peak above weights+grads" (a lower bound of
    # torch's peak, which also holds the forward's transient outputs and the backward's buffers).
    params = {p.data_ptr() for p in m.parameters()}
    seen = {}

    def pack(t):
        if t.data_ptr() not in params:
            seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = m(x)
        loss = loss_fn(out if torch.is_tensor(out) else out[0], y)
    loss.backward()
    return {"images/s": batch / t, "saved-for-backward MB": sum(seen.values()) / 1e6,
            "peak MB above weights+grads": peak_above_weights(step) / 1e6,
            "maxrss MB (process)": peak_rss_mb()}


def peak_above_weights(step):
    """torch's own peak of live CPU tensor bytes during one step, leaving out parameters, their
    gradients and the input (ConvLens's figure leaves out the same): the profiler's memory timeline
    (profile_memory=True), which follows every allocation and tags its category."""
    import os
    import tempfile
    from torch.profiler import ProfilerActivity, profile
    from torch.profiler import _memory_profiler as mp
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True, with_stack=True) as prof:
        step()
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prof.export_memory_timeline(path, device="cpu")
        with open(path) as f:
            _, sizes = json.load(f)
    finally:
        os.remove(path)
    # Column 0 is unused; category c is column _CATEGORY_TO_INDEX[c] + 1.
    left_out = [mp._CATEGORY_TO_INDEX[c] + 1 for c in (mp.Category.PARAMETER, mp.Category.GRADIENT, mp.Category.INPUT)]
    return max(sum(row) - sum(row[i] for i in left_out) for row in sizes)


def depthwise():
    """Depthwise 3×3 stride 1 padding 1, batch 8: forward ms (no grad) and backward ms (dx and dw
    by autograd, the forward that records the graph not timed), each the mean of ten calls after one
    (a single call of 0.4 ms is mostly noise)."""
    out = {}
    for c, s in [(96, 56), (144, 56), (192, 28), (384, 14), (960, 7)]:
        x = torch.randn(8, c, s, s, requires_grad=True)
        w = torch.randn(c, 1, 3, 3, requires_grad=True)
        conv = lambda: torch.nn.functional.conv2d(x, w, padding=1, groups=c)
        with torch.no_grad():
            t = timed(conv, warmup=1, runs=10)
        gy = torch.randn(8, c, s, s)

        def backward():
            y = conv()
            t0 = time.perf_counter()
            torch.autograd.grad(y, (x, w), gy)
            return time.perf_counter() - t0

        backward()
        out[f"{c}@{s}² fwd ms"] = t * 1e3
        out[f"{c}@{s}² bwd ms"] = sum(backward() for _ in range(10)) / 10 * 1e3
    return out


fns = {"sgemm": sgemm, "conv": conv, "depthwise": depthwise}
if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] in ("model-infer", "model-train"):
        f = model_infer if sys.argv[1] == "model-infer" else model_train
        print(json.dumps(f(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
        sys.exit(0)
    if len(sys.argv) != 2 or sys.argv[1] not in fns:
        print(__doc__, file=sys.stderr)
        sys.exit(1)
    print(json.dumps(fns[sys.argv[1]]()))
