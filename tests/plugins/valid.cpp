// A valid shared plugin: registers a TSV report exporter.
#include "tests/plugins/testplugins.h"

namespace fscope::testplugins {

class TsvExporter : public TsvExporterBase {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID FSCOPE_REPORT_EXPORTER_IID FILE "valid.json")
};

} // namespace fscope::testplugins

#include "valid.moc"
