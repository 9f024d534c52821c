// featurescope-cli report: feature reports (HTML, Markdown, JSON, Neuronpedia JSON) from a
// workspace's index, for one feature, several, a feature list or every labelled feature.

#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/options.h"

#include "core/jobs/terminal_progress.h"
#include "core/report/report_writer.h"
#include "core/store/feature_lists.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace fscope::cli {

namespace {

// The features a report covers: --id (repeatable), --list NAME, or --labelled.
core::Result<std::vector<int64_t>> reportFeatures(
    const Options &o, core::store::Database &db, const core::store::IndexInfo &index)
{
    std::vector<int64_t> features;
    for (const auto &id : o.values("id")) {
        if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos)
            return core::Error { "--id '" + id + "' is not a feature id" };
        features.push_back(std::stoll(id));
    }
    if (o.has("list")) {
        std::vector<core::store::FeatureList> lists;
        FS_TRY(lists, core::store::featureLists(db));
        const auto it = std::find_if(
            lists.begin(), lists.end(), [&](const auto &l) { return l.name == o.value("list"); });
        if (it == lists.end())
            return core::fileError(db.path(), "no feature list named '" + o.value("list") + "'");
        std::vector<int64_t> items;
        FS_TRY(items, core::store::featureListItems(db, it->id, index.saeId));
        features.insert(features.end(), items.begin(), items.end());
    }
    if (o.has("labelled")) {
        std::vector<std::pair<int64_t, std::string>> labels;
        FS_TRY(labels, core::store::allLabels(db, index.saeId));
        for (const auto &l : labels)
            features.push_back(l.first);
    }
    if (features.empty())
        return core::Error {
            "no features chosen: give --id F (repeatable), --list NAME or --labelled"
        };
    return features;
}

} // namespace

int runReport(const Args &args)
{
    const Options o(args,
        { "sae", "id", "list", "format", "out", "model-id", "source-set", "max-examples" },
        { "labelled", "json" });
    if (!o.ok())
        return fail(o.error());
    if (o.positional().size() != 1 || !o.has("sae") || !o.has("out"))
        return fail("usage: featurescope-cli report WORKSPACE --sae S (--id F... | --list NAME | "
                    "--labelled) "
                    "--out PATH [--format html|md|json|neuronpedia]");
    const std::string out = o.value("out");
    std::string formatName = o.value("format");
    if (formatName.empty()) {
        formatName = std::filesystem::path(out).extension().string();
        if (!formatName.empty())
            formatName.erase(0, 1);
    }
    const auto format = core::report::parseReportFormat(formatName);
    if (!format)
        return fail("--format '" + formatName
            + "': use html, md, json or neuronpedia (PDF reports come from the app)");
    auto db = openExistingWorkspace(o.positional()[0]);
    if (!db)
        return fail(db.errorMessage());
    auto index = findIndex(**db, o.value("sae"));
    if (!index)
        return fail(index.errorMessage());
    auto features = reportFeatures(o, **db, *index);
    if (!features)
        return fail(features.errorMessage());
    core::jobs::TerminalProgress progress("features");
    auto reports = core::report::buildFeatureReports(**db, index->id, *features, &progress);
    progress.finish();
    if (!reports)
        return fail(reports.errorMessage());
    core::report::WriteOptions options;
    options.neuronpedia.modelId = o.value("model-id");
    options.neuronpedia.sourceSet = o.value("source-set");
    options.maxExamples = static_cast<int>(o.integer("max-examples", 0));
    auto written = core::report::writeReports(*reports, *format, out, options);
    if (!written)
        return fail(written.errorMessage());
    if (o.has("json")) {
        std::printf("%s\n",
            nlohmann::json({ { "features", reports->size() }, { "files", *written } })
                .dump()
                .c_str());
        return 0;
    }
    std::printf("%zu feature%s of %s written:\n", reports->size(), reports->size() == 1 ? "" : "s",
        index->saeLabel.c_str());
    for (const auto &f : *written)
        std::printf("  %s\n", f.c_str());
    return 0;
}

} // namespace fscope::cli
