#include "app/demo/demo_text.h"

#include "core/corpus/corpus.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fscope::demo {

namespace {

// Whitespace runs (newlines, tabs, indentation) become one space; ends are trimmed.
std::string collapse(const std::string &text)
{
    std::string out;
    bool space = false;
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = !out.empty();
            continue;
        }
        if (space)
            out += ' ';
        space = false;
        out += c;
    }
    return out;
}

int words(const std::string &s)
{
    return int(std::count(s.begin(), s.end(), ' ')) + (s.empty() ? 0 : 1);
}

} // namespace

Result<std::vector<std::string>> readFortunes(
    const std::string &dir, const std::vector<std::string> &skip)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return fileError(dir, "not a directory of fortune files");
    std::vector<fs::path> files;
    for (const auto &e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        // .dat are strfile indexes, .u8 the UTF-8 links some packages add.
        if (!e.is_regular_file() || e.path().has_extension()
            || std::find(skip.begin(), skip.end(), name) != skip.end())
            continue;
        files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<std::string> docs;
    for (const auto &f : files) {
        std::ifstream in(f);
        std::string line, cur;
        auto flush = [&] {
            if (std::string d = collapse(cur); words(d) >= 3)
                docs.push_back(std::move(d));
            cur.clear();
        };
        while (std::getline(in, line)) {
            if (line == "%")
                flush();
            else
                cur += line + "\n";
        }
        flush();
    }
    if (docs.empty())
        return fileError(dir, "no fortunes found");
    return docs;
}

Result<std::vector<std::string>> readParagraphs(const std::string &file, int minWords)
{
    std::ifstream in(file);
    if (!in)
        return fileError(file, "cannot read");
    std::vector<std::string> docs;
    std::string line, cur;
    auto flush = [&] {
        if (std::string d = collapse(cur); words(d) >= minWords)
            docs.push_back(std::move(d));
        cur.clear();
    };
    while (std::getline(in, line)) {
        if (collapse(line).empty())
            flush();
        else
            cur += line + "\n";
    }
    flush();
    return docs;
}

TextSplit splitDocuments(
    std::vector<std::string> docs, uint64_t seed, double heldoutShare, double indexShare)
{
    uint64_t state = seed;
    for (size_t i = docs.size(); i > 1; --i) {
        state = core::corpus::mix64(state);
        std::swap(docs[i - 1], docs[state % i]);
    }
    TextSplit s;
    const size_t nHeld = size_t(double(docs.size()) * heldoutShare),
                 nIndex = size_t(double(docs.size()) * indexShare);
    s.heldout.assign(docs.begin(), docs.begin() + long(nHeld));
    s.index.assign(docs.begin() + long(nHeld), docs.begin() + long(nHeld + nIndex));
    s.train.assign(docs.begin() + long(nHeld + nIndex), docs.end());
    return s;
}

Status writeLines(const std::string &path, const std::vector<std::string> &lines)
{
    std::ofstream out(path, std::ios::binary);
    for (const auto &l : lines)
        out << l << '\n';
    if (!out)
        return fileError(path, "cannot write");
    return {};
}

Result<std::vector<std::string>> readLines(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fileError(path, "cannot read");
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line))
        if (!line.empty())
            lines.push_back(line);
    return lines;
}

} // namespace fscope::demo
