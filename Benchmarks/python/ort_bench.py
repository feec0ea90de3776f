"""ONNX Runtime (and PyTorch eager) peers of Benchmarks/Sources/convlens-bench/InferenceBench.swift.

Usage:
  ort_bench.py export MODEL WEIGHTS.safetensors CHECK.safetensors OUT_PREFIX BATCH...
      Loads ConvLens's weights (torch's state_dict keys) into torchvision's MODEL, exports it with
      torch.onnx.export at opset 18 once per batch size (static shapes: OUT_PREFIX-bN.onnx), and
      checks that ONNX Runtime's logits on CHECK's "input" match ConvLens's "logits" (same weights,
      same model). Prints {"max relative error vs ConvLens": …}.
  ort_bench.py infer MODEL WEIGHTS.safetensors OUT_PREFIX SIZE THREADS RUNS8 RUNS1
      One measurement of each side: ONNX Runtime (intra_op_num_threads = THREADS,
      inter_op_num_threads = 1) and PyTorch eager (torch.set_num_threads(THREADS)), batch 8 at SIZE
      (images/s, median of RUNS8 timed runs after a warm-up) and batch 1 (ms, median of RUNS1).
      The Swift harness interleaves these runs with ConvLens's and takes medians.
Exits 2 with a note on stderr when torch/torchvision/onnxruntime/safetensors are missing.
"""
import json
import statistics
import sys
import time

try:
    import numpy as np
    import onnxruntime as ort
    import torch
    import torchvision
    from safetensors.torch import load_file
except ImportError as e:
    print(f"note: {e}; install torch, torchvision, onnxruntime, safetensors", file=sys.stderr)
    sys.exit(2)


def torch_model(name, weights):
    m = getattr(torchvision.models, name)().eval()
    m.load_state_dict(load_file(weights), strict=True)
    return m


def export(name, weights, check, prefix, batches):
    m = torch_model(name, weights)
    ref = load_file(check)
    x, want = ref["input"], ref["logits"]
    worst = 0.0
    for b in batches:
        path = f"{prefix}-b{b}.onnx"
        dummy = torch.zeros(b, *x.shape[1:])
        torch.onnx.export(m, (dummy,), path, opset_version=18, input_names=["input"], output_names=["logits"],
                          external_data=False)
        sess = session(path, 1)
        xs = x.repeat((b + x.shape[0] - 1) // x.shape[0], 1, 1, 1)[:b].numpy()
        n = min(b, want.shape[0])
        got, w = sess.run(None, {"input": xs})[0][:n], want.numpy()[:n]
        worst = max(worst, float(np.linalg.norm(got - w) / np.linalg.norm(w)))
    return {"max relative error vs ConvLens": worst}


def session(path, threads):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def median_time(fn, runs):
    fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def infer(name, weights, prefix, size, threads, runs8, runs1):
    out = {}
    rng = np.random.default_rng(0)
    xs = {b: rng.standard_normal((b, 3, size, size), dtype=np.float32) for b in (8, 1)}
    for b, runs in ((8, runs8), (1, runs1)):
        sess = session(f"{prefix}-b{b}.onnx", threads)
        t = median_time(lambda: sess.run(None, {"input": xs[b]}), runs)
        if b == 8:
            out["ORT b8 images/s"] = 8 / t
        else:
            out["ORT b1 ms"] = t * 1e3
    torch.set_num_threads(threads)
    m = torch_model(name, weights)
    with torch.no_grad():
        for b, runs in ((8, runs8), (1, runs1)):
            x = torch.from_numpy(xs[b])
            t = median_time(lambda: m(x), runs)
            if b == 8:
                out["torch b8 images/s"] = 8 / t
            else:
                out["torch b1 ms"] = t * 1e3
    return out


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) >= 6 and a[0] == "export":
        print(json.dumps(export(a[1], a[2], a[3], a[4], [int(b) for b in a[5:]])))
    elif len(a) == 8 and a[0] == "infer":
        print(json.dumps(infer(a[1], a[2], a[3], int(a[4]), int(a[5]), int(a[6]), int(a[7]))))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(1)
