// Refused before loading: implements an interface this host does not know.
#include "tests/plugins/testplugins.h"

namespace fscope::testplugins {

class WrongIidExporter : public TsvExporterBase {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID "org.example.SomethingElse/1" FILE "wrongiid.json")
};

} // namespace fscope::testplugins

#include "wrongiid.moc"
