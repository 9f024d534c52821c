#pragma once
// Non-activating texts for the scorers: windows of the index's own corpus (non-overlapping slots
// of its contexts, the example width long) on which a feature is zero on every token, checked by
// running the model and the SAE over their contexts (not assumed from the index, which keeps only
// examples of where features fire). One pool per job: each candidate window's max of every
// requested feature is computed once, and each feature draws its own seeded sample from the windows
// where it is zero (delphi draws random non-activating windows, seed 42).

#include "core/interp/text_example.h"
#include "core/model/decoder.h"
#include "core/sae/sae.h"
#include "core/store/database.h"

#include <map>
#include <set>

namespace fscope::core::interp {

struct NegativePoolOptions {
    int64_t windows = 400; // candidate windows drawn from the corpus
    int64_t windowLength = 25; // tokens per window (the index's example width)
    int64_t batchContexts = 8;
    uint64_t seed = 42;
};

class NegativePool {
public:
    // `features`: the features the job will score (their columns are kept).
    static Result<NegativePool> build(store::Database &db, int64_t corpusId, int64_t contexts,
        const model::Decoder &decoder, const tokenize::Tokenizer &tokenizer, const sae::Sae &sae,
        const std::vector<int64_t> &features, const std::set<int64_t> &specialTokens,
        const NegativePoolOptions &options, jobs::Progress *progress);

    // Up to `count` windows where `feature` is zero on every token, drawn with the seed.
    std::vector<TextExample> forFeature(int64_t feature, int64_t count, uint64_t seed) const;
    int64_t windows() const { return int64_t(m_windows.size()); }

private:
    std::vector<TextExample> m_windows; // activations all zero
    std::map<int64_t, size_t> m_column; // feature -> column of m_windowMax
    std::vector<std::vector<float>> m_windowMax; // [window][column]
};

} // namespace fscope::core::interp
