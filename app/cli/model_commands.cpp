// featurescope-cli run / tokenize / generate: the model runtime from the command line.

#include "app/cli/commands.h"
#include "app/cli/options.h"

#include "core/jobs/terminal_progress.h"
#include "core/model/decoder.h"
#include "core/model/generation.h"
#include "core/model/model_locator.h"
#include "core/tokenize/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <sstream>

namespace fscope::cli {

namespace {

using nlohmann::json;

std::vector<int64_t> parseIds(const std::string &text)
{
    std::vector<int64_t> ids;
    std::stringstream s(text);
    std::string item;
    while (std::getline(s, item, ','))
        if (!item.empty())
            ids.push_back(std::stoll(item));
    return ids;
}

// BOS choice: --bos / --no-bos, else the tokenizer's default.
std::optional<bool> bosChoice(const Options &o)
{
    if (o.has("bos"))
        return true;
    if (o.has("no-bos"))
        return false;
    return std::nullopt;
}

std::string printable(const std::string &bytes)
{
    std::string out;
    for (unsigned char c : core::tokenize::sanitizeUtf8(bytes)) {
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else
            out += static_cast<char>(c);
    }
    return out;
}

// --model resolved (directory or HF cache) and loaded with --device / --dtype.
core::Result<std::pair<std::string, std::unique_ptr<core::model::Decoder>>> loadModel(
    const Options &o)
{
    auto path = core::model::resolveModelPath(o.value("model"));
    if (!path)
        return path.error();
    auto decoder = core::model::Decoder::load(
        *path, { o.value("device", "auto"), o.value("dtype", "auto") });
    if (!decoder)
        return decoder.error();
    return std::make_pair(*path, std::move(decoder).value());
}

} // namespace

int runTokenize(const Args &args)
{
    const Options o(args, { "model" }, { "json", "bos", "no-bos" });
    if (!o.ok() || !o.has("model") || o.positional().size() != 1)
        return fail(o.ok() ? "usage: featurescope-cli tokenize --model M [--json] [--bos] TEXT"
                           : o.error());
    // A directory with only tokenizer files is enough here.
    auto path = std::filesystem::is_directory(o.value("model"))
        ? core::Result<std::string>(o.value("model"))
        : core::model::resolveModelPath(o.value("model"));
    if (!path)
        return fail(path.errorMessage());
    auto tokenizer = core::tokenize::loadTokenizer(*path);
    if (!tokenizer)
        return fail(tokenizer.errorMessage());
    const std::string &text = o.positional()[0];
    // Without --bos the stable JSON interface adds none.
    const auto e = (*tokenizer)->encodeForModel(text, o.has("bos"));
    if (o.has("json")) {
        json spans = json::array();
        for (const auto &[b, end] : e.spans)
            spans.push_back({ b, end });
        std::printf("%s\n", json { { "ids", e.ids }, { "spans", spans } }.dump().c_str());
        return 0;
    }
    for (size_t i = 0; i < e.ids.size(); ++i)
        std::printf("%6zu  %8lld  [%zu, %zu)  %s\n", i, static_cast<long long>(e.ids[i]),
            e.spans[i].first, e.spans[i].second,
            printable((*tokenizer)->tokenBytes(e.ids[i])).c_str());
    return 0;
}

int runRun(const Args &args)
{
    const Options o(
        args, { "model", "prompt", "ids", "top", "device", "dtype" }, { "json", "bos", "no-bos" });
    if (!o.ok() || !o.has("model") || (o.has("prompt") == o.has("ids")))
        return fail(o.ok()
                ? "usage: featurescope-cli run --model M (--prompt TEXT | --ids 1,2,3) [--json]"
                : o.error());
    auto loaded = loadModel(o);
    if (!loaded)
        return fail(loaded.errorMessage());
    const std::string &path = loaded->first;
    const core::model::Decoder &decoder = *loaded->second;
    std::unique_ptr<core::tokenize::Tokenizer> tokenizer;
    if (auto t = core::tokenize::loadTokenizer(path))
        tokenizer = std::move(t).value();
    std::vector<int64_t> ids;
    if (o.has("ids")) {
        ids = parseIds(o.value("ids")); // exactly as given: no BOS added
    } else {
        if (!tokenizer)
            return fail(path + ": no tokenizer to encode --prompt (use --ids)");
        ids = tokenizer->encodeForModel(o.value("prompt"), bosChoice(o)).ids;
    }
    if (ids.empty())
        return fail("no tokens to run");
    auto result = decoder.forward({ at::tensor(ids).unsqueeze(0) });
    if (!result)
        return fail(result.errorMessage());
    const at::Tensor last = result->logits[0][-1].contiguous().to(at::kCPU);
    if (o.has("json")) {
        const float *p = last.data_ptr<float>();
        std::printf("%s\n",
            json { { "ids", ids }, { "logits_last", std::vector<float>(p, p + last.numel()) } }
                .dump()
                .c_str());
        return 0;
    }
    std::printf("model %s (%s, %lld layers, d_model %lld) on %s\n", path.c_str(),
        decoder.config().familyName().c_str(), static_cast<long long>(decoder.config().layers),
        static_cast<long long>(decoder.config().hidden), decoder.device().str().c_str());
    std::printf("tokens:");
    for (int64_t id : ids)
        std::printf(" %lld%s", static_cast<long long>(id),
            tokenizer ? ("(" + printable(tokenizer->tokenBytes(id)) + ")").c_str() : "");
    std::printf("\n\nnext token     logit      prob\n");
    const at::Tensor probs = at::softmax(last, 0);
    auto [values, indices] = last.topk(std::min<int64_t>(o.integer("top", 10), last.numel()));
    for (int64_t i = 0; i < values.numel(); ++i) {
        const int64_t id = indices[i].item<int64_t>();
        std::printf("%-12s %8.4f  %8.4f\n",
            tokenizer ? printable(tokenizer->tokenBytes(id)).c_str() : std::to_string(id).c_str(),
            values[i].item<float>(), probs[id].item<float>());
    }
    return 0;
}

int runGenerate(const Args &args)
{
    const Options o(args,
        { "model", "prompt", "max-tokens", "temperature", "top-k", "top-p", "seed", "device",
            "dtype" },
        { "bos", "no-bos" });
    if (!o.ok() || !o.has("model") || !o.has("prompt"))
        return fail(o.ok()
                ? "usage: featurescope-cli generate --model M --prompt TEXT [--max-tokens N]"
                : o.error());
    auto loaded = loadModel(o);
    if (!loaded)
        return fail(loaded.errorMessage());
    const std::string &path = loaded->first;
    const core::model::Decoder &decoder = *loaded->second;
    auto tokenizer = core::tokenize::loadTokenizer(path);
    if (!tokenizer)
        return fail(tokenizer.errorMessage());
    core::model::GenerateOptions g;
    g.maxNewTokens = o.integer("max-tokens", 32);
    g.temperature = o.number("temperature", 0);
    g.topK = o.integer("top-k", 0);
    g.topP = o.number("top-p", 1.0);
    g.seed = static_cast<uint64_t>(o.integer("seed", 0));
    if (auto eos = (*tokenizer)->eosId())
        g.stopTokens.push_back(*eos);
    const auto prompt = (*tokenizer)->encodeForModel(o.value("prompt"), bosChoice(o));
    core::jobs::TerminalProgress progress("tokens");
    auto out = core::model::generate(decoder, { prompt.ids }, g, {}, &progress);
    progress.finish();
    if (!out)
        return fail(out.errorMessage());
    std::printf("%s%s\n", o.value("prompt").c_str(),
        core::tokenize::continuationText(**tokenizer, prompt.ids, out->tokens[0]).c_str());
    return 0;
}

} // namespace fscope::cli
