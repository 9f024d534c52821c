#pragma once
// SentencePiece `tokenizer.model` files (a ModelProto protobuf), read natively: libsentencepiece
// links protobuf-lite, which crashes at load next to LibTorch's full protobuf. BPE models with
// the identity normaliser (Llama 2, Gemma) become a SentencePieceBpeTokenizer whose merges
// come from the piece scores, as HF's SentencePieceExtractor derives them.

#include "core/tokenize/tokenizer.h"

namespace fscope::core::tokenize {

Result<std::unique_ptr<Tokenizer>> loadSentencePieceModel(const std::string &path);

} // namespace fscope::core::tokenize
