#include "ui/explainjob.h"

#include "core/interp/backends.h"
#include "core/interp/explain_job.h"
#include "core/model/model_cache.h"
#include "core/store/index_store.h"
#include "ui/jobrunner.h"
#include "ui/workbench.h"

#include <QSettings>

#include <cstdio>

namespace fscope::ui {

ExplainSettings ExplainSettings::load()
{
    QSettings s;
    ExplainSettings e;
    e.scorers = s.value(QStringLiteral("interp/scorers"), e.scorers).toStringList();
    e.backend = s.value(QStringLiteral("interp/backend"), e.backend).toString();
    e.endpoint = s.value(QStringLiteral("interp/endpoint"), e.endpoint).toString();
    e.llm = s.value(QStringLiteral("interp/llm"), e.llm).toString();
    e.keyVariable = s.value(QStringLiteral("interp/keyVariable"), e.keyVariable).toString();
    e.concurrency = s.value(QStringLiteral("interp/concurrency"), e.concurrency).toInt();
    e.localModel = s.value(QStringLiteral("interp/localModel"), e.localModel).toString();
    e.batch = s.value(QStringLiteral("interp/batch"), e.batch).toInt();
    return e;
}

void ExplainSettings::save() const
{
    QSettings s;
    s.setValue(QStringLiteral("interp/scorers"), scorers);
    s.setValue(QStringLiteral("interp/backend"), backend);
    s.setValue(QStringLiteral("interp/endpoint"), endpoint);
    s.setValue(QStringLiteral("interp/llm"), llm);
    s.setValue(QStringLiteral("interp/keyVariable"), keyVariable);
    s.setValue(QStringLiteral("interp/concurrency"), concurrency);
    s.setValue(QStringLiteral("interp/localModel"), localModel);
    s.setValue(QStringLiteral("interp/batch"), batch);
}

int startExplainJob(Workbench *workbench, const ExplainSettings &s)
{
    const std::string device = workbench->device().toStdString();
    const std::string dtype = workbench->dtype().toStdString();
    core::model::ModelCache *models = &workbench->models();
    return workbench->runner()->runOnWorkspace(
        QObject::tr("Explain features"), workbench->workspacePath(),
        [s, device, dtype, models](core::jobs::Progress &progress,
            core::store::Database *db) -> core::Result<std::string> {
            if (!db)
                return core::Error { "no workspace is open" };
            core::store::IndexInfo info;
            FS_TRY(info, core::store::indexInfo(*db, s.indexId));
            core::interp::FeatureSelection selection;
            switch (s.scope) {
            case ExplainSettings::Scope::Current:
                selection.ids = { s.feature };
                break;
            case ExplainSettings::Scope::Labelled:
                selection.labelled = true;
                break;
            case ExplainSettings::Scope::List:
                selection.list = s.list.toStdString();
                break;
            case ExplainSettings::Scope::Ids:
                selection.ids.assign(s.ids.begin(), s.ids.end());
                break;
            case ExplainSettings::Scope::AllLive:
                selection.allLive = true;
                selection.limit = s.limit;
                break;
            }
            std::vector<int64_t> features;
            FS_TRY(features, core::interp::selectFeatures(*db, info, selection));
            if (features.empty())
                return core::Error { "no features chosen" };

            core::interp::BackendSettings b;
            b.kind = s.backend.toStdString();
            b.openai.endpoint = s.endpoint.toStdString();
            b.openai.model = s.llm.toStdString();
            b.openai.apiKeyEnv = s.keyVariable.toStdString();
            b.openai.concurrency = s.concurrency;
            b.local.modelDir = s.localModel.toStdString();
            b.local.device = device;
            b.local.batch = s.batch;
            progress.begin(0, "Starting the " + b.kind + " backend");
            std::unique_ptr<core::interp::ChatBackend> backend;
            FS_TRY(backend, core::interp::makeBackend(b));

            // The index's own model and SAE, resident and shared with the other panels.
            progress.setMessage("Loading " + info.modelPath);
            core::model::ModelCache::Model model;
            FS_TRY(model, models->model(info.modelPath, device, dtype, &progress));
            std::shared_ptr<core::sae::Sae> sae;
            FS_TRY(sae, models->sae(info.saePath, info.hook, model.decoder->device()));
            core::interp::ExplainRequest r;
            r.indexId = info.id;
            r.features = features;
            for (const QString &scorer : s.scorers)
                r.scorers.push_back(scorer.toStdString());
            if (s.scorers.isEmpty())
                r.scorers.clear();
            r.backend = backend.get();
            r.decoder = model.decoder.get();
            r.tokenizer = model.tokenizer.get();
            r.sae = sae;
            core::interp::ExplainResult result;
            FS_TRY(result, core::interp::runExplainJob(*db, r, &progress));
            char summary[200];
            std::snprintf(summary, sizeof summary,
                "%zu features explained (%lld failed) with %s in %.1f s", result.features.size(),
                static_cast<long long>(result.failed()), backend->modelName().c_str(),
                result.seconds);
            std::string text = summary;
            for (const auto &f : result.features)
                if (!f.error.empty()) {
                    text += "; feature " + std::to_string(f.feature) + ": " + f.error;
                    break;
                }
            return text;
        },
        [workbench](const JobState &) { Q_EMIT workbench->explanationsChanged(); });
}

} // namespace fscope::ui
