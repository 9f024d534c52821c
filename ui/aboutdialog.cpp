#include "ui/aboutdialog.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "core/util/runtime.h"

#include <sqlite3.h>

namespace fscope::ui {

AboutDialog::AboutDialog(QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("About Featurescope"));
    auto *icon = new QLabel(this);
    icon->setPixmap(QPixmap(QStringLiteral(":/icons/featurescope.png"))
                        .scaled(96, 96, Qt::KeepAspectRatio, Qt::SmoothTransformation));
    auto *text = new QLabel(this);
    text->setObjectName(QStringLiteral("aboutText"));
    text->setTextFormat(Qt::RichText);
    const std::string blas = core::blasKernels(); // which BLAS kernels run the matrix products
    text->setOpenExternalLinks(true);
    text->setText(
        tr("<h2>Featurescope %1</h2>"
           "<p>A desktop workbench for sparse-autoencoder interpretability of language "
           "models: browse features and their top-activating contexts, inspect prompts "
           "token by token, steer and ablate features, decompose steering vectors, and "
           "align features across layers with SAE Match.</p>"
           "<p>Offline by design: every result is cached in the workspace.</p>"
           "<p><small>Qt %2 &middot; SQLite %3 &middot; LibTorch%4 &middot; %5 threads</small></p>")
            .arg(QStringLiteral(FEATURESCOPE_VERSION), QString::fromLatin1(qVersion()),
                QString::fromLatin1(sqlite3_libversion()),
                blas.empty()
                    ? QString()
                    : QStringLiteral(" on ") + QString::fromStdString(blas) + tr(" kernels"))
            .arg(core::computeThreads()));
    text->setWordWrap(true);
    text->setMinimumWidth(380);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *row = new QHBoxLayout;
    row->addWidget(icon, 0, Qt::AlignTop);
    row->addWidget(text, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(row);
    layout->addWidget(buttons);
}

} // namespace fscope::ui
