"""Cross-check of `gpt2 dump` against PyTorch: the same tiny GPT-2, the same token
batch; loss, logits and every parameter gradient must agree within float tolerances.

usage: python3 dump_crosscheck.py GPT2_PROGRAM WORK_DIRECTORY
Exits 77 (skipped) without torch and numpy, 1 on any mismatch.
The model is the PyTorch reference's model.py, found beside the repository in
../shared/reference (CI provides it), otherwise the inline equivalent below (the same
architecture, written out functionally). Under CI=true a missing reference is an error:
CI must compare against the reference itself.
"""
import json
import math
import os
import struct
import subprocess
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit(77)

N_LAYER, N_HEAD, C, BLOCK, VOCAB, B, T = 2, 2, 8, 5, 11, 2, 5
REPOSITORY = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REFERENCE = os.path.join(REPOSITORY, "..", "shared", "reference")
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def reference_model():
    sys.path.insert(0, REFERENCE)
    from model import GPT, GPTConfig  # noqa: E402
    return GPT(GPTConfig(vocab_size=VOCAB, block_size=BLOCK, n_layer=N_LAYER, n_head=N_HEAD, n_embd=C))


class InlineGPT(torch.nn.Module):
    """model.py's GPT in functional form, for machines without the reference folder."""

    def __init__(self):
        super().__init__()
        p = {"wte.weight": (VOCAB, C), "wpe.weight": (BLOCK, C), "ln_f.weight": (C,), "ln_f.bias": (C,)}
        for i in range(N_LAYER):
            h = f"h.{i}."
            p.update({h + "ln_1.weight": (C,), h + "ln_1.bias": (C,), h + "ln_2.weight": (C,),
                      h + "ln_2.bias": (C,), h + "attn.c_attn.weight": (3 * C, C),
                      h + "attn.c_attn.bias": (3 * C,), h + "attn.c_proj.weight": (C, C),
                      h + "attn.c_proj.bias": (C,), h + "mlp.c_fc.weight": (4 * C, C),
                      h + "mlp.c_fc.bias": (4 * C,), h + "mlp.c_proj.weight": (C, 4 * C),
                      h + "mlp.c_proj.bias": (C,)})
        self.p = torch.nn.ParameterDict({k.replace(".", "/"): torch.nn.Parameter(torch.zeros(s)) for k, s in p.items()})

    def named_parameters(self, *args, **kwargs):
        for k, v in self.p.items():
            yield k.replace("/", "."), v

    def forward(self, idx, targets):
        g = lambda name: self.p[name.replace(".", "/")]  # noqa: E731
        x = g("wte.weight")[idx] + g("wpe.weight")[: idx.shape[1]]
        hs = C // N_HEAD
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        for i in range(N_LAYER):
            h = f"h.{i}."
            y = F.layer_norm(x, (C,), g(h + "ln_1.weight"), g(h + "ln_1.bias"))
            q, k, v = F.linear(y, g(h + "attn.c_attn.weight"), g(h + "attn.c_attn.bias")).split(C, dim=2)
            q, k, v = (z.view(B, T, N_HEAD, hs).transpose(1, 2) for z in (q, k, v))
            att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
            att = F.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
            y = (att @ v).transpose(1, 2).reshape(B, T, C)
            x = x + F.linear(y, g(h + "attn.c_proj.weight"), g(h + "attn.c_proj.bias"))
            y = F.layer_norm(x, (C,), g(h + "ln_2.weight"), g(h + "ln_2.bias"))
            y = F.gelu(F.linear(y, g(h + "mlp.c_fc.weight"), g(h + "mlp.c_fc.bias")), approximate="tanh")
            x = x + F.linear(y, g(h + "mlp.c_proj.weight"), g(h + "mlp.c_proj.bias"))
        x = F.layer_norm(x, (C,), g("ln_f.weight"), g("ln_f.bias"))
        logits = F.linear(x, g("wte.weight"))
        return logits, F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1))


def write_safetensors(path, tensors, metadata):
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name, a in tensors.items():
        data = np.ascontiguousarray(a).tobytes()
        dtype = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}[a.dtype]
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    return {k: np.frombuffer(raw[8 + n + e["data_offsets"][0]:8 + n + e["data_offsets"][1]],
                             dtype="<f4").reshape(e["shape"]) for k, e in header.items()}


def main():
    program, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    have_reference = os.path.exists(os.path.join(REFERENCE, "model.py"))
    if not have_reference and os.environ.get("CI") == "true":
        print(f"the PyTorch reference is missing: no model.py in {os.path.normpath(REFERENCE)} "
              "(CI provides ../shared beside the repository)")
        sys.exit(1)
    print("model: " + ("the reference's model.py" if have_reference else "the inline equivalent (no reference found)"))
    model = reference_model() if have_reference else InlineGPT()
    params = {n: p for n, p in model.named_parameters()}
    with torch.no_grad():  # far from GPT-2's small init, so every nonlinearity matters
        for name, p in params.items():
            p.copy_(torch.randn(p.shape) * 0.4 + (1.0 if name.split(".")[-2].startswith("ln") and name.endswith("weight") else 0.0))
    checkpoint = {}
    for name, p in params.items():
        a = p.detach().numpy().astype(np.float32)
        checkpoint[name] = np.ascontiguousarray(a.T) if name.endswith(CONV1D) else a
    write_safetensors(os.path.join(work, "model.safetensors"), checkpoint, {"format": "pt", "n_head": str(N_HEAD)})
    idx = torch.randint(VOCAB, (B, T))
    targets = torch.randint(VOCAB, (B, T))
    write_safetensors(os.path.join(work, "batch.safetensors"),
                      {"inputs": idx.numpy().astype(np.int64), "targets": targets.numpy().astype(np.int64)}, {})
    subprocess.run([program, "dump", "--model", os.path.join(work, "model.safetensors"), "--batch",
                    os.path.join(work, "batch.safetensors"), "--out", os.path.join(work, "dump.safetensors"),
                    "--threads", "1"], check=True)
    ours = read_safetensors(os.path.join(work, "dump.safetensors"))

    model.zero_grad()
    logits, loss = model(idx, targets)
    loss.backward()
    # Float32 on both sides; different summation orders differ by a few ulps per
    # operation, so per-tensor tolerances scale with the tensor's magnitude.
    failures = []

    def compare(name, expected, got, rtol=1e-4):
        expected = np.asarray(expected, dtype=np.float64)
        got = np.asarray(got, dtype=np.float64)
        if expected.shape != got.shape:
            failures.append(f"{name}: shape {got.shape}, PyTorch {expected.shape}")
            return
        scale = max(np.abs(expected).max(), 1e-3)
        err = np.abs(expected - got).max() / scale
        print(f"{name:28s} max |diff| / max|value| = {err:.2e}")
        if not err <= rtol:
            failures.append(f"{name}: relative difference {err:.2e} > {rtol:.0e}")

    compare("loss", loss.item(), float(ours["loss"]))
    compare("logits", logits.detach().numpy(), ours["logits"])
    for name, p in params.items():
        g = p.grad.numpy()
        compare("grad." + name, g.T if name.endswith(CONV1D) else g, ours["grad." + name])
    if failures:
        print("MISMATCH:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print(f"ok: loss, logits and {len(params)} gradients agree with PyTorch")


if __name__ == "__main__":
    main()
