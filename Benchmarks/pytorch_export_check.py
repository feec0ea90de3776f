#!/usr/bin/env python3
"""Checks `convlens export --format pytorch` against a current PyTorch (not part of `swift test`).

1. For every registry model (or the ones named): `print(build())` of the exported model.py equals
   `convlens print MODEL` byte for byte.
2. `torchrun --nproc_per_node 2 train.py` runs a few steps of convnet on CPU (gloo) and writes a run folder.

    /work/torch-venv/bin/python Benchmarks/pytorch_export_check.py [--convlens .build/release/convlens] [MODEL ...]
"""
import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--convlens", default=".build/debug/convlens")
    p.add_argument("--skip-torchrun", action="store_true")
    p.add_argument("models", nargs="*")
    a = p.parse_args()
    import torch
    zoo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "zoo")
    models = a.models or sorted(f[:-4] for f in os.listdir(zoo) if f.endswith(".zoo"))
    print("torch %s; %d models" % (torch.__version__, len(models)))
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for m in models:
            out = os.path.join(tmp, m)
            subprocess.run([a.convlens, "export", m, "--format", "pytorch", "--output", out], check=True, capture_output=True)
            expected = subprocess.run([a.convlens, "print", m], check=True, capture_output=True, text=True).stdout
            spec = importlib.util.spec_from_file_location("exported_" + m, os.path.join(out, "model.py"))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            got = repr(mod.build()) + "\n"
            if got == expected:
                print("ok    %s" % m)
            else:
                failures += 1
                gl, el = got.splitlines(), expected.splitlines()
                i = next((i for i, (g, e) in enumerate(zip(gl, el)) if g != e), min(len(gl), len(el)))
                print("FAIL  %s: line %d\n  torch:    %s\n  convlens: %s" % (m, i + 1, gl[i] if i < len(gl) else "<end>", el[i] if i < len(el) else "<end>"))
        print("print(build()) == convlens print: %d of %d" % (len(models) - failures, len(models)))
        if not a.skip_torchrun:
            out = os.path.join(tmp, "convnet-ddp")
            subprocess.run([a.convlens, "export", "convnet", "--format", "pytorch", "--output", out, "--init", "default"], check=True)
            torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
            run = os.path.join(tmp, "run")
            r = subprocess.run([torchrun, "--standalone", "--nproc_per_node", "2", os.path.join(out, "train.py"), "--limit", "512",
                                "--epochs", "2", "--batch-size", "32", "--output-dir", run, "--device", "cpu"], capture_output=True, text=True)
            print(r.stdout + r.stderr[-2000:])
            held = sorted(os.listdir(run)) if os.path.isdir(run) else []
            ok = r.returncode == 0 and all(f in held for f in ("checkpoint.safetensors", "weights.safetensors", "metrics.csv", "run.json"))
            print("torchrun --nproc_per_node 2 train.py: %s (rc %d, run folder: %s)" % ("ok" if ok else "FAILED", r.returncode, ", ".join(held)))
            failures += 0 if ok else 1
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
