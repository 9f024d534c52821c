// File > Index Corpus: the batch size offers "auto" (0, the largest batch the device holds), and
// a folder of SAEs can be added in one step (every SAE below it, as `index --sae-dir` reads it).

#include "ui/indexdialog.h"

#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QtTest>

using fscope::ui::IndexDialog;

class TestIndexDialog : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void batchSizeOffersAuto();
    void folderButtonIsThere();
};

void TestIndexDialog::batchSizeOffersAuto()
{
    IndexDialog dialog;
    auto spins = dialog.findChildren<QSpinBox *>();
    QSpinBox *batch = nullptr;
    for (QSpinBox *s : spins)
        if (s->toolTip().contains(QLatin1String("Contexts per forward pass")))
            batch = s;
    QVERIFY(batch);
    QCOMPARE(dialog.settings().batchSize, batch->value());
    batch->setValue(0);
    QCOMPARE(batch->text(), QStringLiteral("auto"));
    QCOMPARE(dialog.settings().batchSize, 0);
    batch->setValue(16);
    QCOMPARE(dialog.settings().batchSize, 16);
}

void TestIndexDialog::folderButtonIsThere()
{
    IndexDialog dialog;
    dialog.resize(720, 520);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QPushButton *folder = nullptr;
    for (QPushButton *b : dialog.findChildren<QPushButton *>())
        if (b->text() == QStringLiteral("Add Folder..."))
            folder = b;
    QVERIFY(folder);
    QVERIFY(folder->isVisible());
    QVERIFY(folder->toolTip().contains(QLatin1String("one pass")));
    // The buttons beside the SAE list are not clipped.
    QVERIFY(folder->width() >= folder->sizeHint().width());
    if (qEnvironmentVariableIsSet("FEATURESCOPE_SCREENSHOTS"))
        dialog.grab().save(qEnvironmentVariable("FEATURESCOPE_SCREENSHOTS") + "/index-dialog.png");
}

QTEST_MAIN(TestIndexDialog)
#include "tst_indexdialog.moc"
