#pragma once
// The steering dock's list of fixed edits applied together with its main (swept) edit: SAE
// features of the panel's SAE at a value, or steering vector files added at a strength. Kept in
// the workspace session as JSON.

#include <QJsonArray>
#include <QVector>
#include <QWidget>

class QTableWidget;

namespace fscope::ui {

class SteeringEdits : public QWidget {
    Q_OBJECT
public:
    struct Edit {
        QString vectorPath; // a vector edit when set, else `feature`
        qint64 feature = 0;
        QString mode;
        double value = 0;
    };

    explicit SteeringEdits(QWidget *parent = nullptr);

    void addFeature(qint64 feature, const QString &mode, double value);
    void addVector(const QString &path, double value);
    int count() const;
    QVector<Edit> edits() const;
    // {"feature", "mode", "value"} or {"vector", "value"} per edit; setJson replaces the list.
    QJsonArray toJson() const;
    void setJson(const QJsonArray &edits);

Q_SIGNALS:
    // "Add current": the panel adds its current feature, edit and strength.
    void addCurrentRequested();
    // "Add vector...": a file was chosen; the panel adds it at its current strength.
    void vectorChosen(const QString &path);

private:
    QTableWidget *m_table;
};

} // namespace fscope::ui
