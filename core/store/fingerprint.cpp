#include "core/store/fingerprint.h"

#include "core/corpus/corpus.h"

#include "core/store/sha256.h"

#include <c10/util/Half.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fscope::core::store {

namespace fs = std::filesystem;

Result<std::string> fingerprintFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fileError(path, std::string("cannot open: ") + std::strerror(errno));
    Sha256 h;
    std::vector<char> buffer(1 << 20);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        h.update(buffer.data(), static_cast<size_t>(in.gcount()));
    }
    if (in.bad())
        return fileError(path, "read error");
    return h.hexDigest();
}

std::string fingerprintCheckpoint(const io::Checkpoint &checkpoint)
{
    Sha256 h;
    for (const auto &[name, t] : checkpoint.tensors()) {
        const std::string line = name + '\t' + std::string(io::dtypeName(t.entry->dtype)) + '\t'
            + io::formatShape(t.entry->shape) + '\t' + std::to_string(t.entry->begin) + '\n';
        h.update(line);
        const uint64_t n = t.entry->byteCount(), sample = std::min<uint64_t>(n, 4096);
        const uint8_t *data = t.file->bytes(*t.entry);
        for (uint64_t start : { uint64_t { 0 }, (n - sample) / 2, n - sample })
            h.update(data + start, sample);
    }
    return h.hexDigest();
}

Result<std::string> fingerprintJson(const std::string &jsonText, const std::string &fileName)
{
    try {
        // nlohmann::json stores objects in a std::map: dump() is already key-sorted.
        return sha256Hex(nlohmann::json::parse(jsonText).dump());
    } catch (const nlohmann::json::exception &e) {
        return fileError(fileName, std::string("not valid JSON (") + e.what() + ")");
    }
}

std::string combineFingerprints(const std::vector<std::string> &parts)
{
    Sha256 h;
    for (const auto &p : parts) {
        h.update(std::to_string(p.size()) + ':');
        h.update(p);
    }
    return h.hexDigest();
}

Result<std::string> fingerprintModel(const std::string &modelDir)
{
    std::string configText;
    {
        std::ifstream in(fs::path(modelDir) / "config.json");
        if (!in)
            return fileError((fs::path(modelDir) / "config.json").string(), "cannot open");
        std::stringstream ss;
        ss << in.rdbuf();
        configText = ss.str();
    }
    std::string configFp;
    FS_TRY(configFp, fingerprintJson(configText, (fs::path(modelDir) / "config.json").string()));
    auto checkpoint = io::Checkpoint::open(modelDir);
    if (!checkpoint)
        return checkpoint.error();
    return combineFingerprints({ "model-v1", configFp, fingerprintCheckpoint(*checkpoint) });
}

std::string fingerprintSae(const sae::Sae &sae)
{
    const auto &c = sae.config();
    Sha256 h;
    std::ostringstream cfg;
    cfg << "sae-v1|" << sae::architectureName(c.architecture) << '|' << c.dIn << '|' << c.dSae
        << '|' << c.k << '|' << c.rescaleActsByDecoderNorm << '|' << c.applyBDecToInput << '|'
        << sae::normalizationName(c.normalization) << '|' << c.centerInput << '|' << c.hookName;
    // Other kinds add what they write to; an SAE's fingerprint stays what it always was.
    if (c.kind != sae::DictionaryKind::Sae) {
        cfg << '|' << sae::kindName(c.kind) << '|' << c.decoderWidth();
        for (const auto &hook : c.hooksOut)
            cfg << '|' << hook;
    }
    h.update(cfg.str());
    const auto &w = sae.weights();
    for (const at::Tensor *t :
        { &w.W_enc, &w.b_enc, &w.W_dec, &w.b_dec, &w.threshold, &w.b_gate, &w.r_mag, &w.b_mag }) {
        if (!t->defined()) {
            h.update("-");
            continue;
        }
        const at::Tensor host = t->to(at::kCPU).contiguous();
        h.update(
            std::string(c10::toString(host.scalar_type())) + ':' + std::to_string(host.numel()));
        h.update(host.data_ptr(), static_cast<size_t>(host.nbytes()));
    }
    for (const at::Tensor *t : { &w.W_skip, &w.W_dec_blocks }) {
        if (!t->defined())
            continue;
        const at::Tensor host = t->to(at::kCPU).contiguous();
        h.update(std::string("extra:") + c10::toString(host.scalar_type()) + ':'
            + std::to_string(host.numel()));
        h.update(host.data_ptr(), static_cast<size_t>(host.nbytes()));
    }
    return h.hexDigest();
}

Result<std::string> fingerprintTokenizer(const std::string &modelDir)
{
    std::vector<std::string> parts = { "tokenizer-v1" };
    for (const char *name : { "tokenizer.json", "vocab.json", "merges.txt", "tokenizer.model",
             "tokenizer_config.json", "special_tokens_map.json" }) {
        const fs::path p = fs::path(modelDir) / name;
        if (!fs::exists(p))
            continue;
        std::string h;
        FS_TRY(h, fingerprintFile(p.string()));
        parts.push_back(std::string(name) + "=" + h);
    }
    return combineFingerprints(parts);
}

Result<std::string> corpusFingerprint(
    const corpus::CorpusSpec &spec, const std::string &tokenizerFingerprint)
{
    std::vector<std::string> parts = { "corpus-v1", tokenizerFingerprint,
        spec.split == corpus::Split::Lines ? "lines" : "files", spec.textField,
        std::to_string(spec.contextLength), std::to_string(spec.tokenBudget),
        std::to_string(spec.seed) };
    std::vector<std::string> files;
    FS_TRY(files, corpus::corpusFiles(spec));
    for (const auto &f : files) {
        std::string h;
        FS_TRY(h, fingerprintFile(f));
        parts.push_back(h);
    }
    return combineFingerprints(parts);
}

} // namespace fscope::core::store
