// featurescope: the desktop workbench.

#include "core/util/runtime.h"
#include "ui/mainwindow.h"
#include "ui/workspaceactions.h"

#include <QApplication>
#include <QIcon>

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Featurescope"));
    QApplication::setOrganizationDomain(QStringLiteral("featurescope.org"));
    QApplication::setApplicationName(QStringLiteral("Featurescope"));
    QApplication::setApplicationVersion(QStringLiteral(FEATURESCOPE_VERSION));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/featurescope.png")));
    fscope::core::initComputeRuntime();

    fscope::ui::MainWindow window;
    window.show();
    // A workspace given on the command line opens at start.
    const QStringList args = QApplication::arguments();
    if (args.size() > 1)
        window.workspaceActions()->openWorkspaceAt(args.at(1));
    return QApplication::exec();
}
