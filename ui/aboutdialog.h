#pragma once
// Help > About: version, what the tool is, and the versions of the libraries it runs on.

#include <QDialog>

namespace fscope::ui {

class AboutDialog : public QDialog {
    Q_OBJECT
public:
    explicit AboutDialog(QWidget *parent = nullptr);
};

} // namespace fscope::ui
