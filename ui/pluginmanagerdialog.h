#pragma once
// Help > Plugins: every plugin found (built-in and shared), its version, where it comes from,
// whether it loaded and why not; a checkbox enables or disables each.

#include <QDialog>

class QTableWidget;
class QLabel;

namespace fscope::plugins {
class PluginManager;
}

namespace fscope::ui {

class PluginManagerDialog : public QDialog {
    Q_OBJECT
public:
    explicit PluginManagerDialog(plugins::PluginManager *manager, QWidget *parent = nullptr);
    QTableWidget *table() const { return m_table; }

private:
    void refresh();

    plugins::PluginManager *m_manager;
    QTableWidget *m_table;
    QLabel *m_paths;
    bool m_filling = false;
};

} // namespace fscope::ui
