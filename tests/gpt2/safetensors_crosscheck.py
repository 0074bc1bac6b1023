"""Independent check of the C++ GPT-2 checkpoints with only json, struct and numpy
(the `safetensors` and `transformers` packages are not available from Debian; numpy
imports in a fraction of torch's time and reads the same bytes).

usage: python3 safetensors_crosscheck.py OURS THEIRS
  verifies OURS, a file the C++ code wrote, then writes THEIRS as Hugging Face does.
  Exits 77 when numpy is missing.
Both use the tiny config n_layer 2, n_embd 4, block 3, vocab 5, and parameter values
i + 0.5 where i is the float's index in llm.c's layout (Linear weights (out, in)).
"""
import json
import struct
import sys

try:
    import numpy as np
except ImportError:
    sys.exit(77)

N_LAYER, C, BLOCK, VOCAB = 2, 4, 3, 5
DTYPES = {"F32": "<f4", "F16": "<f2", "I32": "<i4", "I64": "<i8", "U8": "u1"}


def hf_tensors():
    """name -> tensor in Hugging Face's GPT2Model layout (Conv1D weights [in, out])."""
    out, offset = {}, 0

    def add(name, shape, conv1d=False):
        nonlocal offset
        n = 1
        for d in shape:
            n *= d
        values = np.arange(offset, offset + n, dtype=np.float32) + np.float32(0.5)
        offset += n
        if conv1d:  # buffer holds (out, in); the file holds its transpose
            out[name] = np.ascontiguousarray(values.reshape(shape).T)
        else:
            out[name] = values.reshape(shape)

    add("wte.weight", (VOCAB, C))
    add("wpe.weight", (BLOCK, C))
    for i in range(N_LAYER):
        h = f"h.{i}."
        add(h + "ln_1.weight", (C,)); add(h + "ln_1.bias", (C,))
        add(h + "attn.c_attn.weight", (3 * C, C), True); add(h + "attn.c_attn.bias", (3 * C,))
        add(h + "attn.c_proj.weight", (C, C), True); add(h + "attn.c_proj.bias", (C,))
        add(h + "ln_2.weight", (C,)); add(h + "ln_2.bias", (C,))
        add(h + "mlp.c_fc.weight", (4 * C, C), True); add(h + "mlp.c_fc.bias", (4 * C,))
        add(h + "mlp.c_proj.weight", (C, 4 * C), True); add(h + "mlp.c_proj.bias", (C,))
    add("ln_f.weight", (C,)); add("ln_f.bias", (C,))
    return out


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    buf = raw[8 + n:]
    tensors = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        tensors[name] = np.frombuffer(buf[a:b], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
    return tensors, meta, n


def check(path):
    tensors, meta, header_len = read(path)
    expected = hf_tensors()
    assert header_len % 8 == 0, f"header length {header_len} not padded to 8"
    assert meta.get("format") == "pt", meta
    assert sorted(tensors) == sorted(expected), sorted(set(tensors) ^ set(expected))
    for name, t in expected.items():
        assert tensors[name].shape == t.shape, (name, tensors[name].shape, t.shape)
        assert tensors[name].dtype == np.float32 and np.array_equal(tensors[name], t), name
    print(f"ok: {len(tensors)} tensors match Hugging Face names, shapes and values")


def write(path):
    tensors = {"transformer." + k: v for k, v in hf_tensors().items()}
    for i in range(N_LAYER):  # the causal-mask buffers GPT2Model saves
        tensors[f"transformer.h.{i}.attn.bias"] = np.tril(np.ones((BLOCK, BLOCK), dtype=np.uint8)).reshape(1, 1, BLOCK, BLOCK)
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        data = np.ascontiguousarray(t).tobytes()
        dtype = {np.dtype(np.float32): "F32", np.dtype(np.uint8): "U8"}[t.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
    print(f"wrote {path}")


if __name__ == "__main__":
    check(sys.argv[1])
    write(sys.argv[2])
