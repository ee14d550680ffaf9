#include "fs/lmdb.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "codec/log.h"

namespace dgc::fs {

std::string be64(uint64_t v) {
    std::string s(8, '\0');
    for (int i = 7; i >= 0; --i, v >>= 8) s[i] = static_cast<char>(v & 0xff);
    return s;
}
uint64_t from_be64(std::string_view s) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
    return v;
}
std::string be32(uint32_t v) {
    std::string s(4, '\0');
    for (int i = 3; i >= 0; --i, v >>= 8) s[i] = static_cast<char>(v & 0xff);
    return s;
}
uint32_t from_be32(std::string_view s) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4 && i < s.size(); ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
    return v;
}

namespace {
MDB_val val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
}  // namespace

// --- Cursor ---

Cursor::Cursor(MDB_txn* txn, MDB_dbi dbi) {
    if (int rc = mdb_cursor_open(txn, dbi, &cur_); rc != 0) throw LmdbError("mdb_cursor_open", rc);
}
Cursor::~Cursor() {
    if (cur_) mdb_cursor_close(cur_);
}
bool Cursor::step(MDB_cursor_op op, std::string_view key) {
    if (op == MDB_SET_RANGE) k_ = val(key);
    int rc = mdb_cursor_get(cur_, &k_, &v_, op);
    if (rc == MDB_NOTFOUND) return false;
    if (rc != 0) throw LmdbError("mdb_cursor_get", rc);
    return true;
}
bool Cursor::seek(std::string_view key) { return key.empty() ? first() : step(MDB_SET_RANGE, key); }
bool Cursor::first() { return step(MDB_FIRST); }
bool Cursor::last() { return step(MDB_LAST); }
bool Cursor::next() { return step(MDB_NEXT); }
bool Cursor::prev() { return step(MDB_PREV); }
void Cursor::del() {
    if (int rc = mdb_cursor_del(cur_, 0); rc != 0) throw LmdbError("mdb_cursor_del", rc);
}

// --- Txn ---

Txn::Txn(MDB_env* env, bool write, const std::map<std::string, MDB_dbi>& dbis) : write_(write), dbis_(dbis) {
    if (int rc = mdb_txn_begin(env, nullptr, write ? 0 : MDB_RDONLY, &txn_); rc != 0)
        throw LmdbError("mdb_txn_begin", rc);
}
Txn::~Txn() {
    if (txn_) mdb_txn_abort(txn_);
}
MDB_dbi Txn::dbi(const std::string& db) const {
    auto it = dbis_.find(db);
    if (it == dbis_.end()) throw LmdbError("unknown database '" + db + "'", EINVAL);
    return it->second;
}
std::optional<std::string_view> Txn::get(const std::string& db, std::string_view key) const {
    MDB_val k = val(key), v{};
    int rc = mdb_get(txn_, dbi(db), &k, &v);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    if (rc != 0) throw LmdbError("mdb_get " + db, rc);
    return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}
void Txn::put(const std::string& db, std::string_view key, std::string_view value) {
    MDB_val k = val(key), v = val(value);
    if (int rc = mdb_put(txn_, dbi(db), &k, &v, 0); rc != 0) throw LmdbError("mdb_put " + db, rc);
}
bool Txn::del(const std::string& db, std::string_view key) {
    MDB_val k = val(key);
    int rc = mdb_del(txn_, dbi(db), &k, nullptr);
    if (rc == MDB_NOTFOUND) return false;
    if (rc != 0) throw LmdbError("mdb_del " + db, rc);
    return true;
}
void Txn::commit() {
    int rc = mdb_txn_commit(std::exchange(txn_, nullptr));
    if (rc != 0) throw LmdbError("mdb_txn_commit", rc);
}

// --- LmdbEnv ---

Result<std::unique_ptr<LmdbEnv>> LmdbEnv::open(const std::string& dir, const std::vector<std::string>& dbs,
                                               bool read_only, size_t initial_map_bytes) {
    std::unique_ptr<LmdbEnv> e(new LmdbEnv());
    e->dir_ = dir;
    e->read_only_ = read_only;
    if (!read_only && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return Status::io(dir + ": cannot create catalog directory: " + std::strerror(errno));
    auto fail = [&](const char* what, int rc) {
        return Status::io(dir + ": " + what + ": " + mdb_strerror(rc));
    };
    if (int rc = mdb_env_create(&e->env_); rc != 0) return fail("mdb_env_create", rc);
    mdb_env_set_maxdbs(e->env_, static_cast<MDB_dbi>(dbs.size() + 2));
    mdb_env_set_maxreaders(e->env_, 256);
    if (!read_only) mdb_env_set_mapsize(e->env_, initial_map_bytes);
    // NOTLS: FUSE worker threads start and finish read transactions on any thread.
    unsigned flags = MDB_NOTLS | (read_only ? MDB_RDONLY : 0u);
    if (int rc = mdb_env_open(e->env_, dir.c_str(), flags, 0600); rc != 0) return fail("mdb_env_open", rc);
    // DBI handles become valid for the whole environment once this transaction commits.
    MDB_txn* txn = nullptr;
    if (int rc = mdb_txn_begin(e->env_, nullptr, read_only ? MDB_RDONLY : 0, &txn); rc != 0)
        return fail("mdb_txn_begin", rc);
    for (const auto& name : dbs) {
        MDB_dbi dbi;
        int rc = mdb_dbi_open(txn, name.c_str(), read_only ? 0 : MDB_CREATE, &dbi);
        if (rc != 0) {
            mdb_txn_abort(txn);
            return Status::io(dir + ": cannot open database '" + name + "': " + mdb_strerror(rc));
        }
        e->dbis_[name] = dbi;
    }
    if (int rc = mdb_txn_commit(txn); rc != 0) return fail("mdb_txn_commit", rc);
    return e;
}

LmdbEnv::~LmdbEnv() {
    if (env_) mdb_env_close(env_);
}

size_t LmdbEnv::map_size() const {
    MDB_envinfo info;
    mdb_env_info(env_, &info);
    return info.me_mapsize;
}

Status LmdbEnv::grow(size_t seen_size) {
    std::unique_lock lk(resize_mu_);
    if (map_size() != seen_size) return {};  // another thread grew it already
    size_t next = seen_size * 2;
    if (int rc = mdb_env_set_mapsize(env_, next); rc != 0)
        return Status::io(dir_ + ": cannot grow LMDB map to " + std::to_string(next) + ": " + mdb_strerror(rc));
    logger("catalog")->info("catalog map grown to {} MiB", next >> 20);
    return {};
}

Status LmdbEnv::read(const std::function<void(Txn&)>& body) const {
    for (int attempt = 0; attempt < 3; ++attempt) {
        std::shared_lock lk(resize_mu_);
        try {
            Txn t(env_, false, dbis_);
            body(t);
            return {};
        } catch (const LmdbError& ex) {
            if (ex.code == MDB_MAP_RESIZED) {  // another process grew the map: adopt its size
                lk.unlock();
                std::unique_lock ulk(resize_mu_);
                mdb_env_set_mapsize(env_, 0);
                continue;
            }
            return Status::io(dir_ + ": " + ex.what());
        }
    }
    return Status::io(dir_ + ": catalog map keeps being resized");
}

Status LmdbEnv::write(const std::function<void(Txn&)>& body) {
    if (read_only_) return Status::invalid(dir_ + ": catalog opened read-only");
    std::lock_guard wl(write_mu_);
    for (int attempt = 0; attempt < 24; ++attempt) {
        size_t seen = 0;
        {
            std::shared_lock lk(resize_mu_);
            seen = map_size();
            try {
                Txn t(env_, true, dbis_);
                body(t);
                t.commit();
                return {};
            } catch (const LmdbError& ex) {
                if (ex.code != MDB_MAP_FULL) return Status::io(dir_ + ": " + ex.what());
            }
        }
        if (auto st = grow(seen); !st) return st;
    }
    return Status::io(dir_ + ": catalog map full after repeated growth");
}

}  // namespace dgc::fs
