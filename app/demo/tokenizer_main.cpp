// featurescope-demo-tokenizer TEXT OUT_DIR [VOCAB]: trains the demo model's SentencePiece BPE
// tokenizer on TEXT (one document per line) and writes OUT_DIR/tokenizer.model and
// tokenizer_config.json. A program of its own, linked without LibTorch: SentencePiece and
// LibTorch each bring a protobuf, and the two clash when loaded into one process.

#include <sentencepiece_trainer.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

int main(int argc, char **argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: featurescope-demo-tokenizer TEXT OUT_DIR [VOCAB]\n");
        return 2;
    }
    const std::string text = argv[1], out = argv[2], vocab = argc > 3 ? argv[3] : "4096";
    std::filesystem::create_directories(out);
    // Llama's SentencePiece settings: BPE, byte fallback (any text encodes), digits split,
    // identity normalisation, a dummy prefix space; <unk>=0, <s>=1, </s>=2. One thread and
    // the whole input, unshuffled: the same text always gives the same model.
    const std::string args = "--input=" + text + " --model_prefix=" + out + "/tokenizer"
        + " --model_type=bpe --vocab_size=" + vocab
        + " --byte_fallback=true --split_digits=true --normalization_rule_name=identity"
          " --add_dummy_prefix=true --remove_extra_whitespaces=false --character_coverage=1.0"
          " --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --input_sentence_size=0"
          " --shuffle_input_sentence=false --max_sentence_length=100000 --num_threads=1 "
          "--minloglevel=1";
    const auto status = sentencepiece::SentencePieceTrainer::Train(args);
    if (!status.ok()) {
        std::fprintf(stderr, "error: %s: SentencePiece training failed: %s\n", text.c_str(),
            status.ToString().c_str());
        return 1;
    }
    std::filesystem::remove(out + "/tokenizer.vocab");
    std::ofstream(out + "/tokenizer_config.json")
        << "{\n  \"add_bos_token\": true,\n  \"add_eos_token\": false,\n  \"bos_token\": \"<s>\",\n"
           "  \"eos_token\": \"</s>\",\n  \"unk_token\": \"<unk>\",\n  \"tokenizer_class\": "
           "\"LlamaTokenizer\",\n"
           "  \"model_max_length\": 256\n}\n";
    std::printf("wrote %s/tokenizer.model\n", out.c_str());
    return 0;
}
