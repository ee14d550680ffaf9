// Thin RAII layer over LMDB: one environment, every DBI opened once at start,
// transactions and cursors that clean up after themselves, and a write path that
// grows the map and retries when LMDB reports MDB_MAP_FULL.
#pragma once

#include <lmdb.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "codec/status.h"

namespace dgc::fs {

// An LMDB error inside a transaction body; caught by LmdbEnv::read/write and turned into a Status.
struct LmdbError : std::runtime_error {
    LmdbError(const std::string& what, int rc) : std::runtime_error(what + ": " + mdb_strerror(rc)), code(rc) {}
    int code;
};

class Txn;

class Cursor {
public:
    Cursor(MDB_txn* txn, MDB_dbi dbi);
    ~Cursor();
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    // Position at the first key >= `key`; false when past the end.
    bool seek(std::string_view key);
    bool first();
    bool last();
    bool next();
    bool prev();
    std::string_view key() const { return {static_cast<const char*>(k_.mv_data), k_.mv_size}; }
    std::string_view value() const { return {static_cast<const char*>(v_.mv_data), v_.mv_size}; }
    void del();  // the current entry (write transactions only)

private:
    bool step(MDB_cursor_op op, std::string_view key = {});
    MDB_cursor* cur_ = nullptr;
    MDB_val k_{}, v_{};
};

class Txn {
public:
    Txn(MDB_env* env, bool write, const std::map<std::string, MDB_dbi>& dbis);
    ~Txn();
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;

    std::optional<std::string_view> get(const std::string& db, std::string_view key) const;
    void put(const std::string& db, std::string_view key, std::string_view value);
    bool del(const std::string& db, std::string_view key);
    Cursor cursor(const std::string& db) const { return Cursor(txn_, dbi(db)); }
    void commit();
    bool writable() const { return write_; }

private:
    MDB_dbi dbi(const std::string& db) const;
    MDB_txn* txn_ = nullptr;
    bool write_;
    const std::map<std::string, MDB_dbi>& dbis_;
};

class LmdbEnv {
public:
    // Creates the directory's environment (unless read_only) and opens every named DBI.
    static Result<std::unique_ptr<LmdbEnv>> open(const std::string& dir, const std::vector<std::string>& dbs,
                                                 bool read_only, size_t initial_map_bytes = size_t(1) << 30);
    ~LmdbEnv();

    // Runs `body` in a read transaction. LMDB errors become a Status.
    Status read(const std::function<void(Txn&)>& body) const;
    // Runs `body` in the single write transaction and commits; on MDB_MAP_FULL the map is
    // doubled and `body` re-run, so it must only touch the transaction.
    Status write(const std::function<void(Txn&)>& body);

    size_t map_size() const;
    const std::string& dir() const { return dir_; }

private:
    LmdbEnv() = default;
    Status grow(size_t seen_size);
    MDB_env* env_ = nullptr;
    std::string dir_;
    bool read_only_ = false;
    std::map<std::string, MDB_dbi> dbis_;
    std::mutex write_mu_;                 // one writer at a time
    mutable std::shared_mutex resize_mu_;  // mdb_env_set_mapsize needs no live transactions
};

// Big-endian keys sort numerically in LMDB's default byte order.
std::string be64(uint64_t v);
uint64_t from_be64(std::string_view s);
std::string be32(uint32_t v);
uint32_t from_be32(std::string_view s);

}  // namespace dgc::fs
