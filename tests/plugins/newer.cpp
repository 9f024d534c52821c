// Refused before loading: its plugin.json asks for a plugin API newer than the host's.
#include "tests/plugins/testplugins.h"

namespace fscope::testplugins {

class NewerApiExporter : public TsvExporterBase {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID FSCOPE_REPORT_EXPORTER_IID FILE "newer.json")
};

} // namespace fscope::testplugins

#include "newer.moc"
