// The feature browser at a million features: sorting and filtering stay correct, and their
// cost is reported by QBENCHMARK (the goal, under 100 ms each, is read off the output, not
// asserted).

#include "ui/featuretablemodel.h"

#include <QtTest>

#include <random>

using namespace fscope::ui;

class TestBrowserScale : public QObject {
    Q_OBJECT

    FeatureTableModel m_model;
    std::vector<float> m_density;

private Q_SLOTS:
    void initTestCase();
    void sortByDensity();
    void filterLiveDensityRange();
    void sortByLabel();
};

void TestBrowserScale::initTestCase()
{
    const size_t n = 1 << 20;
    FeatureColumns c;
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> logDensity(-7.0f, -0.5f);
    std::unordered_map<qint64, QString> labels;
    for (size_t i = 0; i < n; ++i) {
        const bool dead = rng() % 10 == 0;
        const float d = dead ? 0.0f : std::pow(10.0f, logDensity(rng));
        c.feature.push_back(qint32(i));
        c.count.push_back(dead ? 0 : qint64(d * 1e7) + 1);
        c.density.push_back(d);
        c.max.push_back(dead ? 0.0f : float(rng() % 1000) / 100.0f);
        c.mean.push_back(c.max.back() / 2);
        if (i % 1000 == 0)
            labels[qint64(i)] = QStringLiteral("label %1").arg(rng() % 5000);
    }
    m_density = c.density;
    m_model.setFeatures(std::move(c), std::move(labels));
    QCOMPARE(m_model.rowCount(), int(n));
}

void TestBrowserScale::sortByDensity()
{
    QBENCHMARK
    {
        m_model.sort(FeatureTableModel::DensityCol, Qt::DescendingOrder);
    }
    for (int r = 1; r < m_model.rowCount(); r += 997)
        QVERIFY(
            m_density[size_t(m_model.featureAt(r - 1))] >= m_density[size_t(m_model.featureAt(r))]);
    m_model.sort(FeatureTableModel::FeatureCol, Qt::AscendingOrder);
    QCOMPARE(m_model.featureAt(12345), qint64(12345));
}

void TestBrowserScale::filterLiveDensityRange()
{
    FeatureFilter f;
    f.show = FeatureFilter::Show::Live;
    f.minDensity = 1e-4;
    f.maxDensity = 1e-2;
    QBENCHMARK
    {
        m_model.setFilter(f);
    }
    int expected = 0;
    for (float d : m_density)
        expected += d >= 1e-4f && d <= 1e-2f;
    QCOMPARE(m_model.rowCount(), expected);
    for (int r = 0; r < m_model.rowCount(); r += 501) {
        const float d = m_density[size_t(m_model.featureAt(r))];
        QVERIFY(d >= 1e-4f && d <= 1e-2f);
    }
    m_model.setFilter({});
}

void TestBrowserScale::sortByLabel()
{
    QBENCHMARK
    {
        m_model.sort(FeatureTableModel::LabelCol, Qt::AscendingOrder);
    }
    // Labelled features first, in label order.
    QVERIFY(!m_model.data(m_model.index(0, FeatureTableModel::LabelCol)).toString().isEmpty());
    QVERIFY(QString::localeAwareCompare(
                m_model.data(m_model.index(0, FeatureTableModel::LabelCol)).toString(),
                m_model.data(m_model.index(1, FeatureTableModel::LabelCol)).toString())
        <= 0);
    m_model.sort(FeatureTableModel::FeatureCol, Qt::AscendingOrder);
}

QTEST_MAIN(TestBrowserScale)
#include "tst_browser_scale.moc"
