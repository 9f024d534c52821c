#pragma once
// What a tensor file holds, for `featurescope-cli inspect` and the UI's file pickers.
// Recognises safetensors, sharded indexes, model directories and .npz; refuses pickles.

#include "core/util/result.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fscope::core::io {

struct InspectedTensor {
    std::string name;
    std::string dtype;
    std::vector<int64_t> shape;
    uint64_t bytes = 0;
    std::string file; // shard or member it lives in
};

struct InspectReport {
    std::string format; // "safetensors", "sharded safetensors", "npz"
    std::vector<InspectedTensor> tensors;
    std::map<std::string, std::string> metadata;
    uint64_t totalBytes() const;
};

Result<InspectReport> inspectFile(const std::string &path);

// True when the file is a Python pickle (by extension or content): such files can run code
// when loaded and are never opened.
bool looksLikePickle(const std::string &path);
std::string pickleRefusal(const std::string &path);

} // namespace fscope::core::io
