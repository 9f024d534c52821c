#include "core/util/json_file.h"

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

} // namespace fscope::core
