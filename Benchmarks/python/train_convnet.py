"""The seed recipe in PyTorch (ConvNet, N(0, 0.01) weights, zero biases, SGD lr 0.05, batch 128) on
Fashion-MNIST, in-memory batches, 2 threads: prints {"images_per_s", "peak_rss_mb"} for BATCHES steps.
Usage: python train_convnet.py BATCHES"""
import gzip, json, sys, time
from peak_rss import peak_rss_mb  # this folder is on sys.path when the script runs
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(1)
batches = int(sys.argv[1]) if len(sys.argv) > 1 else 100
d = "/usr/share/datasets/fashion-mnist/"
with gzip.open(d + "train-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
with gzip.open(d + "train-labels-idx1-ubyte.gz") as f:
    y = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
x, y = torch.from_numpy(x), torch.from_numpy(y)

class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_1 = nn.Conv2d(1, 8, 3, 1, 1); self.pool_1 = nn.MaxPool2d(2, 2)
        self.conv_2 = nn.Conv2d(8, 16, 3, 1, 1); self.pool_2 = nn.MaxPool2d(2, 2)
        self.linear_1 = nn.Linear(784, 10)
    def forward(self, x):
        x = self.pool_1(F.relu(self.conv_1(x)))
        x = self.pool_2(F.relu(self.conv_2(x)))
        return self.linear_1(torch.flatten(x, 1))

m = ConvNet()
for p in m.parameters():
    if p.dim() > 1: nn.init.normal_(p, 0, 0.01)
    else: nn.init.zeros_(p)
opt = torch.optim.SGD(m.parameters(), lr=0.05)
perm = torch.randperm(len(x))
def step(i):
    idx = perm[(i * 128) % 59904:(i * 128) % 59904 + 128]
    opt.zero_grad()
    loss = F.cross_entropy(m(x[idx]), y[idx])
    loss.backward()
    opt.step()
for i in range(10): step(i)          # warm-up
t0 = time.perf_counter()
for i in range(batches): step(i)
dt = time.perf_counter() - t0
print(json.dumps({"images_per_s": batches * 128 / dt, "peak_rss_mb": peak_rss_mb()}))
