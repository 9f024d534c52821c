#include "core/interp/chat_format.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

namespace fscope::core::interp {

namespace {

// Jinja's `trim`: leading and trailing whitespace.
std::string trim(const std::string &s)
{
    size_t a = 0, b = s.size();
    while (a < b && std::isspace(static_cast<unsigned char>(s[a])))
        ++a;
    while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1])))
        --b;
    return s.substr(a, b - a);
}

bool has(const tokenize::Tokenizer &t, const char *name)
{
    return t.tokenId(name).has_value();
}

// The system message a ChatML template writes when the conversation has none: the literal
// "<|im_start|>system\n...<|im_end|>" of its template source.
std::string defaultChatMlSystem(const std::string &modelDir)
{
    const std::string fallback = "You are a helpful assistant."; // Qwen 2's template
    std::ifstream in(std::filesystem::path(modelDir) / "tokenizer_config.json");
    if (!in)
        return fallback;
    nlohmann::json config;
    try {
        config = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception &) {
        return fallback;
    }
    if (!config.contains("chat_template") || !config["chat_template"].is_string())
        return fallback;
    const std::string t = config["chat_template"].get<std::string>();
    const std::string open = "<|im_start|>system\\n", close = "<|im_end|>";
    for (size_t at = t.find(open); at != std::string::npos; at = t.find(open, at + 1)) {
        const size_t from = at + open.size(), to = t.find(close, from);
        if (to == std::string::npos)
            break;
        const std::string text = t.substr(from, to - from);
        if (!text.empty() && text.find_first_of("'\"{}+") == std::string::npos)
            return text;
    }
    return fallback;
}

} // namespace

Result<ChatFormat> detectChatFormat(
    const tokenize::Tokenizer &tokenizer, const std::string &modelDir)
{
    if (has(tokenizer, "<start_of_turn>") && has(tokenizer, "<end_of_turn>"))
        return ChatFormat { ChatFormat::Gemma, {} };
    if (has(tokenizer, "<|start_header_id|>") && has(tokenizer, "<|eot_id|>"))
        return ChatFormat { ChatFormat::Llama3, {} };
    if (has(tokenizer, "<|im_start|>") && has(tokenizer, "<|im_end|>"))
        return ChatFormat { ChatFormat::ChatMl, defaultChatMlSystem(modelDir) };
    return fileError(modelDir,
        "no known chat format in the tokenizer (Gemma's <start_of_turn>, Llama 3's "
        "<|start_header_id|>, ChatML's <|im_start|>); serve the model with an "
        "OpenAI-compatible server and use --backend openai");
}

std::string chatFormatName(const ChatFormat &format)
{
    switch (format.kind) {
    case ChatFormat::Gemma:
        return "gemma";
    case ChatFormat::Llama3:
        return "llama3";
    case ChatFormat::ChatMl:
        return "chatml";
    }
    return "?";
}

std::string renderChat(const ChatFormat &format, const std::vector<ChatMessage> &messages)
{
    std::string out;
    switch (format.kind) {
    case ChatFormat::Gemma: {
        std::string prefix;
        size_t first = 0;
        if (!messages.empty() && messages[0].role == "system") {
            prefix = messages[0].content + "\n\n";
            first = 1;
        }
        for (size_t i = first; i < messages.size(); ++i) {
            const std::string role = messages[i].role == "assistant" ? "model" : messages[i].role;
            out += "<start_of_turn>" + role + "\n" + (i == first ? prefix : "")
                + trim(messages[i].content) + "<end_of_turn>\n";
        }
        out += "<start_of_turn>model\n";
        break;
    }
    case ChatFormat::Llama3:
        for (const auto &m : messages)
            out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + trim(m.content)
                + "<|eot_id|>";
        out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
        break;
    case ChatFormat::ChatMl:
        if (messages.empty() || messages[0].role != "system")
            out += "<|im_start|>system\n" + format.defaultSystem + "<|im_end|>\n";
        for (const auto &m : messages)
            out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
        out += "<|im_start|>assistant\n";
        break;
    }
    return out;
}

std::vector<int64_t> chatTokenIds(const ChatFormat &format, const tokenize::Tokenizer &tokenizer,
    const std::vector<ChatMessage> &m)
{
    const auto enc = tokenizer.encode(renderChat(format, m));
    std::vector<int64_t> ids;
    if (format.kind != ChatFormat::ChatMl && tokenizer.bosId())
        ids.push_back(*tokenizer.bosId());
    ids.insert(ids.end(), enc.ids.begin(), enc.ids.end());
    return ids;
}

std::vector<int64_t> chatStopTokens(const ChatFormat &format, const tokenize::Tokenizer &tokenizer)
{
    std::vector<int64_t> stops;
    const char *names[3] = { nullptr, nullptr, nullptr };
    switch (format.kind) {
    case ChatFormat::Gemma:
        names[0] = "<end_of_turn>";
        names[1] = "<eos>";
        break;
    case ChatFormat::Llama3:
        names[0] = "<|eot_id|>";
        names[1] = "<|end_of_text|>";
        names[2] = "<|eom_id|>";
        break;
    case ChatFormat::ChatMl:
        names[0] = "<|im_end|>";
        names[1] = "<|endoftext|>";
        break;
    }
    for (const char *n : names)
        if (n)
            if (auto id = tokenizer.tokenId(n))
                stops.push_back(*id);
    if (tokenizer.eosId()
        && std::find(stops.begin(), stops.end(), *tokenizer.eosId()) == stops.end())
        stops.push_back(*tokenizer.eosId());
    return stops;
}

} // namespace fscope::core::interp
