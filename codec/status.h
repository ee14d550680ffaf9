// Status / Result: expected failures travel as values, with a message that names
// the file (or object) and the reason. Exceptions are for bugs and for LibTorch.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace dgc {

class Status {
public:
    enum class Code { kOk, kInvalidInput, kNotFound, kIoError, kCorrupt, kUnsupported, kBusy, kInternal };

    Status() = default;
    static Status ok() { return {}; }
    static Status invalid(std::string m) { return {Code::kInvalidInput, std::move(m)}; }
    static Status not_found(std::string m) { return {Code::kNotFound, std::move(m)}; }
    static Status io(std::string m) { return {Code::kIoError, std::move(m)}; }
    static Status corrupt(std::string m) { return {Code::kCorrupt, std::move(m)}; }
    static Status unsupported(std::string m) { return {Code::kUnsupported, std::move(m)}; }
    static Status busy(std::string m) { return {Code::kBusy, std::move(m)}; }
    static Status internal(std::string m) { return {Code::kInternal, std::move(m)}; }

    bool is_ok() const { return code_ == Code::kOk; }
    explicit operator bool() const { return is_ok(); }
    Code code() const { return code_; }
    const std::string& message() const { return msg_; }

private:
    Status(Code c, std::string m) : code_(c), msg_(std::move(m)) {}
    Code code_ = Code::kOk;
    std::string msg_;
};

// Result<T>: a value or a failed Status.
template <typename T>
class Result {
public:
    Result(T v) : v_(std::move(v)) {}                 // NOLINT(google-explicit-constructor)
    Result(Status s) : v_(std::move(s)) {}            // NOLINT(google-explicit-constructor)

    bool ok() const { return std::holds_alternative<T>(v_); }
    explicit operator bool() const { return ok(); }
    const Status& status() const {
        static const Status kOk;
        return ok() ? kOk : std::get<Status>(v_);
    }
    T& value() & { return std::get<T>(v_); }
    const T& value() const& { return std::get<T>(v_); }
    T&& value() && { return std::get<T>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

private:
    std::variant<T, Status> v_;
};

}  // namespace dgc
