#pragma once
// Errors are values at module boundaries: every core call that can fail on user input
// returns Result<T> (a value or an Error with a message that names the file and the problem).

#include <string>
#include <utility>
#include <variant>

namespace fscope::core {

struct Error {
    std::string message;
};

template <typename T> class [[nodiscard]] Result {
public:
    Result(T value)
        : m_state(std::move(value))
    {
    }
    Result(Error error)
        : m_state(std::move(error))
    {
    }

    bool ok() const { return std::holds_alternative<T>(m_state); }
    explicit operator bool() const { return ok(); }

    T &value() & { return std::get<T>(m_state); }
    const T &value() const & { return std::get<T>(m_state); }
    T &&value() && { return std::get<T>(std::move(m_state)); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }
    T &&operator*() && { return std::move(*this).value(); }

    const Error &error() const { return std::get<Error>(m_state); }
    const std::string &errorMessage() const { return error().message; }

private:
    std::variant<T, Error> m_state;
};

// Result<void>: success or an error.
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Error error)
        : m_error(std::move(error))
        , m_failed(true)
    {
    }

    bool ok() const { return !m_failed; }
    explicit operator bool() const { return ok(); }
    const Error &error() const { return m_error; }
    const std::string &errorMessage() const { return m_error.message; }

private:
    Error m_error;
    bool m_failed = false;
};

// Assigns the value of a Result expression to `target`, or returns its error from the
// enclosing function.
#define FS_TRY(target, expr)                                                                       \
    do {                                                                                           \
        auto fsTryResult_ = (expr);                                                                \
        if (!fsTryResult_)                                                                         \
            return fsTryResult_.error();                                                           \
        (target) = std::move(fsTryResult_).value();                                                \
    } while (0)

// Builds "FILE: problem", the one shape every file error has.
inline Error fileError(const std::string &file, const std::string &problem)
{
    return Error { file + ": " + problem };
}

} // namespace fscope::core
