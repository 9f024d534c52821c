#pragma once
// One memory-mapped safetensors file: the validated header plus the mapping that tensor views
// keep alive. Opening reads only the header, so multi-GB files open in header time.

#include "core/io/mapped_file.h"
#include "core/io/safetensors_header.h"

#include <memory>

namespace fscope::core::io {

class SafetensorsFile {
public:
    static Result<SafetensorsFile> open(const std::string &path);

    const std::string &path() const { return m_file->path(); }
    const SafetensorsHeader &header() const { return m_header; }
    const std::vector<TensorEntry> &tensors() const { return m_header.tensors; }
    const TensorEntry *find(const std::string &name) const { return m_header.find(name); }

    // The entry's bytes inside the mapping.
    uint8_t *bytes(const TensorEntry &entry) const;
    const std::shared_ptr<MappedFile> &mapping() const { return m_file; }

private:
    std::shared_ptr<MappedFile> m_file;
    SafetensorsHeader m_header;
};

} // namespace fscope::core::io
