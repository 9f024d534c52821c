#include "core/model/synthetic_model.h"

#include "core/io/torch_tensor.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace fscope::core::model {

Status writeRandomGpt2(const std::string &dir, const Gpt2Shape &s, uint64_t seed,
    const std::map<std::string, at::Tensor> &overrides)
{
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        return fileError(dir, "cannot create the model directory: " + ec.message());
    const nlohmann::json config = { { "model_type", "gpt2" },
        { "architectures", { "GPT2LMHeadModel" } }, { "vocab_size", s.vocab },
        { "n_positions", s.positions }, { "n_embd", s.hidden }, { "n_layer", s.layers },
        { "n_head", s.heads }, { "n_inner", nullptr }, { "activation_function", "gelu_new" },
        { "layer_norm_epsilon", 1e-5 }, { "bos_token_id", s.bos }, { "eos_token_id", s.bos },
        { "tie_word_embeddings", true } };
    {
        std::ofstream out(std::filesystem::path(dir) / "config.json");
        out << config.dump(2) << '\n';
        if (!out)
            return fileError(dir + "/config.json", "cannot write");
    }
    at::manual_seed(seed);
    const int64_t d = s.hidden;
    auto rand = [](std::initializer_list<int64_t> shape) { return at::randn(shape) * 0.02; };
    io::NamedTensors tensors;
    auto add = [&](const std::string &name, at::Tensor t) {
        const auto it = overrides.find(name);
        tensors.emplace_back(
            name, (it != overrides.end() ? it->second : t).to(at::kFloat).contiguous());
    };
    add("wte.weight", rand({ s.vocab, d }));
    add("wpe.weight", rand({ s.positions, d }) * 0.5);
    for (int64_t l = 0; l < s.layers; ++l) {
        const std::string p = "h." + std::to_string(l) + ".";
        add(p + "ln_1.weight", at::ones({ d }));
        add(p + "ln_1.bias", at::zeros({ d }));
        add(p + "attn.c_attn.weight", rand({ d, 3 * d }));
        add(p + "attn.c_attn.bias", at::zeros({ 3 * d }));
        add(p + "attn.c_proj.weight", rand({ d, d }));
        add(p + "attn.c_proj.bias", at::zeros({ d }));
        add(p + "ln_2.weight", at::ones({ d }));
        add(p + "ln_2.bias", at::zeros({ d }));
        add(p + "mlp.c_fc.weight", rand({ d, 4 * d }));
        add(p + "mlp.c_fc.bias", at::zeros({ 4 * d }));
        add(p + "mlp.c_proj.weight", rand({ 4 * d, d }));
        add(p + "mlp.c_proj.bias", at::zeros({ d }));
    }
    add("ln_f.weight", at::ones({ d }));
    add("ln_f.bias", at::zeros({ d }));
    return io::writeSafetensors(
        (std::filesystem::path(dir) / "model.safetensors").string(), tensors, {});
}

} // namespace fscope::core::model
