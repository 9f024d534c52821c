#include "app/cli/commands.h"

#include <cstdio>

namespace fscope::cli {

void printUsage()
{
    std::printf(
        "featurescope-cli %s - sparse-autoencoder interpretability workbench, headless\n"
        "\n"
        "Usage: featurescope-cli COMMAND [OPTIONS]\n"
        "\n"
        "Commands:\n"
        "  inspect FILE|DIR       list the tensors of a .safetensors file, a sharded\n"
        "                         checkpoint (model.safetensors.index.json or its directory)\n"
        "                         or an .npz archive: name, dtype, shape, bytes\n"
        "  tokenize --model M [--json] [--bos] TEXT\n"
        "                         token ids and byte spans of TEXT; --json prints\n"
        "                         {\"ids\": [...], \"spans\": [[begin, end], ...]} (byte offsets\n"
        "                         into TEXT; no BOS unless --bos)\n"
        "  run --model M (--prompt TEXT | --ids 5,17,3) [--top N] [--json] [--bos|--no-bos]\n"
        "                         one forward: tokens and the top next-token logits; --json\n"
        "                         prints {\"ids\": [...], \"logits_last\": [...]} (all float32\n"
        "                         logits of the last position; --ids adds no BOS)\n"
        "  generate --model M --prompt TEXT [--max-tokens N] [--temperature T]\n"
        "           [--top-k K] [--top-p P] [--seed S]\n"
        "                         continue TEXT with the KV cache (greedy when T = 0)\n"
        "  sae info --sae PATH [--hook H] [--json]\n"
        "                         architecture, d_in, d_sae, hook_name, dtype of an SAE\n"
        "                         (SAELens folder, Gemma Scope params.npz, sparsify folder)\n"
        "  sae encode --sae PATH --input X.npy --json\n"
        "                         encode float32 [n, d_in] activations; prints\n"
        "                         {\"shape\": [n, d_sae], \"nonzero\": [[row, feature, value], ...]}\n"
        "  sae eval --model M --sae PATH --text FILE [--context 64] [--contexts N]\n"
        "                         L0, MSE, explained variance, cosine, CE loss recovered, KL,\n"
        "                         dead/dense fractions (special tokens excluded)\n"
        "  sae train --model M --text FILE --hook H --out DIR [--arch topk|jumprelu]\n"
        "            [--d-sae N] [--k K] [--steps N] [--batch N] [--lr X] [--l0-coeff X]\n"
        "                         train an SAE on the model's activations; saves SAELens\n"
        "  sae convert --sae PATH --out DIR [--hook H]\n"
        "                         write any supported SAE in SAELens format\n"
        "  bench io [--mb N]      time safetensors/npz reading against a plain read baseline\n"
        "  bench forward --model M [--batch B] [--seq T] [--iters N]\n"
        "                         forward throughput (tokens/s) and peak memory\n"
        "  bench sae [--d-in 2304] [--d-sae 16384] [--tokens 1024] [--k 64]\n"
        "                         SAE encode/decode throughput against the plain matmul\n"
        "\n"
        "Model options: --device auto|cuda|cpu, --dtype auto|bf16|f16|f32. M is a model\n"
        "directory (config.json + safetensors) or a hub id found in the Hugging Face cache\n"
        "(HF_HUB_CACHE, HF_HOME/hub or ~/.cache/huggingface/hub); nothing is downloaded.\n"
        "\n"
        "Options:\n"
        "  -h, --help             show this help\n"
        "  -V, --version          show the version\n"
        "\n"
        "Pickle checkpoints (.bin, .pt, .pth, .ckpt) are never loaded: convert them to\n"
        "safetensors.\n",
        FEATURESCOPE_VERSION);
}

} // namespace fscope::cli
