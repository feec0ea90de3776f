/// train.py of `convlens export --format pytorch`: the zoo file's recipe as a DistributedDataParallel
/// program. `{{NAME}}` placeholders are filled by `PyTorchExport` (JSON literals are Python literals
/// here: the recipe holds numbers and strings only).
enum PyTorchTrainScript {
    static let template = #"""
#!/usr/bin/env python3
"""train.py — {{MODEL}}'s training recipe as a DistributedDataParallel program.

Written by `convlens export --format pytorch`. Reads MNIST-format IDX folders (Fashion-MNIST by
default) and adapts the images to the model exactly as `convlens train` does; writes the run
folder `convlens train` writes (checkpoint.safetensors, weights.safetensors, metrics.csv, run.json),
so `convlens eval --weights RUN/weights.safetensors` and `convlens compare` read it.

    python3 train.py                                  # one process (CPU or one GPU)
    torchrun --nproc_per_node 4 train.py              # four GPUs (or CPU processes) on one machine
    torchrun --nnodes 2 --node_rank R --nproc_per_node 8 --master_addr HOST --master_port 29500 train.py

Any launcher that sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT works
(init_method="env://"). --batch-size is per process, as in torchvision's reference scripts: N
processes take N·B images per step. Needs torch only (1.13 or 2.x); safetensors files are read
and written here with the standard library.
"""
import argparse
import ctypes
import datetime
import gzip
import importlib.util
import json
import os
import struct
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("model", os.path.join(HERE, "model.py"))
zoo = importlib.util.module_from_spec(_spec)  # model.py beside this file
_spec.loader.exec_module(zoo)

MODEL = {{MODEL_JSON}}
# The zoo file's `train` lines (ConvLens's fallbacks where a line is missing).
RECIPE = {{RECIPE}}
# The model's --arg overrides at export (model.ARGUMENTS holds their values).
ARGUMENTS = {{ARGUMENTS}}
# What a training-mode loss adds per auxiliary head's loss (the zoo file's `train aux_loss_weight`).
AUX_LOSS_WEIGHT = {{AUX_LOSS_WEIGHT}}
# The model's declared input C, H, W.
DECLARED = {{DECLARED}}
# How `convlens train` adapts images of these sizes to this model (computed by ConvLens at export).
ADAPTERS = {{ADAPTERS}}
# The zoo file's `init` lines, per num_classes: (distribution, arguments, parameters drawn from it),
# resolved by ConvLens as `--init default` resolves them; train.py draws them with torch's generator.
INIT = {{INIT}}
# Why INIT is empty (the zoo file's init lines do not cover every parameter), if so.
INIT_PROBLEM = {{INIT_PROBLEM}}
# How the exported weights.safetensors was initialised ("default", "hash", or a file), if any.
EXPORTED_INIT = {{EXPORTED_INIT}}
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
CHECKPOINT_FORMAT = "convlens-checkpoint-1"


def fail(message):
    print("train.py: error: " + message, file=sys.stderr)
    sys.exit(1)


# ---- safetensors (the format is a JSON header and raw little-endian bytes) ----

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
          torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}
TORCH_DTYPES = {v: k for k, v in DTYPES.items()}


def tensor_bytes(t):
    t = t.detach().to("cpu").contiguous()
    return ctypes.string_at(t.data_ptr(), t.numel() * t.element_size()) if t.numel() else b""


def save_safetensors(tensors, path, metadata=None):
    """Writes `tensors` (name → tensor, in order) atomically: a temporary file, then rename."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        data = tensor_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


def load_safetensors(path):
    """(name → tensor, metadata) of a safetensors file."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
    except (OSError, ValueError, struct.error) as e:
        fail("%s: not a readable safetensors file (%s)" % (path, e))
    metadata = header.pop("__metadata__", {}) or {}
    data = bytearray(raw[8 + n:])
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        dtype = TORCH_DTYPES[e["dtype"]]
        count = 1
        for d in e["shape"]:
            count *= d
        t = torch.frombuffer(data, dtype=dtype, count=count, offset=begin) if count else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(e["shape"]).clone()
    return out, metadata


# ---- IDX data and input adaptation (as ConvLens's IDX.swift and InputAdapter.swift) ----

def read_idx(path, rank):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        fail("%s: not an IDX file (wrong magic number)" % path)
    if raw[2] != 0x08:
        fail("%s: element type 0x%02X is not unsigned byte (0x08)" % (path, raw[2]))
    if raw[3] != rank:
        fail("%s: has %d dimensions, expected %d" % (path, raw[3], rank))
    dims = list(struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank]))
    count = 1
    for d in dims:
        count *= d
    body = bytearray(raw[4 + 4 * rank:])
    if len(body) != count:
        fail("%s: header promises %d bytes of data for %s, file has %d" % (path, count, dims, len(body)))
    return torch.frombuffer(body, dtype=torch.uint8).reshape(dims).clone()


def find_idx(folder, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        p = os.path.join(folder, name)
        if os.path.exists(p):
            return p
    fail("%s[.gz]: file not found" % os.path.join(folder, stem))


def read_split(folder, prefix):
    images = read_idx(find_idx(folder, prefix + "-images-idx3-ubyte"), 3)
    labels = read_idx(find_idx(folder, prefix + "-labels-idx1-ubyte"), 1)
    if images.shape[0] != labels.shape[0]:
        fail("%s: %d images but %d labels" % (folder, images.shape[0], labels.shape[0]))
    return images, labels.long()


class Adapter:
    """How grey rows×cols images become the model's C×H×W input (`convlens train`'s rules)."""

    def __init__(self, mode, channels, height, width, rows, cols, top=0, left=0):
        self.mode, self.channels, self.height, self.width = mode, channels, height, width
        self.rows, self.cols, self.top, self.left = rows, cols, top, left

    def __str__(self):
        how = {"as_is": "as is", "resize": "resized bilinearly"}.get(self.mode, "zero-padded by %d×%d (centre)" % (self.top, self.left))
        grey = ", grey replicated to %d channels" % self.channels if self.channels > 1 else ""
        return "%d×%d grey → %d×%d×%d, %s%s" % (self.rows, self.cols, self.channels, self.height, self.width, how, grey)

    def __call__(self, images):
        """uint8 [N, rows, cols] → float [N, C, H, W] in [0, 1]."""
        x = images.float().unsqueeze(1)
        if self.mode == "pad":
            out = torch.zeros(x.shape[0], 1, self.height, self.width)
            out[:, :, self.top:self.top + self.rows, self.left:self.left + self.cols] = x
            x = out
        elif self.mode == "resize":
            x = F.interpolate(x, size=(self.height, self.width), mode="bilinear", align_corners=False)
        x = x / 255
        return x.expand(-1, self.channels, -1, -1).contiguous() if self.channels > 1 else x


def choose_adapter(rows, cols, num_classes, image_size):
    c = DECLARED[0]
    key = "%dx%d" % (rows, cols)
    if image_size is None and key in ADAPTERS:
        a = ADAPTERS[key]
        return Adapter(a["mode"], c, a["height"], a["width"], rows, cols, a.get("top", 0), a.get("left", 0))

    def works(h, w):  # what ConvLens checks statically: both modes run at this size
        try:
            m = build_model(num_classes)
            with torch.no_grad():
                m.train()
                m(torch.zeros(2, c, h, w))
                m.eval()
                m(torch.zeros(1, c, h, w))
            return True
        except Exception:
            return False

    if image_size is not None:
        if not works(image_size, image_size):
            fail("--image-size: %s does not accept %d×%d inputs" % (MODEL, image_size, image_size))
        same = image_size == rows and image_size == cols
        return Adapter("as_is" if same else "resize", c, image_size, image_size, rows, cols)
    dh, dw = DECLARED[1] - rows, DECLARED[2] - cols
    if 0 <= dh <= 8 and 0 <= dw <= 8 and dh % 2 == 0 and dw % 2 == 0 and dh + dw > 0 and works(DECLARED[1], DECLARED[2]):
        return Adapter("pad", c, DECLARED[1], DECLARED[2], rows, cols, dh // 2, dw // 2)
    if works(rows, cols):
        return Adapter("as_is", c, rows, cols, rows, cols)
    for s in range(max(rows, cols), max(DECLARED[1], DECLARED[2], 1024) + 1):
        if works(s, s):
            return Adapter("resize", c, s, s, rows, cols)
    fail("no input size up to 1024 works for %s" % MODEL)


# ---- the run ----

def build_model(num_classes):
    params = {"num_classes": num_classes} if "num_classes" in zoo.ARGUMENTS else {}
    return zoo.build(**params)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Train %s with DistributedDataParallel (the flags of `convlens train`, plus the distributed ones)." % MODEL)
    p.add_argument("--data", help="an MNIST-format IDX folder (default: %s)" % DEFAULT_DATA)
    p.add_argument("--epochs", type=int, help="epochs (default %d)" % RECIPE["epochs"])
    p.add_argument("--batch-size", type=int, help="mini-batch size per process (default %d)" % RECIPE["batch_size"])
    p.add_argument("--lr", type=float, help="learning rate (default %g)" % RECIPE["lr"])
    p.add_argument("--optimizer", choices=["sgd", "momentum", "adam"], help="default %s" % RECIPE["optimizer"])
    p.add_argument("--weight-decay", type=float, help="L2 weight decay (default %g)" % RECIPE["weight_decay"])
    p.add_argument("--seed", type=int, help="seed for initialisation, shuffling and dropout (default %d)" % RECIPE["seed"])
    p.add_argument("--limit", type=int, help="use only the first N training and N test images")
    p.add_argument("--image-size", type=int, help="resize images to S×S")
    p.add_argument("--weights", help="initial state_dict (default: weights.safetensors beside train.py when the export wrote one, else the zoo file's init lines)")
    p.add_argument("--output-dir", help="run folder (default reports/runs/%s-YYYYMMDD-HHMMSS)" % MODEL)
    p.add_argument("--resume", help="continue the run in this folder from its last checkpoint, with its recipe (--epochs and --lr may change it)")
    p.add_argument("--force", action="store_true", help="replace a run already in --output-dir")
    p.add_argument("--backend", choices=["gloo", "nccl"], help="process group backend (default: nccl on GPUs, gloo on CPU)")
    p.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when available")
    p.add_argument("--sync-bn", action="store_true", help="synchronise batch-norm statistics across processes (SyncBatchNorm, GPUs)")
    p.add_argument("--rank-weights", action="store_true", help="every rank also writes weights.rankR.safetensors at the end (to check that ranks agree)")
    return p.parse_args(argv)


def config_of(args, data):
    return {"model": MODEL, "data": data, "epochs": args.epochs or RECIPE["epochs"],
            "batchSize": args.batch_size or RECIPE["batch_size"], "lr": args.lr or RECIPE["lr"],
            "optimizer": args.optimizer or RECIPE["optimizer"],
            "weightDecay": RECIPE["weight_decay"] if args.weight_decay is None else args.weight_decay,
            "seed": RECIPE["seed"] if args.seed is None else args.seed, "limit": args.limit, "imageSize": args.image_size,
            "initialization": "default", "arguments": ARGUMENTS}


def make_optimizer(model, config):
    kind, lr, wd = config["optimizer"], config["lr"], config["weightDecay"]
    if kind == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, weight_decay=wd)
    if kind == "momentum":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=wd)
    return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)


# ConvLens's optimizer state names: optimizer.momentum.KEY, optimizer.adam_m.KEY, optimizer.adam_v.KEY.
STATE_NAMES = {"momentum_buffer": "momentum", "exp_avg": "adam_m", "exp_avg_sq": "adam_v"}


def optimizer_tensors(model, optimizer):
    names = {id(p): k for k, p in model.named_parameters()}
    out = {}
    for p, state in optimizer.state.items():
        for field, prefix in STATE_NAMES.items():
            if field in state and state[field] is not None:
                out["optimizer.%s.%s" % (prefix, names[id(p)])] = state[field].detach().float().reshape(-1)
    return dict(sorted(out.items()))


def load_optimizer(model, optimizer, tensors, step):
    params = dict(model.named_parameters())
    for name, t in tensors.items():
        prefix, key = name[len("optimizer."):].split(".", 1)
        field = {v: k for k, v in STATE_NAMES.items()}[prefix]
        p = params[key]
        state = optimizer.state[p]
        state[field] = t.reshape(p.shape).to(p.device, p.dtype)
        if prefix.startswith("adam"):
            state["step"] = torch.tensor(float(step))


def state_tensors(model, integer_counts):
    """The state_dict; num_batches_tracked as I64 (weights.safetensors, as torch saves it) or F32 (checkpoint, as ConvLens writes it)."""
    out = {}
    for k, v in model.state_dict().items():
        v = v.detach().cpu()
        out[k] = v if integer_counts or v.is_floating_point() else v.float()
    return out


def init_weights(model, num_classes):
    """Draws every parameter as the zoo file's `init` lines say (torch's generator, seeded by the caller)."""
    if not INIT:
        fail("%s; start from a state_dict instead: --weights FILE (or export with --init default or --weights)" % INIT_PROBLEM)
    table = INIT.get(num_classes) or INIT.get(zoo.ARGUMENTS.get("num_classes")) or next(iter(INIT.values()))
    params = dict(model.named_parameters())
    with torch.no_grad():
        for kind, args, keys in table:
            for k in keys:
                p = params[k]
                if kind == "constant":
                    p.fill_(args[0])
                elif kind == "normal":
                    p.normal_(args[0], args[1])
                elif kind == "uniform":
                    p.uniform_(args[0], args[1])
                else:
                    torch.nn.init.trunc_normal_(p, args[0], args[1], args[2], args[3])


def load_weights(model, path, num_classes):
    """Loads a state_dict file, or stops with one line saying what does not fit."""
    tensors = load_safetensors(path)[0]
    own = model.state_dict()
    missing = [k for k in own if k not in tensors]
    extra = [k for k in tensors if k not in own]
    if missing or extra:
        fail("%s: %s" % (path, "no tensor %s" % missing[0] if missing else "unexpected tensor %s" % extra[0]))
    for k, v in own.items():
        if tuple(tensors[k].shape) != tuple(v.shape):
            fail("%s: %s has shape %s, the model built for this data (%d classes) has %s; export with --arg num_classes=%d, or pass --weights"
                 % (path, k, list(tensors[k].shape), num_classes, list(v.shape), num_classes))
    model.load_state_dict(tensors)


def main(argv=None):
    args = parse_args(argv)
    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = args.device == "cuda" or (args.device is None and torch.cuda.is_available())
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if distributed:
        dist.init_process_group(args.backend or ("nccl" if use_cuda else "gloo"), init_method="env://")

    # The run folder and recipe (a resumed run keeps its recipe; --epochs and --lr may change it).
    checkpoint = None
    if args.resume:
        folder = args.resume
        path = os.path.join(folder, "checkpoint.safetensors")
        if not os.path.exists(path):
            fail("%s: no checkpoint to resume from" % path)
        tensors, meta = load_safetensors(path)
        if meta.get("format") != CHECKPOINT_FORMAT:
            fail("%s: not a ConvLens training checkpoint (no %s metadata)" % (path, CHECKPOINT_FORMAT))
        config = json.loads(meta["config"])
        if args.epochs:
            config["epochs"] = args.epochs
        if args.lr:
            config["lr"] = args.lr
        if config["epochs"] <= int(meta["epoch"]):
            fail("%s: the run already finished %s epochs; pass --epochs N with N > %s to train further" % (path, meta["epoch"], meta["epoch"]))
        checkpoint = (tensors, meta)
    else:
        folder = args.output_dir or os.path.join("reports", "runs", "%s-%s" % (MODEL, datetime.datetime.now().strftime("%Y%m%d-%H%M%S")))
        if not args.force:
            for held in ("checkpoint.safetensors", "weights.safetensors", "metrics.csv", "run.json"):
                if os.path.exists(os.path.join(folder, held)):
                    fail("%s: this folder already holds a run; continue it with --resume %s, or replace it with --force" % (os.path.join(folder, held), folder))
        config = config_of(args, args.data or DEFAULT_DATA)
    for flag, key in (("--epochs", "epochs"), ("--batch-size", "batchSize"), ("--limit", "limit")):
        if config[key] is not None and config[key] < 1:
            fail("%s: must be at least 1, got %d" % (flag, config[key]))
    if not os.path.isdir(config["data"]):
        fail("%s: no such data folder" % config["data"])

    train_x, train_y = read_split(config["data"], "train")
    test_x, test_y = read_split(config["data"], "t10k")
    num_classes = int(max(train_y.max(), test_y.max())) + 1
    limit = config["limit"]
    train_n = min(limit or len(train_y), len(train_y))
    test_n = min(limit or len(test_y), len(test_y))
    adapter = choose_adapter(train_x.shape[1], train_x.shape[2], num_classes, config["imageSize"])

    torch.manual_seed(config["seed"])
    model = build_model(num_classes)
    start_epoch, records = 1, []
    if checkpoint:
        tensors, meta = checkpoint
        model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("optimizer.")})
        start_epoch = int(meta["epoch"]) + 1
    else:
        weights = args.weights or (os.path.join(HERE, "weights.safetensors") if EXPORTED_INIT else None)
        if weights:
            load_weights(model, weights, num_classes)
            config["initialization"] = EXPORTED_INIT if not args.weights else "file"
        else:
            init_weights(model, num_classes)
            config["initialization"] = "default"
    model.to(device)
    if args.sync_bn:
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if use_cuda else None) if distributed else model
    optimizer = make_optimizer(model, config)
    step = 0
    if checkpoint:
        step = int(meta["optimizer_step"])
        load_optimizer(model, optimizer, {k: v for k, v in checkpoint[0].items() if k.startswith("optimizer.")}, step)
        records = read_metrics(os.path.join(folder, "metrics.csv"))[:start_epoch - 1]
    if rank == 0:
        os.makedirs(folder, exist_ok=True)
        print("%s on %s: %d train / %d test images, %d classes; input %s; %d process%s, batch %d each"
              % (MODEL, config["data"], train_n, test_n, num_classes, adapter, world, "" if world == 1 else "es", config["batchSize"]), flush=True)

    sampler = torch.utils.data.distributed.DistributedSampler(range(train_n), num_replicas=world, rank=rank, shuffle=True, seed=config["seed"])
    b = config["batchSize"]
    for epoch in range(start_epoch, config["epochs"] + 1):
        t0 = time.time()
        sampler.set_epoch(epoch)
        order = list(iter(sampler))
        batches = len(order) // b  # full batches only, as `convlens train`
        if batches == 0:
            fail("--batch-size: %d is larger than the %d training images of each process" % (b, len(order)))
        torch.manual_seed((config["seed"] * 1000003 + epoch) * 1009 + rank)  # dropout masks differ per rank and epoch
        net.train()
        totals = torch.zeros(3, dtype=torch.float64)  # loss sum, correct, seen
        for bi in range(batches):
            idx = torch.tensor(order[bi * b:(bi + 1) * b])
            x = adapter(train_x[idx]).to(device)
            y = train_y[idx].to(device)
            out = net(x)
            logits, aux = out if isinstance(out, tuple) else (out, [])
            main_loss = F.cross_entropy(logits, y)
            loss = main_loss + AUX_LOSS_WEIGHT * sum(F.cross_entropy(a, y) for a in aux) if aux else main_loss
            if not torch.isfinite(loss):
                fail("%s: loss became %s at epoch %d, batch %d; stopped. The last good checkpoint (epoch %d) is intact" % (folder, loss.item(), epoch, bi + 1, epoch - 1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            totals += torch.tensor([main_loss.item() * b, (logits.argmax(1) == y).sum().item(), b], dtype=torch.float64)
        train_seconds = time.time() - t0
        if distributed:
            dist.all_reduce(totals)
        test_loss, test_acc = evaluate(model, adapter, test_x[:test_n], test_y[:test_n], b, device) if rank == 0 else (0.0, 0.0)
        record = {"epoch": epoch, "train_loss": totals[0].item() / totals[2].item(), "train_acc": totals[1].item() / totals[2].item(),
                  "test_loss": test_loss, "test_acc": test_acc, "seconds": time.time() - t0, "images_per_s": totals[2].item() / train_seconds}
        records.append(record)
        if rank == 0:
            meta = {"format": CHECKPOINT_FORMAT, "epoch": epoch, "optimizer_step": step, "config": json.dumps(config, separators=(",", ":")),
                    "world_size": world, "written_by": "train.py (convlens export)"}
            save_safetensors(dict(state_tensors(model, False), **optimizer_tensors(model, optimizer)), os.path.join(folder, "checkpoint.safetensors"), meta)
            save_safetensors(state_tensors(model, True), os.path.join(folder, "weights.safetensors"))
            write_metrics(records, os.path.join(folder, "metrics.csv"))
            print("epoch %d/%d: train loss %.4f, train acc %.4f, test loss %.4f, test acc %.4f, %.1f s, %.1f images/s"
                  % (epoch, config["epochs"], record["train_loss"], record["train_acc"], test_loss, test_acc, record["seconds"], record["images_per_s"]), flush=True)
        if distributed:
            dist.barrier()
    if rank == 0:
        summary = {"model": MODEL, "config": config, "test_acc": records[-1]["test_acc"] if records else float("nan"), "input": str(adapter),
                   "epochs": [{k: r[k] for k in ("epoch", "train_loss", "test_acc", "seconds", "images_per_s")} for r in records]}
        write_text(os.path.join(folder, "run.json"), json.dumps(summary, indent=2, sort_keys=True) + "\n")
        print("final test accuracy %.4f — %s" % (records[-1]["test_acc"], folder), flush=True)
    if args.rank_weights:
        save_safetensors(state_tensors(model, True), os.path.join(folder, "weights.rank%d.safetensors" % rank))
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


def evaluate(model, adapter, images, labels, batch, device):
    """Test loss and accuracy in eval mode (one process: the whole test split)."""
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(labels), batch):
            x = adapter(images[s:s + batch]).to(device)
            y = labels[s:s + batch].to(device)
            logits = model(x)
            loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
    return loss / len(labels), correct / len(labels)


METRICS_HEADER = "epoch,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s"


def write_text(path, text):
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def write_metrics(records, path):
    rows = ["%d,%.6f,%.6f,%.6f,%.6f,%.3f,%.1f" % (r["epoch"], r["train_loss"], r["train_acc"], r["test_loss"], r["test_acc"], r["seconds"], r["images_per_s"]) for r in records]
    write_text(path, "\n".join([METRICS_HEADER] + rows) + "\n")


def read_metrics(path):
    if not os.path.exists(path):
        return []
    keys = METRICS_HEADER.split(",")
    with open(path) as f:
        lines = f.read().split("\n")[1:]
    return [dict(zip(keys, [int(v) if i == 0 else float(v) for i, v in enumerate(line.split(","))])) for line in lines if line]


if __name__ == "__main__":
    main()
"""#
}
