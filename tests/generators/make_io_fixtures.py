#!/usr/bin/python3
"""Writes the container fixtures of tests/fixtures/io with numpy and a hand-rolled
safetensors writer (struct + json), independent of Featurescope's own writers.

Every array holds the pattern the tests recompute: for element i (C order) of an array,
  float kinds: ((i % 97) - 48) / 4      (exact in f16 and bf16)
  signed ints: (i % 97) - 48
  u8:          i % 200
  bool:        i % 3 == 0
Run: /usr/bin/python3 tests/generators/make_io_fixtures.py tests/fixtures/io
"""
import json
import os
import sys

import numpy as np

from safetensors_writer import write_safetensors


def pattern(dtype, shape):
    n = int(np.prod(shape)) if len(shape) else 1
    i = np.arange(n)
    kind = np.dtype(dtype).kind if dtype != "bf16" else "f"
    if kind == "f":
        v = ((i % 97) - 48) / 4.0
    elif kind == "b":
        v = i % 3 == 0
    elif kind == "u":
        v = i % 200
    else:
        v = (i % 97) - 48
    if dtype == "bf16":
        return v.astype(np.float32).reshape(shape)
    return v.astype(dtype).reshape(shape)


def bf16_bytes(a):
    bits = np.ascontiguousarray(a, dtype="<f4").view("<u4") >> 16
    return bits.astype("<u2").tobytes()


SAFETENSORS_DTYPES = [
    ("F64", "<f8"), ("F32", "<f4"), ("F16", "<f2"), ("BF16", "bf16"), ("I64", "<i8"),
    ("I32", "<i4"), ("I16", "<i2"), ("I8", "i1"), ("U8", "u1"), ("BOOL", "?"),
]




def main(out):
    os.makedirs(out, exist_ok=True)
    shape = (3, 5)
    tensors = []
    for st_dtype, np_dtype in SAFETENSORS_DTYPES:
        a = pattern(np_dtype, shape)
        raw = bf16_bytes(a) if np_dtype == "bf16" else np.ascontiguousarray(a).tobytes()
        tensors.append((st_dtype.lower(), st_dtype, shape, raw))
    # A scalar and an empty tensor, as the format allows.
    tensors.append(("scalar", "F32", (), pattern("<f4", ()).tobytes()))
    tensors.append(("empty", "F32", (0, 4), b""))
    write_safetensors(os.path.join(out, "all_dtypes.safetensors"), tensors,
                      {"format": "pt", "source": "make_io_fixtures.py"})

    # A two-shard checkpoint with its index, named as transformers names them.
    a, b = pattern("<f4", (4, 6)), pattern("<f2", (6,))
    write_safetensors(os.path.join(out, "model-00001-of-00002.safetensors"),
                      [("model.embed.weight", "F32", a.shape, a.tobytes())])
    write_safetensors(os.path.join(out, "model-00002-of-00002.safetensors"),
                      [("model.norm.weight", "F16", b.shape, b.tobytes())])
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": a.nbytes + b.nbytes},
                   "weight_map": {"model.embed.weight": "model-00001-of-00002.safetensors",
                                  "model.norm.weight": "model-00002-of-00002.safetensors"}}, f)

    arrays = {
        "f64": pattern("<f8", shape), "f32": pattern("<f4", shape), "f16": pattern("<f2", shape),
        "i64": pattern("<i8", shape), "i32": pattern("<i4", shape), "i16": pattern("<i2", shape),
        "i8": pattern("i1", shape), "u8": pattern("u1", shape), "bool": pattern("?", shape),
        "scalar": pattern("<f4", ()), "empty": pattern("<f4", (0, 4)),
        "big_endian": pattern("<f4", shape).astype(">f4"),
        "fortran": np.asfortranarray(pattern("<f4", (2, 3, 4))),
        "big_endian_i64": pattern("<i8", shape).astype(">i8"),
    }
    np.savez(os.path.join(out, "numpy_savez.npz"), **arrays)
    np.savez_compressed(os.path.join(out, "numpy_savez_compressed.npz"), **arrays)
    # Gemma Scope's params.npz layout, tiny.
    d_in, d_sae = 8, 16
    np.savez(os.path.join(out, "gemma_scope_params.npz"),
             W_enc=pattern("<f4", (d_in, d_sae)), W_dec=pattern("<f4", (d_sae, d_in)),
             b_enc=pattern("<f4", (d_sae,)), b_dec=pattern("<f4", (d_in,)),
             threshold=np.abs(pattern("<f4", (d_sae,))))
    # An object array: a pickle inside an npz, which must be refused.
    np.savez(os.path.join(out, "object_array.npz"),
             ok=pattern("<f4", (2,)), obj=np.array([{"a": 1}, None], dtype=object))
    # A pickle checkpoint (protocol 2 header bytes only; never loaded).
    with open(os.path.join(out, "pytorch_model.bin"), "wb") as f:
        f.write(b"\x80\x02}q\x00.")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/io")
