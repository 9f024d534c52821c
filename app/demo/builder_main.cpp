// featurescope-demo-builder: builds the embedded demo's model from Debian text, reproducibly.
//   text       fortunes + Jargon File paragraphs -> train.txt, heldout.txt, index.txt
//   lm         trains the tiny Llama on train.txt, reports held-out perplexity, saves fp16
// The tokenizer comes from featurescope-demo-tokenizer (a separate program: SentencePiece and
// LibTorch each bring a protobuf, and the two cannot live in one process). scripts/build-demo
// runs them all, then trains and converts the SAEs with featurescope-cli.

#include "app/cli/options.h"
#include "app/demo/demo_text.h"
#include "app/demo/tiny_llama.h"

#include "core/corpus/corpus.h"
#include "core/model/decoder.h"
#include "core/tokenize/tokenizer.h"
#include "core/train/adam.h"
#include "core/util/runtime.h"

#include <ATen/core/grad_mode.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

using fscope::cli::Options;
namespace fs = std::filesystem;

namespace {

int fail(const std::string &message)
{
    std::fprintf(stderr, "error: %s\n", message.c_str());
    return 1;
}

int text(const Options &o)
{
    auto fortunes = fscope::demo::readFortunes(
        o.value("fortunes"), { "ascii-art", "art", "translate-me", "knghtbrd" });
    if (!fortunes)
        return fail(fortunes.errorMessage());
    auto jargon = fscope::demo::readParagraphs(o.value("jargon"), 8);
    if (!jargon)
        return fail(jargon.errorMessage());
    std::vector<std::string> docs = std::move(*fortunes);
    const size_t nFortunes = docs.size();
    docs.insert(docs.end(), jargon->begin(), jargon->end());
    const auto split
        = fscope::demo::splitDocuments(docs, uint64_t(o.integer("seed", 1)), 0.04, 0.08);
    const std::string out = o.value("out");
    fs::create_directories(out);
    size_t bytes = 0;
    for (const auto &d : docs)
        bytes += d.size() + 1;
    for (const auto &[name, lines] : { std::pair { "train.txt", &split.train },
             { "heldout.txt", &split.heldout }, { "index.txt", &split.index } })
        if (auto s = fscope::demo::writeLines(out + "/" + name, *lines); !s)
            return fail(s.errorMessage());
    std::printf("%zu fortunes + %zu Jargon File paragraphs, %.2f MB: %zu train, %zu held out, %zu "
                "for indexing\n",
        nFortunes, jargon->size(), double(bytes) / 1e6, split.train.size(), split.heldout.size(),
        split.index.size());
    return 0;
}

// Every document as <s> + its tokens, concatenated.
std::vector<int64_t> tokenStream(
    const fscope::core::tokenize::Tokenizer &tok, const std::vector<std::string> &docs, int64_t bos)
{
    std::vector<int64_t> ids;
    for (const auto &d : docs) {
        ids.push_back(bos);
        const auto e = tok.encode(d);
        ids.insert(ids.end(), e.ids.begin(), e.ids.end());
    }
    return ids;
}

at::Tensor windows(
    const std::vector<int64_t> &stream, const std::vector<int64_t> &starts, int64_t T)
{
    at::Tensor ids = at::empty({ int64_t(starts.size()), T }, at::kLong);
    auto *p = ids.data_ptr<int64_t>();
    for (size_t i = 0; i < starts.size(); ++i)
        std::copy_n(stream.begin() + starts[i], T, p + int64_t(i) * T);
    return ids;
}

// Held-out cross-entropy of the saved model through Featurescope's own decoder: the same
// numbers a user of the demo gets, and a check that the saved format is read as trained.
double decoderLoss(const std::string &dir, const at::Tensor &ids)
{
    auto d = fscope::core::model::Decoder::load(dir, { "cpu", "f32" });
    if (!d)
        throw std::runtime_error(d.errorMessage());
    at::NoGradGuard g;
    fscope::core::model::ForwardOptions fo;
    double sum = 0;
    int64_t n = 0;
    for (int64_t b = 0; b < ids.size(0); b += 16) {
        const at::Tensor batch = ids.narrow(0, b, std::min<int64_t>(16, ids.size(0) - b));
        const at::Tensor logits = (*d)->forward({ batch }, fo).value().logits;
        const int64_t T = batch.size(1);
        sum += at::cross_entropy_loss(logits.narrow(1, 0, T - 1).reshape({ -1, logits.size(-1) }),
            batch.narrow(1, 1, T - 1).reshape({ -1 }), {}, at::Reduction::Sum)
                   .item<double>();
        n += batch.size(0) * (T - 1);
    }
    return sum / double(n);
}

int lm(const Options &o)
{
    using Clock = std::chrono::steady_clock;
    const std::string out = o.value("out");
    auto tok = fscope::core::tokenize::loadTokenizer(out);
    if (!tok)
        return fail(tok.errorMessage());
    auto train = fscope::demo::readLines(o.value("train"));
    auto held = fscope::demo::readLines(o.value("heldout"));
    if (!train || !held)
        return fail(!train ? train.errorMessage() : held.errorMessage());
    fscope::demo::TinyLlamaShape shape;
    shape.vocab = (*tok)->vocabSize();
    shape.hidden = o.integer("hidden", 128);
    shape.layers = o.integer("layers", 4);
    shape.heads = o.integer("heads", 4);
    shape.intermediate = o.integer("intermediate", 3 * shape.hidden);
    const int64_t T = o.integer("context", 128), B = o.integer("batch", 32),
                  steps = o.integer("steps", 3000);
    const int64_t warmup = std::min<int64_t>(200, steps / 10);
    const double lr = o.number("lr", 3e-3);
    const uint64_t seed = uint64_t(o.integer("seed", 1));
    const at::Device device(o.value("device", "cpu"));

    const auto trainIds = tokenStream(**tok, *train, shape.bos),
               heldIds = tokenStream(**tok, *held, shape.bos);
    std::printf("%zu training tokens, %zu held-out tokens, vocabulary %lld\n", trainIds.size(),
        heldIds.size(), (long long)shape.vocab);
    // Held-out windows: consecutive, non-overlapping, at most 256 of them.
    std::vector<int64_t> heldStarts;
    for (int64_t s = 0; s + T <= int64_t(heldIds.size()) && heldStarts.size() < 256; s += T)
        heldStarts.push_back(s);
    const at::Tensor heldBatch = windows(heldIds, heldStarts, T);

    fscope::demo::TinyLlama model(shape, seed, device);
    std::vector<at::Tensor> params;
    for (const auto &[n, t] : model.parameters())
        params.push_back(t);
    fscope::core::train::Adam::Options ao;
    ao.beta2 = 0.95;
    ao.weightDecay = 0.1;
    fscope::core::train::Adam adam(params, ao, model.decays());
    auto heldLoss = [&] {
        at::NoGradGuard g;
        double sum = 0;
        for (int64_t b = 0; b < heldBatch.size(0); b += 32) {
            const at::Tensor x
                = heldBatch.narrow(0, b, std::min<int64_t>(32, heldBatch.size(0) - b));
            sum += model.loss(x.to(device)).item<double>() * double(x.size(0));
        }
        return sum / double(heldBatch.size(0));
    };
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull;
    const auto t0 = Clock::now();
    const int64_t span = int64_t(trainIds.size()) - T;
    for (int64_t step = 1; step <= steps; ++step) {
        std::vector<int64_t> starts(static_cast<size_t>(B));
        for (auto &s : starts) {
            rng = fscope::core::corpus::mix64(rng);
            s = int64_t(rng % uint64_t(span));
        }
        const at::Tensor loss = model.loss(windows(trainIds, starts, T).to(device));
        loss.backward();
        fscope::core::train::clipGradNorm(params, 1.0);
        // Linear warm-up, then cosine decay to a tenth of the peak.
        const double progress = double(std::max<int64_t>(0, step - warmup))
            / double(std::max<int64_t>(1, steps - warmup));
        const double rate = step <= warmup ? lr * double(step) / double(warmup)
                                           : lr * (0.1 + 0.45 * (1 + std::cos(M_PI * progress)));
        adam.step(rate);
        if (step % 100 == 0 || step == steps) {
            const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
            std::printf("step %5lld  loss %.3f  %.0f tokens/s  %.0f s\n", (long long)step,
                loss.item<double>(), double(step * B * T) / secs, secs);
            std::fflush(stdout);
        }
        if (step % 1000 == 0 || step == steps)
            std::printf(
                "  held-out loss %.4f, perplexity %.2f\n", heldLoss(), std::exp(heldLoss()));
    }
    const double trainedLoss = heldLoss();
    if (auto s = model.save(out, at::kHalf); !s)
        return fail(s.errorMessage());
    const double loaded = decoderLoss(out, heldBatch);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const nlohmann::json report = { { "steps", steps }, { "batch", B }, { "context", T },
        { "tokens_seen", steps * B * T }, { "train_tokens", trainIds.size() },
        { "heldout_tokens", heldStarts.size() * size_t(T) },
        { "heldout_loss_trainer_f32", trainedLoss }, { "heldout_loss_saved_f16", loaded },
        { "heldout_perplexity", std::exp(loaded) }, { "seconds", secs }, { "device", device.str() },
        { "seed", seed }, { "hidden", shape.hidden }, { "layers", shape.layers } };
    std::ofstream(out + "/training.json") << report.dump(2) << '\n';
    std::printf("held-out perplexity %.2f (trainer, f32: %.2f); %.0f s; saved to %s\n",
        std::exp(loaded), std::exp(trainedLoss), secs, out.c_str());
    if (std::abs(loaded - trainedLoss) > 0.05)
        return fail("the saved model's loss through the decoder differs from the trainer's by more "
                    "than 0.05 nats");
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    fscope::core::ensureBlasKernels(argv);
    fscope::core::initComputeRuntime();
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::fprintf(stderr,
            "usage: featurescope-demo-builder text|tokenizer|lm [options]  (see "
            "scripts/build-demo)\n");
        return 2;
    }
    const Options o(std::vector<std::string>(args.begin() + 1, args.end()),
        { "fortunes", "jargon", "out", "seed", "text", "vocab", "train", "heldout", "hidden",
            "layers", "heads", "intermediate", "context", "batch", "steps", "lr", "device" },
        {});
    if (!o.ok())
        return fail(o.error());
    try {
        if (args[0] == "text")
            return text(o);
        if (args[0] == "lm")
            return lm(o);
    } catch (const std::exception &e) {
        return fail(e.what());
    }
    return fail("unknown command '" + args[0] + "'");
}
