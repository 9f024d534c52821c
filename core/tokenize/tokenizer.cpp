#include "core/tokenize/tokenizer.h"

#include "core/tokenize/byte_level_bpe.h"
#include "core/tokenize/sentencepiece_bpe.h"
#include "core/tokenize/sentencepiece_model.h"

#include "core/util/json_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace fscope::core::tokenize {

Encoding Tokenizer::encodeForModel(std::string_view text, std::optional<bool> bos) const
{
    Encoding e = encode(text);
    if (bos.value_or(m_addBos) && m_bos) {
        e.ids.insert(e.ids.begin(), *m_bos);
        e.spans.insert(e.spans.begin(), { 0, 0 });
    }
    return e;
}

std::string sanitizeUtf8(std::string_view b)
{
    std::string out;
    for (size_t i = 0; i < b.size();) {
        const unsigned char c = static_cast<unsigned char>(b[i]);
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool valid = len > 0 && i + len <= b.size();
        for (size_t k = 1; valid && k < len; ++k)
            valid = (static_cast<unsigned char>(b[i + k]) & 0xC0) == 0x80;
        if (valid) {
            out.append(b.substr(i, len));
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

namespace {

// The regex and the ignore_merges flag of a byte-level tokenizer.json, or an error.
Result<std::pair<std::string, bool>> byteLevelSettings(const json &doc, const std::string &file)
{
    std::string pattern;
    bool byteLevel = false;
    std::function<void(const json &)> visit = [&](const json &p) {
        if (!p.is_object())
            return;
        const std::string type = p.value("type", "");
        if (type == "Sequence")
            for (const auto &child : p.value("pretokenizers", json::array()))
                visit(child);
        else if (type == "ByteLevel") {
            byteLevel = true;
            if (p.value("use_regex", true) && pattern.empty())
                pattern = kGpt2Pattern;
        } else if (type == "Split" && p.contains("pattern") && p["pattern"].contains("Regex"))
            pattern = p["pattern"]["Regex"].get<std::string>();
    };
    visit(doc.value("pre_tokenizer", json()));
    if (!byteLevel)
        return fileError(file,
            "only byte-level (GPT-2, Llama 3, Qwen 2) and SentencePiece-style "
            "(Gemma) BPE tokenizer.json files are supported");
    if (pattern.empty())
        pattern = kGpt2Pattern;
    return std::make_pair(pattern, doc["model"].value("ignore_merges", false));
}

// SentencePiece-style normalizers: Replace(" " -> "▁"), possibly after Prepend("▁").
// Returns nullopt when the normalizer is not of that kind, else whether a space is prepended.
std::optional<bool> sentencePieceNormalizer(const json &n)
{
    bool replace = false, prepend = false;
    std::function<void(const json &)> visit = [&](const json &p) {
        if (!p.is_object())
            return;
        const std::string type = p.value("type", "");
        if (type == "Sequence")
            for (const auto &c : p.value("normalizers", json::array()))
                visit(c);
        else if (type == "Replace" && p.value("content", "") == "\xe2\x96\x81")
            replace = true;
        else if (type == "Prepend" && p.value("prepend", "") == "\xe2\x96\x81")
            prepend = true;
    };
    visit(n);
    if (!replace)
        return std::nullopt;
    return prepend;
}

std::string badId(const std::string &text, const json &id)
{
    return "token '" + sanitizeUtf8(text.substr(0, 64)) + "' has id " + id.dump() + ", outside 0.."
        + std::to_string(kMaxTokenId);
}

Result<std::unique_ptr<Tokenizer>> fromTokenizerJson(const fs::path &path)
{
    auto doc = readJsonFile(path.string());
    if (!doc)
        return doc.error();
    const std::string file = path.string();
    try {
        const json &model = (*doc)["model"];
        if (model.value("type", "BPE") != "BPE")
            return fileError(file,
                "tokenizer model '" + model.value("type", "") + "' is not supported (BPE only)");
        const auto sentencePiece = sentencePieceNormalizer(doc->value("normalizer", json()));
        Result<std::pair<std::string, bool>> settings = std::make_pair(std::string(), false);
        if (!sentencePiece) {
            settings = byteLevelSettings(*doc, file);
            if (!settings)
                return settings.error();
        }
        BpeModel bpe;
        for (const auto &[text, id] : model.at("vocab").items())
            if (!bpe.addToken(text, jsonInt64(id)))
                return fileError(file, badId(text, id));
        for (const auto &m : model.at("merges")) {
            if (m.is_array()) { // newer ["a", "b"] form
                bpe.addMerge(m.at(0).get<std::string>(), m.at(1).get<std::string>());
            } else { // legacy "a b"
                const std::string s = m.get<std::string>();
                const size_t space = s.find(' ');
                if (space == std::string::npos)
                    return fileError(file, "merge '" + s + "' is not two tokens");
                bpe.addMerge(s.substr(0, space), s.substr(space + 1));
            }
        }
        std::vector<AddedToken> added;
        for (const auto &a : doc->value("added_tokens", json::array())) {
            const int64_t id = jsonInt64(a.at("id"));
            if (!validTokenId(id))
                return fileError(file, badId(a.at("content").get<std::string>(), a.at("id")));
            added.push_back({ a.at("content").get<std::string>(), id });
        }
        if (sentencePiece) {
            std::optional<int64_t> unk;
            if (model.contains("unk_token") && model["unk_token"].is_string())
                if (const int64_t id = bpe.find(model["unk_token"].get<std::string>()); id >= 0)
                    unk = id;
            return std::unique_ptr<Tokenizer>(new SentencePieceBpeTokenizer(std::move(bpe),
                std::move(added), *sentencePiece, model.value("byte_fallback", false), unk));
        }
        auto splitter = RegexSplitter::compile(settings->first);
        if (!splitter)
            return fileError(file, splitter.errorMessage());
        return std::unique_ptr<Tokenizer>(new ByteLevelBpeTokenizer(
            std::move(bpe), std::move(splitter).value(), std::move(added), settings->second));
    } catch (const json::exception &e) {
        return fileError(file, std::string("unexpected structure (") + e.what() + ")");
    }
}

Result<std::unique_ptr<Tokenizer>> fromVocabAndMerges(
    const fs::path &vocabPath, const fs::path &mergesPath)
{
    auto vocab = readJsonFile(vocabPath.string());
    if (!vocab)
        return vocab.error();
    BpeModel bpe;
    std::vector<AddedToken> added;
    if (!vocab->is_object())
        return fileError(vocabPath.string(), "is not a JSON object of token -> id");
    try {
        for (const auto &[text, id] : vocab->items()) {
            if (!bpe.addToken(text, jsonInt64(id)))
                return fileError(vocabPath.string(), badId(text, id));
            if (text == "<|endoftext|>")
                added.push_back({ text, jsonInt64(id) });
        }
    } catch (const json::exception &e) {
        return fileError(
            vocabPath.string(), std::string("unexpected structure (") + e.what() + ")");
    }
    std::ifstream merges(mergesPath);
    if (!merges)
        return fileError(mergesPath.string(), "cannot open");
    std::string line;
    while (std::getline(merges, line)) {
        if (line.rfind("#version", 0) == 0 || line.empty())
            continue;
        const size_t space = line.find(' ');
        if (space == std::string::npos)
            return fileError(
                mergesPath.string(), "line '" + line + "' is not a merge of two tokens");
        bpe.addMerge(line.substr(0, space), line.substr(space + 1));
    }
    auto splitter = RegexSplitter::compile(kGpt2Pattern);
    if (!splitter)
        return splitter.error();
    return std::unique_ptr<Tokenizer>(new ByteLevelBpeTokenizer(
        std::move(bpe), std::move(splitter).value(), std::move(added), false));
}

std::optional<std::string> tokenString(const json &v)
{
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_object() && v.contains("content"))
        return v["content"].get<std::string>();
    return std::nullopt;
}

// BOS/EOS ids and whether BOS is added by default, from tokenizer_config.json, the
// tokenizer.json post-processor and config.json, over what the tokenizer file itself says
// (a SentencePiece model carries its own ids).
void applySpecialTokens(Tokenizer &t, const fs::path &dir)
{
    std::optional<int64_t> bos = t.bosId(), eos = t.eosId();
    std::optional<bool> addBos;
    if (auto cfg = readJsonFile((dir / "tokenizer_config.json").string())) {
        if (auto s = tokenString(cfg->value("bos_token", json())))
            bos = t.tokenId(*s);
        if (auto s = tokenString(cfg->value("eos_token", json())))
            eos = t.tokenId(*s);
        if (cfg->contains("add_bos_token") && (*cfg)["add_bos_token"].is_boolean())
            addBos = (*cfg)["add_bos_token"].get<bool>();
    }
    if (auto model = readJsonFile((dir / "config.json").string())) {
        // An id outside the vocabulary's range is ignored, never used as an index.
        auto id = [](const json &v) -> std::optional<int64_t> {
            const json &first = v.is_array() && !v.empty() ? v[0] : v;
            if (first.is_number_integer() && !first.is_number_unsigned())
                if (const int64_t i = first.get<int64_t>(); validTokenId(i))
                    return i;
            if (first.is_number_unsigned() && first.get<uint64_t>() <= uint64_t(kMaxTokenId))
                return int64_t(first.get<uint64_t>());
            return std::nullopt;
        };
        if (!bos)
            bos = id(model->value("bos_token_id", json()));
        if (!eos)
            eos = id(model->value("eos_token_id", json()));
    }
    if (!addBos) {
        // A TemplateProcessing post-processor that starts with the BOS token adds it.
        addBos = t.addsBosByDefault();
        if (auto doc = readJsonFile((dir / "tokenizer.json").string())) {
            const json pp = doc->value("post_processor", json());
            std::function<void(const json &)> visit = [&](const json &p) {
                if (!p.is_object())
                    return;
                if (p.value("type", "") == "Sequence")
                    for (const auto &c : p.value("processors", json::array()))
                        visit(c);
                if (p.value("type", "") == "TemplateProcessing" && p.contains("single")
                    && !p["single"].empty() && p["single"][0].contains("SpecialToken"))
                    addBos = true;
            };
            visit(pp);
        }
    }
    if (!bos) // GPT-2 style vocabularies: <|endoftext|> doubles as BOS for SAE work
        bos = t.tokenId("<|endoftext|>");
    t.setSpecialTokens(bos, eos, *addBos);
}

} // namespace

Result<std::unique_ptr<Tokenizer>> loadTokenizer(const std::string &modelDir)
{
    const fs::path dir(modelDir);
    Result<std::unique_ptr<Tokenizer>> t = Error {};
    if (fs::exists(dir / "tokenizer.json"))
        t = fromTokenizerJson(dir / "tokenizer.json");
    else if (fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt"))
        t = fromVocabAndMerges(dir / "vocab.json", dir / "merges.txt");
    else if (fs::exists(dir / "tokenizer.model"))
        t = loadSentencePieceModel((dir / "tokenizer.model").string());
    else
        return fileError(modelDir,
            "no tokenizer found (tokenizer.json, vocab.json + merges.txt, or tokenizer.model)");
    if (!t)
        return t;
    applySpecialTokens(**t, dir);
    return t;
}

std::string continuationText(const Tokenizer &tokenizer, const std::vector<int64_t> &prompt,
    const std::vector<int64_t> &generated)
{
    std::vector<int64_t> all = prompt;
    all.insert(all.end(), generated.begin(), generated.end());
    const std::string before = tokenizer.decode(prompt), after = tokenizer.decode(all);
    if (after.size() >= before.size() && after.compare(0, before.size(), before) == 0)
        return after.substr(before.size());
    return tokenizer.decode(generated);
}

} // namespace fscope::core::tokenize
