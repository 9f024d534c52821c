#include "core/tokenize/regex_splitter.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <mutex>

namespace fscope::core::tokenize {

const char *const kGpt2Pattern
    = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct RegexSplitter::Impl {
    pcre2_code *code = nullptr;
    ~Impl() { pcre2_code_free(code); }
};

RegexSplitter::~RegexSplitter() = default;

Result<std::unique_ptr<RegexSplitter>> RegexSplitter::compile(const std::string &pattern)
{
    int error = 0;
    PCRE2_SIZE offset = 0;
    // MATCH_INVALID_UTF: user text with broken UTF-8 still splits instead of failing.
    pcre2_code *code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
        PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
    if (!code) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(error, message, sizeof message);
        return Error { "pre-tokenizer regex does not compile at offset " + std::to_string(offset)
            + ": " + reinterpret_cast<const char *>(message) };
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); // falls back to the interpreter if unavailable
    std::unique_ptr<RegexSplitter> s(new RegexSplitter);
    s->d = std::make_unique<Impl>();
    s->d->code = code;
    return s;
}

std::vector<std::pair<size_t, size_t>> RegexSplitter::split(std::string_view text) const
{
    std::vector<std::pair<size_t, size_t>> pieces;
    pcre2_match_data *match = pcre2_match_data_create_from_pattern(d->code, nullptr);
    size_t pos = 0, last = 0;
    while (pos <= text.size()) {
        const int rc = pcre2_match(d->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
            pos, 0, match, nullptr);
        if (rc < 0)
            break;
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(match);
        const size_t begin = ov[0], end = ov[1];
        if (begin > last)
            pieces.emplace_back(last, begin); // unmatched text stays a piece of its own
        if (end > begin)
            pieces.emplace_back(begin, end);
        last = end;
        if (end == begin) {
            // Empty match: step one UTF-8 character forward.
            pos = end + 1;
            while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80)
                ++pos;
        } else {
            pos = end;
        }
    }
    if (last < text.size())
        pieces.emplace_back(last, text.size());
    pcre2_match_data_free(match);
    return pieces;
}

} // namespace fscope::core::tokenize
