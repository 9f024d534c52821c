#pragma once
// A set of named tensors spread over one or more safetensors files: a single file, a
// `model.safetensors.index.json` (sharded Hugging Face checkpoint), or a model directory
// holding either.

#include "core/io/safetensors_file.h"

#include <map>

namespace fscope::core::io {

struct CheckpointTensor {
    const SafetensorsFile *file;
    const TensorEntry *entry;
};

class Checkpoint {
public:
    // `path`: a .safetensors file, an index .json, or a directory with model.safetensors or
    // model.safetensors.index.json.
    static Result<Checkpoint> open(const std::string &path);

    // Entries point into m_files, whose storage moves with the object but must not be copied.
    Checkpoint(Checkpoint &&) = default;
    Checkpoint &operator=(Checkpoint &&) = default;
    Checkpoint(const Checkpoint &) = delete;
    Checkpoint &operator=(const Checkpoint &) = delete;

    const std::string &path() const { return m_path; }
    const std::vector<SafetensorsFile> &files() const { return m_files; }
    // Tensor name -> location, sorted by name.
    const std::map<std::string, CheckpointTensor> &tensors() const { return m_tensors; }
    const CheckpointTensor *find(const std::string &name) const;
    uint64_t totalBytes() const;

private:
    Checkpoint() = default;
    static Result<Checkpoint> openIndex(const std::string &indexPath);
    void addFile(SafetensorsFile file);

    std::string m_path;
    std::vector<SafetensorsFile> m_files;
    std::map<std::string, CheckpointTensor> m_tensors;
};

} // namespace fscope::core::io
