#pragma once
// Chat formats of the instruct models the in-process backend runs, as their tokenizer_config
// chat templates render them (with add_generation_prompt):
// - Gemma 2/3 IT: "<start_of_turn>user\n...<end_of_turn>\n<start_of_turn>model\n"; the
//   assistant's role is "model", content is trimmed, and a system message is prepended to the
//   first user turn followed by a blank line (Gemma 3's template; Gemma 2 has no system role).
// - Llama 3 Instruct: "<|start_header_id|>ROLE<|end_header_id|>\n\n" + trimmed content +
//   "<|eot_id|>" per message, then the assistant header.
// - ChatML (Qwen 2 Instruct): "<|im_start|>ROLE\n" + content + "<|im_end|>\n", then
//   "<|im_start|>assistant\n"; when no system message is given, the one the model's template
//   writes by default (Qwen 2: "You are a helpful assistant."; Qwen 2.5 names itself).
// The format is recognised from the tokenizer's special tokens; any other model is refused.

#include "core/interp/chat_backend.h"
#include "core/tokenize/tokenizer.h"

namespace fscope::core::interp {

struct ChatFormat {
    enum Kind { Gemma, Llama3, ChatMl } kind = Gemma;
    std::string defaultSystem; // ChatML only
};

// `modelDir`'s tokenizer_config.json chat template supplies ChatML's default system message.
Result<ChatFormat> detectChatFormat(
    const tokenize::Tokenizer &tokenizer, const std::string &modelDir);
std::string chatFormatName(const ChatFormat &format);

// The conversation as text in the format (special tokens written out, BOS not included),
// ending with the opening of the assistant's turn.
std::string renderChat(const ChatFormat &format, const std::vector<ChatMessage> &messages);

// Token ids of the rendered conversation: BOS first where the format's template writes it
// (Gemma, Llama 3), then the text with its special tokens recognised.
std::vector<int64_t> chatTokenIds(const ChatFormat &format, const tokenize::Tokenizer &tokenizer,
    const std::vector<ChatMessage> &m);

// The tokens that end the assistant's turn.
std::vector<int64_t> chatStopTokens(const ChatFormat &format, const tokenize::Tokenizer &tokenizer);

} // namespace fscope::core::interp
