#include "core/io/checkpoint.h"

#include "core/io/shard_index.h"
#include "core/util/json_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>

namespace fs = std::filesystem;

namespace fscope::core::io {

const CheckpointTensor *Checkpoint::find(const std::string &name) const
{
    const auto it = m_tensors.find(name);
    return it == m_tensors.end() ? nullptr : &it->second;
}

uint64_t Checkpoint::totalBytes() const
{
    uint64_t total = 0;
    for (const auto &[name, t] : m_tensors)
        total += t.entry->byteCount();
    return total;
}

void Checkpoint::addFile(SafetensorsFile file)
{
    m_files.push_back(std::move(file));
}

Result<Checkpoint> Checkpoint::open(const std::string &path)
{
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        const fs::path dir(path);
        if (fs::exists(dir / "model.safetensors.index.json"))
            return openIndex((dir / "model.safetensors.index.json").string());
        if (fs::exists(dir / "model.safetensors"))
            return open((dir / "model.safetensors").string());
        for (const char *pickle :
            { "pytorch_model.bin", "pytorch_model.bin.index.json", "model.pt" })
            if (fs::exists(dir / pickle))
                return fileError(path,
                    std::string("holds only a pickle checkpoint (") + pickle
                        + "); Featurescope never loads pickles because they can "
                          "run code. Save the model as safetensors (e.g. "
                          "model.save_pretrained(dir, safe_serialization=True)).");
        return fileError(path,
            "directory holds neither model.safetensors nor "
            "model.safetensors.index.json");
    }
    if (fs::path(path).extension() == ".json")
        return openIndex(path);

    auto file = SafetensorsFile::open(path);
    if (!file)
        return file.error();
    Checkpoint c;
    c.m_path = path;
    c.m_files.reserve(1);
    c.addFile(std::move(file).value());
    for (const auto &t : c.m_files.front().tensors())
        c.m_tensors[t.name] = { &c.m_files.front(), &t };
    return c;
}

Result<Checkpoint> Checkpoint::openIndex(const std::string &indexPath)
{
    std::string text;
    FS_TRY(text, readTextFile(indexPath, kMaxJsonFileBytes));
    ShardMap byShard;
    FS_TRY(byShard, parseShardIndex(text, indexPath));

    Checkpoint c;
    c.m_path = indexPath;
    // Entries point into m_files: reserve so the vector never reallocates.
    c.m_files.reserve(byShard.size());
    const fs::path dir = fs::path(indexPath).parent_path();
    for (const auto &[shardName, names] : byShard) {
        auto file = SafetensorsFile::open((dir / shardName).string());
        if (!file)
            return file.error();
        c.addFile(std::move(file).value());
        const SafetensorsFile &f = c.m_files.back();
        for (const auto &name : names) {
            const TensorEntry *entry = f.find(name);
            if (!entry)
                return fileError(f.path(),
                    "index " + fs::path(indexPath).filename().string() + " lists tensor '" + name
                        + "' but this shard does not hold it");
            c.m_tensors[name] = { &f, entry };
        }
    }
    return c;
}

} // namespace fscope::core::io
