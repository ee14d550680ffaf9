// Recent warnings and errors, kept in memory for `dgcctl status` (the log has them all).
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace dgc::fs {

class RecentEvents {
public:
    void add(std::string message) {
        std::lock_guard lk(mu_);
        auto now = std::chrono::system_clock::now().time_since_epoch();
        events_.push_back({std::chrono::duration_cast<std::chrono::seconds>(now).count(), std::move(message)});
        if (events_.size() > 20) events_.pop_front();
    }
    std::vector<std::pair<int64_t, std::string>> snapshot() const {
        std::lock_guard lk(mu_);
        return {events_.begin(), events_.end()};
    }

private:
    mutable std::mutex mu_;
    std::deque<std::pair<int64_t, std::string>> events_;
};

}  // namespace dgc::fs
