#pragma once
// A read-only view of a whole file through mmap. Opening costs O(1) in the file size:
// pages are read only when a tensor's bytes are touched.

#include "core/util/result.h"

#include <cstdint>
#include <memory>
#include <string>

namespace fscope::core::io {

class MappedFile {
public:
    // Maps `path`; a zero-length file gives an empty view.
    static Result<std::shared_ptr<MappedFile>> open(const std::string &path);
    ~MappedFile();
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;

    // Copy-on-write private mapping: a tensor viewing it may be modified in place without
    // touching the file.
    uint8_t *data() const { return m_data; }
    uint64_t size() const { return m_size; }
    const std::string &path() const { return m_path; }

private:
    MappedFile(std::string path, uint8_t *data, uint64_t size);
    std::string m_path;
    uint8_t *m_data = nullptr;
    uint64_t m_size = 0;
};

} // namespace fscope::core::io
