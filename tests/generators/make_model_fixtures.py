#!/usr/bin/python3
"""Tiny random models in exact Hugging Face format (config.json + safetensors) for the decoder
families, with golden outputs from an independent reference forward.

The reference below is written from Hugging Face transformers' eager modeling code
(modeling_gpt2.py, modeling_gemma2.py, modeling_gemma3.py, modeling_llama.py,
modeling_mistral.py, modeling_qwen2.py, modeling_qwen3.py and modeling_rope_utils.py), line for
line in plain python3-torch, because transformers itself is not installable on the build
machine. Gemma 3 also comes as a multimodal checkpoint (gemma3mm: model_type "gemma3", the
language model's keys under text_config, weights named language_model.model.*) with the same
weights and goldens. Goldens: logits of two sequences and a few hook
activations, float32, in golden.safetensors next to each model.

Run: /usr/bin/python3 tests/generators/make_model_fixtures.py tests/fixtures/models
"""
import json
import math
import os
import sys

import torch

from safetensors_writer import write_safetensors

torch.manual_seed(0)
VOCAB = 96


def save_safetensors(path, tensors, metadata=None):
    """torch tensors by name, laid out in name order."""
    dtypes = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}
    entries = []
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        entries.append((name, dtypes[t.dtype], t.shape, raw))
    write_safetensors(path, entries, metadata)


def rand(*shape, scale=0.2):
    return torch.randn(*shape) * scale


# ---------------------------------------------------------------- reference pieces (HF eager)
def layer_norm(x, w, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)


def gelu_new(x):  # activations.py NewGELUActivation
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def llama_rms(x, w, eps):  # LlamaRMSNorm
    dtype = x.dtype
    h = x.to(torch.float32)
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return w * h.to(dtype)


def gemma_rms(x, w, eps):  # Gemma2RMSNorm
    out = x.float()
    out = out * torch.rsqrt(out.pow(2).mean(-1, keepdim=True) + eps)
    out = out * (1.0 + w.float())
    return out.type_as(x)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def inv_freq(cfg, head_dim, base=None, scaling=True):
    base = cfg.get("rope_theta", 10000.0) if base is None else base
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    rs = cfg.get("rope_scaling") if scaling else None
    if rs and rs.get("rope_type") == "linear":  # _compute_linear_scaling_rope_parameters
        inv = inv / rs["factor"]
    if rs and rs.get("rope_type") == "llama3":  # _compute_llama3_parameters
        factor, lff, hff = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        low_wl, high_wl = old / lff, old / hff
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old / wavelen - lff) / (hff - lff)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
        inv = torch.where(medium, smoothed, inv_l)
    return inv


def causal_mask(T, sliding=None):
    i = torch.arange(T).view(T, 1)
    j = torch.arange(T).view(1, T)
    keep = j <= i
    if sliding:
        keep = keep & (j > i - sliding)
    mask = torch.zeros(T, T)
    mask[~keep] = torch.finfo(torch.float32).min
    return mask


def gpt2_forward(cfg, W, ids, hooks):
    d, H = cfg["n_embd"], cfg["n_head"]
    dh = d // H
    B, T = ids.shape
    x = W["wte.weight"][ids] + W["wpe.weight"][torch.arange(T)]
    for L in range(cfg["n_layer"]):
        p = f"h.{L}."
        hooks[f"blocks.{L}.hook_resid_pre"] = x
        a = layer_norm(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"], cfg["layer_norm_epsilon"])
        qkv = torch.addmm(W[p + "attn.c_attn.bias"], a.view(-1, d), W[p + "attn.c_attn.weight"]).view(B, T, 3 * d)
        q, k, v = qkv.split(d, dim=2)
        q, k, v = (t.view(B, T, H, dh).transpose(1, 2) for t in (q, k, v))
        s = torch.matmul(q, k.transpose(-1, -2)) / (dh ** 0.5)
        s = s + causal_mask(T)
        pattern = torch.softmax(s, dim=-1)
        z = torch.matmul(pattern, v).transpose(1, 2)
        hooks[f"blocks.{L}.attn.hook_z"] = z
        attn = torch.addmm(W[p + "attn.c_proj.bias"], z.reshape(-1, d), W[p + "attn.c_proj.weight"]).view(B, T, d)
        hooks[f"blocks.{L}.hook_attn_out"] = attn
        x = x + attn
        hooks[f"blocks.{L}.hook_resid_mid"] = x
        m = layer_norm(x, W[p + "ln_2.weight"], W[p + "ln_2.bias"], cfg["layer_norm_epsilon"])
        post = gelu_new(torch.addmm(W[p + "mlp.c_fc.bias"], m.view(-1, d), W[p + "mlp.c_fc.weight"]))
        out = torch.addmm(W[p + "mlp.c_proj.bias"], post, W[p + "mlp.c_proj.weight"]).view(B, T, d)
        hooks[f"blocks.{L}.hook_mlp_out"] = out
        x = x + out
        hooks[f"blocks.{L}.hook_resid_post"] = x
    x = layer_norm(x, W["ln_f.weight"], W["ln_f.bias"], cfg["layer_norm_epsilon"])
    return x @ W["wte.weight"].T


def llama_like_forward(cfg, W, ids, hooks, family):
    d, H, Hkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    dh = cfg.get("head_dim", d // H)
    eps = cfg["rms_norm_eps"]
    B, T = ids.shape
    gemma = family in ("gemma2", "gemma3")
    norm = gemma_rms if gemma else llama_rms
    qk_norm = family in ("gemma3", "qwen3")
    x = W["model.embed_tokens.weight"][ids]
    if gemma:
        x = x * torch.tensor(d ** 0.5, dtype=x.dtype)
    hooks["hook_embed"] = x
    pos = torch.arange(T).float()

    def cos_sin(inv):
        freqs = pos[:, None] * inv[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos()[None, None], emb.sin()[None, None]

    cos, sin = cos_sin(inv_freq(cfg, dh))
    # Gemma 3: the sliding layers' rotary embedding has its own base and no scaling.
    local_cos, local_sin = cos_sin(inv_freq(cfg, dh, cfg.get("rope_local_base_freq"), False)) \
        if family == "gemma3" else (cos, sin)
    scale = cfg["query_pre_attn_scalar"] ** -0.5 if gemma else dh ** -0.5

    def is_sliding(L):
        if family == "gemma2":
            return (L + 1) % 2 != 0
        if family == "gemma3":  # 5:1 local/global
            return (L + 1) % cfg["sliding_window_pattern"] != 0
        if family == "mistral":  # every layer when a window is set
            return cfg.get("sliding_window") is not None
        return False
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}."
        bias = lambda n: W.get(p + n + ".bias")
        hooks[f"blocks.{L}.hook_resid_pre"] = x
        a = norm(x, W[p + "input_layernorm.weight"], eps)
        q = torch.nn.functional.linear(a, W[p + "self_attn.q_proj.weight"], bias("self_attn.q_proj"))
        k = torch.nn.functional.linear(a, W[p + "self_attn.k_proj.weight"], bias("self_attn.k_proj"))
        v = torch.nn.functional.linear(a, W[p + "self_attn.v_proj.weight"], bias("self_attn.v_proj"))
        q = q.view(B, T, H, dh).transpose(1, 2)
        k = k.view(B, T, Hkv, dh).transpose(1, 2)
        v = v.view(B, T, Hkv, dh).transpose(1, 2)
        if qk_norm:  # Gemma3/Qwen3 attention: q_norm, k_norm over head_dim, before RoPE
            q = norm(q, W[p + "self_attn.q_norm.weight"], eps)
            k = norm(k, W[p + "self_attn.k_norm.weight"], eps)
        c_, s_ = (local_cos, local_sin) if is_sliding(L) else (cos, sin)
        q = q * c_ + rotate_half(q) * s_
        k = k * c_ + rotate_half(k) * s_
        n_rep = H // Hkv  # repeat_kv
        k = k[:, :, None].expand(B, Hkv, n_rep, T, dh).reshape(B, H, T, dh)
        v = v[:, :, None].expand(B, Hkv, n_rep, T, dh).reshape(B, H, T, dh)
        s = torch.matmul(q, k.transpose(2, 3)) * scale
        if gemma and cfg.get("attn_logit_softcapping"):
            c = cfg["attn_logit_softcapping"]
            s = torch.tanh(s / c) * c
        sliding = cfg["sliding_window"] if is_sliding(L) else None
        s = s + causal_mask(T, sliding)
        pattern = torch.softmax(s, dim=-1, dtype=torch.float32).to(q.dtype)
        z = torch.matmul(pattern, v).transpose(1, 2).contiguous()
        hooks[f"blocks.{L}.attn.hook_z"] = z
        attn = torch.nn.functional.linear(z.reshape(B, T, H * dh), W[p + "self_attn.o_proj.weight"], bias("self_attn.o_proj"))
        if gemma:
            attn = norm(attn, W[p + "post_attention_layernorm.weight"], eps)
        hooks[f"blocks.{L}.hook_attn_out"] = attn
        x = x + attn
        hooks[f"blocks.{L}.hook_resid_mid"] = x
        m = norm(x, W[p + ("pre_feedforward_layernorm.weight" if gemma else "post_attention_layernorm.weight")], eps)
        gate = torch.nn.functional.linear(m, W[p + "mlp.gate_proj.weight"])
        up = torch.nn.functional.linear(m, W[p + "mlp.up_proj.weight"])
        act = torch.nn.functional.gelu(gate, approximate="tanh") if gemma else torch.nn.functional.silu(gate)
        out = torch.nn.functional.linear(act * up, W[p + "mlp.down_proj.weight"])
        if gemma:
            out = norm(out, W[p + "post_feedforward_layernorm.weight"], eps)
        hooks[f"blocks.{L}.hook_mlp_out"] = out
        x = x + out
        hooks[f"blocks.{L}.hook_resid_post"] = x
    x = norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    logits = torch.nn.functional.linear(x, head).float()
    if gemma and cfg.get("final_logit_softcapping"):
        c = cfg["final_logit_softcapping"]
        logits = torch.tanh(logits / c) * c
    return logits


# ---------------------------------------------------------------- the four tiny models
def gpt2_model():
    cfg = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": VOCAB,
           "n_positions": 64, "n_embd": 32, "n_layer": 2, "n_head": 4, "n_inner": None,
           "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "bos_token_id": 95,
           "eos_token_id": 95, "scale_attn_weights": True, "tie_word_embeddings": True}
    d, f = 32, 128
    W = {"wte.weight": rand(VOCAB, d, scale=0.5), "wpe.weight": rand(64, d, scale=0.1),
         "ln_f.weight": 1 + rand(d), "ln_f.bias": rand(d)}
    for L in range(2):
        p = f"h.{L}."
        W.update({p + "ln_1.weight": 1 + rand(d), p + "ln_1.bias": rand(d),
                  p + "attn.c_attn.weight": rand(d, 3 * d), p + "attn.c_attn.bias": rand(3 * d),
                  p + "attn.c_proj.weight": rand(d, d), p + "attn.c_proj.bias": rand(d),
                  p + "ln_2.weight": 1 + rand(d), p + "ln_2.bias": rand(d),
                  p + "mlp.c_fc.weight": rand(d, f), p + "mlp.c_fc.bias": rand(f),
                  p + "mlp.c_proj.weight": rand(f, d), p + "mlp.c_proj.bias": rand(d)})
    return cfg, W


def llama_like(model_type, extra, d=32, H=4, Hkv=2, dh=8, f=64, layers=3, qkv_bias=False, gemma=False,
               qk_norm=False):
    cfg = {"model_type": model_type, "vocab_size": VOCAB, "hidden_size": d, "num_hidden_layers": layers,
           "num_attention_heads": H, "num_key_value_heads": Hkv, "head_dim": dh, "intermediate_size": f,
           "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
           "bos_token_id": 1, "eos_token_id": 2}
    cfg.update(extra)
    W = {"model.embed_tokens.weight": rand(VOCAB, d, scale=0.5), "model.norm.weight": rand(d) + (0 if gemma else 1)}
    for L in range(layers):
        p = f"model.layers.{L}."
        W.update({p + "input_layernorm.weight": rand(d) + (0 if gemma else 1),
                  p + "self_attn.q_proj.weight": rand(H * dh, d), p + "self_attn.k_proj.weight": rand(Hkv * dh, d),
                  p + "self_attn.v_proj.weight": rand(Hkv * dh, d), p + "self_attn.o_proj.weight": rand(d, H * dh),
                  p + "post_attention_layernorm.weight": rand(d) + (0 if gemma else 1),
                  p + "mlp.gate_proj.weight": rand(f, d), p + "mlp.up_proj.weight": rand(f, d),
                  p + "mlp.down_proj.weight": rand(d, f)})
        if qkv_bias:
            for n, width in (("q", H * dh), ("k", Hkv * dh), ("v", Hkv * dh)):
                W[p + f"self_attn.{n}_proj.bias"] = rand(width)
        if gemma:
            W[p + "pre_feedforward_layernorm.weight"] = rand(d)
            W[p + "post_feedforward_layernorm.weight"] = rand(d)
        if qk_norm:
            W[p + "self_attn.q_norm.weight"] = rand(dh) + (0 if gemma else 1)
            W[p + "self_attn.k_norm.weight"] = rand(dh) + (0 if gemma else 1)
    if not cfg.get("tie_word_embeddings", False):
        W["lm_head.weight"] = rand(VOCAB, d, scale=0.5)
    return cfg, W


def main(out):
    T = 12
    ids = torch.tensor([[5, 17, 3, 88, 42, 7, 7, 60, 1, 33, 90, 12],
                        [95, 0, 64, 20, 21, 22, 70, 11, 54, 2, 9, 80]])
    models = {
        "gpt2": gpt2_model(),
        # Gemma 2 with a sliding window shorter than the sequence, so the mask matters.
        "gemma2": llama_like("gemma2", {"architectures": ["Gemma2ForCausalLM"], "hidden_activation": "gelu_pytorch_tanh",
                                        "query_pre_attn_scalar": 16, "sliding_window": 4,
                                        "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0,
                                        "tie_word_embeddings": True}, gemma=True),
        "llama": llama_like("llama", {"architectures": ["LlamaForCausalLM"], "hidden_act": "silu",
                                      "tie_word_embeddings": False, "rope_theta": 500000.0,
                                      "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                       "high_freq_factor": 4.0, "original_max_position_embeddings": 16}}),
        "qwen2": llama_like("qwen2", {"architectures": ["Qwen2ForCausalLM"], "hidden_act": "silu",
                                      "tie_word_embeddings": True, "use_sliding_window": False, "rope_theta": 1000000.0},
                            qkv_bias=True),
        # Gemma 3: 6 layers so one is global (5:1), a window shorter than the sequence, the two
        # RoPE bases (the global one linearly scaled, as the 4B+ checkpoints are), QK-norm.
        "gemma3": llama_like("gemma3_text", {"architectures": ["Gemma3ForCausalLM"],
                                             "hidden_activation": "gelu_pytorch_tanh",
                                             "query_pre_attn_scalar": 16, "sliding_window": 4,
                                             "sliding_window_pattern": 6, "rope_theta": 1000000.0,
                                             "rope_local_base_freq": 10000.0,
                                             "rope_scaling": {"rope_type": "linear", "factor": 8.0},
                                             "final_logit_softcapping": None, "attn_logit_softcapping": None,
                                             "tie_word_embeddings": True},
                             layers=6, gemma=True, qk_norm=True),
        # Qwen 3: no q/k/v biases, QK-norm, and a head_dim independent of hidden / heads.
        "qwen3": llama_like("qwen3", {"architectures": ["Qwen3ForCausalLM"], "hidden_act": "silu",
                                      "tie_word_embeddings": True, "attention_bias": False,
                                      "use_sliding_window": False, "rope_theta": 1000000.0},
                            dh=16, qk_norm=True),
        # Mistral: Llama with a sliding window on every layer.
        "mistral": llama_like("mistral", {"architectures": ["MistralForCausalLM"], "hidden_act": "silu",
                                          "tie_word_embeddings": False, "sliding_window": 5,
                                          "rope_theta": 10000.0}),
    }
    for name, (cfg, W) in models.items():
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        if name == "llama":  # sharded, with an index, as large checkpoints are
            names = sorted(W)
            half = len(names) // 2
            shards = {"model-00001-of-00002.safetensors": names[:half], "model-00002-of-00002.safetensors": names[half:]}
            for shard, keys in shards.items():
                save_safetensors(os.path.join(d, shard), {k: W[k] for k in keys}, {"format": "pt"})
            with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
                json.dump({"metadata": {"total_size": sum(W[k].numel() * 4 for k in W)},
                           "weight_map": {k: s for s, ks in shards.items() for k in ks}}, f, indent=1)
        else:
            save_safetensors(os.path.join(d, "model.safetensors"), W, {"format": "pt"})
        hooks = {}
        with torch.no_grad():
            logits = gpt2_forward(cfg, W, ids, hooks) if name == "gpt2" else llama_like_forward(cfg, W, ids, hooks, name)
        golden = {"ids": ids, "logits": logits.float()}
        if name == "gemma3":  # the same language model as a multimodal checkpoint writes it
            mm = os.path.join(out, "gemma3mm")
            os.makedirs(mm, exist_ok=True)
            text = {k: v for k, v in cfg.items() if k not in ("architectures",)}
            with open(os.path.join(mm, "config.json"), "w") as f:
                json.dump({"model_type": "gemma3", "architectures": ["Gemma3ForConditionalGeneration"],
                           "text_config": text, "vision_config": {"model_type": "siglip_vision_model"},
                           "bos_token_id": 1, "eos_token_id": 2}, f, indent=2)
            save_safetensors(os.path.join(mm, "model.safetensors"),
                             {"language_model." + k: v for k, v in W.items()}, {"format": "pt"})
        for h in ("blocks.0.hook_resid_post", "blocks.1.hook_resid_pre", "blocks.1.attn.hook_z",
                  "blocks.1.hook_attn_out", "blocks.1.hook_resid_mid", "blocks.1.hook_mlp_out",
                  "blocks.1.hook_resid_post"):
            golden[h] = hooks[h].float()
        for where in [d] + ([os.path.join(out, "gemma3mm")] if name == "gemma3" else []):
            save_safetensors(os.path.join(where, "golden.safetensors"), golden,
                             {"reference": "make_model_fixtures.py (HF eager forward re-implemented in python3-torch)"})


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/models")
