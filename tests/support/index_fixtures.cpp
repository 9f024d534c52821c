#include "tests/support/index_fixtures.h"

#include "core/store/statement.h"

#include <cmath>

namespace fscope::test {

using namespace fscope::core;

corpus::Corpus randomCorpus(int64_t contexts, int64_t T, int64_t vocab, int32_t bos, uint64_t seed)
{
    corpus::Corpus c;
    c.contextLength = T;
    c.fingerprint = "test-corpus-" + std::to_string(seed) + "-" + std::to_string(contexts);
    uint64_t s = seed;
    for (int64_t i = 0; i < contexts * T; ++i) {
        s = corpus::mix64(s);
        int32_t id = static_cast<int32_t>(s % static_cast<uint64_t>(vocab - 1));
        id = id >= bos ? id + 1 : id; // never the BOS inside a context
        c.ids.push_back(i % T == 0 ? bos : id);
    }
    return c;
}

sae::Sae randomSae(const std::string &hook, int64_t dIn, int64_t dSae, sae::Architecture arch,
    uint64_t seed, double bias)
{
    at::manual_seed(seed);
    sae::SaeConfig cfg;
    cfg.architecture = arch;
    cfg.dIn = dIn;
    cfg.dSae = dSae;
    cfg.hookName = hook;
    cfg.sourcePath = "random-" + hook;
    sae::SaeWeights w;
    w.W_enc = at::randn({ dIn, dSae }) / std::sqrt(double(dIn));
    w.b_enc = at::full({ dSae }, bias);
    w.W_dec = at::randn({ dSae, dIn }) / std::sqrt(double(dIn));
    w.b_dec = at::zeros({ dIn });
    if (arch == sae::Architecture::JumpRelu) {
        w.b_enc = at::zeros({ dSae });
        w.threshold = at::full({ dSae }, 0.3);
    }
    return sae::Sae(cfg, w);
}

QString dumpIndex(store::Database &db, int64_t indexId)
{
    QString out;
    const char *queries[] = { "SELECT feature, count, density, max, mean FROM feature_stats WHERE "
                              "index_id = ?1 ORDER BY feature",
        "SELECT feature, lo, hi, hex(counts) FROM histograms WHERE index_id = ?1 ORDER BY feature",
        "SELECT feature, band, lo, hi, count FROM quantile_bands WHERE index_id = ?1 ORDER BY "
        "feature, band",
        "SELECT feature, kind, rank, band, value, context, max_pos, start, hex(acts) FROM examples "
        "WHERE index_id = ?1 "
        "ORDER BY feature, kind, rank",
        "SELECT status, tokens FROM feature_indexes WHERE id = ?1" };
    for (const char *q : queries) {
        auto st = store::Statement::prepare(db, q);
        if (!st)
            return QString::fromStdString(st.errorMessage());
        st->bind(0, indexId);
        const int columns = QString(q).section(" FROM", 0, 0).count(',') + 1;
        while (st->step().value()) {
            for (int c = 0; c < columns; ++c)
                out += QString::fromStdString(st->text(c)) + '|';
            out += '\n';
        }
    }
    return out;
}

index::IndexInputs TwoSaeRequest::inputs() const
{
    index::IndexInputs in;
    in.decoder = decoder.get();
    in.modelFingerprint = "gpt2-fixture";
    in.corpus = &corpus;
    in.corpusLabel = "random";
    in.saes = { { &a, a.config().hookName }, { &b, b.config().hookName } };
    return in;
}

index::IndexOptions TwoSaeRequest::options()
{
    index::IndexOptions o;
    o.batchContexts = 4;
    o.commitEveryBatches = 1;
    o.specialTokens = { 95 };
    return o;
}

} // namespace fscope::test
