#!/usr/bin/python3
"""Forward throughput of featurescope-cli against eager PyTorch on the same random model.

Writes a GPT-2-small-shaped model (12 layers, d_model 768, random weights) in Hugging Face
format, times the eager python3-torch forward (the reference of
tests/generators/make_model_fixtures.py, which follows HF's modeling_gpt2.py) and
`featurescope-cli bench forward` on it, and prints the ratio (ours / PyTorch; >= 1 is faster).

Usage: /usr/bin/python3 scripts/bench_forward.py [path/to/featurescope-cli] [--batch 8] [--seq 128]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "generators"))
import make_model_fixtures as ref  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cli", nargs="?", default="build/default/app/featurescope-cli")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--iters", type=int, default=3)
    a = parser.parse_args()
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    d, layers, vocab, f = 768, 12, 50257, 3072
    cfg = {"model_type": "gpt2", "vocab_size": vocab, "n_positions": 1024, "n_embd": d, "n_layer": layers,
           "n_head": 12, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5}
    W = {"wte.weight": torch.randn(vocab, d) * 0.02, "wpe.weight": torch.randn(1024, d) * 0.01,
         "ln_f.weight": torch.ones(d), "ln_f.bias": torch.zeros(d)}
    for L in range(layers):
        p = f"h.{L}."
        W.update({p + "ln_1.weight": torch.ones(d), p + "ln_1.bias": torch.zeros(d),
                  p + "attn.c_attn.weight": torch.randn(d, 3 * d) * 0.02, p + "attn.c_attn.bias": torch.zeros(3 * d),
                  p + "attn.c_proj.weight": torch.randn(d, d) * 0.02, p + "attn.c_proj.bias": torch.zeros(d),
                  p + "ln_2.weight": torch.ones(d), p + "ln_2.bias": torch.zeros(d),
                  p + "mlp.c_fc.weight": torch.randn(d, f) * 0.02, p + "mlp.c_fc.bias": torch.zeros(f),
                  p + "mlp.c_proj.weight": torch.randn(f, d) * 0.02, p + "mlp.c_proj.bias": torch.zeros(d)})
    ids = torch.randint(vocab, (a.batch, a.seq))
    with torch.no_grad():
        ref.gpt2_forward(cfg, W, ids, {})  # warm-up
        best = 1e30
        for _ in range(a.iters):
            t0 = time.perf_counter()
            ref.gpt2_forward(cfg, W, ids, {}).sum().item()
            best = min(best, time.perf_counter() - t0)
    torch_tps = a.batch * a.seq / best
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config.json"), "w") as fh:
            json.dump(cfg, fh)
        ref.save_safetensors(os.path.join(tmp, "model.safetensors"), W)
        out = subprocess.run([a.cli, "bench", "forward", "--model", tmp, "--batch", str(a.batch), "--seq", str(a.seq),
                              "--iters", str(a.iters), "--device", "cpu", "--dtype", "f32", "--json"],
                             check=True, capture_output=True, text=True).stdout
    ours = json.loads(out)
    print(f"GPT-2-small shape, batch {a.batch} x seq {a.seq}, {os.cpu_count()} threads, float32 CPU")
    print(f"  eager PyTorch {torch.__version__}: {torch_tps:9.0f} tokens/s  (baseline 1.00x)")
    print(f"  featurescope-cli:        {ours['tokens_per_second']:9.0f} tokens/s  "
          f"({ours['tokens_per_second'] / torch_tps:.2f}x), peak RSS {ours['peak_rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
