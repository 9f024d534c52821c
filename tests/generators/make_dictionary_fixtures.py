#!/usr/bin/python3
"""Transcoders, skip transcoders, CLTs, a crosscoder and an ITDA dictionary, each written the way its own
repository writes it (dictionaries_interp.md A and B), with inputs and the expected feature
codes and outputs computed here with numpy from each repository's formulas.

Run: /usr/bin/python3 tests/generators/make_dictionary_fixtures.py tests/fixtures/dictionaries
"""
import json
import os
import sys

import numpy as np

from safetensors_writer import write_safetensors

rng = np.random.default_rng(11)
D_IN, D_OUT, F, N = 6, 6, 10, 7


def save(path, tensors):
    out = []
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype == np.int64:
            out.append((name, "I64", t.shape, np.ascontiguousarray(t, dtype="<i8").tobytes()))
        else:
            out.append((name, "F32", t.shape, np.ascontiguousarray(t, dtype="<f4").tobytes()))
    write_safetensors(path, out)


def expect(out, name, x, f, y):
    np.save(os.path.join(out, name + "_x.npy"), x.astype("<f4"))
    np.save(os.path.join(out, name + "_f.npy"), f.astype("<f4"))
    np.save(os.path.join(out, name + "_y.npy"), y.astype("<f4"))


def jumprelu(pre, threshold):
    return np.maximum(pre, 0) * (pre > threshold)


def f32(*shape, scale=1.0):
    return (rng.normal(size=shape) * scale).astype(np.float32)


def saelens_skip_transcoder(out):
    # SAELens saes/transcoder.py, JumpReLUSkipTranscoder: pre = x W_enc + b_enc (no b_dec
    # subtraction), f = JumpReLU(pre), y = f W_dec + b_dec + x W_skip^T, W_skip [d_out, d_in].
    d = os.path.join(out, "saelens_skip_transcoder")
    os.makedirs(d, exist_ok=True)
    W = {"W_enc": f32(D_IN, F, scale=0.6), "b_enc": f32(F, scale=0.1), "W_dec": f32(F, D_OUT, scale=0.4),
         "b_dec": f32(D_OUT, scale=0.1), "threshold": np.abs(f32(F, scale=0.3)), "W_skip": f32(D_OUT, D_IN, scale=0.2)}
    cfg = {"d_in": D_IN, "d_sae": F, "d_out": D_OUT, "architecture": "jumprelu_skip_transcoder",
           "apply_b_dec_to_input": False, "normalize_activations": "none", "dtype": "float32", "device": "cpu",
           "reshape_activations": "none",
           "metadata": {"sae_lens_version": "6.18.0", "hook_name": "blocks.1.mlp.hook_in",
                        "hook_name_out": "blocks.1.hook_mlp_out", "model_name": "tiny", "prepend_bos": True}}
    with open(os.path.join(d, "cfg.json"), "w") as fh:
        json.dump(cfg, fh, indent=1)
    save(os.path.join(d, "sae_weights.safetensors"), W)
    x = f32(N, D_IN)
    f = jumprelu(x @ W["W_enc"] + W["b_enc"], W["threshold"])
    y = f @ W["W_dec"] + W["b_dec"] + x @ W["W_skip"].T
    expect(out, "saelens_skip_transcoder", x, f, y)


def gemma_scope_2_transcoder(out):
    # Gemma Scope 2 (config.json + params.safetensors): lowercase keys, hf_hook_point_in/out,
    # y = f w_dec + b_dec + x affine_skip_connection (no transpose).
    d = os.path.join(out, "gemma_scope_2_transcoder")
    os.makedirs(d, exist_ok=True)
    W = {"w_enc": f32(D_IN, F, scale=0.6), "b_enc": f32(F, scale=0.1), "w_dec": f32(F, D_OUT, scale=0.4),
         "b_dec": f32(D_OUT, scale=0.1), "threshold": np.abs(f32(F, scale=0.3)),
         "affine_skip_connection": f32(D_IN, D_OUT, scale=0.2)}
    cfg = {"architecture": "jump_relu", "model_name": "google/gemma-3-1b-pt", "width": F, "l0": 4,
           "affine_connection": True,
           "hf_hook_point_in": "model.layers.1.pre_feedforward_layernorm.output",
           "hf_hook_point_out": "model.layers.1.post_feedforward_layernorm.output"}
    with open(os.path.join(d, "config.json"), "w") as fh:
        json.dump(cfg, fh, indent=1)
    save(os.path.join(d, "params.safetensors"), W)
    x = f32(N, D_IN)
    f = jumprelu(x @ W["w_enc"] + W["b_enc"], W["threshold"])
    y = f @ W["w_dec"] + W["b_dec"] + x @ W["affine_skip_connection"]
    expect(out, "gemma_scope_2_transcoder", x, f, y)


def circuit_tracer_transcoders(out):
    # circuit-tracer per-layer transcoders: layer_{i}.safetensors with W_enc [d_tc, d_model]
    # (transposed), activation_function.threshold (JumpReLU: x * (x > theta)), W_skip applied
    # as x W_skip^T; config.yaml names the hook points.
    d = os.path.join(out, "circuit_tracer_plt")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.yaml"), "w") as fh:
        fh.write("model_kind: transcoder_set\nmodel_name: tiny\n"
                 "feature_input_hook: \"mlp.hook_in\"\nfeature_output_hook: hook_mlp_out\n"
                 "transcoders:\n  - layer_0.safetensors\n  - layer_1.safetensors\n")
    for layer in (0, 1):
        W = {"W_enc": f32(F, D_IN, scale=0.6), "b_enc": f32(F, scale=0.1), "W_dec": f32(F, D_OUT, scale=0.4),
             "b_dec": f32(D_OUT, scale=0.1), "activation_function.threshold": np.abs(f32(F, scale=0.3)),
             "W_skip": f32(D_OUT, D_IN, scale=0.2)}
        save(os.path.join(d, "layer_%d.safetensors" % layer), W)
        x = f32(N, D_IN)
        pre = x @ W["W_enc"].T + W["b_enc"]
        f = pre * (pre > W["activation_function.threshold"])
        y = f @ W["W_dec"] + W["b_dec"] + x @ W["W_skip"].T
        expect(out, "circuit_tracer_plt_%d" % layer, x, f, y)


def circuit_tracer_clt(out):
    # mntss CLT layout: W_enc_{l}.safetensors {W_enc_l [d_tc, d], b_enc_l, b_dec_l, threshold_l},
    # W_dec_{l}.safetensors {W_dec_l [d_tc, n - l, d]}; target t = sum_{l <= t} f_l W_dec_l[:, t - l]
    # + b_dec_t.
    d = os.path.join(out, "circuit_tracer_clt")
    os.makedirs(d, exist_ok=True)
    layers = 3
    with open(os.path.join(d, "config.yaml"), "w") as fh:
        fh.write("model_kind: cross_layer_transcoder\nfeature_input_hook: hook_resid_mid\n"
                 "feature_output_hook: hook_mlp_out\n")
    xs, fs, W = [], [], []
    for l in range(layers):
        w = {"W_enc_%d" % l: f32(F, D_IN, scale=0.6), "b_enc_%d" % l: f32(F, scale=0.1),
             "b_dec_%d" % l: f32(D_OUT, scale=0.1), "threshold_%d" % l: np.abs(f32(F, scale=0.3))}
        dec = {"W_dec_%d" % l: f32(F, layers - l, D_OUT, scale=0.4)}
        save(os.path.join(d, "W_enc_%d.safetensors" % l), w)
        save(os.path.join(d, "W_dec_%d.safetensors" % l), dec)
        x = f32(N, D_IN)
        pre = x @ w["W_enc_%d" % l].T + w["b_enc_%d" % l]
        f = pre * (pre > w["threshold_%d" % l])
        xs.append(x)
        fs.append(f)
        W.append((w, dec))
        np.save(os.path.join(out, "circuit_tracer_clt_%d_x.npy" % l), x.astype("<f4"))
        np.save(os.path.join(out, "circuit_tracer_clt_%d_f.npy" % l), f.astype("<f4"))
    for t in range(layers):
        y = W[t][0]["b_dec_%d" % t].copy()
        for l in range(t + 1):
            y = y + fs[l] @ W[l][1]["W_dec_%d" % l][:, t - l, :]
        np.save(os.path.join(out, "circuit_tracer_clt_target_%d.npy" % t), y.astype("<f4"))


def matching_pursuit(out):
    # ITDA's encoder (pleask/itda): k rounds of c = r D^T, j = argmax |c|, a_j += c_j,
    # r -= c_j D_j, on unit atoms; signed coefficients, atoms may repeat.
    atoms = f32(12, D_IN)
    atoms /= np.linalg.norm(atoms, axis=1, keepdims=True)
    x = f32(N, D_IN)
    k = 5
    a = np.zeros((N, atoms.shape[0]), dtype=np.float64)
    r = x.astype(np.float64).copy()
    for _ in range(k):
        c = r @ atoms.T.astype(np.float64)
        j = np.argmax(np.abs(c), axis=1)
        cj = c[np.arange(N), j]
        a[np.arange(N), j] += cj
        r -= cj[:, None] * atoms[j].astype(np.float64)
    d = os.path.join(out, "itda")
    os.makedirs(d, exist_ok=True)
    origins = np.stack([np.arange(12), np.arange(12) % 5, 100 + np.arange(12)], axis=1).astype(np.int64)
    save(os.path.join(d, "itda.safetensors"), {"atoms": atoms, "origins": origins})
    with open(os.path.join(d, "cfg.json"), "w") as fh:
        json.dump({"architecture": "itda", "version": 1, "d_model": D_IN, "n_atoms": 12, "k": k,
                   "loss_threshold": 0.1, "hook_name": "blocks.0.hook_resid_post", "model_name": "tiny"}, fh)
    expect(out, "itda", x, a, a @ atoms)


def saelens_crosscoder(out):
    # SAELens PR #475, CrosscoderSAE (dictionaries_interp.md A6): x [..., n, d_in],
    # sae_in = x - b_dec (apply_b_dec_to_input), f = ReLU(einsum(sae_in, W_enc [n, d_in, d_sae])
    # + b_enc), x_hat_l = f W_dec[:, l, :] + b_dec[l]. Three hooks of the tiny GPT-2 shape.
    d = os.path.join(out, "saelens_crosscoder")
    os.makedirs(d, exist_ok=True)
    hooks = ["blocks.0.hook_resid_pre", "blocks.0.hook_resid_post", "blocks.1.hook_resid_post"]
    n = len(hooks)
    W = {"W_enc": f32(n, D_IN, F, scale=0.5), "b_enc": f32(F, scale=0.1), "W_dec": f32(F, n, D_IN, scale=0.4),
         "b_dec": f32(n, D_IN, scale=0.1)}
    cfg = {"d_in": D_IN, "d_sae": F, "architecture": "standard", "hook_names": hooks,
           "apply_b_dec_to_input": True, "normalize_activations": "none", "dtype": "float32", "device": "cpu",
           "reshape_activations": "none",
           "metadata": {"sae_lens_version": "6.0.0", "model_name": "tiny", "prepend_bos": True}}
    with open(os.path.join(d, "cfg.json"), "w") as fh:
        json.dump(cfg, fh, indent=1)
    save(os.path.join(d, "sae_weights.safetensors"), W)
    x = f32(N, n, D_IN)
    f = np.maximum(np.einsum("bld,ldf->bf", x - W["b_dec"], W["W_enc"]) + W["b_enc"], 0)
    y = np.einsum("bf,fld->bld", f, W["W_dec"]) + W["b_dec"]
    expect(out, "saelens_crosscoder", x, f, y)


def main(out):
    os.makedirs(out, exist_ok=True)
    saelens_skip_transcoder(out)
    gemma_scope_2_transcoder(out)
    circuit_tracer_transcoders(out)
    circuit_tracer_clt(out)
    matching_pursuit(out)
    saelens_crosscoder(out)


if __name__ == "__main__":
    main(sys.argv[1])
