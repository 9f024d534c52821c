#pragma once
// The workbench's Explain Features job: what the dialog chose, in plain types (this header
// stays free of core's tensor headers), and the call that runs core's runExplainJob (shared with
// `featurescope-cli explain`) on the job runner with the workbench's device and resident models.

#include <QString>
#include <QStringList>

#include <vector>

namespace fscope::ui {

class Workbench;

struct ExplainSettings {
    qint64 indexId = 0;
    enum class Scope { Current, Labelled, List, Ids, AllLive } scope = Scope::Current;
    qint64 feature = -1; // Scope::Current
    QString list; // Scope::List
    std::vector<qint64> ids; // Scope::Ids
    qint64 limit = 0; // Scope::AllLive: the densest N (0 = all)
    QStringList scorers = { QStringLiteral("detection"), QStringLiteral("fuzzing") };
    // The backend (remembered in the settings; the key only as the name of its variable).
    QString backend = QStringLiteral("openai"); // openai | local
    QString endpoint = QStringLiteral("http://127.0.0.1:8080/v1");
    QString llm;
    QString keyVariable = QStringLiteral("OPENAI_API_KEY");
    int concurrency = 4;
    QString localModel;
    int batch = 8;

    static ExplainSettings load(); // the last choices (QSettings "interp/...")
    void save() const;
};

// Starts the job; returns its id. When it ends the workbench announces explanationsChanged.
int startExplainJob(Workbench *workbench, const ExplainSettings &settings);

} // namespace fscope::ui
