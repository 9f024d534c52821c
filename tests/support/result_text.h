#pragma once
// A query's text, or `fallback` when it failed: for assertions that compare the text (a failed
// query then fails the comparison with the fallback shown).

#include <string>

namespace fscope::test {

template <typename R> std::string textOr(const R &result, const std::string &fallback)
{
    return result.ok() ? std::string(result.value()) : fallback;
}

} // namespace fscope::test
