#pragma once
// QCustomPlot's header is written with Qt's keyword macros (signals, slots, emit, foreach),
// which the project turns off (QT_NO_KEYWORDS: LibTorch uses those names). They are defined
// around this one include only.

#define signals Q_SIGNALS
#define slots Q_SLOTS
#define emit Q_EMIT
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef slots
#undef emit
#undef foreach
