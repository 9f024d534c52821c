#include "core/store/fingerprint.h"

#include "core/store/sha256.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace fscope::core::store {

Result<std::string> fingerprintFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fileError(path, std::string("cannot open: ") + std::strerror(errno));
    Sha256 h;
    std::vector<char> buffer(1 << 20);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        h.update(buffer.data(), static_cast<size_t>(in.gcount()));
    }
    if (in.bad())
        return fileError(path, "read error");
    return h.hexDigest();
}

std::string fingerprintCheckpoint(const io::Checkpoint &checkpoint)
{
    Sha256 h;
    for (const auto &[name, t] : checkpoint.tensors()) {
        const std::string line = name + '\t' + std::string(io::dtypeName(t.entry->dtype)) + '\t'
                                 + io::formatShape(t.entry->shape) + '\t'
                                 + std::to_string(t.entry->begin) + '\n';
        h.update(line);
        const uint64_t n = t.entry->byteCount(), sample = std::min<uint64_t>(n, 4096);
        const uint8_t *data = t.file->bytes(*t.entry);
        for (uint64_t start : {uint64_t{0}, (n - sample) / 2, n - sample})
            h.update(data + start, sample);
    }
    return h.hexDigest();
}

Result<std::string> fingerprintJson(const std::string &jsonText, const std::string &fileName)
{
    try {
        // nlohmann::json stores objects in a std::map: dump() is already key-sorted.
        return sha256Hex(nlohmann::json::parse(jsonText).dump());
    } catch (const nlohmann::json::exception &e) {
        return fileError(fileName, std::string("not valid JSON (") + e.what() + ")");
    }
}

std::string combineFingerprints(const std::vector<std::string> &parts)
{
    Sha256 h;
    for (const auto &p : parts) {
        h.update(std::to_string(p.size()) + ':');
        h.update(p);
    }
    return h.hexDigest();
}

} // namespace fscope::core::store
