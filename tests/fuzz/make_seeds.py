#!/usr/bin/python3
"""Seed inputs for the fuzz targets, written small so every mutation runs fast: safetensors and
.npy images of every dtype and shape kind, the fixtures' npz archives and model configs, and
tokenizers (byte-level tokenizer.json, vocab.json + merges.txt, the demo's SentencePiece model)
prefixed with the fuzz_tokenizer format byte; dictionary configs, corpus files, prompt pairs,
shard indexes and explanation exports. Usage: make_seeds.py SOURCE_DIR OUT_DIR"""

import io
import json
import os
import struct
import sys

import numpy as np

src, out = sys.argv[1], sys.argv[2]


def put(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


put("fuzz_safetensors_header", "two.safetensors", safetensors({
    "a": ("F32", [2, 3], np.arange(6, dtype="<f4").tobytes()),
    "b": ("BF16", [4], b"\x80\x3f" * 4)}, {"format": "pt"}))
put("fuzz_safetensors_header", "scalar.safetensors",
    safetensors({"s": ("I64", [], struct.pack("<q", 7)), "e": ("F16", [0, 5], b"")}))
put("fuzz_safetensors_header", "f4.safetensors", safetensors({"q": ("F4", [2, 4], b"\x12\x34\x56\x78")}))
for name in ("all_dtypes.safetensors", "model-00001-of-00002.safetensors",
             "model-00002-of-00002.safetensors"):
    with open(os.path.join(src, "tests/fixtures/io", name), "rb") as f:
        put("fuzz_safetensors_header", name, f.read())

for i, a in enumerate([np.arange(6, dtype="<f4").reshape(2, 3), np.zeros((0, 3), dtype="<i8"),
                       np.array(3.5, dtype="<f8"), np.asfortranarray(np.ones((2, 2), dtype="<f2")),
                       np.array([True, False]), np.arange(4, dtype=">i4")]):
    buf = io.BytesIO()
    np.save(buf, a)
    put("fuzz_npy", f"{i}.npy", buf.getvalue())
buf = io.BytesIO()
np.lib.format.write_array(buf, np.arange(3, dtype="<u2"), version=(2, 0))
put("fuzz_npy", "v2.npy", buf.getvalue())

for name in ("numpy_savez.npz", "numpy_savez_compressed.npz", "gemma_scope_params.npz",
             "object_array.npz"):
    with open(os.path.join(src, "tests/fixtures/io", name), "rb") as f:
        put("fuzz_zip", name, f.read())

models = os.path.join(src, "tests/fixtures/models")
for family in sorted(os.listdir(models)):
    with open(os.path.join(models, family, "config.json"), "rb") as f:
        put("fuzz_model_config", family + ".json", f.read())
with open(os.path.join(src, "resources/demo/model/config.json"), "rb") as f:
    put("fuzz_model_config", "demo.json", f.read())

# A byte-level BPE over the 256 byte symbols and a few merges, as tokenizer.json and as
# vocab.json + merges.txt.
alphabet = [chr(c) for c in range(ord("!"), ord("~") + 1)] + ["\u0120", "\u010a"]
vocab = {s: i for i, s in enumerate(alphabet)}
merges = ["\u0120 t", "h e", "\u0120t he", "i n", "e r"]
for m in merges:
    vocab[m.replace(" ", "")] = len(vocab)
tokenizer = {
    "version": "1.0", "added_tokens": [{"id": len(vocab), "content": "<|endoftext|>", "special": True,
                                        "single_word": False, "lstrip": False, "rstrip": False,
                                        "normalized": False}],
    "normalizer": None,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                      "use_regex": True},
    "post_processor": None, "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
              "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
              "vocab": vocab, "merges": merges}}
put("fuzz_tokenizer", "tokenizer_json", b"\x00" + json.dumps(tokenizer).encode())
put("fuzz_tokenizer", "vocab_merges", b"\x01" + json.dumps(vocab).encode() + b"\x00"
    + ("#version: 0.2\n" + "\n".join(merges) + "\n").encode())
with open(os.path.join(src, "resources/demo/model/tokenizer.model"), "rb") as f:
    put("fuzz_tokenizer", "sentencepiece", b"\x02" + f.read())

# Dictionary configs, prefixed with fuzz_sae_config's format byte.
for folder in ("tests/fixtures/sae/saelens_v5_topk", "tests/fixtures/sae/saelens_v6_jumprelu",
               "tests/fixtures/sae/saelens_v6_layernorm",
               "tests/fixtures/dictionaries/saelens_skip_transcoder",
               "resources/demo/saes/layer1-topk"):
    with open(os.path.join(src, folder, "cfg.json"), "rb") as f:
        put("fuzz_sae_config", "saelens_" + os.path.basename(folder), b"\x00" + f.read())
put("fuzz_sae_config", "sparsify_sae", b"\x01layers.6\x00" + json.dumps(
    {"activation": "topk", "expansion_factor": 32, "normalize_decoder": True, "num_latents": 0,
     "k": 32, "multi_topk": False, "skip_connection": False, "transcode": False}).encode())
put("fuzz_sae_config", "sparsify_transcoder", b"\x01layers.3.mlp\x00" + json.dumps(
    {"activation": "topk", "k": 16, "skip_connection": True, "transcode": True}).encode())
with open(os.path.join(src, "tests/fixtures/dictionaries/gemma_scope_2_transcoder/config.json"),
          "rb") as f:
    put("fuzz_sae_config", "gemma_scope_2", b"\x02" + f.read())
put("fuzz_sae_config", "paths", b"\x03gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82\x00"
    b"model.language_model.layers.4.post_feedforward_layernorm.output")

# Corpus files, prefixed with fuzz_corpus's name/split byte.
with open(os.path.join(src, "resources/demo/corpus/demo-corpus.txt"), "rb") as f:
    text = f.read()[:2048]
put("fuzz_corpus", "lines", b"\x00" + text)
put("fuzz_corpus", "file", b"\x02" + text)
put("fuzz_corpus", "jsonl", b"\x01" + "\n".join(json.dumps({"text": t, "id": i}) for i, t in enumerate(
    ["The cat sat.", "caf\u00e9 \u2603 \"quoted\"\\n", "", "line\nbreak"])).encode() + b"\n\n")

with open(os.path.join(src, "resources/demo/vectors/computers-vs-love.jsonl"), "rb") as f:
    put("fuzz_contrast_pairs", "demo.jsonl", f.read()[:4096].rsplit(b"\n", 1)[0] + b"\n")
put("fuzz_contrast_pairs", "caa.jsonl", json.dumps(
    {"question": "Is it?", "answer_matching_behavior": " (A)",
     "answer_not_matching_behavior": " (B)"}).encode() + b"\n")

for name in ("tests/fixtures/io/model.safetensors.index.json",
             "tests/fixtures/models/llama/model.safetensors.index.json"):
    with open(os.path.join(src, name), "rb") as f:
        put("fuzz_shard_index", name.replace("/", "_"), f.read())

records = [{"modelId": "gemma-2-2b", "layer": "12-gemmascope-res-16k", "index": "5",
            "description": "mentions of cats", "explanationModelName": "gpt-4o-mini",
            "typeName": "oai_token-act-pair"},
           {"modelId": "gemma-2-2b", "layer": "12-gemmascope-res-16k", "index": 17,
            "description": "the word 'the'"}]
put("fuzz_explanations", "array.json", json.dumps(records).encode())
put("fuzz_explanations", "lines.jsonl", "\n".join(json.dumps(r) for r in records).encode())
