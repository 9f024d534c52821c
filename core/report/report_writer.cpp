#include "core/report/report_writer.h"

#include "core/io/atomic_file.h"
#include "core/report/report_html.h"
#include "core/report/report_markdown.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace fscope::core::report {

namespace fs = std::filesystem;

std::optional<ReportFormat> parseReportFormat(const std::string &name)
{
    if (name == "html")
        return ReportFormat::Html;
    if (name == "md" || name == "markdown")
        return ReportFormat::Markdown;
    if (name == "json")
        return ReportFormat::Json;
    if (name == "neuronpedia")
        return ReportFormat::Neuronpedia;
    return std::nullopt;
}

Status writeTextFile(const std::string &path, const std::string &text)
{
    io::AtomicFile file(path);
    file.write(text.data(), text.size());
    return file.commit();
}

Result<std::vector<std::string>> writeReports(const std::vector<FeatureReport> &reports,
    ReportFormat format, const std::string &path, const WriteOptions &options)
{
    if (reports.empty())
        return Error { path + ": no features to write" };
    std::vector<std::string> written;
    switch (format) {
    case ReportFormat::Html: {
        HtmlOptions html;
        html.maxExamples = options.maxExamples;
        if (auto s = writeTextFile(path, reportsHtml(reports, html)); !s)
            return s.error();
        written.push_back(path);
        break;
    }
    case ReportFormat::Markdown: {
        const fs::path doc(path);
        const std::string dirName = doc.stem().string() + "_files";
        const MarkdownDocument md = reportsMarkdown(reports, dirName, options.maxExamples);
        const fs::path dir = doc.parent_path() / dirName;
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec)
            return fileError(dir.string(), "cannot create the images folder: " + ec.message());
        for (const auto &image : md.images) {
            const std::string imagePath = (dir / image.name).string();
            if (auto s = writeTextFile(imagePath, image.svg); !s)
                return s.error();
            written.push_back(imagePath);
        }
        if (auto s = writeTextFile(path, md.text); !s)
            return s.error();
        written.insert(written.begin(), path);
        break;
    }
    case ReportFormat::Json:
        if (auto s = writeTextFile(path, reportsJson(reports).dump(1) + "\n"); !s)
            return s.error();
        written.push_back(path);
        break;
    case ReportFormat::Neuronpedia: {
        const auto batches = neuronpediaBatches(reports, options.neuronpedia);
        if (batches.empty())
            return Error { path
                + ": none of these features has activation examples (Neuronpedia needs at least "
                  "one)" };
        const fs::path p(path);
        for (size_t i = 0; i < batches.size(); ++i) {
            const std::string out = batches.size() == 1
                ? path
                : (p.parent_path() / (p.stem().string() + ".batch-" + std::to_string(i) + ".json"))
                      .string();
            if (auto s = writeTextFile(out, batches[i].dump() + "\n"); !s)
                return s.error();
            written.push_back(out);
        }
        break;
    }
    }
    return written;
}

} // namespace fscope::core::report
