#pragma once
// Inputs and a comparison shared by the indexing tests: a random corpus, a random SAE, and an
// index's every stored result as text, so two runs compare exactly.

#include "core/corpus/corpus.h"
#include "core/sae/sae.h"
#include "core/store/database.h"

#include <QString>

namespace fscope::test {

// Random ids in [0, vocab) other than `bos`, with `bos` opening every context.
core::corpus::Corpus randomCorpus(
    int64_t contexts, int64_t T, int64_t vocab, int32_t bos, uint64_t seed);

core::sae::Sae randomSae(const std::string &hook, int64_t dIn, int64_t dSae,
    core::sae::Architecture arch, uint64_t seed, double bias = -0.4);

QString dumpIndex(core::store::Database &db, int64_t indexId);

} // namespace fscope::test
