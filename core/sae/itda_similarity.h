#pragma once
// The similarity of a set of ITDA dictionaries (layers of one model, or one layer of several
// models): the Jaccard similarity of every pair's atom sets, as ITDA's paper compares layers
// and models (Leask et al. 2025; pleask/itda, layer_similarity.py). One entry point for
// `featurescope-cli itda similarity` and the GUI's comparison dialog.
//
// Atoms are compared by where they were taken from, (context, position), so a pair built on
// different corpora (or the same files under another tokenizer or context length) shares no
// coordinates: such pairs are flagged rather than reported as dissimilar.

#include "core/jobs/progress.h"
#include "core/util/result.h"

#include <string>
#include <vector>

namespace fscope::core::sae {

struct ItdaSimilarity {
    std::vector<std::string> dirs;
    std::vector<std::string> labels; // "hook (model)" from each cfg.json, else the folder name
    std::vector<int64_t> atoms;
    std::vector<std::string>
        corpora; // fingerprints ("" for dictionaries built before they were kept)
    std::vector<std::vector<double>> jaccard; // [i][j], symmetric, 1 on the diagonal
    // Pairs whose corpora are both known and differ: their Jaccard compares nothing.
    std::vector<std::pair<int, int>> differentCorpora;
};

// Reads the atoms' origins of each folder (not the atoms) and compares every pair.
Result<ItdaSimilarity> compareItda(
    const std::vector<std::string> &dirs, jobs::Progress *progress = nullptr);

} // namespace fscope::core::sae
