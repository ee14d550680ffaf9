// The keyframe library shared by workers (which add to it) and archive readers (which
// generate from it): copy-on-write snapshots, because ModelLibrary itself is not thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "trainer/pipeline.h"

namespace dgc::fs {

class LibraryHolder {
public:
    std::shared_ptr<const trainer::ModelLibrary> snapshot() const {
        std::lock_guard lk(mu_);
        return lib_;
    }
    void add(const std::string& id, std::string blob) {
        std::lock_guard lk(mu_);
        auto next = std::make_shared<trainer::ModelLibrary>(*lib_);
        next->add(id, std::move(blob));
        lib_ = std::move(next);
    }

private:
    mutable std::mutex mu_;
    std::shared_ptr<const trainer::ModelLibrary> lib_ = std::make_shared<trainer::ModelLibrary>();
};

}  // namespace dgc::fs
