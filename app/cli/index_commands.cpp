// featurescope-cli index / feature: build a workspace's feature index and read one feature's
// dashboard data back (text for people, --json as a stable interface).

#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/options.h"

#include "core/demo/demo_paths.h"
#include "core/dist/ranks.h"
#include "core/index/index_job.h"
#include "core/index/shard_merge.h"
#include "core/jobs/terminal_progress.h"
#include "core/model/model_locator.h"
#include "core/store/database.h"
#include "core/store/index_store.h"
#include "core/store/interp_store.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

namespace fscope::cli {

using nlohmann::json;

int runIndex(const Args &args)
{
    const Options o(args,
        { "model", "sae", "sae-dir", "corpus", "tokens", "out", "context", "batch-size", "device",
            "dtype", "seed", "split", "field", "hook", "commit-every", "top", "window", "shard",
            "rank", "world-size", "lost-after", "connect" },
        { "json" });
    if (!o.ok())
        return fail(o.error());
    if (!o.has("model") || !(o.has("sae") || o.has("sae-dir")) || !o.has("corpus") || !o.has("out"))
        return fail(
            "usage: featurescope-cli index --model M --sae S [--sae S2 ...] [--sae-dir DIR] "
            "--corpus C [--corpus C2 ...] "
            "--tokens N --out WORKSPACE.fsdb [--context 128] [--batch-size 8|auto] [--device "
            "auto] [--dtype auto] "
            "[--seed 0] [--split lines|files] [--field text]");
    core::index::IndexRequest r;
    r.model = o.value("model");
    r.device = o.value("device", "auto");
    r.dtype = o.value("dtype", "auto");
    r.saes = o.values("sae");
    r.saeDirs = o.values("sae-dir");
    r.hook = o.value("hook");
    r.corpus.paths = o.values("corpus");
    r.corpus.contextLength = o.integer("context", 128);
    auto budget = core::corpus::parseTokenCount(o.value("tokens", "1M"));
    if (!budget)
        return fail(budget.errorMessage());
    r.corpus.tokenBudget = *budget;
    r.corpus.seed = static_cast<uint64_t>(o.integer("seed", 0));
    r.corpus.textField = o.value("field", "text");
    const std::string split = o.value("split", "lines");
    if (split != "lines" && split != "files")
        return fail("--split must be 'lines' or 'files'");
    r.corpus.split = split == "lines" ? core::corpus::Split::Lines : core::corpus::Split::Files;
    // auto: the largest batch the device holds (8 on a CPU).
    r.options.batchContexts = o.value("batch-size", "8") == "auto" ? 0 : o.integer("batch-size", 8);
    r.options.commitEveryBatches = o.integer("commit-every", 0);
    r.options.accumulator.topExamples = o.integer("top", 20);
    r.options.accumulator.windowRadius = o.integer("window", 12);
    r.options.accumulator.seed = r.corpus.seed;

    if (o.has("shard")) {
        auto shard = core::index::parseShard(o.value("shard"));
        if (!shard)
            return fail("--shard: " + shard.errorMessage());
        r.options.shard = *shard;
    }

    // A distributed run: each rank computes its shard; rank 0 writes the merged index into
    // --out, the others keep their shard (for a rerun to resume) in a part beside it.
    auto env = core::dist::rankEnvironment(o.integer("rank", -1), o.integer("world-size", -1));
    if (!env)
        return fail(env.errorMessage());
    if (*env && r.options.shard.sharded())
        return fail("--shard is for separate processes; under " + (*env)->launcher
            + " every rank takes its shard by itself");
    std::string workspace = workspacePath(o.value("out"));
    if (*env) {
        const auto &e = **env;
        if (e.rank > 0)
            workspace += ".rank-" + std::to_string(e.rank) + "-of-" + std::to_string(e.worldSize);
        // Each rank on its own GPU of the node.
        if ((r.device == "auto" || r.device == "cuda") && core::model::cudaAvailable())
            r.device = "cuda:" + std::to_string(e.localRank);
    }
    auto db = core::store::Database::open(workspace);
    if (!db)
        return fail(db.errorMessage());
    core::jobs::TerminalProgress progress("tokens");
    std::unique_ptr<core::dist::Ranks> ranks;
    if (*env) {
        core::dist::RankOptions ro;
        ro.lostAfterSeconds = o.number("lost-after", ro.lostAfterSeconds);
        ro.connectSeconds = o.number("connect", ro.connectSeconds);
        auto connected = core::dist::connectRanks(**env, ro, &progress);
        if (!connected)
            return fail(connected.errorMessage());
        ranks = std::move(connected).value();
        r.options.exchange = ranks.get();
    }
    auto result = core::index::runIndexJob(**db, r, &progress);
    progress.finish();
    if (!result) {
        if (!ranks)
            return fail(result.errorMessage());
        // A lost rank cancels the pass (after a checkpoint): say which rank, not "cancelled".
        std::string why = ranks->problem();
        if (why.empty())
            why = result.errorMessage();
        ranks->fail(why);
        return fail("rank " + std::to_string((*env)->rank) + ": " + why
            + "; rerun the same command on every rank to resume from the checkpoints");
    }
    if (ranks) {
        ranks->finish();
        if ((*env)->rank > 0 && result->outcome.merged) {
            db->reset(); // rank 0 holds the merged index: this rank's part is no longer needed
            std::error_code ec;
            for (const char *suffix : { "", "-wal", "-shm" })
                std::filesystem::remove(workspace + suffix, ec);
        }
    }
    const auto &out = result->outcome;
    if (o.has("json")) {
        json j = { { "workspace", workspace }, { "contexts", result->contexts },
            { "tokens", out.tokens }, { "batches_run", out.batchesRun }, { "seconds", out.seconds },
            { "corpus_cached", result->corpusFromCache }, { "batch_contexts", out.batchContexts },
            { "forward_contexts", out.forwardContexts }, { "notes", out.notes },
            { "first_batch", out.firstBatch }, { "end_batch", out.endBatch } };
        if (r.options.shard.sharded())
            j["shard"] = { { "rank", r.options.shard.rank }, { "count", r.options.shard.count } };
        if (*env)
            j["rank"] = { { "rank", (*env)->rank }, { "world_size", (*env)->worldSize },
                { "launcher", (*env)->launcher }, { "merged", out.merged } };
        for (size_t i = 0; i < out.indexIds.size(); ++i)
            j["indexes"].push_back({ { "id", out.indexIds[i] }, { "sae", result->saeLabels[i] },
                { "computed", bool(out.computed[i]) },
                { "state_mib", static_cast<double>(out.stateBytes[i]) / (1 << 20) } });
        std::printf("%s\n", j.dump().c_str());
        return 0;
    }
    std::printf("%s: %lld contexts, %lld tokens%s\n", workspace.c_str(),
        static_cast<long long>(result->contexts), static_cast<long long>(out.tokens),
        result->corpusFromCache ? " (corpus from the workspace)" : "");
    for (size_t i = 0; i < out.indexIds.size(); ++i)
        std::printf("  index %lld  %s  %s\n", static_cast<long long>(out.indexIds[i]),
            result->saeLabels[i].c_str(),
            out.computed[i] ? "computed" : "already indexed (cached)");
    for (const auto &note : out.notes)
        std::printf("  %s\n", note.c_str());
    if (out.batchesRun > 0)
        std::printf("  %lld batches of %lld contexts in %.1f s: %.0f tokens/s\n",
            static_cast<long long>(out.batchesRun), static_cast<long long>(out.batchContexts),
            out.seconds, static_cast<double>(out.tokens) / std::max(out.seconds, 1e-9));
    return 0;
}

namespace {

std::string tokenText(const core::tokenize::Tokenizer *tok, int32_t id)
{
    if (!tok)
        return "#" + std::to_string(id);
    return core::tokenize::sanitizeUtf8(tok->tokenBytes(id));
}

json tokenValues(const core::store::TokenValues &list, const core::tokenize::Tokenizer *tok)
{
    json out = json::array();
    for (const auto &[id, v] : list)
        out.push_back({ tokenText(tok, id), v });
    return out;
}

json tokenIds(const core::store::TokenValues &list)
{
    json out = json::array();
    for (const auto &p : list)
        out.push_back(p.first);
    return out;
}

json exampleJson(const core::store::ExampleView &e, const core::tokenize::Tokenizer *tok)
{
    json tokens = json::array();
    for (int32_t id : e.ids)
        tokens.push_back(tokenText(tok, id));
    json j = { { "ids", e.ids }, { "tokens", tokens }, { "activations", e.activations },
        { "max_pos", e.maxPos }, { "value", e.value }, { "context", e.context },
        { "start", e.start } };
    if (e.band >= 0)
        j["band"] = e.band;
    return j;
}

// One example as a line of text: the activating tokens shaded (TTY) or bracketed with values.
void printExample(
    const core::store::ExampleView &e, const core::tokenize::Tokenizer *tok, float scale, bool tty)
{
    std::string line;
    for (size_t t = 0; t < e.ids.size(); ++t) {
        std::string text = tokenText(tok, e.ids[t]);
        for (char &c : text)
            if (c == '\n' || c == '\r' || c == '\t')
                c = ' ';
        const float a = e.activations[t];
        if (a <= 0) {
            line += text;
        } else if (tty) {
            static const int shades[] = { 230, 229, 222, 215, 208, 202, 196 };
            const int level = std::clamp(static_cast<int>(std::lround(a / scale * 6)), 0, 6);
            line += "\x1b[48;5;" + std::to_string(shades[level]) + ";38;5;16m" + text + "\x1b[0m";
        } else {
            char value[32];
            std::snprintf(value, sizeof value, "%.2f", a);
            line += "[" + text + "|" + value + "]";
        }
        if (static_cast<int>(t) == e.maxPos && tty)
            line += "\x1b[1m*\x1b[0m";
    }
    std::printf(
        "  %8.3f  ctx %-6lld %s\n", e.value, static_cast<long long>(e.context), line.c_str());
}

} // namespace

int runFeature(const Args &args)
{
    const Options o(args, { "sae", "id" }, { "json" });
    if (!o.ok())
        return fail(o.error());
    if (o.positional().size() != 1 || !o.has("sae") || !o.has("id"))
        return fail("usage: featurescope-cli feature WORKSPACE.fsdb --sae S --id F [--json]");
    auto db = openExistingWorkspace(o.positional()[0]);
    if (!db)
        return fail(db.errorMessage());
    auto index = findIndex(**db, o.value("sae"));
    if (!index)
        return fail(index.errorMessage());
    auto d = core::store::loadFeatureDashboard(**db, index->id, o.integer("id", 0));
    if (!d)
        return fail(d.errorMessage());
    std::unique_ptr<core::tokenize::Tokenizer> tokenizer;
    if (auto t = core::tokenize::loadTokenizer(index->modelPath))
        tokenizer = std::move(t).value();
    const auto *tok = tokenizer.get();
    auto explained = core::store::latestExplanation(**db, index->saeId, d->feature);
    if (!explained)
        return fail(explained.errorMessage());

    std::vector<double> edges;
    for (size_t i = 0; i <= d->histogram.size(); ++i)
        edges.push_back(d->histLo
            + (static_cast<double>(d->histHi) - d->histLo) * static_cast<double>(i)
                / static_cast<double>(d->histogram.size()));
    if (o.has("json")) {
        json j = { { "workspace", (*db)->path() }, { "index", d->index.id },
            { "sae", d->index.saeLabel }, { "hook", d->index.hook }, { "feature", d->feature },
            { "label", d->label }, { "notes", d->notes }, { "density", d->density },
            { "count", d->count }, { "tokens", d->index.tokens }, { "max", d->max },
            { "mean", d->mean }, { "dead", d->dead() },
            { "histogram",
                { { "edges", d->count ? edges : std::vector<double>() },
                    { "counts", d->count ? d->histogram : std::vector<uint32_t>() } } },
            { "logits",
                { { "top", tokenValues(d->logitTop, tok) },
                    { "bottom", tokenValues(d->logitBottom, tok) },
                    { "top_ids", tokenIds(d->logitTop) },
                    { "bottom_ids", tokenIds(d->logitBottom) } } },
            { "logits_final_norm_folded",
                { { "top", tokenValues(d->foldedLogitTop, tok) },
                    { "bottom", tokenValues(d->foldedLogitBottom, tok) } } } };
        // The newest explanation (auto-interpretation or imported) and its scores.
        j["explanation"] = nullptr;
        j["scores"] = json::object();
        if (*explained) {
            const auto &x = **explained;
            j["explanation"] = x.explanation.explanation;
            j["explanation_origin"] = x.explanation.origin;
            for (const auto &s : x.scores)
                j["scores"][s.scorer] = s.score ? json(*s.score) : json(nullptr);
        }
        j["examples"] = json::array();
        for (const auto &e : d->top)
            j["examples"].push_back(exampleJson(e, tok));
        j["quantiles"] = json::array();
        for (size_t b = 0; b < d->bands.size(); ++b) {
            json band = { { "band", b }, { "lo", d->bands[b].lo }, { "hi", d->bands[b].hi },
                { "count", d->bands[b].count }, { "examples", json::array() } };
            for (const auto &e : d->quantiles)
                if (e.band == static_cast<int>(b))
                    band["examples"].push_back(exampleJson(e, tok));
            j["quantiles"].push_back(band);
        }
        std::printf("%s\n", j.dump().c_str());
        return 0;
    }
    const bool tty = isatty(STDOUT_FILENO);
    std::printf("%s  feature %lld%s%s\n", d->index.saeLabel.c_str(),
        static_cast<long long>(d->feature), d->label.empty() ? "" : "  — ", d->label.c_str());
    if (*explained) {
        const auto &x = **explained;
        std::printf("  explanation: %s", x.explanation.explanation.c_str());
        for (const auto &s : x.scores)
            if (s.score)
                std::printf("  %s %.2f", s.scorer.c_str(), *s.score);
        std::printf("\n");
    }
    if (d->dead()) {
        std::printf(
            "  dead: never fired on %lld tokens\n", static_cast<long long>(d->index.tokens));
        return 0;
    }
    std::printf("  density %.3g%% (%lld of %lld tokens), max %.4g, mean %.4g\n", 100 * d->density,
        static_cast<long long>(d->count), static_cast<long long>(d->index.tokens), d->max, d->mean);
    uint32_t peak = 1;
    for (uint32_t c : d->histogram)
        peak = std::max(peak, c);
    std::printf("  histogram of non-zero activations (%zu bins, %.4g .. %.4g):\n",
        d->histogram.size(), d->histLo, d->histHi);
    for (size_t i = 0; i < d->histogram.size(); i += 1) {
        if (d->histogram[i] == 0)
            continue;
        std::printf("    %8.4g %s %u\n", edges[i],
            std::string(static_cast<size_t>(40.0 * d->histogram[i] / peak) + 1, '#').c_str(),
            d->histogram[i]);
    }
    auto printLogits = [&](const char *title, const core::store::TokenValues &list) {
        std::printf("  %s:", title);
        for (const auto &[id, v] : list)
            std::printf("  %s %+.3f", tokenText(tok, id).c_str(), v);
        std::printf("\n");
    };
    printLogits("top logits", d->logitTop);
    printLogits("bottom logits", d->logitBottom);
    std::printf("  top examples:\n");
    for (const auto &e : d->top)
        printExample(e, tok, d->max, tty);
    for (size_t b = d->bands.size(); b-- > 0;) {
        std::printf("  quantile band %zu [%.4g, %.4g], %lld tokens:\n", b, d->bands[b].lo,
            d->bands[b].hi, static_cast<long long>(d->bands[b].count));
        for (const auto &e : d->quantiles)
            if (e.band == static_cast<int>(b))
                printExample(e, tok, d->max, tty);
    }
    return 0;
}

int runMerge(const Args &args)
{
    const Options o(args, { "out" }, { "json" });
    if (!o.ok())
        return fail(o.error());
    if (o.positional().empty() || !o.has("out"))
        return fail(
            "usage: featurescope-cli merge PART.fsdb [PART2.fsdb ...] --out WORKSPACE.fsdb");
    const std::string out = workspacePath(o.value("out"));
    auto merged = core::index::mergeShardParts(o.positional(), out);
    if (!merged)
        return fail(merged.errorMessage());
    if (o.has("json")) {
        std::printf("%s\n",
            json { { "workspace", out }, { "indexes", merged->indexes },
                { "shards", merged->shards }, { "seconds", merged->seconds } }
                .dump()
                .c_str());
        return 0;
    }
    std::printf("%s: %lld index(es) merged from %lld shards in %.1f s\n", out.c_str(),
        static_cast<long long>(merged->indexes), static_cast<long long>(merged->shards),
        merged->seconds);
    return 0;
}

} // namespace fscope::cli
