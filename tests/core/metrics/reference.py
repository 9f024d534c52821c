"""Each metric of docs/metrics.md computed from its cited definition with numpy, for tst_metrics.

Reads float64 arrays written by the test (raw little-endian, shapes in meta.json) and prints one
JSON object of metric values. Written from the definitions, not from our C++ code:
- SAELens evals.py (newer ExplainedVarianceCalculator): EV = 1 - E||x - x_hat||^2 / (E||x||^2 - ||E x||^2)
- L0 = mean #{f != 0}; MSE = mean ||x - x_hat||^2; cosine = mean cos(x, x_hat)
- CE = mean next-token NLL; KL(P_clean || P_patched); ce_loss_score; kl_div_score
- Matching Score: sum(a & b) / sum(a) over counted tokens; FVE = 1 - ||v - v_hat||^2 / ||v||^2
"""
import json
import os
import sys

import numpy as np

d = sys.argv[1]
meta = json.load(open(os.path.join(d, "meta.json")))


def load(name):
    return np.fromfile(os.path.join(d, name + ".bin"), dtype="<f8").reshape(meta[name])


x, xh, f = load("x"), load("xhat"), load("code")
ids = load("ids").astype(np.int64)
special = set(meta["special"])
counted = ~np.isin(ids, list(special))  # [B, T]

xm, xhm, fm = x[counted], xh[counted], f[counted]
out = {}
out["tokens"] = int(counted.sum())
out["l0"] = float((fm != 0).sum(-1).mean())
out["mse"] = float(((xm - xhm) ** 2).sum(-1).mean())
total = float((xm ** 2).sum(-1).mean() - (xm.mean(0) ** 2).sum())
out["explained_variance"] = 1.0 - out["mse"] / total
num = (xm * xhm).sum(-1)
den = np.maximum(np.linalg.norm(xm, axis=-1) * np.linalg.norm(xhm, axis=-1), 1e-12)
out["cosine"] = float((num / den).mean())
out["density"] = ((fm != 0).sum(0) / counted.sum()).tolist()


def log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def next_token(logits):
    lp = log_softmax(logits[:, :-1])
    nll = -np.take_along_axis(lp, ids[:, 1:, None], -1)[..., 0]
    return nll, lp


pred = counted[:, :-1]  # position t predicts t + 1; counted when token t is
clean_nll, clean_lp = next_token(load("logits_clean"))
sae_nll, sae_lp = next_token(load("logits_sae"))
zero_nll, zero_lp = next_token(load("logits_zero"))
ce = {k: float(v[pred].mean()) for k, v in (("clean", clean_nll), ("sae", sae_nll), ("zero", zero_nll))}


def kl(lp):
    return float((np.exp(clean_lp) * (clean_lp - lp)).sum(-1)[pred].mean())


out["predictions"] = int(pred.sum())
out["ce_clean"], out["ce_with_sae"], out["ce_zero_ablation"] = ce["clean"], ce["sae"], ce["zero"]
out["ce_loss_recovered"] = (ce["zero"] - ce["sae"]) / (ce["zero"] - ce["clean"])
out["kl_with_sae"] = kl(sae_lp)
out["kl_div_score"] = (kl(zero_lp) - kl(sae_lp)) / kl(zero_lp)

a, b = load("active_a") > 0, load("active_b") > 0
out["matching_score"] = float((a[counted] & b[counted]).sum() / a[counted].sum())

v, vh = load("v"), load("vhat")
out["fve"] = float(1 - ((v - vh) ** 2).sum() / (v ** 2).sum())
out["vector_cosine"] = float((v * vh).sum() / (np.linalg.norm(v) * np.linalg.norm(vh)))
print(json.dumps(out))
