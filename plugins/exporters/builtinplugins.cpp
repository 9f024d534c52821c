#include "plugins/exporters/builtinplugins.h"

#include <QtPlugin>

Q_IMPORT_PLUGIN(HtmlReportExporter)
Q_IMPORT_PLUGIN(MarkdownReportExporter)
Q_IMPORT_PLUGIN(JsonReportExporter)
Q_IMPORT_PLUGIN(NeuronpediaExporter)
Q_IMPORT_PLUGIN(PdfReportExporter)

namespace fscope::plugins {

void linkBuiltinPlugins()
{
    // Nothing to do at run time: referencing this file keeps the Q_IMPORT_PLUGIN registrations.
}

} // namespace fscope::plugins
