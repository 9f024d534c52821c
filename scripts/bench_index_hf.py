#!/usr/bin/env python3
"""Indexing speed side by side with transformers, on one GPU, in one run.

Builds a random model of a real checkpoint's shape (default: Gemma 2 2B) in transformers, times
transformers' forward to the SAE's layer plus a JumpReLU encode and nonzero (the least any
indexer must do), saves the model as safetensors, then runs

    featurescope-cli bench index --model DIR --dtype bf16 --features F --layer L --json

on the same shapes and prints both rates and their ratio. With --sae-count N it also times
transformers' full forward and runs the CLI with N SAEs on N layers in one pass.

transformers is only the yardstick here; Featurescope does not need Python.

Usage: scripts/bench_index_hf.py [--cli build/headless/app/featurescope-cli] [--tokens 100k]
       [--layer 12] [--features 16384] [--sae-count 26] [--batch 8] [--context 128]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def parse_tokens(text):
    text = text.lower()
    scale = 1
    if text.endswith("k"):
        scale, text = 1000, text[:-1]
    elif text.endswith("m"):
        scale, text = 1000000, text[:-1]
    return int(float(text) * scale)


def gemma2_2b_config(transformers):
    return transformers.Gemma2Config(
        vocab_size=256000, hidden_size=2304, intermediate_size=9216, num_hidden_layers=26,
        num_attention_heads=8, num_key_value_heads=4, head_dim=256, max_position_embeddings=8192,
        sliding_window=4096, query_pre_attn_scalar=256, attn_logit_softcapping=50.0,
        final_logit_softcapping=30.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="build/headless/app/featurescope-cli")
    ap.add_argument("--tokens", default="100k")
    ap.add_argument("--layer", type=int, default=12)
    ap.add_argument("--features", type=int, default=16384)
    ap.add_argument("--sae-count", type=int, default=0,
                    help="also index this many SAEs (one per layer) in one pass")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--keep", help="save the model here (default: a temporary folder)")
    args = ap.parse_args()

    import torch
    import transformers

    torch.manual_seed(0)
    device = "cuda"
    tokens = parse_tokens(args.tokens)
    B, T = args.batch, args.context
    batches = max(1, tokens // (B * T))

    cfg = gemma2_2b_config(transformers)
    model = transformers.AutoModelForCausalLM.from_config(cfg).to(torch.bfloat16).to(device)
    model.eval()
    d = cfg.hidden_size
    F = args.features
    W_enc = (torch.randn(d, F, device=device) / d ** 0.5).to(torch.bfloat16)
    b_enc = torch.zeros(F, device=device, dtype=torch.bfloat16)
    ids = torch.randint(1, cfg.vocab_size, (batches, B, T), device=device)
    ids[:, :, 0] = cfg.bos_token_id or 2

    def hidden_at(layer, x):
        # Forward through the first layer + 1 decoder layers only: resid_post of `layer`.
        out = model.model(input_ids=x, output_hidden_states=True)
        return out.hidden_states[layer + 1]

    layers = model.model.layers
    with torch.no_grad():
        h = hidden_at(args.layer, ids[0])
        thr = torch.quantile((h.reshape(-1, d) @ W_enc).float()[:1024], 0.997, dim=0)
        thr = thr.clamp_min(1e-3).to(torch.bfloat16)

        def encode_nonzero(h):
            pre = h.reshape(-1, d) @ W_enc + b_enc
            f = pre * (pre > thr)
            return torch.nonzero(f)

        # Forward to the layer: the later layers removed for the measurement.
        model.model.layers = layers[: args.layer + 1]
        for warm in range(2):
            encode_nonzero(hidden_at(args.layer, ids[warm % batches]))
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for b in range(batches):
            encode_nonzero(hidden_at(args.layer, ids[b]))
        torch.cuda.synchronize()
        hf_layer = batches * B * T / (time.perf_counter() - t0)
        model.model.layers = layers

        hf_full = None
        if args.sae_count:
            for warm in range(2):
                model(input_ids=ids[warm % batches])
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for b in range(batches):
                model(input_ids=ids[b])
            torch.cuda.synchronize()
            hf_full = batches * B * T / (time.perf_counter() - t0)

    folder = args.keep or tempfile.mkdtemp(prefix="fs-bench-hf-")
    model.save_pretrained(folder, safe_serialization=True)
    del model
    torch.cuda.empty_cache()

    def run_cli(extra):
        cmd = [args.cli, "bench", "index", "--model", folder, "--dtype", "bf16", "--features",
               str(F), "--tokens", str(batches * B * T), "--batch-size", str(B), "--context",
               str(T), "--device", "cuda", "--json"] + extra
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    one = run_cli(["--layer", str(args.layer)])
    print(f"transformers forward to layer {args.layer} + encode + nonzero: {hf_layer:,.0f} tokens/s")
    print(f"featurescope forward + encode only:        {one['forward_encode_tokens_per_second']:,.0f} tokens/s")
    print(f"featurescope full index pass:              {one['tokens_per_second']:,.0f} tokens/s "
          f"(peak device {one['peak_device_mib']} MiB)")
    print(f"ratio full index / transformers: {one['tokens_per_second'] / hf_layer:.3f}")
    result = {"transformers_layer_tokens_per_second": hf_layer, "one_sae": one,
              "ratio_one": one["tokens_per_second"] / hf_layer}
    if args.sae_count:
        many = run_cli(["--sae-count", str(args.sae_count)])
        print(f"transformers full forward: {hf_full:,.0f} tokens/s")
        print(f"featurescope {args.sae_count} SAEs in one pass: {many['tokens_per_second']:,.0f} "
              f"tokens/s (peak device {many['peak_device_mib']} MiB)")
        print(f"ratio {args.sae_count}-SAE index / transformers full forward: "
              f"{many['tokens_per_second'] / hf_full:.3f}")
        result.update({"transformers_full_tokens_per_second": hf_full, "many_saes": many,
                       "ratio_many": many["tokens_per_second"] / hf_full})
    print(json.dumps(result))
    if not args.keep:
        subprocess.run(["rm", "-rf", folder])


if __name__ == "__main__":
    sys.exit(main())
