#include "core/io/inspect.h"

#include "core/io/checkpoint.h"
#include "core/io/npz_file.h"

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace fscope::core::io {

uint64_t InspectReport::totalBytes() const
{
    uint64_t total = 0;
    for (const auto &t : tensors)
        total += t.bytes;
    return total;
}

bool looksLikePickle(const std::string &path)
{
    const std::string ext = fs::path(path).extension().string();
    if (ext == ".bin" || ext == ".pt" || ext == ".pth" || ext == ".pkl" || ext == ".pickle"
        || ext == ".ckpt")
        return true;
    // Pickle protocol 2+ starts with PROTO (0x80) and a version byte; torch.save zips hold a
    // "data.pkl" member.
    std::ifstream in(path, std::ios::binary);
    unsigned char head[2] = { 0, 0 };
    in.read(reinterpret_cast<char *>(head), 2);
    if (in.gcount() == 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5)
        return true;
    if (head[0] == 'P' && head[1] == 'K') {
        std::string all((std::istreambuf_iterator<char>(in)), {});
        return all.find("data.pkl") != std::string::npos;
    }
    return false;
}

std::string pickleRefusal(const std::string &path)
{
    return path
        + ": this is a Python pickle checkpoint. Featurescope never loads pickles "
          "because unpickling can run arbitrary code. Convert it to safetensors "
          "(for example with safetensors.torch.save_file) and open that instead.";
}

namespace {

Result<InspectReport> inspectCheckpoint(const std::string &path)
{
    auto checkpoint = Checkpoint::open(path);
    if (!checkpoint)
        return checkpoint.error();
    InspectReport report;
    report.format
        = checkpoint->files().size() > 1 || fs::path(checkpoint->path()).extension() == ".json"
        ? "sharded safetensors"
        : "safetensors";
    for (const auto &[name, t] : checkpoint->tensors())
        report.tensors.push_back({ name, std::string(dtypeName(t.entry->dtype)), t.entry->shape,
            t.entry->byteCount(), fs::path(t.file->path()).filename().string() });
    for (const auto &f : checkpoint->files())
        report.metadata.insert(f.header().metadata.begin(), f.header().metadata.end());
    return report;
}

Result<InspectReport> inspectNpz(const std::string &path)
{
    auto npz = NpzFile::open(path);
    if (!npz)
        return npz.error();
    InspectReport report;
    report.format = "npz";
    for (const auto &name : npz->names()) {
        auto h = npz->header(name);
        if (!h)
            return h.error();
        report.tensors.push_back({ name, h->descr, h->shape, h->dataBytes, name + ".npy" });
    }
    return report;
}

} // namespace

Result<InspectReport> inspectFile(const std::string &path)
{
    std::error_code ec;
    if (!fs::exists(path, ec))
        return fileError(path, "no such file or directory");
    if (fs::is_directory(path, ec))
        return inspectCheckpoint(path);
    if (looksLikePickle(path))
        return Error { pickleRefusal(path) };
    const std::string ext = fs::path(path).extension().string();
    if (ext == ".safetensors" || ext == ".json")
        return inspectCheckpoint(path);
    if (ext == ".npz")
        return inspectNpz(path);
    // Unknown extension: decide by content.
    std::ifstream in(path, std::ios::binary);
    char head[4] = {};
    in.read(head, 4);
    if (head[0] == 'P' && head[1] == 'K')
        return inspectNpz(path);
    if (in.gcount() == 4)
        if (auto report = inspectCheckpoint(path))
            return report;
    return fileError(path,
        "not a tensor file Featurescope can read (expected .safetensors, "
        "model.safetensors.index.json, a model directory or .npz)");
}

} // namespace fscope::core::io
