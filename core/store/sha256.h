#pragma once
// SHA-256 (FIPS 180-4), for content fingerprints of models, SAEs and corpora.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace fscope::core::store {

class Sha256 {
public:
    Sha256();
    void update(const void *data, size_t size);
    void update(std::string_view s) { update(s.data(), s.size()); }
    std::array<uint8_t, 32> digest();
    std::string hexDigest();

private:
    void block(const uint8_t *p);
    std::array<uint32_t, 8> m_h;
    std::array<uint8_t, 64> m_buffer {};
    size_t m_buffered = 0;
    uint64_t m_length = 0;
};

std::string sha256Hex(std::string_view data);

} // namespace fscope::core::store
