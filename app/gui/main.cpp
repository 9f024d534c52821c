// featurescope: the desktop workbench.

#include "core/model/decoder.h"
#include "core/util/runtime.h"
#include "plugins/exporters/builtinplugins.h"
#include "ui/mainwindow.h"
#include "ui/workbench.h"
#include "ui/workspaceactions.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QIcon>
#include <QTimer>

#include <cstdio>

int main(int argc, char **argv)
{
    fscope::core::ensureBlasKernels(argv);
    QElapsedTimer sinceStart;
    sinceStart.start();
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Featurescope"));
    QApplication::setOrganizationDomain(QStringLiteral("featurescope.org"));
    QApplication::setApplicationName(QStringLiteral("Featurescope"));
    QApplication::setApplicationVersion(QStringLiteral(FEATURESCOPE_VERSION));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/featurescope.png")));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Sparse-autoencoder interpretability workbench for language models."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("workspace"),
        QStringLiteral("Workspace (.fsdb) to open or create."), QStringLiteral("[workspace]"));
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
        QStringLiteral(
            "Save a PNG of the main window once it is up, then quit (for docs and checks)."),
        QStringLiteral("file"));
    parser.addOption(screenshot);
    const QCommandLineOption startupCheck(QStringLiteral("startup-check"),
        QStringLiteral(
            "Quit as soon as the window is up and idle, printing the milliseconds since start."));
    parser.addOption(startupCheck);
    const QCommandLineOption demo(QStringLiteral("demo"),
        QStringLiteral("Open the demo workspace (the default when no workspace is given)."));
    parser.addOption(demo);
    const QCommandLineOption device(QStringLiteral("device"),
        QStringLiteral("Where every job runs: auto, cpu, cuda or cuda:N (as the status bar's "
                       "choice, and remembered)."),
        QStringLiteral("device"));
    parser.addOption(device);
    const QCommandLineOption dtype(QStringLiteral("dtype"),
        QStringLiteral("The models' precision: auto (bf16 on a GPU, f32 on the CPU), f32, bf16 or "
                       "f16."),
        QStringLiteral("dtype"));
    parser.addOption(dtype);
    parser.process(app);
    // A device this build or machine does not have is refused before any window opens.
    QString deviceChoice = parser.value(device);
    const auto target = fscope::core::model::resolveDevice(
        parser.isSet(device) ? deviceChoice.toStdString() : std::string("auto"));
    if (parser.isSet(device)) {
        if (!target) {
            std::fprintf(stderr, "featurescope: %s\n", target.errorMessage().c_str());
            return 2;
        }
        if (deviceChoice == QLatin1String("cuda"))
            deviceChoice = QStringLiteral("cuda:%1").arg(target->has_index() ? target->index() : 0);
    }
    if (parser.isSet(dtype)) {
        const auto d = fscope::core::model::resolveDtype(
            parser.value(dtype).toStdString(), target.ok() ? *target : at::Device(at::kCPU));
        if (!d) {
            std::fprintf(stderr, "featurescope: --dtype: %s\n", d.errorMessage().c_str());
            return 2;
        }
    }

    fscope::core::initComputeRuntime();
    fscope::plugins::linkBuiltinPlugins();
    fscope::ui::MainWindow window;
    if (!deviceChoice.isEmpty())
        window.workbench()->setDevice(deviceChoice);
    if (parser.isSet(dtype))
        window.workbench()->setDtype(parser.value(dtype));
    window.show();
    if (!parser.positionalArguments().isEmpty())
        window.workspaceActions()->openWorkspaceAt(parser.positionalArguments().first());
    else if (parser.isSet(demo) || !parser.isSet(startupCheck))
        window.openDemo(); // the first thing a new user sees: real content, no download
    if (parser.isSet(startupCheck)) {
        // A zero timer fires once the event loop has processed the first show and paint.
        QTimer::singleShot(0, &window, [&sinceStart] {
            std::printf(
                "window ready after %lld ms\n", static_cast<long long>(sinceStart.elapsed()));
            QApplication::exit(0);
        });
    }
    if (parser.isSet(screenshot)) {
        QTimer::singleShot(1500, &window, [&window, file = parser.value(screenshot)] {
            const bool saved = window.grab().save(file);
            QApplication::exit(saved ? 0 : 1);
        });
    }
    return QApplication::exec();
}
