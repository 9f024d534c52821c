#!/usr/bin/python3
"""SAELens SAE directories (v6 and pre-6 cfg.json) with inputs and expected feature codes
computed here with numpy from SAELens' formulas (formats.md 6.1, 6.5).

Run: /usr/bin/python3 tests/generators/make_sae_fixtures.py tests/fixtures/sae
"""
import json
import os
import sys

import numpy as np

from safetensors_writer import write_safetensors

rng = np.random.default_rng(3)


def save_safetensors(path, tensors):
    write_safetensors(path, [(name, "F32", tensors[name].shape, np.ascontiguousarray(tensors[name], dtype="<f4").tobytes())
                             for name in sorted(tensors)])


def write(out, name, cfg, W, x, f):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "cfg.json"), "w") as fh:
        json.dump(cfg, fh, indent=1)
    save_safetensors(os.path.join(d, "sae_weights.safetensors"), W)
    np.save(os.path.join(out, name + "_x.npy"), x.astype("<f4"))
    np.save(os.path.join(out, name + "_f.npy"), f.astype("<f4"))


def main(out):
    d_in, d_sae, n = 8, 24, 10
    x = rng.normal(size=(n, d_in)).astype(np.float32)
    W = {"W_enc": rng.normal(size=(d_in, d_sae)).astype(np.float32) * 0.5,
         "W_dec": rng.normal(size=(d_sae, d_in)).astype(np.float32) * 0.3,
         "b_enc": rng.normal(size=d_sae).astype(np.float32) * 0.1,
         "b_dec": rng.normal(size=d_in).astype(np.float32) * 0.1}

    # v6 JumpReLU with b_dec applied to the input.
    jr = dict(W, threshold=np.abs(rng.normal(size=d_sae)).astype(np.float32) * 0.5)
    pre = (x - jr["b_dec"]) @ jr["W_enc"] + jr["b_enc"]
    f = np.maximum(pre, 0) * (pre > jr["threshold"])
    write(out, "saelens_v6_jumprelu",
          {"d_in": d_in, "d_sae": d_sae, "architecture": "jumprelu", "apply_b_dec_to_input": True,
           "normalize_activations": "none", "dtype": "float32", "device": "cpu", "reshape_activations": "none",
           "metadata": {"sae_lens_version": "6.5.1", "hook_name": "blocks.1.hook_resid_post", "model_name": "tiny",
                        "prepend_bos": True, "model_from_pretrained_kwargs": {}}}, jr, x, f)

    # pre-6.0 TopK: activation_fn_str + kwargs, hook_point, boolean normalize_activations.
    k = 4
    pre = (x - W["b_dec"]) @ W["W_enc"] + W["b_enc"]
    f = np.zeros_like(pre)
    idx = np.argsort(-pre, axis=1)[:, :k]
    for r in range(n):
        f[r, idx[r]] = np.maximum(pre[r, idx[r]], 0)
    write(out, "saelens_v5_topk",
          {"d_in": d_in, "d_sae": d_sae, "architecture": "standard", "activation_fn_str": "topk",
           "activation_fn_kwargs": {"k": k}, "apply_b_dec_to_input": True, "normalize_activations": False,
           "hook_point": "blocks.0.hook_mlp_out", "hook_point_layer": 0, "dtype": "float32",
           "sae_lens_training_version": "3.12.0", "model_name": "tiny"}, W, x, f)

    # v6 standard with layer_norm input normalisation (unbiased std, eps on the std).
    mu = x.mean(-1, keepdims=True)
    xc = x - mu
    xn = xc / (xc.std(-1, ddof=1, keepdims=True) + 1e-5)
    f = np.maximum((xn - W["b_dec"]) @ W["W_enc"] + W["b_enc"], 0)
    write(out, "saelens_v6_layernorm",
          {"d_in": d_in, "d_sae": d_sae, "architecture": "standard", "apply_b_dec_to_input": True,
           "normalize_activations": "layer_norm", "dtype": "float32",
           "metadata": {"hook_name": "blocks.1.hook_resid_pre"}}, W, x, f)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/sae")
