#include "app/cli/options.h"

namespace fscope::cli {

Options::Options(const std::vector<std::string> &args, const std::set<std::string> &valued,
    const std::set<std::string> &flags)
{
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        if (a.rfind("--", 0) != 0 || a.size() == 2) {
            m_positional.push_back(a);
            continue;
        }
        const std::string name(a.begin() + 2, a.end());
        if (flags.count(name)) {
            m_values.insert_or_assign(name, std::string(1, '1'));
        } else if (valued.count(name)) {
            if (i + 1 >= args.size()) {
                m_error = "--" + name + " needs a value";
                return;
            }
            m_values[name] = args[++i];
            m_all[name].push_back(args[i]);
        } else {
            m_error = "unknown option --" + name;
            return;
        }
    }
}

std::string Options::value(const std::string &name, const std::string &fallback) const
{
    const auto it = m_values.find(name);
    return it == m_values.end() ? fallback : it->second;
}

std::vector<std::string> Options::values(const std::string &name) const
{
    const auto it = m_all.find(name);
    return it == m_all.end() ? std::vector<std::string>() : it->second;
}

long long Options::integer(const std::string &name, long long fallback) const
{
    return has(name) ? std::stoll(value(name)) : fallback;
}

double Options::number(const std::string &name, double fallback) const
{
    return has(name) ? std::stod(value(name)) : fallback;
}

} // namespace fscope::cli
