// Refused at load: it references a function no library provides (dlopen with every symbol
// resolved fails with "undefined symbol").
#include "tests/plugins/testplugins.h"

extern "C" int fs_test_symbol_nobody_defines();

namespace fscope::testplugins {

class MissingSymbolExporter : public TsvExporterBase {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID FSCOPE_REPORT_EXPORTER_IID FILE "missingsymbol.json")
public:
    MissingSymbolExporter() { m_value = fs_test_symbol_nobody_defines(); }

private:
    int m_value = 0;
};

} // namespace fscope::testplugins

#include "missingsymbol.moc"
