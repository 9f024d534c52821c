#include "core/util/json_file.h"

#include <cmath>
#include <fstream>

namespace fscope::core {

Result<nlohmann::json> readJsonFile(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        return fileError(path, "cannot open");
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception &e) {
        return fileError(path, std::string("not valid JSON (") + e.what() + ")");
    }
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

} // namespace fscope::core
