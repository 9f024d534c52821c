// featurescope-cli bench index: indexing throughput against the unavoidable math (the forward
// to the SAE's layer plus one SAE encode per batch) measured in the same process, and the peak
// memory of two corpus sizes (bounded memory means the larger corpus costs no more).

#include "app/cli/commands.h"
#include "app/cli/options.h"

#include "core/corpus/corpus.h"
#include "core/index/indexer.h"
#include "core/index/shard_merge.h"
#include "core/model/decoder.h"
#include "core/model/synthetic_model.h"
#include "core/store/database.h"
#include "core/util/device_memory.h"

#include <nlohmann/json.hpp>

#include <ATen/core/grad_mode.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fscope::cli {

namespace {

double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Peak resident set (VmHWM) in MiB; resetPeak() starts a new measurement (Linux clear_refs 5).
double peakMiB()
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0)
            return std::stod(line.substr(6)) / 1024.0;
    return 0;
}

void resetPeak()
{
    std::ofstream("/proc/self/clear_refs") << "5";
}

core::corpus::Corpus randomCorpus(int64_t tokens, int64_t T, int64_t vocab, int64_t bos)
{
    core::corpus::Corpus c;
    c.contextLength = T;
    c.fingerprint = "bench-random-" + std::to_string(tokens) + "-" + std::to_string(T);
    const int64_t contexts = std::max<int64_t>(1, tokens / T);
    uint64_t state = 1;
    for (int64_t i = 0; i < contexts * T; ++i) {
        state = core::corpus::mix64(state);
        c.ids.push_back(i % T == 0 ? static_cast<int32_t>(bos)
                                   : static_cast<int32_t>(state % static_cast<uint64_t>(vocab)));
    }
    return c;
}

} // namespace

int benchIndex(const Args &args)
{
    const Options o(args,
        { "model", "tokens", "rss-tokens", "features", "layer", "batch-size", "context", "device",
            "commit-every", "dtype", "sae-count", "world-size" },
        { "json" });
    if (!o.ok())
        return fail(o.error());
    auto tokens = core::corpus::parseTokenCount(o.value("tokens", "100k"));
    if (!tokens)
        return fail(tokens.errorMessage());
    int64_t rssTokens = 0;
    if (o.has("rss-tokens")) {
        auto n = core::corpus::parseTokenCount(o.value("rss-tokens"));
        if (!n)
            return fail(n.errorMessage());
        rssTokens = *n;
    }
    const int64_t F = o.integer("features", 24576), layer = o.integer("layer", 8),
                  B = o.integer("batch-size", 8), T = o.integer("context", 128),
                  saeCount = o.integer("sae-count", 1), world = o.integer("world-size", 1);
    if (world < 1)
        return fail("--world-size must be at least 1");
    if (saeCount < 1)
        return fail("--sae-count must be at least 1");
    const std::string tmp
        = (std::filesystem::temp_directory_path() / ("fs-bench-index-" + std::to_string(getpid())))
              .string();
    std::filesystem::create_directories(tmp);
    std::string modelDir = o.value("model");
    if (modelDir.empty()) {
        modelDir = tmp + "/gpt2-small-random";
        std::fprintf(stderr, "writing a GPT-2-small-shaped model with random weights to %s\n",
            modelDir.c_str());
        if (auto s = core::model::writeRandomGpt2(modelDir, {}, 0); !s)
            return fail(s.errorMessage());
    }
    auto decoder = core::model::Decoder::load(
        modelDir, { o.value("device", "auto"), o.value("dtype", "f32") });
    if (!decoder)
        return fail(decoder.errorMessage());
    const auto &d = **decoder;
    const int64_t dIn = d.config().hidden, layers = d.config().layers;
    // One SAE at --layer, or --sae-count SAEs spread over the layers (every layer when the count
    // equals the depth), as indexing a whole release would.
    std::vector<std::string> hooks;
    for (int64_t i = 0; i < saeCount; ++i) {
        const int64_t l = saeCount == 1 ? layer : i * layers / saeCount;
        if (l < 0 || l >= layers)
            return fail("--layer " + std::to_string(l) + " is outside the model's "
                + std::to_string(layers) + " layers");
        hooks.push_back("blocks." + std::to_string(l) + ".hook_resid_post");
    }
    at::NoGradGuard noGrad;
    at::manual_seed(1);
    const auto opts = at::TensorOptions().dtype(d.dtype()).device(d.device());
    const auto bos = d.config().bosTokenId >= 0 ? d.config().bosTokenId : d.config().vocabSize - 1;
    const core::corpus::Corpus corpus = randomCorpus(*tokens, T, d.config().vocabSize, bos);

    auto forwardBatch = [&](int64_t c0, int64_t n) {
        at::Tensor ids = at::empty({ n, T }, at::kLong);
        for (int64_t i = 0; i < n * T; ++i)
            ids.data_ptr<int64_t>()[i] = corpus.context(c0)[i];
        core::model::ForwardOptions fo;
        fo.capture = std::set<std::string>(hooks.begin(), hooks.end());
        fo.computeLogits = false;
        return d.forward({ ids.to(d.device()) }, fo).value().activations;
    };
    // Random JumpReLU SAEs in the model's dtype, thresholds at each feature's 99.7th percentile
    // on a first batch: a sparse code (L0 in the tens to hundreds) like a trained SAE's.
    std::vector<core::sae::Sae> saes;
    {
        const auto first = forwardBatch(0, std::min<int64_t>(B, corpus.contexts()));
        for (const auto &hook : hooks) {
            core::sae::SaeConfig cfg;
            cfg.architecture = core::sae::Architecture::JumpRelu;
            cfg.dIn = dIn;
            cfg.dSae = F;
            cfg.hookName = hook;
            cfg.sourcePath = "bench-random-jumprelu-" + hook;
            core::sae::SaeWeights w;
            w.W_enc = at::randn({ dIn, F }, opts) / std::sqrt(double(dIn));
            w.b_enc = at::zeros({ F }, opts);
            w.W_dec = w.W_enc.t().contiguous();
            w.b_dec = at::zeros({ dIn }, opts);
            const at::Tensor pre = at::matmul(
                first.at(hook).reshape({ -1, dIn }).to(at::kFloat), w.W_enc.to(at::kFloat));
            w.threshold = std::get<0>(
                pre.kthvalue(static_cast<int64_t>(0.997 * static_cast<double>(pre.size(0))), 0))
                              .clamp_min(1e-3)
                              .to(d.dtype());
            saes.emplace_back(cfg, w);
        }
    }
    const int64_t batches = (corpus.contexts() + B - 1) / B;

    // The unavoidable math: forward to the deepest hook + every encode, nothing kept but L0.
    double l0 = 0;
    const double b0 = now();
    for (int64_t b = 0; b < batches; ++b) {
        const int64_t n = std::min(B, corpus.contexts() - b * B);
        const auto acts = forwardBatch(b * B, n);
        for (const auto &sae : saes)
            l0 += (sae.encode(acts.at(sae.config().hookName).reshape({ n * T, dIn })) > 0)
                      .sum()
                      .item<double>();
    }
    const double baseline = now() - b0;
    l0 /= static_cast<double>(corpus.tokens()) * static_cast<double>(saes.size());

    auto runIndex
        = [&](const core::corpus::Corpus &c, const std::string &dbPath,
              core::index::ShardSpec shard = {}) -> core::Result<core::index::IndexOutcome> {
        std::filesystem::remove(dbPath);
        auto db = core::store::Database::open(dbPath);
        if (!db)
            return db.error();
        core::index::IndexInputs in;
        in.decoder = &d;
        in.modelFingerprint = "bench-model";
        in.corpus = &c;
        in.corpusLabel = "random tokens";
        for (const auto &sae : saes)
            in.saes.push_back({ &sae, sae.config().hookName });
        core::index::IndexOptions io;
        io.batchContexts = B;
        io.commitEveryBatches = o.integer("commit-every", 0);
        io.specialTokens = { bos };
        io.shard = shard;
        return core::index::indexCorpus(**db, in, io);
    };
    resetPeak();
    core::util::resetPeakAllocated(d.device());
    auto full = runIndex(corpus, tmp + "/bench.fsdb");
    if (!full)
        return fail(full.errorMessage());
    const double peakSmall = peakMiB();
    const auto peakDevice = core::util::peakAllocatedBytes(d.device());
    const double pass = full->seconds - full->logitSeconds;
    double peakLarge = 0;
    if (rssTokens > 0) {
        const auto large = randomCorpus(rssTokens, T, d.config().vocabSize, bos);
        resetPeak();
        auto r = runIndex(large, tmp + "/bench-large.fsdb");
        if (!r)
            return fail(r.errorMessage());
        peakLarge = peakMiB();
    }
    // Sharded: the W shards one after another (as W devices would run them side by side), then
    // the merge and write on rank 0's side. The shard phase of a real run takes the slowest
    // shard's time; the merge does not shrink with W.
    std::vector<double> shardSeconds;
    double mergeSeconds = 0;
    if (world > 1) {
        std::vector<std::string> parts;
        for (int64_t r = 0; r < world; ++r) {
            parts.push_back(tmp + "/part-" + std::to_string(r) + ".fsdb");
            auto part = runIndex(corpus, parts.back(), { r, world });
            if (!part)
                return fail(part.errorMessage());
            shardSeconds.push_back(part->seconds - part->logitSeconds);
        }
        auto merged = core::index::mergeShardParts(parts, tmp + "/merged.fsdb");
        if (!merged)
            return fail(merged.errorMessage());
        mergeSeconds = merged->seconds;
    }
    const double slowestShard
        = shardSeconds.empty() ? 0 : *std::max_element(shardSeconds.begin(), shardSeconds.end());
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);

    const double tps = static_cast<double>(corpus.tokens()) / pass;
    const double baseTps = static_cast<double>(corpus.tokens()) / baseline;
    int64_t stateBytes = 0;
    for (int64_t b : full->stateBytes)
        stateBytes += b;
    if (o.has("json")) {
        nlohmann::json j = { { "tokens", corpus.tokens() }, { "features", F }, { "hooks", hooks },
            { "sae_count", saeCount }, { "dtype", std::string(c10::toString(d.dtype())) },
            { "l0", l0 }, { "baseline_seconds", baseline }, { "index_seconds", pass },
            { "ratio", pass / baseline }, { "logit_effect_seconds", full->logitSeconds },
            { "write_seconds", full->writeSeconds }, { "tokens_per_second", tps },
            { "forward_encode_tokens_per_second", baseTps },
            { "accumulator_mib", static_cast<double>(stateBytes) / (1 << 20) },
            { "peak_rss_mib", peakSmall }, { "device", d.device().str() } };
        j["peak_device_mib"] = peakDevice
            ? nlohmann::json(static_cast<double>(*peakDevice) / (1 << 20))
            : nlohmann::json(nullptr);
        if (peakLarge > 0)
            j.update({ { "rss_tokens", rssTokens }, { "peak_rss_large_mib", peakLarge },
                { "rss_ratio", peakLarge / peakSmall } });
        if (world > 1)
            j.update({ { "world_size", world }, { "shard_seconds", shardSeconds },
                { "merge_seconds", mergeSeconds },
                { "merge_share", mergeSeconds / (slowestShard + mergeSeconds) },
                { "projected_speedup", pass / (slowestShard + mergeSeconds) } });
        std::printf("%s\n", j.dump().c_str());
        return 0;
    }
    std::printf("bench index: %lld tokens (%lld contexts x %lld), %lld SAE(s) of %lld JumpReLU "
                "features (%s%s, L0 %.0f) on %s in %s, batch %lld contexts\n",
        static_cast<long long>(corpus.tokens()), static_cast<long long>(corpus.contexts()),
        static_cast<long long>(T), static_cast<long long>(saeCount), static_cast<long long>(F),
        hooks.front().c_str(), saeCount > 1 ? " ..." : "", l0, d.device().str().c_str(),
        c10::toString(d.dtype()), static_cast<long long>(B));
    std::printf("  forward + encode only : %8.2f s  (%.0f tokens/s)\n", baseline, baseTps);
    std::printf(
        "  full index pass       : %8.2f s  (%.0f tokens/s), of which result writes %.2f s\n", pass,
        tps, full->writeSeconds);
    std::printf("  ratio index / math    : %8.3f  (bookkeeping adds %.1f%%)\n", pass / baseline,
        100 * (pass / baseline - 1));
    std::printf(
        "  logit effects (once per model+SAE, not per corpus): %.2f s\n", full->logitSeconds);
    std::printf("  accumulators %.0f MiB; peak RSS %.0f MiB",
        static_cast<double>(stateBytes) / (1 << 20), peakSmall);
    if (peakDevice)
        std::printf("; peak device memory %.0f MiB", static_cast<double>(*peakDevice) / (1 << 20));
    if (peakLarge > 0)
        std::printf("; with %lld tokens %.0f MiB (ratio %.3f)", static_cast<long long>(rssTokens),
            peakLarge, peakLarge / peakSmall);
    std::printf("\n");
    if (world > 1) {
        std::printf("  %lld shards, run one after another: slowest %.2f s (single pass %.2f s, "
                    "ratio %.3f)\n",
            static_cast<long long>(world), slowestShard, pass, slowestShard / pass);
        std::printf("  merge + write on rank 0: %.2f s, %.1f%% of a %lld-device run; projected "
                    "speedup %.2fx\n",
            mergeSeconds, 100 * mergeSeconds / (slowestShard + mergeSeconds),
            static_cast<long long>(world), pass / (slowestShard + mergeSeconds));
    }
    return 0;
}

} // namespace fscope::cli
