#include "core/steer/contrast_pairs.h"

#include "core/util/json_file.h"

#include <nlohmann/json.hpp>

#include <optional>

namespace fscope::core::steer {

Result<std::vector<ContrastPair>> parseContrastPairs(std::string_view text, const std::string &path)
{
    std::vector<ContrastPair> out;
    int64_t lineNo = 0;
    for (size_t at = 0; at < text.size();) {
        const size_t end = std::min(text.find('\n', at), text.size());
        const std::string_view line = text.substr(at, end - at);
        at = end + 1;
        ++lineNo;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos)
            continue;
        const std::string where = path + ":" + std::to_string(lineNo);
        if (auto deep = checkJsonDepth(line, where); !deep)
            return deep.error();
        const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object())
            return Error { where + ": not a JSON object" };
        auto field = [&](std::initializer_list<const char *> keys) -> std::optional<std::string> {
            for (const char *k : keys)
                if (j.contains(k) && j[k].is_string())
                    return j[k].get<std::string>();
            return std::nullopt;
        };
        const auto prompt = field({ "prompt", "question" });
        const auto pos = field({ "positive", "answer_matching_behavior" });
        const auto neg = field({ "negative", "answer_not_matching_behavior" });
        if (!prompt || !pos || !neg)
            return Error { where + ": needs \"prompt\", \"positive\" and \"negative\" strings" };
        if (pos->empty() || neg->empty())
            return Error { where + ": an empty completion has no token to read" };
        out.push_back({ *prompt, *pos, *neg });
    }
    if (out.empty())
        return fileError(path, "holds no prompt pairs");
    return out;
}

Result<std::vector<ContrastPair>> readContrastPairs(const std::string &path)
{
    std::string text;
    FS_TRY(text, readTextFile(path, kMaxContrastPairsBytes));
    return parseContrastPairs(text, path);
}

} // namespace fscope::core::steer
