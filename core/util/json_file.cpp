#include "core/util/json_file.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sys/stat.h>

namespace fscope::core {

Status checkJsonDepth(std::string_view text, const std::string &where)
{
    int depth = 0;
    bool inString = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            if (c == '\\')
                ++i; // the escaped character cannot end the string
            else if (c == '"')
                inString = false;
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxJsonDepth)
                return fileError(where,
                    "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels (at byte "
                        + std::to_string(i) + "); refused");
        } else if (c == ']' || c == '}') {
            --depth; // unbalanced text is the parser's to report
        }
    }
    return {};
}

Result<nlohmann::json> parseJson(std::string_view text, const std::string &where)
{
    if (auto deep = checkJsonDepth(text, where); !deep)
        return deep.error();
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception &e) {
        return fileError(where, std::string("not valid JSON (") + e.what() + ")");
    }
}

Result<std::string> readTextFile(const std::string &path, uint64_t limit)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fileError(path, "cannot open");
    struct stat st { };
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && uint64_t(st.st_size) > limit)
        return fileError(path,
            "is " + formatBytes(uint64_t(st.st_size)) + ", more than the " + formatBytes(limit)
                + " this reads; refused");
    std::string text;
    char buffer[1 << 16];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        text.append(buffer, size_t(in.gcount()));
        if (text.size() > limit) // a pipe or a file still growing
            return fileError(path, "more than the " + formatBytes(limit) + " this reads; refused");
    }
    if (in.bad())
        return fileError(path, "read failed");
    return text;
}

Result<nlohmann::json> readJsonFile(const std::string &path)
{
    std::string text;
    FS_TRY(text, readTextFile(path, kMaxJsonFileBytes));
    return parseJson(text, path);
}

int64_t jsonInt64(const nlohmann::json &value)
{
    if (value.is_number_integer()) {
        if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(INT64_MAX))
            throw nlohmann::json::type_error::create(
                302, "integer " + value.dump() + " is too large", &value);
        return value.get<int64_t>();
    }
    if (value.is_number_float()) {
        const double x = value.get<double>();
        // 2^63 is exactly representable; every double below it in magnitude fits int64.
        if (std::isfinite(x) && std::trunc(x) == x && std::fabs(x) < 9223372036854775808.0)
            return static_cast<int64_t>(x);
        throw nlohmann::json::type_error::create(
            302, "number " + value.dump() + " is not an integer in range", &value);
    }
    throw nlohmann::json::type_error::create(
        302, std::string("expected an integer, found ") + value.type_name(), &value);
}

std::string formatBytes(uint64_t bytes)
{
    const char *units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
    int u = 0;
    double v = double(bytes);
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    if (u == 0 || std::trunc(v) == v)
        return std::to_string(static_cast<uint64_t>(v)) + " " + units[u];
    char text[32];
    std::snprintf(text, sizeof text, "%.1f %s", v, units[u]);
    return text;
}

} // namespace fscope::core
