#pragma once
// A pre-tokenization regex (PCRE2, UTF + Unicode properties, JIT): GPT-2, Llama 3 and Qwen 2
// patterns need \p{L}, \p{N} and lookahead, which std::regex lacks.

#include "core/util/result.h"

#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace fscope::core::tokenize {

class RegexSplitter {
public:
    static Result<std::unique_ptr<RegexSplitter>> compile(const std::string &pattern);
    ~RegexSplitter();

    // The [begin, end) byte ranges of every match, in order ("Isolated" behaviour: text between
    // matches becomes pieces of its own).
    std::vector<std::pair<size_t, size_t>> split(std::string_view text) const;

private:
    RegexSplitter() = default;
    struct Impl;
    std::unique_ptr<Impl> d;
};

// GPT-2's pattern (tokenization_gpt2.py).
extern const char *const kGpt2Pattern;

} // namespace fscope::core::tokenize
