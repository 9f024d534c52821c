#include "tests/plugins/testplugins.h"

#include <fstream>

namespace fscope::testplugins {

core::Result<std::vector<std::string>> TsvExporterBase::exportReports(
    const std::vector<core::report::FeatureReport> &reports, const QString &path) const
{
    std::ofstream out(path.toStdString());
    if (!out)
        return core::fileError(path.toStdString(), "cannot be written");
    out << "feature\tlabel\tdensity\tmax\n";
    for (const auto &r : reports)
        out << r.feature << '\t' << r.label << '\t' << r.density << '\t' << r.max << '\n';
    return std::vector<std::string> { path.toStdString() };
}

} // namespace fscope::testplugins
