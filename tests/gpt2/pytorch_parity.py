"""Logits of GPT-2 124M (12 layers, 12 heads, 768 channels, context 1024, vocabulary
50257) with random weights, from a file in Hugging Face's layout, against PyTorch.

usage: python3 pytorch_parity.py GPT2_PROGRAM WORK_DIRECTORY
Exits 77 (skipped) without torch and numpy or without the reference, 1 on a mismatch.

The file is written here as transformers ships GPT-2's model.safetensors: no config in
the metadata (only "format": "pt"), no "transformer." prefix, Conv1D weights [in, out],
the causal-mask buffers h.<i>.attn.bias (1, 1, 1024, 1024) and h.<i>.attn.masked_bias,
F32. `gpt2 dump --logits-only` reads it (n_head from n_embd / 64) and computes the
logits of one sequence of 1024 random tokens; the reference's model.py (PyTorch, beside
the repository in ../shared/reference) computes them from the same weights.
Tolerance: max |difference| over every logit at most 1e-4 of max |logit| (float32 on
both sides, summed in different orders through 12 layers).
"""
import json
import os
import struct
import subprocess
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # PyTorch's spinning threads slow a small machine
try:
    import numpy as np
    import torch
except ImportError:
    print("skipped: torch and numpy are needed")
    sys.exit(77)

N_LAYER, N_HEAD, C, BLOCK, VOCAB, T = 12, 12, 768, 1024, 50257, 1024
TOLERANCE = 1e-4
REPOSITORY = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REFERENCE = os.path.join(REPOSITORY, "..", "shared", "reference")
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def write_safetensors(path, tensors, metadata):
    """The safetensors format: 8-byte little-endian header length, JSON header, raw data."""
    header, offset = {"__metadata__": metadata}, 0
    for name, a in tensors.items():
        dtype = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}[a.dtype]
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for a in tensors.values():
            f.write(np.ascontiguousarray(a).tobytes())


def read_tensor(path, name):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        entry = json.loads(f.read(n))[name]
        assert entry["dtype"] == "F32", entry
        begin, end = entry["data_offsets"]
        f.seek(8 + n + begin)
        return np.frombuffer(f.read(end - begin), dtype="<f4").reshape(entry["shape"])


def main():
    program, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    if not os.path.exists(os.path.join(REFERENCE, "model.py")):
        print(f"the PyTorch reference is missing: no model.py in {os.path.normpath(REFERENCE)}")
        sys.exit(1 if os.environ.get("CI") == "true" else 77)
    sys.path.insert(0, REFERENCE)
    from model import GPT, GPTConfig  # noqa: E402

    started = time.time()
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=VOCAB, block_size=BLOCK, n_layer=N_LAYER, n_head=N_HEAD, n_embd=C))
    model.eval()
    # Weights of 0.05 (GPT-2's init is 0.02): attention logits of about 2 standard
    # deviations, so that the softmax, its mask and its scale all shape the result.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.split(".")[-2].startswith("ln"):
                p.copy_(torch.randn(p.shape) * 0.1 + (1.0 if name.endswith("weight") else 0.0))
            elif name.endswith("bias"):
                p.copy_(torch.randn(p.shape) * 0.02)
            else:
                p.copy_(torch.randn(p.shape) * 0.05)
    tensors = {}
    for name, p in model.named_parameters():
        if name == "lm_head.weight":  # tied to wte; Hugging Face's file has no copy
            continue
        a = p.detach().numpy()
        tensors[name] = np.ascontiguousarray(a.T) if name.endswith(CONV1D) else a
    mask = np.tril(np.ones((BLOCK, BLOCK), dtype=np.float32)).reshape(1, 1, BLOCK, BLOCK)
    for i in range(N_LAYER):
        tensors[f"h.{i}.attn.bias"] = mask
        tensors[f"h.{i}.attn.masked_bias"] = np.array(-1e4, dtype=np.float32)
    model_path = os.path.join(work, "model.safetensors")
    write_safetensors(model_path, tensors, {"format": "pt"})
    del tensors
    idx = torch.randint(VOCAB, (1, T))
    targets = torch.randint(VOCAB, (1, T))
    batch_path = os.path.join(work, "batch.safetensors")
    write_safetensors(batch_path, {"inputs": idx.numpy().astype(np.int64), "targets": targets.numpy().astype(np.int64)}, {})
    print(f"wrote a random GPT-2 124M in Hugging Face's layout ({os.path.getsize(model_path) / 1e6:.0f} MB) "
          f"in {time.time() - started:.1f} s")

    dump_path = os.path.join(work, "dump.safetensors")
    started = time.time()
    subprocess.run([program, "dump", "--model", model_path, "--batch", batch_path, "--out", dump_path,
                    "--logits-only", "--threads", "2"], check=True)
    print(f"gpt2 dump: {time.time() - started:.1f} s")
    ours = read_tensor(dump_path, "logits").astype(np.float64)
    our_loss = float(read_tensor(dump_path, "loss"))

    started = time.time()
    torch.set_num_threads(2)
    with torch.no_grad():
        logits, loss = model(idx, targets)
    print(f"PyTorch forward: {time.time() - started:.1f} s")
    expected = logits.numpy().astype(np.float64)
    if ours.shape != expected.shape:
        print(f"logits: shape {ours.shape}, PyTorch {expected.shape}")
        sys.exit(1)
    difference = np.abs(ours - expected).max() / np.abs(expected).max()
    agree = (ours.argmax(-1) == expected.argmax(-1)).mean()
    print(f"logits: max |logit| {np.abs(expected).max():.3f}, std {expected.std():.3f}; "
          f"max |difference| / max |logit| = {difference:.2e} (tolerance {TOLERANCE:.0e}); "
          f"top-1 agreement {agree * 100:.2f} %; loss {our_loss:.6f} vs PyTorch {loss.item():.6f}")
    if not difference <= TOLERANCE or not abs(our_loss - loss.item()) <= TOLERANCE * abs(loss.item()):
        print(f"FAILED: the logits or the loss differ beyond the tolerance; the files are in {work}")
        sys.exit(1)
    for path in (model_path, batch_path, dump_path):
        os.remove(path)
    print("ok")


if __name__ == "__main__":
    main()
