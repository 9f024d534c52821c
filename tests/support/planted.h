#pragma once
// A model, tokenizer and SAE with known answers, written to disk like real ones: GPT-2's
// tokenizer, a one-layer GPT-2-shaped model whose blocks.0.hook_resid_pre holds e_k for the
// k-th planted word's token (and 0.01 * position in the last dimension), and an SAE
// (SAELens format) whose feature k is relu(2 x_k + x_last - 1): exactly 1 + 0.01 * position on
// that token and 0 everywhere else. Features past the planted words never fire.

#include <string>
#include <vector>

namespace fscope::test {

struct PlantedSetup {
    std::string modelDir;
    std::string saeDir;
    std::vector<long long> tokens; // token id of each planted word
    long long features = 0;
};

// `words`: single GPT-2 tokens such as " cat". Returns an empty modelDir on failure (with
// the reason in `error`).
PlantedSetup writePlantedSetup(
    const std::string &dir, const std::vector<std::string> &words, std::string *error);

// A text corpus: `lines` sentences mixing the planted words with filler, seeded.
void writePlantedCorpus(
    const std::string &path, const std::vector<std::string> &words, int lines, unsigned seed);

} // namespace fscope::test

namespace fscope::core::store {
class Database;
}

namespace fscope::test {

// Indexes `corpusPath` (8k tokens, contexts of 64) with the planted model and SAE into `db`;
// returns the index id, or 0 with the reason in `error`.
long long indexPlanted(core::store::Database &db, const PlantedSetup &setup,
    const std::string &corpusPath, std::string *error);

} // namespace fscope::test
