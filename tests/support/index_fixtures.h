#pragma once
// Inputs and a comparison shared by the indexing tests: a random corpus, a random SAE, the
// two-SAE request several tests index, and an index's every stored result as text, so two runs
// compare exactly.

#include "core/corpus/corpus.h"
#include "core/index/indexer.h"
#include "core/model/decoder.h"
#include "core/sae/sae.h"
#include "core/store/database.h"

#include <memory>

#include <QString>

namespace fscope::test {

// Random ids in [0, vocab) other than `bos`, with `bos` opening every context.
core::corpus::Corpus randomCorpus(
    int64_t contexts, int64_t T, int64_t vocab, int32_t bos, uint64_t seed);

core::sae::Sae randomSae(const std::string &hook, int64_t dIn, int64_t dSae,
    core::sae::Architecture arch, uint64_t seed, double bias = -0.4);

QString dumpIndex(core::store::Database &db, int64_t indexId);

// Two random SAEs on the GPT-2 fixture's two layers over a random corpus, checkpointed every
// batch of 4 contexts; the caller loads the decoder.
struct TwoSaeRequest {
    std::unique_ptr<core::model::Decoder> decoder;
    core::sae::Sae a
        = randomSae("blocks.0.hook_resid_post", 32, 48, core::sae::Architecture::Relu, 1);
    core::sae::Sae b
        = randomSae("blocks.1.hook_resid_post", 32, 40, core::sae::Architecture::JumpRelu, 2);
    core::corpus::Corpus corpus = randomCorpus(40, 24, 96, 95, 5);
    core::index::IndexInputs inputs() const;
    static core::index::IndexOptions options();
};

} // namespace fscope::test
