// What `dgcctl scrub --repair` may do, and doing it. Nothing here deletes data: a row or
// file that nobody references is first written to (or renamed into) STORE/lost+found/,
// and only job rows, which hold nothing but a pointer to a chunk, are dropped outright.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "fs/catalog.h"
#include "fs/store_layout.h"

namespace dgc::fs {

struct RowRef {
    std::string db, key, value;
};

// A finding in a ScrubReport: trace index (-1: the store's own list) and position.
struct FindingRef {
    long trace = -1;
    size_t index = 0;
};

struct RepairAction {
    enum class Kind { kPut, kReplace, kMoveRow, kDropRow, kMoveFile, kRequeue };
    Kind kind = Kind::kPut;
    std::string db, key, old_value, value;  // kMoveFile: key is the file's path
    JobRow job;

    static RepairAction put(std::string db, std::string key, std::string value);
    // The damaged value goes to lost+found before the verified copy replaces it.
    static RepairAction replace(std::string db, std::string key, std::string old_value, std::string value);
    static RepairAction move_row(std::string db, std::string key, std::string value);
    static RepairAction drop_row(std::string db, std::string key);
    static RepairAction move_file(std::string path);
    static RepairAction requeue(uint64_t trace, uint32_t chunk);
};

class Repairer {
public:
    Repairer(const StoreLayout& layout, Catalog& catalog) : layout_(layout), catalog_(catalog) {}
    void add(RepairAction a, FindingRef ref) { actions_.push_back({std::move(a), ref}); }
    // Moves files and saves rows first, then changes the catalog in one transaction;
    // calls `repaired` for each finding whose repair took effect.
    void apply(const std::function<void(const FindingRef&)>& repaired);

private:
    struct Entry {
        RepairAction action;
        FindingRef ref;
    };
    bool save_aside(const RepairAction& a) const;
    bool move_file_aside(const std::string& path) const;

    const StoreLayout& layout_;
    Catalog& catalog_;
    std::vector<Entry> actions_;
};

// Lower-case hex of any bytes (catalog keys as file names in lost+found/catalog/<db>/).
std::string hex(std::string_view bytes);

}  // namespace dgc::fs
