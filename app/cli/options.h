#pragma once
// A small "--key value" / "--flag" parser for the CLI's subcommands.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fscope::cli {

class Options {
public:
    // `flags` take no value; every other --name takes one. Unknown names are errors.
    Options(const std::vector<std::string> &args, const std::set<std::string> &valued,
        const std::set<std::string> &flags);

    bool ok() const { return m_error.empty(); }
    const std::string &error() const { return m_error; }
    bool has(const std::string &name) const { return m_values.count(name) > 0; }
    std::string value(const std::string &name, const std::string &fallback = {}) const;
    long long integer(const std::string &name, long long fallback) const;
    double number(const std::string &name, double fallback) const;
    const std::vector<std::string> &positional() const { return m_positional; }
    // Every value of an option given several times (--sae A --sae B), in order.
    std::vector<std::string> values(const std::string &name) const;

private:
    std::map<std::string, std::string> m_values;
    std::map<std::string, std::vector<std::string>> m_all;
    std::vector<std::string> m_positional;
    std::string m_error;
};

} // namespace fscope::cli
