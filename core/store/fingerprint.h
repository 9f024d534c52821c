#pragma once
// Content fingerprints: cache keys are what a thing is, not where it lies (DESIGN section 4).

#include "core/io/checkpoint.h"
#include "core/sae/sae.h"

#include <string>

namespace fscope::core::corpus {
struct CorpusSpec;
}

namespace fscope::core::store {

// SHA-256 of a file's whole content (streamed).
Result<std::string> fingerprintFile(const std::string &path);

// SHA-256 over every tensor's name, dtype, shape and offset plus three 4 KiB samples of its
// data (start, middle, end): identifies a checkpoint without reading gigabytes of weights,
// while two trainings of the same architecture still differ. Pair it with the config
// (fingerprintJson) for a model or SAE key.
std::string fingerprintCheckpoint(const io::Checkpoint &checkpoint);

// SHA-256 of a JSON document in canonical form (sorted keys, no whitespace), so the same
// configuration written differently gets the same key. Invalid JSON is an error.
Result<std::string> fingerprintJson(const std::string &jsonText, const std::string &fileName);

// Combines fingerprints and parameters into one key: sha256 of the parts, length-prefixed.
std::string combineFingerprints(const std::vector<std::string> &parts);

// Model key: canonical config.json + checkpoint fingerprint.
Result<std::string> fingerprintModel(const std::string &modelDir);
// SAE key: its configuration (architecture, hook, preprocessing) and every weight's bytes.
std::string fingerprintSae(const sae::Sae &sae);

// Hash of the tokenizer files of a model directory (tokenizer.json, vocab.json, merges.txt,
// tokenizer.model, tokenizer_config.json, special_tokens_map.json), whichever exist.
Result<std::string> fingerprintTokenizer(const std::string &modelDir);

// SHA-256 of what decides the contexts: file contents, tokenizer, split, field, context
// length, budget and seed. Reads every file once (streamed).
Result<std::string> corpusFingerprint(
    const corpus::CorpusSpec &spec, const std::string &tokenizerFingerprint);

} // namespace fscope::core::store
