// Tokenizer files as a model directory holds them. The first byte picks the format: 0
// tokenizer.json (byte-level or SentencePiece-style BPE, added tokens, pre-tokenizer regex,
// normalizer); 1 vocab.json + merges.txt (split at the first NUL); 2 tokenizer.model (the
// SentencePiece protobuf). An accepted tokenizer then encodes and decodes text from the input.

#include "core/tokenize/tokenizer.h"
#include "tests/fuzz/fuzz_support.h"

#include <filesystem>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace fscope::core::tokenize;
    namespace fs = std::filesystem;
    if (size < 1)
        return 0;
    const std::string_view body(reinterpret_cast<const char *>(data) + 1, size - 1);
    const fs::path dir = fscope::fuzz::scratch() / "model";
    fs::remove_all(dir);
    fs::create_directories(dir);
    switch (data[0] % 3) {
    case 0:
        fscope::fuzz::writeFile("model/tokenizer.json", body);
        break;
    case 1: {
        const size_t cut = body.find('\0');
        fscope::fuzz::writeFile("model/vocab.json", body.substr(0, cut));
        fscope::fuzz::writeFile(
            "model/merges.txt", cut == std::string_view::npos ? "" : body.substr(cut + 1));
        break;
    }
    default:
        fscope::fuzz::writeFile("model/tokenizer.model", body);
    }
    auto tokenizer = loadTokenizer(dir.string());
    if (!tokenizer)
        return 0;
    const std::string text(body.substr(0, std::min<size_t>(body.size(), 256)));
    for (const std::string &sample : { std::string("Hello world, it's 2026!"), text }) {
        const auto encoded = (*tokenizer)->encode(sample);
        for (int64_t id : encoded.ids) {
            FUZZ_EXPECT(id >= 0 && id < (*tokenizer)->vocabSize());
            (void)(*tokenizer)->tokenBytes(id);
        }
        (void)(*tokenizer)->decode(encoded.ids);
    }
    return 0;
}
