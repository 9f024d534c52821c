#include "core/io/safetensors_header.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <set>

namespace fscope::core::io {

using nlohmann::json;

const TensorEntry *SafetensorsHeader::find(const std::string &name) const
{
    for (const auto &t : tensors)
        if (t.name == name)
            return &t;
    return nullptr;
}

namespace {

// nlohmann::json keeps the last of duplicate keys; the reference reader rejects them,
// so we watch the parser's key events at the top level.
Result<json> parseObjectRejectingDuplicates(const std::string &text, const std::string &file)
{
    std::set<std::string> seen;
    std::string duplicate;
    auto callback = [&](int depth, json::parse_event_t event, json &parsed) {
        if (event == json::parse_event_t::key && depth == 1 && duplicate.empty()) {
            const std::string key = parsed.get<std::string>();
            if (!seen.insert(key).second)
                duplicate = key;
        }
        return true;
    };
    json doc;
    try {
        doc = json::parse(text, callback);
    } catch (const json::exception &e) {
        return fileError(file, std::string("header is not valid JSON (") + e.what() + ")");
    }
    if (!duplicate.empty())
        return fileError(file, "header names tensor '" + duplicate + "' more than once");
    if (!doc.is_object())
        return fileError(file, "header is not a JSON object");
    return doc;
}

Result<TensorEntry> parseEntry(const std::string &name, const json &value, const std::string &file)
{
    const std::string where = "tensor '" + name + "': ";
    if (!value.is_object())
        return fileError(file, where + "entry is not an object");
    TensorEntry t;
    t.name = name;
    const auto dtype = value.find("dtype");
    if (dtype == value.end() || !dtype->is_string())
        return fileError(file, where + "missing \"dtype\"");
    const auto parsedDtype = dtypeFromName(dtype->get<std::string>());
    if (!parsedDtype)
        return fileError(file, where + "unknown dtype \"" + dtype->get<std::string>() + "\"");
    t.dtype = *parsedDtype;

    const auto shape = value.find("shape");
    if (shape == value.end() || !shape->is_array())
        return fileError(file, where + "missing \"shape\" array");
    for (const auto &d : *shape) {
        if (!d.is_number_unsigned())
            return fileError(file, where + "shape has a non-integer or negative extent");
        const auto extent = d.get<uint64_t>();
        if (extent > static_cast<uint64_t>(INT64_MAX))
            return fileError(file, where + "shape extent too large");
        t.shape.push_back(static_cast<int64_t>(extent));
    }

    const auto offsets = value.find("data_offsets");
    if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2
        || !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned())
        return fileError(file, where + "\"data_offsets\" must be two non-negative integers");
    t.begin = (*offsets)[0].get<uint64_t>();
    t.end = (*offsets)[1].get<uint64_t>();
    if (t.end < t.begin)
        return fileError(file, where + "data_offsets end before they begin");

    const auto numel = elementCount(t.shape);
    const auto bytes = numel ? byteSize(t.dtype, *numel) : std::nullopt;
    if (!bytes)
        return fileError(file, where + "shape " + formatShape(t.shape) + " overflows");
    if (*bytes != t.byteCount())
        return fileError(file,
            where + std::string(dtypeName(t.dtype)) + " " + formatShape(t.shape) + " needs "
                + std::to_string(*bytes) + " bytes but data_offsets span "
                + std::to_string(t.byteCount()) + " (dtype/shape mismatch)");
    return t;
}

} // namespace

Result<SafetensorsHeader> parseSafetensorsHeader(
    const uint8_t *bytes, uint64_t fileSize, const std::string &file)
{
    if (fileSize < 8)
        return fileError(file,
            "too small to be safetensors (" + std::to_string(fileSize)
                + " bytes; the 8-byte header length is missing)");
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) // little-endian u64
        n = (n << 8) | bytes[i];
    if (n > kMaxSafetensorsHeader)
        return fileError(file,
            "header length " + std::to_string(n)
                + " exceeds the 100000000-byte limit (not safetensors?)");
    if (8 + n > fileSize)
        return fileError(file,
            "header length " + std::to_string(n) + " runs past the end of the "
                + std::to_string(fileSize) + "-byte file (truncated?)");
    if (n == 0 || bytes[8] != '{')
        return fileError(file, "header does not start with '{' (not safetensors?)");

    SafetensorsHeader header;
    header.dataStart = 8 + n;
    header.headerJson.assign(reinterpret_cast<const char *>(bytes + 8), n);
    auto doc = parseObjectRejectingDuplicates(header.headerJson, file);
    if (!doc)
        return doc.error();

    for (const auto &[key, value] : doc->items()) {
        if (key == "__metadata__") {
            if (!value.is_object())
                return fileError(file, "__metadata__ is not an object");
            for (const auto &[mk, mv] : value.items()) {
                if (!mv.is_string())
                    return fileError(file, "__metadata__ value '" + mk + "' is not a string");
                header.metadata[mk] = mv.get<std::string>();
            }
            continue;
        }
        auto entry = parseEntry(key, value, file);
        if (!entry)
            return entry.error();
        header.tensors.push_back(std::move(entry).value());
    }

    // Sorted by offset the tensors must tile the buffer exactly. Empty tensors have
    // begin == end and may sit anywhere a boundary is, as in the reference.
    std::stable_sort(header.tensors.begin(), header.tensors.end(),
        [](const TensorEntry &a, const TensorEntry &b) {
            return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
        });
    uint64_t cursor = 0;
    for (const auto &t : header.tensors) {
        if (t.begin < cursor)
            return fileError(file,
                "tensor '" + t.name + "' overlaps the previous tensor (begins at "
                    + std::to_string(t.begin) + ", previous ends at " + std::to_string(cursor)
                    + ")");
        if (t.begin > cursor)
            return fileError(file,
                "gap of " + std::to_string(t.begin - cursor) + " bytes before tensor '" + t.name
                    + "'");
        cursor = t.end;
    }
    const uint64_t expectedSize = header.dataStart + cursor;
    if (expectedSize > fileSize)
        return fileError(file,
            "truncated: tensor data ends at byte " + std::to_string(expectedSize)
                + " but the file has " + std::to_string(fileSize) + " bytes");
    if (expectedSize < fileSize)
        return fileError(file,
            std::to_string(fileSize - expectedSize) + " unexpected bytes after the last tensor");
    return header;
}

} // namespace fscope::core::io
