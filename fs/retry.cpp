#include "fs/retry.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dgc::fs {

int64_t backoff_ms(const Backoff& b, int failures) {
    int64_t wait = std::max<int64_t>(b.base_ms, 0);
    for (int i = 1; i < failures && wait < b.cap_ms; ++i) wait *= 2;
    return std::min(wait, b.cap_ms);
}

bool transient(const Status& st) {
    return st.code() == Status::Code::kIoError || st.code() == Status::Code::kBusy;
}

bool io_fault_reason(const std::string& reason) {
    for (int e : {EIO, ENOSPC, EDQUOT})
        if (reason.find(std::strerror(e)) != std::string::npos) return true;
    for (const char* lmdb : {"MDB_MAP_FULL", "mdb_txn_commit", "MDB_TXN_FULL"})
        if (reason.find(lmdb) != std::string::npos) return true;
    return reason.find("/train-") != std::string::npos && reason.find("empty file") != std::string::npos;
}

int errno_of(const Status& st) {
    for (int e : {ENOSPC, EDQUOT})
        if (st.message().find(std::strerror(e)) != std::string::npos) return e;
    return EIO;
}

}  // namespace dgc::fs
